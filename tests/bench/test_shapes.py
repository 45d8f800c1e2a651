"""The generated shapes are traces the benchmark reads, the same for a seed."""
from __future__ import annotations

from bench.__main__ import main
from bench.shapes import SHAPES, write_shapes
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
