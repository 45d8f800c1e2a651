"""Event logs as `vastai get endpt-logs` / `get wrkgrp-logs` print them, at each level:
    info0  what happened: actions that took effect, lifecycle changes, each with its reason
    info1  and what failed (the CLI's default)
    trace  and everything the scaler weighed: skipped actions, failed passes
    debug  and the provider's ids (instance, offer) with each line
"""
from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.core.store import Event

LEVELS = ("info0", "info1", "trace", "debug")


def _shown_at(event: Event) -> int:
    """The first level (index in LEVELS) that shows `event`."""
    if event.outcome.startswith("failed"):
        return 1
    if event.outcome.startswith("skipped") or event.action == "pass":
        return 2
    return 0


def _one_line(text: str) -> str:
    """`text` with what does not print (a worker's traceback's newlines) escaped as Python
    writes it: one event stays one line, and no text an event carries reads as another's line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def line(event: Event, level: int) -> str:
    """One log line: `YYYY-MM-DD HH:MM:SS UTC group G: action worker W: outcome (reason)`."""
    stamp = datetime.fromtimestamp(float(event.t), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    subject = f" worker {int(event.worker_id)}" if event.worker_id is not None else ""
    text = f"{stamp} group {int(event.group_id)}: {_one_line(event.action)}{subject}: {_one_line(event.outcome)}"
    if event.reason:
        text += f" ({_one_line(event.reason)})"
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
