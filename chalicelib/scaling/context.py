"""What the scaling policy sees and what it returns: a `Snapshot` of one worker group (the
owner's `GroupSettings`, the operator's `Thresholds`, the observed workers and load) in, a
`Plan` of `Action`s out. Plain frozen data, read by `policy` and `actions`, built by their
callers (the scheduler from the group's rows, the benchmark from its simulation), with the two
readings of a snapshot both use.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.scaling import recurrence

# A worker's status, as the policy counts it.
ACTIVE = ("running", "idle")
WARMING = ("registered", "launching", "starting", "loading")
STOPPED = "stopped"
DRAINING = "stopping"  # out of routing by a pass's stop or destroy: serves what is queued at it, then goes
QUICK = ("registered", "starting", STOPPED)  # up in seconds: started from stopped, or brought up by its owner


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
    burst_s: float = 10.0  # the load now is a rate over about this long (a report window): see policy.decide
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
    recur_chance: float = 0.05  # jumps that chance would line up this likely (at the rate they come) do not recur
    short_jumps: int = 4  # jumps in a row that ended before a start could serve them: what drains one is held ...
    short_jump_memory_s: float = 600.0  # ... while the first of them began within this long
    drain_timeout_s: float = 300.0  # a draining worker goes this long after it left routing, its queue served or not
    noise_window_s: float = 300.0  # the load's noise is the spread of what the passes of this window saw
    noise_floor: float = 0.25  # target_util's headroom covers noise up to this spread: serving grows by the excess


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
    noted_load: tuple[tuple[float, float], ...] = ()  # (time, load) each recent pass saw, as the last plan left them
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
    noted_load: tuple[tuple[float, float], ...] = ()  # to pass in the next snapshot
    roll_done: bool = False  # the rolling update found no outdated worker left: it is over


def expected_perf(snapshot: Snapshot) -> float | None:
    """What a new worker will likely serve: the median benchmarked perf of the group, else
    the perf its owner declared (`perf_hint`), else the median its offers promise, else unknown."""
    known = sorted(w.perf for w in snapshot.workers if w.benchmarked and w.perf > 0)
    if known:
        return known[len(known) // 2]
    promised = sorted(o.perf for o in snapshot.offers or () if o.perf)
    return snapshot.group.perf_hint or (promised[len(promised) // 2] if promised else None)


def covered(snapshot: Snapshot, since: float) -> bool:
    """Whether the load history reaches back to `since`: no reports is not no load."""
    return bool(snapshot.load) and snapshot.load[0][0] <= since
