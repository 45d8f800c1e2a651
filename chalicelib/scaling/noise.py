"""The load's noise: how far the load each pass sees strays from the middle of the last minutes.

Each pass notes the load the latest reports give (`note`), and the group's row keeps the
notes of the last noise_window_s. Their spread is robust (a median absolute deviation), so
a spike, or a jump among them, moves it little, while a load that differs at every report
window raises it. The policy serves what the spread above noise_floor adds (`policy.decide`):
target_util's headroom covers the noise of a usual load, not that of one whose report windows
differ by half.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence

MIN_SAMPLES = 6  # fewer notes than this (two minutes of passes) make no spread
MAD_TO_SD = 1.4826  # a normal distribution's standard deviation, over its median absolute deviation


def note(samples: Sequence[tuple[float, float]], now: float, load: float,
         window_s: float) -> tuple[tuple[float, float], ...]:
    """The (time, load) notes of the last `window_s`, oldest first, with the load now."""
    kept = tuple((t, value) for t, value in samples if now - window_s < t < now)
    return (*kept, (now, load))


def spread(samples: Sequence[tuple[float, float]]) -> float:
    """The loads' relative spread: MAD_TO_SD x their median absolute deviation, over their
    median (0 with fewer than MIN_SAMPLES notes or a median of no load)."""
    loads = [value for _, value in samples]
    if len(loads) < MIN_SAMPLES:
        return 0.0
    middle = statistics.median(loads)
    if middle <= 0:
        return 0.0
    return MAD_TO_SD * statistics.median(abs(value - middle) for value in loads) / middle
