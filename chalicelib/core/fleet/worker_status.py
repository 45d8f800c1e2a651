"""Worker reports (what a worker says of its load and health) and finished requests.

A report costs two DynamoDB requests: one GetItem (the worker, by the hash of its
mtoken) and one transaction (the worker's new state, the stats buckets of its endpoint
and group, and an event when its lifecycle moves on: loaded, errored). `next_state` is
the pure arithmetic between the two.

Reports of one worker are applied in order: the transaction holds only if the worker is
as it was read (else it is read again), and a report whose cumulative request count is
below the last one applied, with no (re)load in between, is older than it and changes
nothing. Counters that other calls move (`routed_load`, `routed_requests`, `ok_count`,
`failed_count`) are only ever changed by ADD, so no concurrent update is lost.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core import settings
from chalicelib.core.auth.credentials import hash_secret
from chalicelib.core.errors import unauthorized, unavailable
from chalicelib.core.fleet import stats
from chalicelib.core.fleet.events import worker_event
from chalicelib.core.fleet.workers import SERVING, Status, after_report
from chalicelib.core.observability import metrics
from chalicelib.core.store import Event, Worker, connection, epoch

REPORT_INTERVAL_S = 10.0  # workers report every 10 s; the assumed span of a first report
MAX_SPAN_S = 60.0  # a longer silence is not credited as capacity in one bucket
ROLLING_WINDOW_S = 60.0
RELIABILITY_WINDOW_S = 600.0  # finished requests count for about this long (decayed at each report)
REPORT_ATTEMPTS = 3  # a report that meets a concurrent change is applied again to the new state
_NOT_AUTHORISED = "unknown worker id or wrong mtoken"


@dataclass(frozen=True)
class Report:
    """One status report, whatever its generation, in common terms.

    Amounts are work units since the previous report; rates are work units per second.
    A generation gives one or the other, never both.
    """

    worker_id: int
    mtoken: str
    loading: bool = False
    loadtime: float | None = None
    max_perf: float | None = None
    arrived_amount: float | None = None
    arrived_rate: float | None = None
    served_amount: float | None = None
    served_rate: float | None = None
    queue_load: float | None = None
    reqs_working: int | None = None
    num_requests: int | None = None
    reloaded: bool = False  # the worker is (re)loading: its cumulative counts start again
    error_msg: str | None = None
    overloaded: bool | None = None
    url: str | None = None
    disk_usage: float | None = None


@dataclass(frozen=True)
class Transition:
    """What a report changes: attributes set, counters added to, and what its buckets gain
    (work and capacity accrued over the `span_s` it covers; 0: a first report, counted now)."""

    changes: dict
    added: dict
    work: float
    capacity_s: float
    reqs: float
    span_s: float = 0.0


def is_stale(worker: Worker, report: Report) -> bool:
    """True if `report` is older than the last one applied: its cumulative count went down
    without a (re)load in between (a retry, or one overtaken in flight); or if a pass stopped
    the worker's machine (sent while it shut down: only a pass starts it again)."""
    if worker.status == Status.STOPPED:
        return True
    return (report.num_requests is not None and not report.reloaded
            and report.num_requests < int(worker.num_requests or 0))


def next_state(worker: Worker, report: Report, now: float) -> Transition:
    """The worker after `report` at `now` (not stale). Pure: no I/O, no clock."""
    last = float(worker.last_report_at or 0)
    span = min(max(now - last, 0.5), MAX_SPAN_S) if last else REPORT_INTERVAL_S

    def rate(amount: float | None, per_second: float | None) -> float | None:
        return amount / span if amount is not None else per_second

    load = rate(report.arrived_amount, report.arrived_rate)
    served = rate(report.served_amount, report.served_rate)
    max_perf = report.max_perf if report.max_perf else float(worker.max_perf or 0)
    was_loaded = float(worker.loaded_at or 0) > 0
    loaded = not report.loading and (was_loaded or bool(report.loadtime) or bool(report.max_perf))
    queue = report.queue_load if report.queue_load is not None else 0.0
    working = report.reqs_working if report.reqs_working is not None else int(worker.reqs_working or 0)
    status = after_report(worker.status, error=bool(report.error_msg), loaded=loaded,
                          busy=bool(load or working or queue))
    old_total = 0 if report.reloaded else int(worker.num_requests or 0)
    new_reqs = max(report.num_requests - old_total, 0) if report.num_requests is not None else 0
    load = load or 0.0
    smoothing = 1 - math.exp(-span / ROLLING_WINDOW_S)
    avg = float(worker.cur_load_rolling_avg or 0)
    changes = {
        "status": status,
        "error_msg": report.error_msg,
        "cur_load": load,
        "cur_load_rolling_avg": _settled(avg + smoothing * (load - avg)),
        "max_perf": max_perf,
        "queue_load": queue,
        "reqs_working": working,
        "req_rate": new_reqs / span,
        "last_report_at": now,
        "expires_at": epoch(now + settings.worker_timeout_s()),
    }
    if served is not None:
        changes["cur_perf"] = served
        changes["measured_perf"] = max(float(worker.measured_perf or 0), served)
    if report.num_requests is not None or report.reloaded:
        changes["num_requests"] = report.num_requests or 0
    if loaded and not was_loaded:
        changes["loaded_at"] = now
    for name in ("loadtime", "url", "disk_usage", "overloaded"):
        value = getattr(report, name)
        if value is not None and value != "":
            changes[name] = value
    if worker.status == Status.STARTING and was_loaded and report.loadtime:
        changes["restart_s"] = report.loadtime  # started from stopped: how long it took to serve again
    # Counters others move are only added to: what was routed here before it was read is now
    # in the worker's own numbers; finished requests fade out over RELIABILITY_WINDOW_S.
    fade = 1 - math.exp(-span / RELIABILITY_WINDOW_S)
    # What was routed is taken back exactly (DynamoDB adds decimals exactly: nothing is left
    # over); the fading counts are rounded.
    routed = {"routed_load": -float(worker.routed_load or 0), "routed_requests": -float(worker.routed_requests or 0)}
    faded = {"ok_count": -fade * float(worker.ok_count or 0), "failed_count": -fade * float(worker.failed_count or 0)}
    added = {k: val for k, val in routed.items() if val}
    added |= {k: round(val, 6) for k, val in faded.items() if round(val, 6)}
    capacity_s = max_perf * span if status in SERVING else 0.0
    return Transition(changes, added,
                      work=load * span, capacity_s=capacity_s, reqs=float(new_reqs), span_s=span if last else 0.0)


def _settled(average: float) -> float:
    """0 once below a millionth: an idle worker's average decays geometrically, and DynamoDB
    holds no non-zero number below 1e-130 (some five hours of idle reports)."""
    return average if abs(average) >= 1e-6 else 0.0


def lifecycle_change(worker: Worker, step: Transition) -> tuple[str, str] | None:
    """(action, reason) for the event log when `step` moves the worker along its lifecycle:
    it serves for the first time or again after a start from stopped, or it reports an error."""
    status, was = step.changes["status"], worker.status
    if status == Status.ERROR:
        return None if was == Status.ERROR else ("errored", step.changes["error_msg"] or "reported an error")
    if status not in SERVING:
        return None
    loadtime = step.changes.get("loadtime")
    took = f" after {float(loadtime):.0f} s" if loadtime else ""
    if "loaded_at" in step.changes:
        return "loaded", f"serving{took}, perf {float(step.changes['max_perf']):g}"
    if was in (Status.REGISTERED, Status.STARTING, Status.LOADING, Status.ERROR):
        return "loaded", f"serving again{took}"
    return None


def authenticate_worker(worker_id: int, mtoken: str, now: float) -> Worker:
    """The worker `mtoken` belongs to, if `worker_id` is its id (ours or the provider's) and it is live."""
    try:
        worker = Worker.get(hash_secret(mtoken), consistent_read=True)
    except Worker.DoesNotExist:
        raise unauthorized(_NOT_AUTHORISED) from None
    if worker_id not in (int(worker.worker_id), int(worker.instance_id or -1)):
        raise unauthorized(_NOT_AUTHORISED)
    if not worker.is_live(now):  # its own mtoken: it may be told why
        raise unauthorized(f"worker {worker_id} expired: no report for over {settings.worker_timeout_s():g} s; "
                           "register it again")
    return worker


def _series(worker: Worker) -> list[str]:
    return [stats.series("e", int(worker.endpoint_id)), stats.series("g", int(worker.group_id))]


class _Refused(Exception):
    """The transaction did not apply: the worker is gone or changed (`condition`), or another
    transaction on it was in flight (`conflict`). Nothing was written."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _commit(worker: Worker, actions: list, now: float, condition: Any = None, event: Event | None = None,
            span_s: float = 0.0, **sums: float) -> None:
    """The worker's update, its stats buckets and its lifecycle event, in one transaction
    (idempotent when retried)."""
    guard = Worker.token_hash.exists()
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(worker, actions=actions, condition=guard if condition is None else guard & condition)
            if event is not None:
                tx.save(event)
            stats.add_to_buckets(tx, _series(worker), now, span_s=span_s, worker_id=int(worker.worker_id), **sums)
    except TransactWriteError as error:
        reasons = [r.code if r is not None else None for r in error.cancellation_reasons or []]
        if "ConditionalCheckFailed" in reasons:  # only the worker's update has a condition
            raise _Refused("condition") from None
        if "TransactionConflict" in reasons:
            raise _Refused("conflict") from None
        raise


def _unchanged(worker: Worker) -> Any:
    """The condition that `worker` is still as read: no report and no scaling pass since."""
    last = worker.last_report_at
    reported = Worker.last_report_at == last if last else Worker.last_report_at.does_not_exist() | (
        Worker.last_report_at == 0)
    return reported & (Worker.status == worker.status)


def record_report(report: Report, now: float | None = None) -> None:
    """Apply `report` to its worker (401 unless its mtoken and id match a live worker)."""
    now = time.time() if now is None else now
    for _ in range(REPORT_ATTEMPTS):
        worker = authenticate_worker(report.worker_id, report.mtoken, now)
        if is_stale(worker, report):
            metrics.add_metric(name="StaleReports", unit="Count", value=1)
            return
        step = next_state(worker, report, now)
        actions = [getattr(Worker, k).set(val) if val is not None else getattr(Worker, k).remove()
                   for k, val in step.changes.items()]
        actions += [getattr(Worker, k).add(val) for k, val in step.added.items()]
        change = lifecycle_change(worker, step)
        event = worker_event(worker, *change, now) if change else None
        try:
            _commit(worker, actions, now, _unchanged(worker), event, span_s=step.span_s, work=step.work,
                    capacity_s=step.capacity_s, reqs=step.reqs)
            break
        except _Refused:
            continue  # gone (the next read answers 401) or changed: apply it to what is there now
    else:
        raise unavailable("this worker's state kept changing under the report; send it again")
    metrics.add_metric(name="WorkerReports", unit="Count", value=1)
    if step.changes["status"] == Status.ERROR:
        metrics.add_metric(name="WorkerErrors", unit="Count", value=1)


def record_finished(worker_id: int, mtoken: str, outcomes: list[bool], now: float | None = None) -> int:
    """Finished requests (whether each succeeded) add to the worker's counters and its stats buckets."""
    now = time.time() if now is None else now
    worker = authenticate_worker(worker_id, mtoken, now)
    ok, failed = sum(outcomes), len(outcomes) - sum(outcomes)
    if outcomes:
        actions = [counter.add(n) for counter, n in ((Worker.ok_count, ok), (Worker.failed_count, failed)) if n]
        for _ in range(REPORT_ATTEMPTS):
            try:
                _commit(worker, actions, now, ok=ok, failed=failed)
                break
            except _Refused as refused:
                if refused.reason == "condition":
                    raise unauthorized(_NOT_AUTHORISED) from None  # deleted since it was read
        else:
            raise unavailable("another update of this worker was in flight; send it again")
    return len(outcomes)
