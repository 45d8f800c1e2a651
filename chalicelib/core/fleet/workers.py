"""Workers: one lifecycle, and the reads and writes that move a worker along it.

    REGISTERED ─┐                 ┌──── error ────> ERROR
    LAUNCHING ──┴─ report ─> LOADING ─ loaded ─> RUNNING <─> IDLE ─ pass withdraws ─> STOPPING
                                                    ^  <────── pass resumes ──────────  │
    STARTING <────────────── pass starts ─────── STOPPED <──────── pass stops ─────────┘

Reports move a worker from its first report on (`after_report`); a scaling pass withdraws
(or drains), resumes, stops, starts and destroys (`withdraw`, `drain`, `resume`,
`mark_stopped`, `mark_started`, `put_back`). Only a SERVING worker is routed to; a STOPPING
one serves what was queued at it until a pass stops or destroys it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from chalicelib.core import settings
from chalicelib.core.auth.credentials import hash_secret, new_token
from chalicelib.core.store import Worker, WorkerGroup, WorkersByEndpoint, epoch, next_id, update_existing


class Status(StrEnum):
    REGISTERED = "registered"  # brought by its owner; has not reported yet
    LAUNCHING = "launching"  # rented by the scaler; has not reported yet
    LOADING = "loading"  # reporting, its model not loaded yet (a first load or a reload)
    STARTING = "starting"  # started again from stopped; not serving again yet
    RUNNING = "running"  # serving, with work
    IDLE = "idle"  # serving, without work
    STOPPING = "stopping"  # withdrawn from routing by a scaling pass that stops or destroys it
    STOPPED = "stopped"  # its machine is stopped: the cold pool, started again in seconds
    ERROR = "error"  # it reported an error


SERVING = (Status.RUNNING, Status.IDLE)


def after_report(current: str, *, error: bool, loaded: bool, busy: bool) -> Status:
    """Where a report moves a worker: an error is ERROR; a worker a pass is stopping stays
    STOPPING (reports never put it back in routing); else LOADING until loaded, then RUNNING
    with work and IDLE without."""
    if error:
        return Status.ERROR
    if current == Status.STOPPING:
        return Status.STOPPING
    if not loaded:
        return Status.LOADING
    return Status.RUNNING if busy else Status.IDLE


def list_workers(endpoint_id: int, group_id: int | None = None) -> list[Worker]:
    """All worker records of an endpoint (or one of its groups), live or not: one paged Query."""
    condition = WorkersByEndpoint.group_id == group_id if group_id is not None else None
    return list(Worker.by_endpoint.query(endpoint_id, condition))


def register_worker(group: WorkerGroup, instance_id: int | None = None, now: float | None = None,
                    launch_label: Callable[[int], str] | None = None,
                    replaces: int | None = None, gpu_name: str | None = None) -> tuple[Worker, str]:
    """Create a worker record in `group`; returns it and its `mtoken` (shown only now).

    With `launch_label` (worker id -> the instance's label) it is a worker the scaler is launching
    (LAUNCHING), `replaces` the older worker it launches it for in a rolling update; without,
    one its owner brings (REGISTERED).
    """
    now = time.time() if now is None else now
    token = new_token("wt")
    worker_id = next_id("worker")
    worker = Worker(
        hash_secret(token),
        worker_id=worker_id,
        instance_id=instance_id,
        launch_label=launch_label(worker_id) if launch_label else None,
        account_id=int(group.account_id),
        endpoint_id=int(group.endpoint_id),
        group_id=int(group.group_id),
        status=Status.LAUNCHING if launch_label else Status.REGISTERED,
        generation=int(group.generation or 0),
        replaces=replaces,
        gpu_name=gpu_name or None,
        started_at=now,
        expires_at=epoch(now + settings.registration_timeout_s()),
    )
    worker.save()
    return worker, token


def withdraw(worker: Worker, now: float) -> bool:
    """Take a serving worker out of routing (STOPPING), unless work reached it since it was read.

    One conditional write; routing only adds work to a SERVING worker, also with a conditional
    write, so the two cannot cross: a request is never routed to a worker about to stop.
    """
    idle = Worker.routed_load.does_not_exist() | (Worker.routed_load == 0)
    queue_empty = Worker.queue_load.does_not_exist() | (Worker.queue_load == 0)
    return update_existing(worker, _leaving(now), idle & queue_empty)


def drain(worker: Worker, now: float) -> bool:
    """Take a serving worker out of routing (STOPPING) though work is queued at it: it serves
    that, and a later pass that sees it served stops it. False if it is neither serving nor
    draining any more."""
    return update_existing(worker, _leaving(now), Worker.status.is_in(*SERVING, Status.STOPPING))


def _leaving(now: float) -> list:
    """STOPPING, since when it first left routing (kept while it drains)."""
    return [Worker.status.set(Status.STOPPING), Worker.withdrawn_at.set(Worker.withdrawn_at | now)]


def resume(worker: Worker) -> bool:
    """A draining worker back in routing. False if it is no longer draining."""
    busy = float(worker.queue_load or 0) + float(worker.routed_load or 0) > 0
    status = Status.RUNNING if busy else Status.IDLE
    return update_existing(worker, [Worker.status.set(status), Worker.withdrawn_at.remove()],
                           Worker.status == Status.STOPPING)


def put_back(worker: Worker, status: str) -> None:
    """A withdrawn worker whose machine is still up is as it was: serving again, or draining."""
    back = [] if status == Status.STOPPING else [Worker.withdrawn_at.remove()]
    update_existing(worker, [Worker.status.set(status), *back])


def mark_stopped(worker: Worker, now: float) -> None:
    """Its machine stopped: kept STOPPED for STOPPED_RETENTION, nothing routed to it is owed, and
    nothing arrives at it (its last report's load and rates no longer count in the stats)."""
    update_existing(worker, [Worker.status.set(Status.STOPPED), Worker.routed_load.set(0),
                             Worker.routed_requests.set(0), Worker.withdrawn_at.remove(),
                             Worker.cur_load.set(0), Worker.req_rate.set(0), Worker.queue_load.set(0),
                             Worker.reqs_working.set(0),
                             Worker.expires_at.set(epoch(now + settings.stopped_retention_s()))])


def mark_started(worker: Worker, now: float) -> None:
    """Its machine started again: STARTING until it reports serving, within the registration timeout."""
    update_existing(worker, [Worker.status.set(Status.STARTING), Worker.started_at.set(now),
                             Worker.expires_at.set(epoch(now + settings.registration_timeout_s()))])
