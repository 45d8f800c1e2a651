"""Load that comes back at a fixed period (batch jobs, cron schedules): its jumps noted, the next foreseen.

Pure arithmetic, part of the policy: no I/O, no clock. Each pass notes a jump of the arriving
load (its onset, and the load before and after it) in a short list that the policy's caller
keeps on the group's row. Once the last `repeats` onsets are each one period apart, within a
tolerance, the next jump is foreseen one period after the last, rising as far as the largest
of those rose. Jumps recur only from about the same load (a rise within a session is not the
session's start), and only where chance would not line up as many: among jumps that come
often at random, some always fall one period apart. A jump that does not come ends the
forecast until the load recurs again, and load that never recurs is never foreseen. A jump
also notes when it ended (the load back below its middle): the policy holds what drains
jumps that keep ending before a start could serve them.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Jump:
    """A sharp rise of the arriving load: when it began, the load before and after (units/s), and
    when the load first fell back below its middle (None: not yet)."""

    at: float
    base: float
    level: float
    end: float | None = None

    def ended_by(self, load: float, now: float) -> Jump:
        """This jump, ended at `now` if it had not and the load arriving is below its middle."""
        if self.end is None and now > self.at and load < (self.base + self.level) / 2:
            return replace(self, end=now)
        return self


@dataclass(frozen=True)
class Forecast:
    """The next jump of a recurring load: its onset, how far it rises, and the load the last one rose from."""

    at: float
    rise: float
    base: float
    period: float
    spread: float  # how far the onsets it was foreseen from fell from the period (s)
    tolerance: float  # how late it may come and still be the one foreseen (s)


def note(jumps: tuple[Jump, ...], samples: tuple[tuple[float, float], ...], now: float, current: float,
         ratio: float, min_rise: float, keep: int) -> tuple[Jump, ...]:
    """`jumps` (oldest first, at most `keep`), with the one the load is in now if it is new, and
    the last one ended (`Jump.ended_by`) by what arrives now.

    The load is in a jump when what arrives now (`current`) is above the lowest of the recent
    `samples` (time, units/s, oldest first; the last may be a bucket still filling) by at least
    `ratio` of it and by `min_rise`. Its onset is placed by how much of each sample since it
    raised: the time the samples spent risen, counted back from `now`. While the load has not
    gone back down to that lowest sample since the last jump noted, it is still in that one,
    whose level is raised to what arrives now.
    """
    lowest_at, base = min(samples, key=lambda s: (s[1], -s[0])) if samples else (now, 0.0)
    rise = current - base
    if rise < min_rise or current < base * (1 + ratio) or rise <= 0:
        return jumps[:-1] + (jumps[-1].ended_by(current, now),) if jumps else jumps
    if jumps and lowest_at <= jumps[-1].at:
        last = jumps[-1]
        if last.end is not None and current >= (last.base + last.level) / 2:  # it ended and the load rose again
            return (jumps + (Jump(now, last.base, current),))[-keep:]
        return jumps[:-1] + (replace(last, level=max(last.level, current)).ended_by(current, now),)
    risen = 0.0
    ends = [t for t, _ in samples[1:]] + [now]
    for (start, value), end in reversed(list(zip(samples, ends, strict=False))):
        share = min(max((value - base) / rise, 0.0), 1.0)
        if share < 0.2:  # the load before the jump, noise aside
            break
        risen += share * (end - start)
    return (jumps + (Jump(max(now - risen, lowest_at), base, current),))[-keep:]


def foresee(jumps: tuple[Jump, ...], now: float, repeats: int, tolerance_s: float,
            min_period_s: float, same_base: float, max_chance: float) -> Forecast | None:
    """The next jump, if the last `repeats` jumps are one period apart within `tolerance_s` (or
    the last one and `repeats` earlier ones among other jumps, which chance lines up more often),
    each from about the same load as the last (within `same_base` of its rise), chance would
    line them up no more likely than `max_chance` (`by_chance`), and it is not overdue. The
    shortest such period wins."""
    if repeats < 2 or len(jumps) < repeats:
        return None
    last = jumps[-1]
    alike = [j for j in jumps if abs(j.base - last.base) <= same_base * (last.level - last.base)]
    for earlier in reversed(jumps[:-1]):
        period = last.at - earlier.at
        if period < min_period_s:
            continue
        matched = [last]
        for m in range(1, repeats + 1):
            hit = min(alike, key=lambda j, m=m: abs(j.at - (last.at - m * period)))
            if abs(hit.at - (last.at - m * period)) > tolerance_s:
                break
            matched.append(hit)
        clean = list(jumps[-repeats:]) == matched[:repeats][::-1]  # nothing else among them
        if len(matched) < repeats + (0 if clean else 1):
            continue
        matched = matched[:repeats] if clean else matched
        period = (last.at - matched[-1].at) / (len(matched) - 1)
        if by_chance(alike, period, len(matched) - 1, tolerance_s) > max_chance:
            continue
        if now > last.at + period + tolerance_s:
            return None  # it did not come
        spread = max(abs(j.at - (last.at - m * period)) for m, j in enumerate(matched))
        return Forecast(last.at + period, max(j.level - j.base for j in matched), last.base, period, spread,
                        tolerance_s)
    return None


def by_chance(jumps: Sequence[Jump], period: float, hits: int, tolerance_s: float) -> float:
    """How likely chance alone puts `hits` onsets within `tolerance_s` of whole periods back
    from the last of `jumps` (those alike, oldest first): the jumps that period does not
    explain (each within tolerance_s of one period before the last explained, or of a whole
    number of periods where some did not come), at the rate they came, over the periods tried
    (one per earlier jump). None unexplained: no chance."""
    others, due = 0, jumps[-1].at - period
    for jump in reversed(jumps[:-1]):
        while jump.at < due - tolerance_s:
            due -= period
        if abs(jump.at - due) <= tolerance_s:
            due = jump.at - period
        else:
            others += 1
    span = jumps[-1].at - jumps[0].at
    if others == 0 or span <= 0:
        return 0.0
    hit = 1.0 - math.exp(-2.0 * tolerance_s * others / span)
    return (len(jumps) - 1) * hit ** hits
