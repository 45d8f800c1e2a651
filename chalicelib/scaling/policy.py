"""The scaling policy: a snapshot of one worker group in, a plan out.

Pure arithmetic: no I/O, no clock, no randomness. The scheduled Lambda, the pass that
/route/ wakes when work queues, and the benchmark's simulator call this same function.

Capacity is in work units per second. A snapshot carries the group's settings
(`GroupSettings`, what its owner sets through the API) apart from the operator's
`Thresholds` (named defaults the deployment may override). The settings mean what Vast
users expect (scale_down_delay_s, pool_memory_s and pool_headroom are thresholds):
    serving target = max(load over the last scale_down_delay_s, load now, min_load) / target_util
        (the load now is what the latest reports give; what was routed since them counts
        only while a queue builds: see `load_now`)
    total capacity (serving + stopped "cold" workers) = cold_mult x target (as the minute
        buckets give it: not the last report window's spike), and at least
        (1 + pool_headroom) x what the load can reach before a launch serves / target_util
        (what served within pool_keep_s, raised by the largest rise within lead_time_s of
        the last pool_memory_s, a day; never above that day's peak; or the trend through the
        last prediction_window_s and the latest reports, projected lead_time_s ahead, if higher),
        and min_cold_load / target_util
    cold_workers: workers kept (serving or stopped) before any is destroyed
    test_workers: machines tried at once while no offer's performance is known
    perf_hint: what one worker serves, declared by the owner (or else what the offers
        promise): until a worker has benchmarked, launches are sized by it instead of
        trying test_workers machines
    max_workers: hard cap on workers that exist
    inactivity_timeout: no load for this long before the last capacity goes; without one,
        an endpoint used within pool_memory_s keeps serving at least one worker, and once
        its load jumped from idle in ready_floor_jumps hours of it, what meets the largest
        of those jumps (the ready floor)
    target_queue_time: queued work (counted as it will be when cold workers serve) is
        drained within it by starting cold workers, and while it grows, by launching what
        they cannot cover, up to what arrives plus the queue drained within it
Load that comes back at a fixed period is foreseen (`recurrence`): cold workers start their
restart time ahead of the next jump, the pool holds the jump (recur_headroom above it), and
no worker is kept serving between jumps from idle.
A rolling update replaces workers of an older generation (`outdated`), a few at a time
(see `_roll`); everywhere else, outdated workers are the first to go.
A worker that goes while requests are queued at it drains first (`DRAINING`): out of
routing at once, stopped (or destroyed) by the pass that sees its queue served, and back in
routing before any other if capacity is wanted again meanwhile.
Stopped workers serve again in seconds, launched ones in minutes: queueing is met from
the cold pool, launches keep the pool filled.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from chalicelib.scaling import recurrence

ACTIVE = ("running", "idle")
WARMING = ("registered", "launching", "starting", "loading")
STOPPED = "stopped"
DRAINING = "stopping"  # out of routing by a pass's stop or destroy: serves what is queued at it, then goes
QUICK = ("registered", "starting", STOPPED)  # up in seconds: started from stopped, or brought up by its owner
PEAK_BUCKET_S = 3600.0  # the memory of past load keeps one peak per hour
WAKE_FRACTION = 0.25  # of target_queue_time: queueing wakes the scaler while work can still make the target
ROLL_SURGE = 0.25  # a rolling update has at most this share of the group's workers (at least one) launching


@dataclass(frozen=True)
class GroupSettings:
    """What the owner set through the API: the group's knobs (its own, else its endpoint's)
    and the endpoint's state."""

    min_load: float = 0.0
    min_cold_load: float = 0.0
    target_util: float = 0.9
    cold_mult: float = 2.5
    cold_workers: int = 5
    test_workers: int = 3
    max_workers: int = 20
    inactivity_timeout: float | None = None
    endpoint_state: str = "active"
    target_queue_time: float = 10.0  # queued work is to be served within this many seconds
    perf_hint: float | None = None  # what one worker serves, as its owner declares it: stands in until a benchmark


@dataclass(frozen=True)
class Thresholds:
    """The operator's thresholds of the policy, each a named default."""

    loading_deadline_s: float = 1200.0  # a worker still not serving after this is replaced
    min_reliability: float = 0.7  # below this success rate a worker is replaced
    prediction_window_s: float = 300.0  # the peak of this much history is the base prediction
    trend_min_span_s: float = 10.0  # samples spanning less than this make no trend: seconds of noise are no slope
    lead_time_s: float = 180.0  # a cold launch: a rising trend is projected this far; the pool meets rises within it
    scale_down_delay_s: float = 60.0  # serving capacity follows the peak of this window: cold ones start fast
    pool_memory_s: float = 86400.0  # the cold pool remembers this much history: its peak and its sharpest rise
    pool_keep_s: float = 5400.0  # a stopped worker costs a relaunch in this long: kept if needed within it
    pool_headroom: float = 0.5  # the pool holds this much above the load it meets: a larger burst, and its queue
    restart_s: float = 30.0  # a stopped worker serves again this long after its start, until workers report it
    restart_spare: float = 0.1  # starts for a queue or a foreseen jump start this share more: some machines are gone
    recur_headroom: float = 0.2  # the pool holds this share above a foreseen jump (not pool_headroom: no burst)
    idle_window_s: float = 120.0  # load after this long with none is a jump from idle (the ready floor's)
    ready_floor_jumps: int = 2  # hours with a jump from idle before the ready floor holds: one is no pattern yet
    pass_interval_s: float = 20.0  # passes come this often: a pass starts what must serve before the next one
    jump_ratio: float = 0.5  # a jump: the load rises above the last minutes' lowest by this share of it ...
    jump_min_workers: float = 0.5  # ... and by at least this many workers' perf
    jumps_kept: int = 16  # the jumps the group's row remembers
    recur_repeats: int = 3  # jumps in a row one period apart before the next is foreseen (one more among others)
    recur_tolerance_s: float = 20.0  # how far from the period an onset may fall and still recur
    recur_min_period_s: float = 120.0  # jumps closer than this are not a recurring load
    recur_same_base: float = 0.5  # jumps recur from about the same load: their bases within this share of the rise
    drain_timeout_s: float = 300.0  # a draining worker goes this long after it left routing, its queue served or not


@dataclass(frozen=True)
class WorkerState:
    """One worker as the policy sees it. `perf` is benchmarked, or expected while warming."""

    id: int
    status: str
    perf: float
    price_per_hour: float
    started_at: float  # launched, or last started from stopped
    reliability: float = 1.0
    available: bool = True  # for a stopped worker: its machine can still be started
    benchmarked: bool = False
    managed: bool = True  # launched by the scaler; a worker its owner brought is counted, never acted on
    busy: bool = False  # work is queued at it or routed to it: it drains before it goes
    restart_s: float | None = None  # its last start from stopped took this long to serve, as it reported
    outdated: bool = False  # launched before the group's rolling update: to be replaced
    replaces: int | None = None  # the outdated worker a rolling update launched it for
    draining_since: float | None = None  # draining: when it left routing


@dataclass(frozen=True)
class Candidate:
    """An offer as the policy weighs it: a machine it may launch on. `perf` is None when
    nothing predicts it."""

    id: int
    price_per_hour: float
    perf: float | None = None


@dataclass(frozen=True)
class Hour:
    """One hour of the policy's memory: its peak load, the largest jump from idle in it, and
    its largest rise within lead_time_s (a surge: what launches could not follow)."""

    start: float
    peak: float
    rise: float = 0.0
    surge: float = 0.0


@dataclass(frozen=True)
class Snapshot:
    """One group as the policy sees it: its settings, the thresholds, and what was observed."""

    now: float
    group: GroupSettings
    thresholds: Thresholds
    workers: tuple[WorkerState, ...]
    load: tuple[tuple[float, float], ...]  # (time, work units/s arriving incl. unmet), oldest first
    offers: tuple[Candidate, ...] | None = None  # None: not searched yet
    backlog: float = 0.0  # work units queued at the workers now
    current_load: float = 0.0  # work units/s arriving now (latest reports, or what was routed since if more)
    reported_load: float | None = None  # what the latest reports give, each over a report interval (None: current_load)
    memory: tuple[Hour, ...] = ()  # as the last plan left it
    jumps: tuple[recurrence.Jump, ...] = ()  # as the last plan left them
    rolling: bool = False  # a rolling update is in progress: outdated workers are replaced


@dataclass(frozen=True)
class Action:
    kind: str  # "launch" | "start" | "resume" (a draining worker) | "stop" | "destroy"
    reason: str
    worker_id: int | None = None
    offer_id: int | None = None
    replaces: int | None = None  # a launch for a rolling update: the outdated worker it replaces


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    predicted_load: float
    target_capacity: float
    needs_offers: bool = False  # launches are wanted: search offers and decide again
    memory: tuple[Hour, ...] = ()  # to pass in the next snapshot
    jumps: tuple[recurrence.Jump, ...] = ()  # to pass in the next snapshot
    roll_done: bool = False  # the rolling update found no outdated worker left: it is over


def should_wake(expected_wait_s: float | None, target_queue_time: float) -> bool:
    """Whether a request's expected wait (None: no worker ready) calls for a pass now, not at
    the next scheduled one: cold workers start in seconds, the schedule is a minute."""
    return expected_wait_s is None or expected_wait_s > WAKE_FRACTION * target_queue_time


def load_now(snapshot: Snapshot) -> float:
    """The load arriving now: what the latest reports give, or what was routed since them if
    more while a queue builds (more than WAKE_FRACTION of the target wait at the serving
    capacity). Without a queue, a request or two routed since a report is not a rate."""
    capacity = sum(w.perf for w in snapshot.workers if w.status in ACTIVE)
    if snapshot.backlog > WAKE_FRACTION * snapshot.group.target_queue_time * capacity:
        return snapshot.current_load
    return _reported(snapshot)


def _reported(snapshot: Snapshot) -> float:
    return snapshot.current_load if snapshot.reported_load is None else snapshot.reported_load


def predict_load(load: tuple[tuple[float, float], ...], now: float, thresholds: Thresholds,
                 current: float | None = None) -> float:
    """The peak of the recent window and of the load now, raised by the trend through them
    projected one lead time ahead. The load now (as the latest reports give it: rates over a
    report interval, not the requests of the last second) is a sample of its own, so a ramp
    within the minute still filling shows as it climbs. Samples spanning less than
    trend_min_span_s make no trend (a few seconds' noise is not a slope)."""
    recent = [(t, value) for t, value in load if now - thresholds.prediction_window_s <= t <= now]
    if current is not None:
        recent.append((now, current))
    if not recent:
        return 0.0
    peak = max(value for _, value in recent)
    if len(recent) < 2 or recent[-1][0] - recent[0][0] < thresholds.trend_min_span_s:
        return peak
    mean_t = sum(t for t, _ in recent) / len(recent)
    mean_v = sum(v for _, v in recent) / len(recent)
    spread = sum((t - mean_t) ** 2 for t, _ in recent)
    slope = sum((t - mean_t) * (v - mean_v) for t, v in recent) / spread if spread else 0.0
    projected = recent[-1][1] + max(slope, 0.0) * thresholds.lead_time_s
    return max(peak, projected)


def _peak(load: tuple[tuple[float, float], ...], since: float) -> float:
    return max((value for t, value in load if t >= since), default=0.0)


def _inactive(snapshot: Snapshot) -> bool:
    """No load at all for the whole inactivity timeout (with history that covers it)."""
    timeout = snapshot.group.inactivity_timeout
    if timeout is None:
        return False
    since = snapshot.now - timeout
    return _covered(snapshot, since) and _peak(snapshot.load, since) == 0


def _covered(snapshot: Snapshot, since: float) -> bool:
    """Whether the load history reaches back to `since`: no reports is not no load."""
    return bool(snapshot.load) and snapshot.load[0][0] <= since


def _price_per_perf(worker: WorkerState) -> float:
    """Price per hour per unit of perf: lower is better."""
    return worker.price_per_hour / worker.perf if worker.perf > 0 else math.inf


def _worst_first(workers) -> list[WorkerState]:
    """The order workers go in: outdated ones first, then the worst price per performance."""
    return sorted(workers, key=lambda w: (not w.outdated, -_price_per_perf(w), -w.id))


def _failing(snapshot: Snapshot) -> list[tuple[WorkerState, str]]:
    """Workers that no longer count as capacity, and why."""
    thresholds, now = snapshot.thresholds, snapshot.now
    failing = []
    for w in snapshot.workers:
        if w.status == "error":
            reason = "reported an error"
        elif w.status in WARMING and now - w.started_at > thresholds.loading_deadline_s:
            reason = (f"not serving {now - w.started_at:.0f} s after start "
                      f"(deadline {thresholds.loading_deadline_s:.0f} s)")
        elif w.status in ACTIVE and w.reliability < thresholds.min_reliability:
            reason = f"reliability {w.reliability:.2f} below {thresholds.min_reliability:.2f}"
        elif w.status == STOPPED and not w.available:
            reason = "its stopped machine is no longer available"
        else:
            continue
        failing.append((w, reason))
    return failing


@dataclass
class _Fleet:
    """The workers left after replacements, and the plan being built."""

    active: list[WorkerState]
    warming: list[WorkerState]
    stopped: list[WorkerState]
    actions: list[Action] = field(default_factory=list)
    draining: list[WorkerState] = field(default_factory=list)  # going once what is queued at them is served

    @property
    def serving_soon(self) -> float:
        return sum(w.perf for w in self.active) + sum(w.perf for w in self.warming)

    @property
    def serving_in_seconds(self) -> float:
        """Serving, or starting from stopped: not the launches, minutes from serving."""
        return sum(w.perf for w in self.active) + sum(w.perf for w in self.warming if w.status in QUICK)

    @property
    def count(self) -> int:
        return len(self.active) + len(self.warming) + len(self.stopped) + len(self.draining)

    @property
    def ready_quick(self) -> int:
        """Workers with the model on disk: serving or draining, or stopped and seconds from serving."""
        return len(self.active) + len(self.stopped) + len(self.draining)

    @property
    def cold(self) -> float:
        """Capacity stopped, or to be once drained."""
        return sum(w.perf for w in self.stopped) + sum(w.perf for w in self.draining)


def decide(snapshot: Snapshot) -> Plan:
    """What to do with one worker group now, each action with its reason."""
    group = snapshot.group
    failing = _failing(snapshot)
    replaced = [Action("destroy", f"replace: {why}", worker_id=w.id) for w, why in failing if w.managed]
    gone = {w.id for w, _ in failing}
    remaining = [w for w in snapshot.workers if w.id not in gone]
    guess = _expected_perf(snapshot) or 0.0
    fleet = _Fleet(
        active=[w for w in remaining if w.status in ACTIVE],
        # A machine still loading has no benchmark yet: count what its peers serve.
        warming=[w if w.perf else replace(w, perf=guess) for w in remaining if w.status in WARMING],
        stopped=[w for w in remaining if w.status == STOPPED],
        actions=list(replaced),
        draining=[w for w in remaining if w.status == DRAINING],
    )
    if group.endpoint_state == "stopped":
        for w in fleet.active + [w for w in fleet.draining if _drained(w, snapshot)]:
            if w.managed:
                fleet.actions.append(Action("stop", "endpoint is stopped", worker_id=w.id))
        for w in fleet.warming:
            if w.managed:
                fleet.actions.append(Action("destroy", "endpoint is stopped", worker_id=w.id))
        return Plan(tuple(fleet.actions), 0.0, 0.0)
    if group.endpoint_state == "suspended":
        return Plan(tuple(fleet.actions), 0.0, 0.0)

    memory = remember(snapshot, snapshot.thresholds)
    jumps = note_jumps(snapshot)
    goals = _goals(snapshot, memory, _foresee(snapshot, jumps))
    needs_offers = _scale_up(fleet, snapshot, goals)
    if goals.drain <= 0:
        _scale_down(fleet, snapshot, goals.target, goals.keep_capacity)
    _finish_draining(fleet, snapshot, goals.keep_capacity)
    untested = _expected_perf(snapshot) is None and not fleet.warming
    needs_offers |= _keep_cold_pool(fleet, snapshot, goals.pool, goals.keep_capacity,
                                    fill_workers=goals.pool > 0 or untested)
    roll_done = False
    if snapshot.rolling:
        roll_done = not any(w.outdated and w.managed for w in snapshot.workers)
        needs_offers |= _roll(fleet, snapshot, goals.target)
    _enforce_cap(fleet, group)
    return Plan(tuple(fleet.actions), goals.predicted, goals.target, needs_offers and snapshot.offers is None, memory,
                jumps, roll_done)


@dataclass(frozen=True)
class _Goals:
    predicted: float  # load expected one lead time ahead
    target: float  # serving capacity wanted now
    why: str  # what the target is for
    foreseen: bool  # the target is for a recurring jump due before the next pass
    drain: float  # more capacity: what is queued when cold workers serve, served within target_queue_time
    growing: bool  # more arrives than serves: the queue grows until more capacity serves
    pool: float  # total capacity (serving + cold) launched up to
    keep_capacity: float  # total capacity kept before a cold worker is destroyed


def _goals(snapshot: Snapshot, memory: tuple[Hour, ...], forecast: recurrence.Forecast | None) -> _Goals:
    group, thresholds, now = snapshot.group, snapshot.thresholds, snapshot.now
    if _inactive(snapshot) and group.min_load == 0:
        return _Goals(0.0, 0.0, "inactive", False, 0.0, False, 0.0, 0.0)
    recent = max(_peak(snapshot.load, now - thresholds.scale_down_delay_s), group.min_load)
    serving = max(recent, load_now(snapshot))
    if serving == 0 and group.inactivity_timeout:  # no scaling to zero before the endpoint is inactive
        serving = recent = _peak(snapshot.load, now - group.inactivity_timeout)
    projected = predict_load(snapshot.load, now, thresholds, _reported(snapshot))
    predicted = max(projected, serving)
    restart_s = _restart_s(snapshot)
    target, why, foreseen = serving / group.target_util, "target", False
    # The pool multiplies the target as the minute buckets give it: one report window's spike
    # is met from the pool, not multiplied into it.
    steady = recent / group.target_util
    if forecast is None:
        # A jump from idle that nothing foresees waits for cold workers: once such jumps came
        # back, keep serving what meets the day's largest, and scale to zero only through
        # inactivity_timeout: an endpoint in use within the pool's memory (or younger than it)
        # keeps one worker serving.
        floor = _ready_floor(memory, group, restart_s, int(thresholds.ready_floor_jumps))
        target, steady = max(target, floor), max(steady, floor)
        new = not memory or memory[0].start > now - thresholds.pool_memory_s + PEAK_BUCKET_S
        if target == 0 and (new or any(h.peak > 0 for h in memory)):
            target = steady = _expected_perf(snapshot) or 0.0
    elif now >= forecast.at - forecast.spread - restart_s - thresholds.pass_interval_s:
        # A recurring jump is due before the next pass could start cold workers in time.
        jump = (max(load_now(snapshot), _peak(snapshot.load, now - thresholds.pass_interval_s))
                + forecast.rise) / group.target_util
        if jump > target:
            target, foreseen = jump, True
            why = f"a jump recurring every {forecast.period:.0f} s, due at {forecast.at:.0f}"
    pool, keep_capacity = _pool(snapshot, memory, forecast, serving, steady, projected)
    queue, growing = _queue_to_drain(snapshot, restart_s)
    return _Goals(predicted, target, why, foreseen, queue / group.target_queue_time, growing, pool, keep_capacity)


def _pool(snapshot: Snapshot, memory: tuple[Hour, ...], forecast: recurrence.Forecast | None, serving: float,
          steady: float, projected: float) -> tuple[float, float]:
    """Total capacity (serving + cold) to launch up to, and to keep before a cold worker is
    destroyed. `steady` is the serving target the minute buckets give, without the load now."""
    group, thresholds, now = snapshot.group, snapshot.thresholds, snapshot.now
    floor = group.min_cold_load / group.target_util
    if forecast is not None:
        # A foreseen jump is not a burst: the pool holds it with recur_headroom, and cold_mult
        # x what arrives apart from it; a worker's slack above it, so it is not trimmed and refilled.
        base = min(serving, max(serving - forecast.rise, forecast.base))
        pool = max(group.cold_mult * base / group.target_util, floor,
                   (1 + thresholds.recur_headroom) * (base + forecast.rise) / group.target_util)
        return pool, pool + (_expected_perf(snapshot) or 0.0)
    # Stopped workers cost little: the pool holds what the load can reach before a launch
    # serves (as seen, not min_load's floor), with headroom for a burst larger than any seen
    # and for the queue that builds while cold workers start. A peak the load climbed to
    # slowly is not held once older than pool_keep_s: launches follow such a climb.
    lately = max((h.peak for h in memory if h.start >= now - thresholds.pool_keep_s - PEAK_BUCKET_S), default=0.0)
    surge = max((h.surge for h in memory), default=0.0)
    reach = min(lately + surge, max((h.peak for h in memory), default=0.0))  # memory holds the load now
    remembered = max(reach, projected)
    pool = max(group.cold_mult * steady, (1 + thresholds.pool_headroom) * remembered / group.target_util, floor)
    # Relaunching costs more than keeping a stopped machine for pool_keep_s: keep what the
    # pool wanted lately, so a wobbling target does not fill and trim it over and over.
    return pool, max(pool, group.cold_mult * lately / group.target_util)


def _queue_to_drain(snapshot: Snapshot, restart_s: float) -> tuple[float, bool]:
    """The work queued when cold workers started now will serve (what is queued, plus what
    keeps arriving above the serving capacity until then, less what the workers already
    starting serve from when they are due), and whether it grows meanwhile."""
    if snapshot.backlog <= 0:
        return 0.0, False
    now, until = snapshot.now, snapshot.now + restart_s
    excess = load_now(snapshot) - sum(w.perf for w in snapshot.workers if w.status in ACTIVE)
    arriving = max(excess, 0.0) * restart_s
    for w in snapshot.workers:
        if w.status == "starting":
            arriving -= w.perf * (until - min(max(w.started_at + restart_s, now), until))
    return snapshot.backlog + max(arriving, 0.0), excess > 0


def _restart_s(snapshot: Snapshot) -> float:
    """How long a start from stopped takes: the median the group's workers reported, or the knob."""
    reported = sorted(w.restart_s for w in snapshot.workers if w.restart_s)
    return reported[len(reported) // 2] if reported else snapshot.thresholds.restart_s


def _ready_floor(memory: tuple[Hour, ...], group: GroupSettings, restart_s: float, jumps: int) -> float:
    """Serving capacity that meets a jump from idle as large as the day's largest, once jumps
    from idle came in `jumps` hours of the memory (one may be a first use or a one-off).

    Load jumping from idle to L waits for cold workers, restart_s away; served first in,
    first out by R meanwhile and drained at once after, no wait exceeds target_queue_time q
    while R >= L x (restart_s - q) / restart_s.
    """
    rises = [h.rise for h in memory if h.rise > 0]
    if len(rises) < jumps:
        return 0.0
    return max(rises) * max(restart_s - group.target_queue_time, 0.0) / restart_s


def remember(snapshot: Snapshot, thresholds: Thresholds) -> tuple[Hour, ...]:
    """The policy's memory over `pool_memory_s`, hour by hour, kept by its caller: the peak
    load, the load arriving when it jumped from idle (nothing in the complete samples of the
    last idle_window_s, something now), and the largest rise over the lowest sample of the
    lead_time_s before (none without an earlier sample: no reports is not no load)."""
    hours = {h.start: h for h in snapshot.memory}

    def note(t: float, peak: float, rise: float = 0.0) -> None:
        start = t // PEAK_BUCKET_S * PEAK_BUCKET_S
        old = hours.get(start, Hour(start, 0.0))
        before = [v for u, v in snapshot.load if t - thresholds.lead_time_s <= u < t]
        surge = peak - min(before) if before else 0.0
        hours[start] = Hour(start, max(old.peak, peak), max(old.rise, rise), max(old.surge, surge))

    for t, value in snapshot.load:
        note(t, value)
    recent = [value for t, value in snapshot.load if t >= snapshot.now - thresholds.idle_window_s]
    arriving = max(recent[-1:] + [load_now(snapshot)])
    idle_before = len(recent) > 1 and max(recent[:-1]) == 0  # the last sample may be partial
    note(snapshot.now, load_now(snapshot), arriving if idle_before else 0.0)
    oldest = snapshot.now - thresholds.pool_memory_s
    return tuple(sorted((h for h in hours.values() if h.start + PEAK_BUCKET_S > oldest), key=lambda h: h.start))


def note_jumps(snapshot: Snapshot) -> tuple[recurrence.Jump, ...]:
    """The group's jumps, with the one its load is in now (recurrence.note), over the samples
    of the last prediction window."""
    thresholds, now = snapshot.thresholds, snapshot.now
    samples = tuple((t, v) for t, v in snapshot.load if t >= now - thresholds.prediction_window_s)
    min_rise = thresholds.jump_min_workers * (_expected_perf(snapshot) or 0.0)
    return recurrence.note(snapshot.jumps, samples, now, load_now(snapshot), thresholds.jump_ratio, min_rise,
                           int(thresholds.jumps_kept))


def _foresee(snapshot: Snapshot, jumps: tuple[recurrence.Jump, ...]) -> recurrence.Forecast | None:
    t = snapshot.thresholds
    return recurrence.foresee(jumps, snapshot.now, int(t.recur_repeats), t.recur_tolerance_s, t.recur_min_period_s,
                              t.recur_same_base)


def _expected_perf(snapshot: Snapshot) -> float | None:
    """What a new worker will likely serve: the median benchmarked perf of the group, else
    the perf its owner declared (`perf_hint`), else the median its offers promise, else unknown."""
    known = sorted(w.perf for w in snapshot.workers if w.benchmarked and w.perf > 0)
    if known:
        return known[len(known) // 2]
    promised = sorted(o.perf for o in snapshot.offers or () if o.perf)
    return snapshot.group.perf_hint or (promised[len(promised) // 2] if promised else None)


def _launch(fleet: _Fleet, snapshot: Snapshot, capacity: float, reason: str, replaces: int | None = None) -> bool:
    """Launch onto the best-value offers until `capacity` is covered. True if offers are needed."""
    group = snapshot.group
    if capacity <= 0 or fleet.count >= group.max_workers:
        return False
    if snapshot.offers is None:
        return True
    guess = _expected_perf(snapshot)
    priced = [(o, o.perf if o.perf else guess) for o in snapshot.offers]
    trusted = guess is not None or any(o.perf for o in snapshot.offers)
    ranked = sorted(priced, key=lambda pair: (pair[0].price_per_hour / pair[1] if pair[1] else pair[0].price_per_hour,
                                              pair[0].id))
    limit = group.max_workers - fleet.count
    if not trusted:  # try a few machines, and trust the offers once one has been benchmarked
        untested = sum(1 for w in fleet.warming if not w.benchmarked)
        limit = min(limit, max(group.test_workers, 1) - untested)
    used = {a.offer_id for a in fleet.actions if a.kind == "launch"}
    for offer, perf in ranked:
        if capacity <= 0 or limit <= 0:
            break
        if offer.id in used:
            continue
        fleet.actions.append(Action("launch", reason, offer_id=offer.id, replaces=replaces))
        fleet.warming.append(WorkerState(-offer.id, "launching", perf or 0.0, offer.price_per_hour, snapshot.now,
                                         replaces=replaces))
        capacity -= perf or 0.0
        limit -= 1
    return False


def _scale_up(fleet: _Fleet, snapshot: Snapshot, goals: _Goals) -> bool:
    """Put draining workers back in routing (serving now), then start stopped workers (seconds
    away), until what serves within seconds covers the target and drains the queue; launch
    (minutes away) what they cannot cover, counting the launches already on their way.
    Launches cover the queue only while it grows, and only up to need: what arrives now plus
    the queue as it is now drained within target_queue_time. The first of many machines loads
    sooner than the first of a few, but a queue that shrinks, or one stuck at a worker, does
    not need them."""
    target, drain = goals.target, goals.drain
    wanted = target + drain
    queued = f" + {drain:.1f} to drain the queue" if drain else ""
    for w in sorted(fleet.draining, key=lambda w: (_price_per_perf(w), w.id)):
        if fleet.serving_in_seconds >= wanted:
            break
        fleet.actions.append(Action("resume", f"capacity {fleet.serving_in_seconds:.1f} below {wanted:.1f} "
                                              f"({goals.why} {target:.1f}{queued})", worker_id=w.id))
        fleet.draining.remove(w)
        fleet.active.append(w)
    spare = snapshot.thresholds.restart_spare * (wanted - fleet.serving_in_seconds) if drain or goals.foreseen else 0.0
    for w in sorted(fleet.stopped, key=lambda w: (_price_per_perf(w), w.id)):
        if fleet.serving_in_seconds >= wanted + spare:
            break
        fleet.actions.append(Action("start", f"capacity {fleet.serving_in_seconds:.1f} below {wanted:.1f} "
                                             f"({goals.why} {target:.1f}{queued})", worker_id=w.id))
        fleet.stopped.remove(w)
        fleet.warming.append(w)
    if goals.growing:
        need = _queue_need(snapshot)
        wanted = max(target, min(wanted, need))
        why = f"{wanted:.1f} ({goals.why} {target:.1f}; a growing queue: {need:.1f} arriving and queued)"
    else:
        wanted, why = target, f"{goals.why} {target:.1f}"
    return _launch(fleet, snapshot, wanted - fleet.serving_soon, f"capacity {fleet.serving_soon:.1f} below {why}")


def _queue_need(snapshot: Snapshot) -> float:
    """What a growing queue needs serving: what arrives, and the queue as it is now drained
    within target_queue_time. Launches for it never go past this."""
    return load_now(snapshot) + snapshot.backlog / snapshot.group.target_queue_time


def _scale_down(fleet: _Fleet, snapshot: Snapshot, target: float, keep_capacity: float) -> None:
    """Stop (or destroy) the worst price/performance active workers while serving capacity stays >= target.

    Only capacity already serving counts: warming workers are not yet proven. Workers with
    nothing queued go first; one with requests in flight drains before it goes. While an
    outdated worker serves, only outdated ones are removed (not a newer one). Nothing goes
    before the load history covers scale_down_delay_s: a fleet found serving (a warm start, a
    control plane redeployed) is not torn down before reports tell what it serves.
    """
    if not _covered(snapshot, snapshot.now - snapshot.thresholds.scale_down_delay_s):
        return
    ours = [w for w in fleet.active if w.managed]
    if any(w.outdated for w in ours):
        ours = [w for w in ours if w.outdated]
    for w in sorted(_worst_first(ours), key=lambda w: w.busy):
        serving = sum(a.perf for a in fleet.active)
        if serving - w.perf < target:
            continue
        fleet.active.remove(w)
        _remove(fleet, snapshot, w, f"capacity {serving:.1f} above what load needs ({target:.1f})", keep_capacity)


def _drained(worker: WorkerState, snapshot: Snapshot) -> str | None:
    """Why a draining worker may go now: nothing is queued at it, or it left routing
    drain_timeout_s ago (a request stuck at it does not keep it forever). None: not yet."""
    if not worker.busy:
        return "drained"
    timeout = snapshot.thresholds.drain_timeout_s
    waited = snapshot.now - worker.draining_since if worker.draining_since is not None else 0.0
    if waited >= timeout:
        return f"still busy {waited:.0f} s after it left routing (drain_timeout_s {timeout:.0f})"
    return None


def _finish_draining(fleet: _Fleet, snapshot: Snapshot, keep_capacity: float) -> None:
    """A draining worker goes once `_drained`: outdated ones are destroyed, the others
    stopped or destroyed as `_remove` says."""
    for w in [w for w in fleet.draining if w.managed]:
        why = _drained(w, snapshot)
        if why is None:
            continue
        fleet.draining.remove(w)
        if w.outdated:
            fleet.actions.append(Action("destroy", f"{why}: outdated", worker_id=w.id))
        else:
            _remove(fleet, snapshot, w, why, keep_capacity)


def _remove(fleet: _Fleet, snapshot: Snapshot, worker: WorkerState, reason: str, keep_capacity: float) -> None:
    """Stop `worker` (no longer in `fleet`), to start again in seconds, unless the pool holds
    `keep_capacity` without it and it was started more than pool_keep_s ago (a relaunch costs
    more than keeping it stopped that long): then destroy it."""
    total_without = fleet.serving_soon + fleet.cold
    young = snapshot.now - worker.started_at < snapshot.thresholds.pool_keep_s
    if total_without < keep_capacity or fleet.ready_quick < snapshot.group.cold_workers or young:
        fleet.actions.append(Action("stop", f"{reason}; kept cold", worker_id=worker.id))
        fleet.stopped.append(worker)
    else:
        fleet.actions.append(Action("destroy", f"{reason}; cold pool full", worker_id=worker.id))


def _keep_cold_pool(fleet: _Fleet, snapshot: Snapshot, pool: float, keep_capacity: float, fill_workers: bool) -> bool:
    """Total capacity (serving soon + stopped) launched up to `pool`, and to cold_workers workers
    while the endpoint is in use; destroyed only above `keep_capacity`, what the recent peak wants,
    and never a worker started within pool_keep_s."""
    group = snapshot.group
    total = fleet.serving_soon + fleet.cold
    if total < pool:
        return _launch(fleet, snapshot, pool - total, f"cold pool: total capacity {total:.1f} below {pool:.1f}")
    if fill_workers and fleet.count < group.cold_workers:
        guess = _expected_perf(snapshot) or 1.0
        return _launch(fleet, snapshot, guess * (group.cold_workers - fleet.count),
                       f"cold pool: {fleet.count} workers, cold_workers is {group.cold_workers}")
    for w in _worst_first(fleet.stopped):
        young = snapshot.now - w.started_at < snapshot.thresholds.pool_keep_s
        if total - w.perf < keep_capacity or fleet.ready_quick <= group.cold_workers or young:
            continue
        fleet.stopped.remove(w)
        total -= w.perf
        reason = f"cold pool: total capacity {total + w.perf:.1f} above {keep_capacity:.1f}"
        fleet.actions.append(Action("destroy", reason, worker_id=w.id))
    return False


def _enforce_cap(fleet: _Fleet, group: GroupSettings) -> None:
    """More workers than max_workers (the cap was lowered): destroy stopped, then the worst active."""
    excess = fleet.count - group.max_workers
    ranked = (_worst_first(fleet.stopped) + _worst_first(w for w in fleet.draining if w.managed)
              + _worst_first(w for w in fleet.active if w.managed))
    for w in ranked[:max(excess, 0)]:
        next(kind for kind in (fleet.stopped, fleet.draining, fleet.active) if w in kind).remove(w)
        fleet.actions.append(Action("destroy", f"more than max_workers ({group.max_workers})", worker_id=w.id))


def _roll(fleet: _Fleet, snapshot: Snapshot, target: float) -> bool:
    """A rolling update's step. An outdated worker (serving ones first) is destroyed once a
    replacement launched for it serves (or is stopped, benchmarked) and the serving capacity
    without it still meets `target` (with requests in flight, it drains first); until then it gets a
    replacement launched whenever none is on its way, with at most ROLL_SURGE of the group
    launching at once. One still warming is replaced once it serves; at max_workers one that
    can go goes before its replacement launches. True if offers are needed."""
    group = snapshot.group
    members = fleet.active + fleet.warming + fleet.stopped
    by_old: dict[int, list[WorkerState]] = {}
    for w in members:
        if w.replaces is not None and not w.outdated:
            by_old.setdefault(w.replaces, []).append(w)
    launching = sum(1 for ws in by_old.values() for w in ws if w.status in WARMING)
    surge = max(1, math.ceil(ROLL_SURGE * (sum(1 for w in members if w.managed) - launching)))
    acted = {a.worker_id for a in fleet.actions}
    outdated = [w for w in members if w.outdated and w.managed and w.id not in acted and w.status not in WARMING]
    needs_offers = False
    for old in sorted(outdated, key=lambda w: (w.status not in ACTIVE, -_price_per_perf(w), w.id)):
        mine = by_old.get(old.id, [])
        ready = [w for w in mine if w.status in ACTIVE or w.status == STOPPED and w.benchmarked]
        can_go = old.status == STOPPED or sum(w.perf for w in fleet.active if w is not old) >= target
        if ready and can_go:
            _retire(fleet, old, f"rolling update: replaced by worker {ready[0].id}")
        elif any(w.status in WARMING for w in mine):
            continue  # its replacement is on its way
        elif fleet.count >= group.max_workers:
            if can_go:
                _retire(fleet, old, f"rolling update: at max_workers ({group.max_workers}), replaced after it goes")
        elif launching < surge:
            before = len(fleet.actions)
            needs_offers |= _launch(fleet, snapshot, 1e-9, f"rolling update: replaces worker {old.id}", old.id)
            launching += len(fleet.actions) - before
    return needs_offers


def _retire(fleet: _Fleet, worker: WorkerState, reason: str) -> None:
    (fleet.stopped if worker in fleet.stopped else fleet.active).remove(worker)
    fleet.actions.append(Action("destroy", reason, worker_id=worker.id))
