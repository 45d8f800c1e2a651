"""Load traces of shapes other than the five public ones, to check that the policy generalises.

    python -m bench shapes --out build/shapes [--seed 7]

Each is a day at 10 s steps in the format of ../shared/traces/README.md, meant for the same
scenario (workers of about 10 units/s, at most 60). Deterministic for a seed.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path

STEPS, STEP_S = 8640, 10


def _walk(r: random.Random) -> list[float]:
    """A multiplicative random walk between 5 and 400, from 70."""
    x, out = 70.0, []
    for _ in range(STEPS):
        x = min(max(x * math.exp(r.gauss(0, 0.02)), 5), 400)
        out.append(x * (1 + r.gauss(0, 0.05)))
    return out


def _waves(r: random.Random) -> list[float]:
    """A slow wave, 20 to 180, every 3 hours."""
    return [100 + 80 * math.sin(2 * math.pi * i / 1080) + r.gauss(0, 5) for i in range(STEPS)]


def _decline(r: random.Random) -> list[float]:
    """From 200 at the start down to nothing after 17 hours."""
    return [max(0.0, 200 * (1 - i / 6000)) * (1 + r.gauss(0, 0.05)) for i in range(STEPS)]


def _flash(r: random.Random) -> list[float]:
    """A flash crowd: 30, then 10x for 20 minutes at hour 10, back over 30 minutes."""
    def base(t: float) -> float:
        if 36000 <= t < 37200:
            return 300
        if 37200 <= t < 39000:
            return 300 - 270 * (t - 37200) / 1800
        return 30
    return [base(i * STEP_S) * (1 + r.gauss(0, 0.05)) for i in range(STEPS)]


def _spikes(r: random.Random) -> list[float]:
    """60, with frequent spikes of 2-3x lasting one or two minutes."""
    out, until, mult = [], -1, 1.0
    for i in range(STEPS):
        if i > until and r.random() < 0.01:
            until, mult = i + r.randint(6, 12), r.uniform(2, 3)
        out.append(60 * (mult if i <= until else 1) * (1 + r.gauss(0, 0.05)))
    return out


def _batch(r: random.Random) -> list[float]:
    """A 10-minute job of 150 every hour, nothing in between."""
    return [(150 if i * STEP_S % 3600 < 600 else 0) * (1 + r.gauss(0, 0.03)) for i in range(STEPS)]


def _steps(r: random.Random) -> list[float]:
    """40, a step to 120 at hour 6, down to 60 at hour 14."""
    return [(40 if i < 2160 else 120 if i < 5040 else 60) * (1 + r.gauss(0, 0.05)) for i in range(STEPS)]


def _tiny(r: random.Random) -> list[float]:
    """A third of one worker, noisy."""
    return [3 * (1 + r.gauss(0, 0.2)) for _ in range(STEPS)]


def _near_cap(r: random.Random) -> list[float]:
    """About 480 from the first second: 80% of what 60 workers serve."""
    return [480 * (1 + 0.1 * math.sin(2 * math.pi * i / STEPS)) * (1 + r.gauss(0, 0.05)) for i in range(STEPS)]


def _business(r: random.Random) -> list[float]:
    """An office day: peaks at 10:00 and 15:00, almost nothing at night."""
    def day(h: float) -> float:
        return math.exp(-((h - 10) / 1.5) ** 2) + math.exp(-((h - 15) / 1.8) ** 2)
    return [5 + 150 * day(i * STEP_S / 3600) * (1 + r.gauss(0, 0.08)) for i in range(STEPS)]


def _daily(i: int, low: float, high: float) -> float:
    """A day/night cycle from `low` at 04:00 to `high` at 16:00."""
    return low + (high - low) * (1 - math.cos(2 * math.pi * (i * STEP_S / 3600 - 4) / 24)) / 2


def _recurring(r: random.Random, periods_s: tuple[int, int], base: Callable[[int], float]) -> list[float]:
    """`base`, plus a job that recurs at a fixed period drawn from `periods_s` and a random phase:
    it adds 1.5-3x the base's mean for 1-5 minutes each time."""
    period = r.randrange(periods_s[0], periods_s[1] + 1, STEP_S)
    phase, steps = r.randrange(0, period, STEP_S), r.randint(6, 30)
    height = r.uniform(1.5, 3) * sum(base(i) for i in range(STEPS)) / STEPS
    return [(base(i) + (height if (i * STEP_S - phase) % period < steps * STEP_S else 0)) * (1 + r.gauss(0, 0.05))
            for i in range(STEPS)]


def _cron(r: random.Random) -> list[float]:
    """A daily cycle (20 to 100) with a job every 5 to 30 minutes (period and phase at random)."""
    return _recurring(r, (300, 1800), lambda i: _daily(i, 20, 100))


def _hourly(r: random.Random) -> list[float]:
    """A steady 40 with a job every 30 to 120 minutes (period and phase at random)."""
    return _recurring(r, (1800, 7200), lambda i: 40.0)


def _cron_idle(r: random.Random) -> list[float]:
    """Nothing but a job of 60 to 200 for 2 to 10 minutes, every 10 to 60 minutes (at random)."""
    period, height = r.randrange(600, 3601, STEP_S), r.uniform(60, 200)
    phase, steps = r.randrange(0, period, STEP_S), r.randint(12, min(60, period // STEP_S // 2))
    return [(height if (i * STEP_S - phase) % period < steps * STEP_S else 0) * (1 + r.gauss(0, 0.03))
            for i in range(STEPS)]


def _crowd(r: random.Random) -> list[float]:
    """A daily cycle (30 to 90), and once, at a random hour, a crowd of 4-8x its level (at most
    400, two thirds of what 60 workers serve) that builds over 5 minutes, holds 20 to 40 minutes
    and fades over 30."""
    start, rise, hold, fade = r.randrange(3 * 360, 20 * 360), 30, r.randint(120, 240), 180
    mult = min(r.uniform(4, 8), 400 / _daily(start, 30, 90))

    def extra(i: int) -> float:
        k = i - start
        if k < 0 or k >= rise + hold + fade:
            return 1.0
        if k < rise:
            return 1 + (mult - 1) * k / rise
        return mult if k < rise + hold else 1 + (mult - 1) * (1 - (k - rise - hold) / fade)
    return [_daily(i, 30, 90) * extra(i) * (1 + r.gauss(0, 0.05)) for i in range(STEPS)]


def _blips(r: random.Random) -> list[float]:
    """A daily cycle (20 to 60) with one-step spikes of 3-6x its level, 30 s to 2 minutes apart
    (at random): each over before a stopped worker could start for it."""
    out, due = [], r.randint(3, 12)
    for i in range(STEPS):
        level = _daily(i, 20, 60)
        if i == due:
            level *= r.uniform(3, 6)
            due = i + r.randint(3, 12)
        out.append(level * (1 + r.gauss(0, 0.05)))
    return out


SHAPES: dict[str, Callable[[random.Random], list[float]]] = {
    "walk": _walk, "waves": _waves, "decline": _decline, "flash": _flash, "spikes": _spikes,
    "batch": _batch, "steps": _steps, "tiny": _tiny, "near_cap": _near_cap, "business": _business,
    "cron": _cron, "hourly": _hourly, "cron_idle": _cron_idle, "crowd": _crowd, "blips": _blips,
}


def write_shapes(out: Path, seed: int) -> list[Path]:
    """One CSV per shape in `out`, each from its own generator seeded by `seed` and its name."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, shape in SHAPES.items():
        loads = shape(random.Random(f"{seed}:{name}"))
        path = out / f"{name}.csv"
        path.write_text("t_s,load\n" + "".join(f"{i * STEP_S},{max(load, 0.0):.3f}\n" for i, load in enumerate(loads)))
        paths.append(path)
    return paths
