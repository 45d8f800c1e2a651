"""The plan's actions: which workers start, stop, launch or go to meet the `Goals` the policy
set (`policy.decide`). Stopped workers before launches, the best price per performance first;
what goes, the worst first, draining before it stops.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from chalicelib.scaling.context import (
    ACTIVE,
    QUICK,
    STOPPED,
    WARMING,
    Action,
    GroupSettings,
    Snapshot,
    WorkerState,
    covered,
    expected_perf,
)

ROLL_SURGE = 0.25  # a rolling update has at most this share of the group's workers (at least one) launching


@dataclass(frozen=True)
class Goals:
    """What the policy wants of the group now, in capacity (work units per second)."""

    predicted: float  # load expected one lead time ahead
    target: float  # serving capacity wanted now: starts go up to it
    hold: float  # serving capacity not stopped: the target, or what all of the load now needs if more
    why: str  # what the target is for
    foreseen: bool  # the target is for a recurring jump due before the next pass
    drain: float  # more capacity: what is queued when cold workers serve, served within target_queue_time
    growing: bool  # more arrives than serves: the queue grows until more capacity serves
    need: float  # while it grows, what it needs serving: launches for the queue never go past this
    pool: float  # total capacity (serving + cold) launched up to
    keep_capacity: float  # total capacity kept before a cold worker is destroyed


@dataclass
class Fleet:
    """The workers left after replacements, and the plan being built."""

    active: list[WorkerState]
    warming: list[WorkerState]
    stopped: list[WorkerState]
    actions: list[Action] = field(default_factory=list)
    draining: list[WorkerState] = field(default_factory=list)  # going once what is queued at them is served
    unremovable: int = 0  # failing workers its owner brought: no capacity, never acted on, still within max_workers

    @property
    def serving_soon(self) -> float:
        return sum(w.perf for w in self.active) + sum(w.perf for w in self.warming)

    @property
    def serving_in_seconds(self) -> float:
        """Serving, or starting from stopped: not the launches, minutes from serving."""
        return sum(w.perf for w in self.active) + sum(w.perf for w in self.warming if w.status in QUICK)

    @property
    def count(self) -> int:
        return len(self.active) + len(self.warming) + len(self.stopped) + len(self.draining) + self.unremovable

    @property
    def ready_quick(self) -> int:
        """Workers with the model on disk: serving or draining, or stopped and seconds from serving."""
        return len(self.active) + len(self.stopped) + len(self.draining)

    @property
    def cold(self) -> float:
        """Capacity stopped, or to be once drained."""
        return sum(w.perf for w in self.stopped) + sum(w.perf for w in self.draining)


def _price_per_perf(worker: WorkerState) -> float:
    """Price per hour per unit of perf: lower is better."""
    return worker.price_per_hour / worker.perf if worker.perf > 0 else math.inf


def _worst_first(workers) -> list[WorkerState]:
    """The order workers go in: outdated ones first, then the worst price per performance."""
    return sorted(workers, key=lambda w: (not w.outdated, -_price_per_perf(w), -w.id))


def _launch(fleet: Fleet, snapshot: Snapshot, capacity: float, reason: str, replaces: int | None = None) -> bool:
    """Launch onto the best-value offers until `capacity` is covered. True if offers are needed."""
    group = snapshot.group
    if capacity <= 0 or fleet.count >= group.max_workers:
        return False
    if snapshot.offers is None:
        return True
    guess = expected_perf(snapshot)
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


def scale_up(fleet: Fleet, snapshot: Snapshot, goals: Goals) -> bool:
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
        wanted = max(target, min(wanted, goals.need))
        why = f"{wanted:.1f} ({goals.why} {target:.1f}; a growing queue: {goals.need:.1f} arriving and queued)"
    else:
        wanted, why = target, f"{goals.why} {target:.1f}"
    return _launch(fleet, snapshot, wanted - fleet.serving_soon, f"capacity {fleet.serving_soon:.1f} below {why}")


def scale_down(fleet: Fleet, snapshot: Snapshot, target: float, keep_capacity: float) -> None:
    """Stop (or destroy) the worst price/performance active workers while serving capacity stays >= target.

    Only capacity already serving counts: warming workers are not yet proven. Workers with
    nothing queued go first; one with requests in flight drains before it goes. While an
    outdated worker serves, only outdated ones are removed (not a newer one). Nothing goes
    before the load history covers scale_down_delay_s: a fleet found serving (a warm start, a
    control plane redeployed) is not torn down before reports tell what it serves.
    """
    if not covered(snapshot, snapshot.now - snapshot.thresholds.scale_down_delay_s):
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


def drained(worker: WorkerState, snapshot: Snapshot) -> str | None:
    """Why a draining worker may go now: nothing is queued at it, or it left routing
    drain_timeout_s ago (a request stuck at it does not keep it forever). None: not yet."""
    if not worker.busy:
        return "drained"
    timeout = snapshot.thresholds.drain_timeout_s
    waited = snapshot.now - worker.draining_since if worker.draining_since is not None else 0.0
    if waited >= timeout:
        return f"still busy {waited:.0f} s after it left routing (drain_timeout_s {timeout:.0f})"
    return None


def finish_draining(fleet: Fleet, snapshot: Snapshot, keep_capacity: float) -> None:
    """A draining worker goes once `drained`: outdated ones are destroyed, the others
    stopped or destroyed as `_remove` says."""
    for w in [w for w in fleet.draining if w.managed]:
        why = drained(w, snapshot)
        if why is None:
            continue
        fleet.draining.remove(w)
        if w.outdated:
            fleet.actions.append(Action("destroy", f"{why}: outdated", worker_id=w.id))
        else:
            _remove(fleet, snapshot, w, why, keep_capacity)


def _remove(fleet: Fleet, snapshot: Snapshot, worker: WorkerState, reason: str, keep_capacity: float) -> None:
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


def keep_cold_pool(fleet: Fleet, snapshot: Snapshot, pool: float, keep_capacity: float, fill_workers: bool) -> bool:
    """Total capacity (serving soon + stopped) launched up to `pool`, and to cold_workers workers
    while the endpoint is in use; destroyed only above `keep_capacity`, what the recent peak wants,
    and never a worker started within pool_keep_s."""
    group = snapshot.group
    total = fleet.serving_soon + fleet.cold
    if total < pool:
        return _launch(fleet, snapshot, pool - total, f"cold pool: total capacity {total:.1f} below {pool:.1f}")
    if fill_workers and fleet.count < group.cold_workers:
        guess = expected_perf(snapshot) or 1.0
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


def enforce_cap(fleet: Fleet, group: GroupSettings) -> None:
    """More workers than max_workers (the cap was lowered): destroy stopped, then the worst active."""
    excess = fleet.count - group.max_workers
    ranked = (_worst_first(fleet.stopped) + _worst_first(w for w in fleet.draining if w.managed)
              + _worst_first(w for w in fleet.active if w.managed))
    for w in ranked[:max(excess, 0)]:
        next(kind for kind in (fleet.stopped, fleet.draining, fleet.active) if w in kind).remove(w)
        fleet.actions.append(Action("destroy", f"more than max_workers ({group.max_workers})", worker_id=w.id))


def roll(fleet: Fleet, snapshot: Snapshot, target: float) -> bool:
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


def _retire(fleet: Fleet, worker: WorkerState, reason: str) -> None:
    (fleet.stopped if worker in fleet.stopped else fleet.active).remove(worker)
    fleet.actions.append(Action("destroy", reason, worker_id=worker.id))
