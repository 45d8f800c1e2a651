"""The policy's snapshot of one group, translated from its rows.

The group's settings are its knobs (its own, else its endpoint's) and the endpoint's state;
the thresholds are the policy's defaults with the environment's overrides; the workers,
the queue and the load are what their rows say now, and the memory, the load's jumps and the
load recent passes saw are what the last pass left on the group's row.
"""
from __future__ import annotations

import math

from chalicelib.core import settings
from chalicelib.core.fleet import stats
from chalicelib.core.fleet.worker_groups import effective_knobs
from chalicelib.core.fleet.workers import SERVING, Status
from chalicelib.core.store import Endpoint, StatBucket, Worker, WorkerGroup
from chalicelib.scaling import context, recurrence


def thresholds() -> context.Thresholds:
    """The policy's thresholds, with the overrides the environment sets (settings.policy_thresholds)."""
    return context.Thresholds(**settings.policy_thresholds())


def group_settings(group: WorkerGroup, endpoint: Endpoint) -> context.GroupSettings:
    """The knobs that govern `group` (its own where set, else its endpoint's) and its endpoint's state."""
    given = effective_knobs(group, endpoint)
    return context.GroupSettings(
        min_load=float(given["min_load"]), min_cold_load=float(given["min_cold_load"] or 0),
        target_util=float(given["target_util"]), cold_mult=float(given["cold_mult"]),
        cold_workers=int(given["cold_workers"]), test_workers=int(given["test_workers"]),
        max_workers=int(given["max_workers"]),
        inactivity_timeout=float(given["inactivity_timeout"]) if given["inactivity_timeout"] else None,
        endpoint_state=endpoint.endpoint_state,
        target_queue_time=float(given["target_queue_time"]),
        perf_hint=float(given["perf_hint"]) if given["perf_hint"] else None,
    )


def worker_state(worker: Worker, group: WorkerGroup, now: float) -> context.WorkerState:
    """One worker's row as the policy sees it: silent past its timeout is an error, launched
    before the group's generation is outdated, a worker its owner brought is not managed."""
    status = worker.status
    if status != Status.STOPPED and not worker.is_live(now):
        status = Status.ERROR  # silent past its timeout
    return context.WorkerState(
        id=int(worker.worker_id), status=status, perf=float(worker.max_perf or 0),
        price_per_hour=float(worker.price_per_hour or 0), started_at=float(worker.started_at),
        reliability=worker.reliability,
        available=not worker.unavailable, benchmarked=float(worker.max_perf or 0) > 0,
        managed=worker.launch_label is not None,
        busy=status in (*SERVING, Status.STOPPING)
        and float(worker.queue_load or 0) + float(worker.routed_load or 0) > 0,
        restart_s=float(worker.restart_s) if worker.restart_s else None,
        outdated=int(worker.generation or 0) < int(group.generation or 0),
        replaces=int(worker.replaces) if worker.replaces is not None else None,
        draining_since=float(worker.withdrawn_at) if status == Status.STOPPING and worker.withdrawn_at else None,
    )


def _in_routing(worker: Worker, now: float) -> bool:
    return worker.status not in (Status.STOPPED, Status.STOPPING) and worker.is_live(now)


def queued_and_arriving(workers: list[Worker], now: float) -> tuple[float, float, float]:
    """Work queued at the live workers in routing now; the rate arriving at them (their last
    reports, or what /route/ sent them since if more: see `routed_rate`); and the rate their
    last reports give. Queued is what they reported plus what was routed since, less what
    they served since at their benchmarked perf. A draining worker's queue is its own to
    serve: more capacity elsewhere would not drain it."""
    backlog = arriving = reported = 0.0
    for w in workers:
        if not _in_routing(w, now):
            continue
        since = max(now - float(w.last_report_at or 0), 1.0)
        routed = float(w.routed_load or 0)
        backlog += max(float(w.queue_load or 0) + routed - float(w.max_perf or 0) * since, 0.0)
        arriving += max(float(w.cur_load or 0), routed_rate(routed, int(w.routed_requests or 0), since))
        reported += float(w.cur_load or 0)
    return backlog, arriving, reported


def routed_rate(work: float, requests: int, since: float) -> float:
    """The rate `requests` routed over `since` seconds (carrying `work`) stand for, at the low
    end of a count's noise: n requests are n - sqrt(n) of them. One request is no rate (a
    worker that reported a moment ago), a hundred are ninety. Without a count (a row from
    before it was kept), the work as it came."""
    if requests <= 0:
        return work / since
    return work * max(requests - math.sqrt(requests), 0.0) / requests / since


def load_history(endpoint_id: int, groups_sharing: int, now: float, window_s: float,
                 workers: list[Worker], created_at: float = 0.0) -> tuple:
    """(time, load) samples of the endpoint, one per stats bucket, shared evenly by its groups.
    A bucket holds the work reported up to each worker's last report, so the minute still
    filling, and the one just finished until every worker has reported since, are carried on
    at the rate each of the endpoint's `workers` in routing last reported. Routes that found
    no worker count as they came (over at least a second). A minute without a bucket is no
    sample (no reports is not no load), unless no worker is in routing: then every request
    counted as unmet, and such a minute since the endpoint was created had none (an endpoint
    scaled to zero stays idle)."""
    width, filling = settings.stats_bucket_s(), stats.bucket_start(now)
    first = stats.bucket_start(now - window_s)
    span = StatBucket.t.between(first, filling)
    buckets = {int(b.t): (float(b.work or 0), float(b.unmet_work or 0))
               for b in StatBucket.query(stats.series("e", endpoint_id), span)}
    unrouted, born = not any(_in_routing(w, now) for w in workers), stats.bucket_start(created_at)
    minutes = set(buckets) | {filling - width, filling}
    if unrouted:
        minutes |= set(range(max(first, born), filling, width))
    samples = {}
    for t in sorted(minutes):
        seconds = min(now - t, width)
        work, unmet = buckets.get(t, (0.0, 0.0))
        if t >= filling - width:
            work += _unreported(workers, t, t + seconds, now)
        if t in buckets or work > 0 or (unrouted and t >= born):
            samples[t] = (work / seconds if seconds > 0 else 0.0) + unmet / max(seconds, 1.0)
    return tuple((float(t), load / groups_sharing) for t, load in sorted(samples.items()))


def _unreported(workers: list[Worker], start: float, end: float, now: float) -> float:
    """Work arrived between `start` and `end` that no report has brought yet: each worker in
    routing, from its last report on, at the rate that report gave."""
    return sum(float(w.cur_load or 0) * max(end - max(float(w.last_report_at or 0), start), 0.0)
               for w in workers if _in_routing(w, now))


def build_snapshot(group: WorkerGroup, endpoint: Endpoint, workers: list[Worker], load: tuple,
                   now: float) -> context.Snapshot:
    """The snapshot the policy decides on for `group`, from its rows and the endpoint's `load`."""
    knobs, limits = group_settings(group, endpoint), thresholds()
    # An hour kept before surges were (none on the row) counts as one the load surged to its
    # peak in: the pool holds it, as it did then.
    memory = tuple(context.Hour(float(h.start), float(h.peak), float(h.rise or 0),
                               float(h.peak if h.surge is None else h.surge)) for h in group.memory or ())
    jumps = tuple(recurrence.Jump(float(j.at), float(j.base), float(j.level), None if j.end is None else float(j.end))
                  for j in group.jumps or ())
    noted = tuple((float(n.t), float(n.load)) for n in group.noted_load or ())
    backlog, current, reported = queued_and_arriving(workers, now)
    return context.Snapshot(now, knobs, limits, tuple(worker_state(w, group, now) for w in workers), load,
                           backlog=backlog, current_load=current, reported_load=reported, memory=memory, jumps=jumps,
                           noted_load=noted, rolling=bool(group.rolling))
