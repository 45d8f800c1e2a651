"""Recurring load: jumps noted where the load places them, the next foreseen only when they recur."""
from __future__ import annotations

import math
import random

import pytest

from chalicelib.scaling.recurrence import Jump, by_chance, foresee, note

RULES = {"ratio": 0.5, "min_rise": 5.0, "keep": 4}
RECUR = {"repeats": 3, "tolerance_s": 20.0, "min_period_s": 120.0, "same_base": 0.5, "max_chance": 0.05}


def minutes(*values: float, end: float) -> tuple:
    """One-minute samples ending at `end` (the last one still filling)."""
    return tuple((end - 60 * (len(values) - 1 - i), v) for i, v in enumerate(values))


def every(period: float, count: int, first: float = 1000.0, base: float = 0.0, level: float = 100.0) -> tuple:
    return tuple(Jump(first + period * i, base, level) for i in range(count))


# --- noting jumps ---------------------------------------------------------------------------

def test_a_jump_is_placed_by_how_much_of_the_samples_it_raised():
    # 20 for three minutes, then 60: the sample that started at 1120 is half risen, so the jump
    # came 30 s into it; the one filling since 1180 is wholly risen.
    samples = minutes(20.0, 20.0, 40.0, 60.0, end=1180.0)
    jumps = note((), samples, now=1200.0, current=60.0, **RULES)
    assert jumps == (Jump(1150.0, 20.0, 60.0),)


def test_a_jump_seen_within_seconds_is_placed_at_once():
    # a pass woken 2 s into it: no sample is risen yet, the load arriving now is
    assert note((), minutes(20.0, 20.0, end=1140.0), now=1182.0, current=60.0, **RULES) == (Jump(1182.0, 20.0, 60.0),)


def test_a_new_group_with_load_from_its_first_second_has_jumped_from_nothing():
    assert note((), (), now=1.0, current=150.0, **RULES) == (Jump(1.0, 0.0, 150.0),)


@pytest.mark.parametrize("current, why", [
    (29.0, "below half again the lowest sample"),
    (24.0, "less than min_rise above it"),
])
def test_what_is_not_a_jump(current, why):
    assert note((), minutes(20.0, 22.0, 20.0, end=1180.0), now=1200.0, current=current, **RULES) == (), why


def test_a_jump_still_risen_at_the_next_pass_is_the_same_one_raised_to_its_level():
    first = note((), minutes(20.0, 20.0, end=1180.0), now=1182.0, current=60.0, **RULES)
    later = note(first, minutes(20.0, 20.0, 55.0, 80.0, end=1300.0), now=1320.0, current=80.0, **RULES)
    assert later == (Jump(1182.0, 20.0, 80.0),)


def test_the_load_back_down_and_up_again_is_a_new_jump_and_only_the_last_few_are_kept():
    noted = every(600.0, 4, first=0.0, base=20.0, level=60.0)  # the last at 1800
    samples = minutes(60.0, 20.0, 40.0, 60.0, end=2400.0)  # down to 20 after it, up again at 2370
    jumps = note(noted, samples, now=2410.0, current=60.0, **RULES)
    assert [j.at for j in jumps] == [600.0, 1200.0, 1800.0, 2370.0]


def test_a_jump_ends_when_the_load_first_falls_below_its_middle_and_the_end_is_kept():
    first = note((), minutes(20.0, 20.0, end=1140.0), now=1182.0, current=60.0, **RULES)
    still = note(first, minutes(20.0, 20.0, 30.0, end=1180.0), now=1190.0, current=45.0, **RULES)
    assert still == (Jump(1182.0, 20.0, 60.0),)  # 45 is above the middle, 40
    ended = note(still, minutes(20.0, 20.0, 30.0, end=1180.0), now=1202.0, current=30.0, **RULES)
    assert ended == (Jump(1182.0, 20.0, 60.0, end=1202.0),)
    assert note(ended, minutes(20.0, 20.0, 30.0, end=1180.0), now=1222.0, current=20.0, **RULES) == ended


def test_the_load_up_again_above_the_middle_of_a_jump_that_ended_is_a_new_jump_from_the_same_base():
    ended = (Jump(1182.0, 20.0, 60.0, end=1202.0),)
    jumps = note(ended, minutes(20.0, 20.0, 45.0, end=1200.0), now=1242.0, current=70.0, **RULES)
    assert jumps == (Jump(1182.0, 20.0, 60.0, end=1202.0), Jump(1242.0, 20.0, 70.0))


# --- foreseeing the next ----------------------------------------------------------------------

def test_three_jumps_in_a_row_one_period_apart_foresee_the_fourth():
    forecast = foresee(every(900.0, 3), now=2900.0, **RECUR)
    assert (forecast.at, forecast.rise, forecast.period, forecast.spread) == (3700.0, 100.0, 900.0, 0.0)


def test_a_forecast_takes_the_largest_rise_and_the_base_of_the_last_jump():
    jumps = (Jump(1000.0, 10.0, 90.0), Jump(1900.0, 20.0, 130.0), Jump(2805.0, 30.0, 100.0))
    forecast = foresee(jumps, now=2900.0, **RECUR)
    assert forecast.rise == 110.0 and forecast.base == 30.0
    assert forecast.period == pytest.approx(902.5) and forecast.at == pytest.approx(3707.5)
    assert forecast.spread == pytest.approx(2.5)  # the middle one came 2.5 s early for that period


@pytest.mark.parametrize("jumps, why", [
    (every(900.0, 2), "two jumps are only one interval"),
    ((Jump(1000.0, 0, 9), Jump(1900.0, 0, 9), Jump(2830.0, 0, 9)), "the second interval is 30 s longer"),
    (every(60.0, 5), "closer than min_period_s"),
])
def test_load_that_does_not_recur_is_not_foreseen(jumps, why):
    assert foresee(jumps, now=3000.0, **RECUR) is None, why


def test_a_rise_within_a_session_does_not_recur_with_the_starts_of_sessions():
    # two sessions from idle 9263 s apart, and 9252 s before the first, a rise within a session
    jumps = (Jump(13884.6, 21.7, 33.6), Jump(23137.0, 0.0, 31.8), Jump(32400.0, 0.0, 25.1))
    assert foresee(jumps, now=32500.0, **RECUR) is None
    from_idle = (Jump(13884.6, 0.0, 33.6),) + jumps[1:]
    assert foresee(from_idle, now=32500.0, **RECUR)


def test_among_other_jumps_it_takes_one_more_repeat():
    periodic = every(900.0, 4)  # at 1000, 1900, 2800, 3700
    noise = (Jump(2300.0, 0, 50), Jump(3100.0, 0, 50))
    jumps = tuple(sorted(periodic[1:] + noise, key=lambda j: j.at))  # three periodic, two others among them
    assert foresee(jumps, now=3710.0, **RECUR) is None
    jumps = tuple(sorted(periodic + noise, key=lambda j: j.at))
    forecast = foresee(jumps, now=3710.0, **RECUR)
    assert forecast.at == 4600.0 and forecast.period == 900.0


def test_jumps_that_come_often_at_random_are_not_foreseen_though_some_fall_one_period_apart():
    # onsets every 30 s on average: among 16, four one period apart within 20 s are chance's doing
    draw = random.Random(2)
    times = [1000.0]
    while len(times) < 16:
        times.append(times[-1] + draw.expovariate(1 / 30.0))
    jumps = tuple(Jump(t, 0.0, 200.0) for t in times)
    assert foresee(jumps, now=times[-1] + 5, **{**RECUR, "max_chance": 1e9}), "they do line up"
    assert foresee(jumps, now=times[-1] + 5, **RECUR) is None


def test_how_likely_chance_lines_up_jumps_is_how_often_the_others_came():
    periodic = every(900.0, 4)  # nothing else among them: no chance
    assert by_chance(periodic, 900.0, hits=2, tolerance_s=20.0) == 0.0
    assert by_chance(every(300.0, 16), 300.0, hits=2, tolerance_s=20.0) == 0.0, "older ones of the period are no others"
    # two others in 2700 s: an onset has a 3% chance of one within 20 s; three onsets all of
    # it, over five periods tried
    jumps = tuple(sorted(periodic + (Jump(2300.0, 0, 50), Jump(3100.0, 0, 50)), key=lambda j: j.at))
    assert by_chance(jumps, 900.0, hits=3, tolerance_s=20.0) == pytest.approx(5 * (1 - math.exp(-80 / 2700)) ** 3)
    # one every 30 s that no 150 s period explains: almost certain
    noisy = tuple(Jump(1000.0 + 30 * i + (7 if i % 5 else 0), 0, 50) for i in range(16))
    assert by_chance(noisy, 150.0, hits=3, tolerance_s=20.0) > 1


def test_a_jump_that_does_not_come_ends_the_forecast():
    jumps = every(900.0, 3)  # the next is due at 3700
    assert foresee(jumps, now=3715.0, **RECUR).at == 3700.0
    assert foresee(jumps, now=3721.0, **RECUR) is None


def test_the_shortest_period_that_recurs_wins():
    # every 300 s; every 600 s fits as well, one in two
    forecast = foresee(every(300.0, 5), now=2300.0, **RECUR)
    assert forecast.period == 300.0
