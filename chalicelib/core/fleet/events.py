"""The event log of groups and endpoints: what the scaler did and why, workers' lifecycle
changes, rolling updates. Written by the scaler (in batches) and by worker reports (in the
report's transaction); read newest first with one Query, shown oldest first.

Levels, as `vastai get endpt-logs --level` names them:
    info0  what happened: actions that took effect, lifecycle changes, each with its reason
    info1  and what failed (the CLI's default)
    trace  and everything the scaler weighed: skipped actions, failed passes
    debug  and the provider's ids (instance, offer) with each line
"""
from __future__ import annotations

import time
from datetime import UTC, datetime

from chalicelib.core import settings
from chalicelib.core.store import Event, Worker, epoch, event_key

LEVELS = ("info0", "info1", "trace", "debug")
MAX_EVENTS = 500  # read per call: the log is for the recent past, the stats for the long run


def new_event(group_id: int, endpoint_id: int, action: str, reason: str, outcome: str = "ok", *,
              now: float | None = None, worker_id: int | None = None, instance_id: int | None = None,
              offer_id: int | None = None) -> Event:
    """An event row (not yet saved), kept for EVENTS_RETENTION_DAYS."""
    now = time.time() if now is None else now
    return Event(group_id, event_key(now), endpoint_id=endpoint_id, t=now, action=action, reason=reason[:500],
                 outcome=outcome[:500], worker_id=worker_id, instance_id=instance_id, offer_id=offer_id,
                 expires_at=epoch(now + settings.events_retention_s()))


def worker_event(worker: Worker, action: str, reason: str, now: float) -> Event:
    return new_event(int(worker.group_id), int(worker.endpoint_id), action, reason, now=now,
                     worker_id=int(worker.worker_id),
                     instance_id=int(worker.instance_id) if worker.instance_id else None)


def recent(*, group_id: int | None = None, endpoint_id: int | None = None, limit: int = MAX_EVENTS) -> list[Event]:
    """The last `limit` events of a group or an endpoint, oldest first: one Query."""
    if group_id is not None:
        rows = Event.query(group_id, scan_index_forward=False, limit=limit)
    else:
        rows = Event.by_endpoint.query(endpoint_id, scan_index_forward=False, limit=limit)
    return list(rows)[::-1]


def _shown_at(event: Event) -> int:
    """The first level (index in LEVELS) that shows `event`."""
    if event.outcome.startswith("failed"):
        return 1
    if event.outcome.startswith("skipped") or event.action == "pass":
        return 2
    return 0


def line(event: Event, level: int) -> str:
    """One log line: `YYYY-MM-DD HH:MM:SS UTC group G: action worker W: outcome (reason)`."""
    stamp = datetime.fromtimestamp(float(event.t), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    subject = f" worker {int(event.worker_id)}" if event.worker_id is not None else ""
    text = f"{stamp} group {int(event.group_id)}: {event.action}{subject}: {event.outcome}"
    if event.reason:
        text += f" ({event.reason})"
    if level >= 3:
        ids = [f"{name}={int(value)}" for name, value in (("instance", event.instance_id),
                                                           ("offer", event.offer_id)) if value is not None]
        text += "".join(f" {i}" for i in ids) + f" t={float(event.t):.3f}"
    return text


def render(events: list[Event], tail: int | None = None) -> dict[str, str]:
    """The log at each level, newline-joined, its last `tail` lines when given (> 0): each
    level's own last lines, so a quiet level is not crowded out by the noisier ones."""
    texts = {}
    for level, name in enumerate(LEVELS):
        lines = [line(e, level) for e in events if _shown_at(e) <= level]
        if tail and tail > 0:
            lines = lines[-tail:]
        texts[name] = "\n".join(lines)
    return texts
