"""The scaling policy: a snapshot of one worker group in, a plan out.

Pure arithmetic: no I/O, no clock, no randomness. The scheduled Lambda, the pass that
/route/ wakes when work queues, and the benchmark's simulator call this same function.

Capacity is in work units per second. A snapshot carries the group's settings
(`GroupSettings`, what its owner sets through the API) apart from the operator's
`Thresholds` (named defaults the deployment may override). The settings mean what Vast
users expect (scale_down_delay_s, pool_memory_s and pool_headroom are thresholds):
    serving target = max(load over the last scale_down_delay_s, load now x burst_s /
        (burst_s + target_queue_time), min_load) / target_util: starts meet the load now as a
        burst one report window long, served within the target wait (its noise waits in the
        queue); stops keep what all of it needs at target_util (the load now is what the
        latest reports give; what was routed since them counts only while a queue builds:
        see `load_now`)
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
A load noisier than target_util's headroom covers (the spread of what the passes of the last
noise_window_s saw, above noise_floor: `noise`) is served with that much more capacity, and
follows the mean of the last scale_down_delay_s where that is more than the minute still filling.
Load that comes back at a fixed period is foreseen (`recurrence`): cold workers start their
restart time ahead of the next jump, the pool holds the jump (recur_headroom above it), and
no worker is kept serving between jumps from idle.
Jumps that keep ending before a start from stopped could serve them (`short_jumps` in a row
within `short_jump_memory_s`, on a load still arriving) are not chased: what drains one
within target_queue_time, on average, is held serving, none is foreseen (no start ahead of
one, no pool trimmed to one), and a jump like them (begun less than a start and a pass ago,
and not a jump over the highest of them) starts nothing.
A rolling update replaces workers of an older generation (`outdated`), a few at a time
(see `actions.roll`); everywhere else, outdated workers are the first to go.
A worker that goes while requests are queued at it drains first (`DRAINING`): out of
routing at once, stopped (or destroyed) by the pass that sees its queue served, and back in
routing before any other if capacity is wanted again meanwhile.
Stopped workers serve again in seconds, launched ones in minutes: queueing is met from
the cold pool, launches keep the pool filled.
"""
from __future__ import annotations

import math
from dataclasses import replace

from chalicelib.scaling import noise, recurrence
from chalicelib.scaling.actions import (
    Fleet,
    Goals,
    drained,
    enforce_cap,
    finish_draining,
    keep_cold_pool,
    roll,
    scale_down,
    scale_up,
)
from chalicelib.scaling.context import (
    ACTIVE,
    DRAINING,
    STOPPED,
    WARMING,
    Action,
    GroupSettings,
    Hour,
    Plan,
    Snapshot,
    Thresholds,
    WorkerState,
    covered,
    expected_perf,
)

PEAK_BUCKET_S = 3600.0  # the memory of past load keeps one peak per hour
WAKE_FRACTION = 0.1  # of target_queue_time: queueing wakes the scaler while work can still make the target


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


def _mean(load: tuple[tuple[float, float], ...], since: float, now: float) -> float:
    """The load's mean from `since` to `now`, over the time its samples cover: each holds until
    the next, for at most the shortest spacing between them (a bucket: a minute without one
    had no reports, which is not no load); the last until now."""
    width = min((b[0] - a[0] for a, b in zip(load, load[1:], strict=False)), default=math.inf)
    total = covered = 0.0
    for (t, value), end in zip(load, [t for t, _ in load[1:]] + [now], strict=True):
        lo, hi = max(t, since), min(end, t + width, now)
        if hi > lo:
            total, covered = total + value * (hi - lo), covered + hi - lo
    return total / covered if covered else 0.0


def _inactive(snapshot: Snapshot) -> bool:
    """No load at all for the whole inactivity timeout (with history that covers it)."""
    timeout = snapshot.group.inactivity_timeout
    if timeout is None:
        return False
    since = snapshot.now - timeout
    return covered(snapshot, since) and _peak(snapshot.load, since) == 0


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


def decide(snapshot: Snapshot) -> Plan:
    """What to do with one worker group now, each action with its reason."""
    group = snapshot.group
    failing = _failing(snapshot)
    replaced = [Action("destroy", f"replace: {why}", worker_id=w.id) for w, why in failing if w.managed]
    gone = {w.id for w, _ in failing}
    remaining = [w for w in snapshot.workers if w.id not in gone]
    guess = expected_perf(snapshot) or 0.0
    fleet = Fleet(
        active=[w for w in remaining if w.status in ACTIVE],
        # A machine still loading has no benchmark yet: count what its peers serve.
        warming=[w if w.perf else replace(w, perf=guess) for w in remaining if w.status in WARMING],
        stopped=[w for w in remaining if w.status == STOPPED],
        actions=list(replaced),
        draining=[w for w in remaining if w.status == DRAINING],
        unremovable=sum(1 for w, _ in failing if not w.managed),
    )
    if group.endpoint_state == "stopped":
        for w in fleet.active + [w for w in fleet.draining if drained(w, snapshot)]:
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
    noted = noise.note(snapshot.noted_load, snapshot.now, _reported(snapshot), snapshot.thresholds.noise_window_s)
    goals = _goals(snapshot, memory, jumps, noise.spread(noted))
    needs_offers = scale_up(fleet, snapshot, goals)
    if goals.drain <= 0:
        scale_down(fleet, snapshot, goals.hold, goals.keep_capacity)
    finish_draining(fleet, snapshot, goals.keep_capacity)
    untested = expected_perf(snapshot) is None and not fleet.warming
    needs_offers |= keep_cold_pool(fleet, snapshot, goals.pool, goals.keep_capacity,
                                   fill_workers=goals.pool > 0 or untested)
    roll_done = False
    if snapshot.rolling:
        roll_done = not any(w.outdated and w.managed for w in snapshot.workers)
        needs_offers |= roll(fleet, snapshot, goals.target)
    enforce_cap(fleet, group)
    return Plan(tuple(fleet.actions), goals.predicted, goals.target, needs_offers and snapshot.offers is None, memory,
                jumps, noted_load=noted, roll_done=roll_done)


def _goals(snapshot: Snapshot, memory: tuple[Hour, ...], jumps: tuple[recurrence.Jump, ...], spread: float) -> Goals:
    group, thresholds, now = snapshot.group, snapshot.thresholds, snapshot.now
    if _inactive(snapshot) and group.min_load == 0:
        return Goals(0.0, 0.0, 0.0, "inactive", False, 0.0, False, 0.0, 0.0, 0.0)
    recent = max(_peak(snapshot.load, now - thresholds.scale_down_delay_s), group.min_load)
    if spread > thresholds.noise_floor:
        # A noisy load's minute still filling is a few report windows, no minute's rate: serving
        # follows the mean of the whole delay where that is more, not a few quiet windows.
        recent = max(recent, _mean(snapshot.load, now - thresholds.scale_down_delay_s, now))
    arriving = load_now(snapshot)
    # The load now is one report window's rate: starts meet it as a burst that long, served within
    # target_queue_time; a window's noise waits in the queue, a load that lasts shows in the minute
    # and in the queue it builds. Stops keep all of it.
    serving = max(recent, arriving * thresholds.burst_s / (thresholds.burst_s + group.target_queue_time))
    hold = max(recent, arriving) / group.target_util
    if serving == 0 and group.inactivity_timeout:  # no scaling to zero before the endpoint is inactive
        serving = recent = _peak(snapshot.load, now - group.inactivity_timeout)
    projected = predict_load(snapshot.load, now, thresholds, _reported(snapshot))
    predicted = max(projected, serving)
    restart_s = _restart_s(snapshot)
    short = _short_jumps(snapshot, jumps, restart_s)
    # Short jumps are not chased: none of them is foreseen either, for starts or for the pool.
    forecast = None if short else _foresee(snapshot, jumps)
    absorb = _absorb(short, group, thresholds.burst_s)
    target, why, foreseen = serving / group.target_util, "target", False
    if absorb > target:
        target, why = absorb, f"{len(short)} short jumps in a row"
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
            target = steady = expected_perf(snapshot) or 0.0
    elif now >= forecast.at - forecast.spread - restart_s - thresholds.pass_interval_s:
        # A recurring jump is due before the next pass could start cold workers in time.
        jump = (max(load_now(snapshot), _peak(snapshot.load, now - thresholds.pass_interval_s))
                + forecast.rise) / group.target_util
        if jump > target:
            target, foreseen = jump, True
            why = f"a jump recurring every {forecast.period:.0f} s, due at {forecast.at:.0f}"
    pool, keep_capacity = _pool(snapshot, memory, forecast, serving, steady, projected)
    queue, growing = _queue_to_drain(snapshot, restart_s)
    if short and _like(jumps[-1], short, now, restart_s + thresholds.pass_interval_s, thresholds.jump_ratio):
        # Cold workers started for it would serve after it: what is held drains it, as it did the others.
        target, queue, growing = max(absorb, group.min_load / group.target_util), 0.0, False
        why = f"a jump like the {len(short)} short ones before it"
    need = _queue_need(snapshot) if growing else 0.0
    # A load noisier than target_util's headroom covers queues at every report window above it:
    # serving grows by the excess spread, so it is met before the queue, not by starts after it.
    lift = max(spread - thresholds.noise_floor, 0.0)
    if lift > 0:
        target, hold, why = target * (1 + lift), hold * (1 + lift), f"{why}, {lift:.0%} more for the load's noise"
    return Goals(predicted, target, max(target, hold), why, foreseen, queue / group.target_queue_time, growing, need,
                 pool, keep_capacity)


def _short_jumps(snapshot: Snapshot, jumps: tuple[recurrence.Jump, ...],
                 restart_s: float) -> tuple[recurrence.Jump, ...]:
    """The last `short_jumps` jumps before the load now, if each began within short_jump_memory_s,
    ended before a start from stopped (and a pass) could serve it, and the load they rose from
    still arrives (half of it at least): else none."""
    t, now = snapshot.thresholds, snapshot.now
    count = int(t.short_jumps)
    past = jumps[:-1] if jumps and jumps[-1].end is None else jumps
    last = past[-count:] if count > 0 else ()
    lasting = restart_s + t.pass_interval_s
    if len(last) < max(count, 1) or any(j.at < now - t.short_jump_memory_s or j.end is None or j.end - j.at > lasting
                                        for j in last):
        return ()
    return last if load_now(snapshot) >= min(j.base for j in last) / 2 else ()


def _absorb(short: tuple[recurrence.Jump, ...], group: GroupSettings, burst_s: float) -> float:
    """Serving capacity that drains a jump like the short ones, on average, within target_queue_time:
    each taken as one report window (burst_s) at its level over the load it rose from."""
    if not short:
        return 0.0
    q = group.target_queue_time
    return sum((j.level * burst_s + j.base * q) / (burst_s + q) for j in short) / len(short) / group.target_util


def _like(jump: recurrence.Jump, short: tuple[recurrence.Jump, ...], now: float, lasting: float,
          ratio: float) -> bool:
    """Whether the load is in a jump like the short ones: begun less than `lasting` ago, and not
    above the highest of them by `ratio` of it (a jump of its own over them)."""
    return jump.end is None and now - jump.at <= lasting and jump.level <= (1 + ratio) * max(j.level for j in short)


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
        return pool, pool + (expected_perf(snapshot) or 0.0)
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
    if not rises or len(rises) < jumps or restart_s <= 0:  # instant restarts need no floor
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
    min_rise = thresholds.jump_min_workers * (expected_perf(snapshot) or 0.0)
    return recurrence.note(snapshot.jumps, samples, now, load_now(snapshot), thresholds.jump_ratio, min_rise,
                           int(thresholds.jumps_kept))


def _foresee(snapshot: Snapshot, jumps: tuple[recurrence.Jump, ...]) -> recurrence.Forecast | None:
    t = snapshot.thresholds
    return recurrence.foresee(jumps, snapshot.now, int(t.recur_repeats), t.recur_tolerance_s, t.recur_min_period_s,
                              t.recur_same_base, t.recur_chance)


def _queue_need(snapshot: Snapshot) -> float:
    """What a growing queue needs serving: what arrives, and the queue as it is now drained
    within target_queue_time. Launches for it never go past this."""
    return load_now(snapshot) + snapshot.backlog / snapshot.group.target_queue_time
