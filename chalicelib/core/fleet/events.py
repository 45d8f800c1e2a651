"""The event log of groups and endpoints: what the scaler did and why, workers' lifecycle
changes, rolling updates. Written by the scaler (in batches) and by worker reports (in the
report's transaction); read newest first with one Query, returned oldest first.
"""
from __future__ import annotations

import time

from chalicelib.core import settings
from chalicelib.core.store import Event, Worker, epoch, event_key

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
