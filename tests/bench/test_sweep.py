"""Cost at the SLO: each policy's setting swept, and the cheapest setting that serves 99%."""
from __future__ import annotations

from bench.__main__ import EXTRA_POLICIES, POLICIES, make_policy, run
from bench.sweep import SETTINGS, cost_at_99, cost_table
from bench.traces import Trace
from tests.bench.test_simulator import tiny_bench


def swept(*points: tuple[float, float, float]) -> list[dict]:
    return [{"setting": x, "slo_attainment": slo, "cost_vs_clairvoyant": cost} for x, slo, cost in points]


def test_cost_at_99_is_the_cheapest_setting_that_reaches_the_bar():
    assert cost_at_99(swept((0.5, 0.999, 1.9), (0.7, 0.991, 1.4), (0.9, 0.98, 1.1))) == (1.4, 0.7)
    assert cost_at_99(swept((0.5, 0.99, 1.9), (0.7, 0.99, 1.4))) == (1.4, 0.7)  # exactly 99% counts
    assert cost_at_99(swept((0.5, 0.9899, 1.2))) == (None, None)
    assert cost_at_99([]) == (None, None)


def test_every_policy_has_one_setting_and_it_reaches_the_policy():
    assert set(SETTINGS) == set(POLICIES + EXTRA_POLICIES)
    trace = Trace("t", 10, (10.0, 20.0))
    for name, (field, values) in SETTINGS.items():
        assert len(values) >= 5 and values == tuple(sorted(values))
        assert getattr(make_policy(name, trace, values[0]), field) == values[0]
        assert getattr(make_policy(name, trace), field) != values[0]  # the defaults are not the first setting


def test_a_sweep_adds_a_row_per_setting_and_each_policys_cost_at_99(tmp_path):
    traces, scenario = tiny_bench(tmp_path)
    rows = run(traces, scenario, tmp_path / "out", seeds=(1,), policies=("production", "static"), sweep=True)
    defaults = [r for r in rows if "setting" not in r]
    assert [r["policy"] for r in defaults] == ["clairvoyant", "production", "static"]
    for policy in ("production", "static"):
        settings = [r for r in rows if r["policy"] == policy and "setting" in r]
        assert [r["setting"] for r in settings] == list(SETTINGS[policy][1])
        default = next(r for r in defaults if r["policy"] == policy)
        assert (default["cost_at_99"], default["cost_at_99_setting"]) == cost_at_99(settings)
    assert (tmp_path / "out" / "tiny-frontier.png").stat().st_size > 10_000
    assert "cost / clairvoyant at >= 99%" in (tmp_path / "out" / "results.md").read_text()


def test_the_cost_table_says_when_no_setting_reaches_the_bar_or_there_is_no_cost_to_compare():
    rows = [{"trace": "t", "policy": "p", "cost_at_99": None, "cost_at_99_setting": None, "cost_vs_clairvoyant": 2.0},
            {"trace": "t", "policy": "q", "cost_at_99": 1.234, "cost_at_99_setting": 0.8, "cost_vs_clairvoyant": 1.5},
            {"trace": "idle", "policy": "p", "cost_at_99": None, "cost_at_99_setting": None,
             "cost_vs_clairvoyant": None}]
    assert cost_table(rows).splitlines()[2:] == ["| t | p | none reaches 99% |  |", "| t | q | 1.23 | 0.8 |",
                                                 "| idle | p | n/a (the clairvoyant costs nothing) |  |"]
