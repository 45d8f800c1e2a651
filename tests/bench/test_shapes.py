"""The generated shapes are traces the benchmark reads, the same for a seed."""
from __future__ import annotations

import random

from bench.__main__ import main
from bench.shapes import SHAPES, _daily, write_shapes
from bench.traces import load_traces


def test_each_shape_is_a_day_at_10_s_steps_and_the_same_for_a_seed(tmp_path):
    write_shapes(tmp_path / "a", seed=7)
    main(["shapes", "--out", str(tmp_path / "b"), "--seed", "7"])
    write_shapes(tmp_path / "c", seed=8)
    traces = load_traces(tmp_path / "a")
    assert sorted(t.name for t in traces) == sorted(SHAPES)
    assert all(t.step_s == 10 and t.duration_s == 86400 and min(t.loads) >= 0 for t in traces)
    assert load_traces(tmp_path / "b") == traces
    assert load_traces(tmp_path / "c") != traces


def test_blips_are_one_step_spikes_of_3_to_6x_the_daily_level_30_s_to_2_minutes_apart():
    loads = SHAPES["blips"](random.Random("7:blips"))
    spikes = [i for i in range(1, len(loads) - 1) if loads[i] > 2 * max(loads[i - 1], loads[i + 1])]
    assert {b - a for a, b in zip(spikes, spikes[1:], strict=False)} <= set(range(3, 13))
    assert all(2.5 < loads[i] / _daily(i, 20, 60) < 6.6 for i in spikes)
    assert len(spikes) > 8640 / 12
