"""Endpoint and worker-group metrics: recorded as summed buckets, derived when read.

Every report adds to its bucket (`StatBucket`), so buckets merge by addition and a
timeseries of any resolution is one Query. Metrics (seed 000):
nworkers, totreqs, curload, capacity, reliable, reqrate.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from pynamodb.transactions import TransactWrite

from chalicelib.core import settings
from chalicelib.core.fleet.workers import SERVING
from chalicelib.core.store import TOTALS_T, StatBucket, Worker, epoch

METRICS = ("nworkers", "totreqs", "curload", "capacity", "reliable", "reqrate")
_SUMS = ("work", "capacity_s", "reqs", "ok", "failed", "unmet_work", "unmet_reqs")
_SPREAD = ("work", "capacity_s")  # accrued over a report's span, not at its arrival


def series(kind: str, ident: int) -> str:
    return f"{kind}#{ident}"


def bucket_start(now: float) -> int:
    width = settings.stats_bucket_s()
    return int(now // width) * width


def add_to_buckets(tx: TransactWrite, series_keys: list[str], now: float, *, span_s: float = 0.0,
                   worker_id: int | None = None, **sums: float) -> None:
    """Add `sums` (names from _SUMS) to the buckets of each series, and reqs to its totals.
    Work and capacity accrued over the `span_s` before `now` are shared by the buckets that span
    covers, in proportion (the part before the previous bucket goes to it); the rest is counted
    in now's bucket. A bucket then holds the work that arrived within it, whenever reported."""
    t = bucket_start(now)
    before = min(max(t - (now - span_s), 0.0), span_s) / span_s if span_s > 0 else 0.0
    shares = {t: dict(sums)}
    if before and any(sums.get(k) for k in _SPREAD):
        shares[t - settings.stats_bucket_s()] = {k: val * before for k, val in sums.items() if k in _SPREAD}
        shares[t].update({k: val * (1 - before) for k, val in sums.items() if k in _SPREAD})
    reqs = round(sums.get("reqs", 0.0), 6)
    for key in series_keys:
        for start, amounts in shares.items():
            _add_to_bucket(tx, key, start, worker_id, amounts)
        if reqs:
            tx.update(StatBucket(key, TOTALS_T), actions=[StatBucket.reqs.add(reqs)])


def _add_to_bucket(tx: TransactWrite, key: str, t: int, worker_id: int | None, sums: dict[str, float]) -> None:
    sums = {k: round(val, 6) for k, val in sums.items() if round(val, 6)}  # no exponent-form numbers
    actions = [getattr(StatBucket, k).add(val) for k, val in sums.items()]
    actions.append(StatBucket.expires_at.set(epoch(t + settings.stats_retention_s())))
    if worker_id is not None:
        actions.append(StatBucket.workers.add({worker_id}))
    tx.update(StatBucket(key, t), actions=actions)


@dataclass
class Window:
    """Buckets merged over `seconds`: the sums, and the set of workers seen."""

    seconds: float
    workers: set[int] = field(default_factory=set)
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_SUMS, 0.0))

    def add(self, bucket: StatBucket) -> None:
        self.workers |= set(bucket.workers or ())
        for name in _SUMS:
            self.sums[name] += float(getattr(bucket, name) or 0)

    def metric(self, name: str) -> float:
        s, width = self.sums, self.seconds
        if name == "nworkers":
            return float(len(self.workers))
        if name == "curload":
            return (s["work"] + s["unmet_work"]) / width
        if name == "capacity":
            return s["capacity_s"] / width
        if name == "reqrate":
            return (s["reqs"] + s["unmet_reqs"]) / width
        if name == "reliable":
            finished = s["ok"] + s["failed"]
            return s["ok"] / finished if finished else 1.0
        raise ValueError(name)


def _metric_attributes(name: str) -> list:
    needed = {
        "nworkers": [StatBucket.workers],
        "curload": [StatBucket.work, StatBucket.unmet_work],
        "capacity": [StatBucket.capacity_s],
        "reqrate": [StatBucket.reqs, StatBucket.unmet_reqs],
        "reliable": [StatBucket.ok, StatBucket.failed],
        "totreqs": [StatBucket.reqs],
    }[name]
    return [StatBucket.t, *needed]


def _windows(t1: float, t2: float) -> tuple[int, int, int, list[Window]]:
    """(first bucket, last bucket, step, windows): one window per step from t1 to t2 inclusive,
    buckets merged when there would be more than STATS_MAX_POINTS."""
    width = settings.stats_bucket_s()
    first, last = int(t1 // width) * width, int(t2 // width) * width
    count = (last - first) // width + 1
    step = width * math.ceil(count / settings.stats_max_points())
    return first, last, step, [Window(step) for _ in range((last - first) // step + 1)]


def timeseries(key: str, name: str, t1: float, t2: float) -> list[float]:
    """One value per bucket from t1 to t2 inclusive (buckets merged if there would be too many).

    One Query: totreqs reads from t1 upwards to reach the running total stored after
    the last bucket and counts back from it; every other metric reads t1..t2 only.
    """
    if name != "totreqs":
        return history(key, (name,), t1, t2)[name]
    first, last, step, windows = _windows(t1, t2)
    total, after = 0.0, 0.0
    attributes = [a.attr_name for a in _metric_attributes(name)]
    for bucket in StatBucket.query(key, StatBucket.t.between(first, TOTALS_T), attributes_to_get=attributes):
        t = int(bucket.t)
        if t == TOTALS_T:
            total = float(bucket.reqs or 0)
        elif t > last:
            after += float(bucket.reqs or 0)
        else:
            windows[(t - first) // step].add(bucket)
    running = total - after
    values = []
    for w in reversed(windows):  # the total at the end of each window, counting back
        values.append(running)
        running -= w.sums["reqs"]
    return values[::-1]


def history(key: str, names: tuple[str, ...], t1: float, t2: float) -> dict[str, list[float]]:
    """`t` (each window's start) and one value per window of each metric in `names` (not
    totreqs) from t1 to t2 inclusive, as `timeseries` gives them: one Query."""
    first, last, step, windows = _windows(t1, t2)
    attributes = sorted({a.attr_name for name in names for a in _metric_attributes(name)})
    width = settings.stats_bucket_s()
    for bucket in StatBucket.query(key, StatBucket.t.between(first, last + width - 1), attributes_to_get=attributes):
        windows[(int(bucket.t) - first) // step].add(bucket)
    return {"t": [first + i * step for i in range(len(windows))],
            **{name: [w.metric(name) for w in windows] for name in names}}


def current(key: str, workers: list[Worker], now: float | None = None) -> dict[str, float]:
    """Current values: live workers for the fleet, the last full bucket for unmet demand.

    One Query: from the last full bucket upwards, which ends at the series' totals.
    """
    now = time.time() if now is None else now
    width = settings.stats_bucket_s()
    since = bucket_start(now) - width
    window, total = Window(width), 0.0
    for bucket in StatBucket.query(key, StatBucket.t >= since):
        if int(bucket.t) == TOTALS_T:
            total = float(bucket.reqs or 0)
        elif int(bucket.t) == since:
            window.add(bucket)
    live = [w for w in workers if w.is_live(now)]
    loaded = [w for w in live if w.status in SERVING]
    reliabilities = [float(w.reliability) for w in live]
    return {
        "nworkers": len(live),
        "totreqs": total,
        "curload": sum(float(w.cur_load) for w in live) + window.sums["unmet_work"] / width,
        "capacity": sum(float(w.max_perf) for w in loaded),
        "reliable": sum(reliabilities) / len(reliabilities) if reliabilities else 1.0,
        "reqrate": sum(float(w.req_rate) for w in live) + window.sums["unmet_reqs"] / width,
    }
