"""The load's noise: what each pass saw, kept for a window, and its spread robust to a spike."""
from __future__ import annotations

import pytest

from chalicelib.scaling.noise import MAD_TO_SD, MIN_SAMPLES, note, spread


def seen(*loads: float, every: float = 20.0, end: float = 1000.0) -> tuple:
    """What passes `every` seconds apart saw, the last at `end`."""
    return tuple((end - every * (len(loads) - 1 - i), load) for i, load in enumerate(loads))


def test_each_pass_notes_the_load_it_saw_and_forgets_what_is_older_than_the_window():
    notes = seen(10.0, 20.0, 30.0, end=1000.0)  # at 960, 980, 1000
    assert note(notes, now=1270.0, load=40.0, window_s=300.0) == ((980.0, 20.0), (1000.0, 30.0), (1270.0, 40.0))


def test_a_pass_at_the_same_second_as_the_last_replaces_its_note():
    assert note(seen(10.0, 20.0), now=1000.0, load=25.0, window_s=300.0) == ((980.0, 10.0), (1000.0, 25.0))


def test_a_steady_load_has_no_spread():
    assert spread(seen(*[45.0] * 10)) == 0.0


def test_the_spread_is_the_median_absolute_deviation_over_the_median_scaled_to_a_standard_deviation():
    # 30 and 60 in turn around 45: every note strays by 15 from the middle.
    notes = seen(30.0, 60.0, 30.0, 60.0, 30.0, 60.0, 30.0, 60.0, 45.0)
    assert spread(notes) == pytest.approx(MAD_TO_SD * 15.0 / 45.0)  # 0.49


def test_a_spike_or_a_jump_among_the_notes_moves_the_spread_little():
    assert spread(seen(*[45.0] * 8, 300.0)) == 0.0
    assert spread(seen(*[45.0] * 6, 90.0, 90.0, 90.0)) == 0.0  # a jump a minute ago: most notes are before it


def test_too_few_notes_or_no_load_make_no_spread():
    assert spread(seen(*[30.0, 60.0] * 3)[1:]) == 0.0 and MIN_SAMPLES == 6
    assert spread(seen(0.0, 0.0, 0.0, 0.0, 50.0, 0.0, 0.0)) == 0.0
