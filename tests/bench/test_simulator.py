"""The benchmark's simulator and references, on traces small enough to check by hand."""
from __future__ import annotations

import json

import pytest

from bench import policies
from bench.__main__ import run
from bench.clairvoyant import clairvoyant
from bench.simulator import Action, Simulation
from bench.traces import Scenario, Trace

SCENARIO = Scenario(step_s=10, max_perf=10.0, perf_spread=0.0, load_median_s=100, load_sigma=0.0, load_max_s=900,
                    start_from_stopped_s=20, launch_failure_rate=0.0, mtbf_s=1e12, price_per_hour=3.6,
                    stopped_price_per_hour=0.36, stopped_unavailable_rate=0.0, target_wait_s=10, max_workers=10)


class Fixed:
    """Launches `n` workers at t=0 and does nothing else."""

    name, interval_s = "fixed", 60.0

    def __init__(self, n):
        self.n = n

    def decide(self, view):
        return [Action("launch")] * self.n if view.now == 0 else []


def test_work_waits_for_loading_workers_and_is_billed_per_second():
    trace = Trace("flat", 10, (10.0,) * 30)  # 300 s of 10 units/s
    result = Simulation(trace, SCENARIO, Fixed(1)).run()
    # the worker serves from t=100: work that arrived before t=90 waited more than 10 s
    assert result.arrived == pytest.approx(3000)
    assert result.slo_attainment == pytest.approx(0.0, abs=0.05)  # the backlog never drains at exactly 10/s
    assert result.cost == pytest.approx(300 * 3.6 / 3600)  # one worker, 300 s, $0.001/s


def test_enough_capacity_serves_everything_at_once():
    result = Simulation(Trace("flat", 10, (0.0,) * 10 + (15.0,) * 20), SCENARIO, Fixed(2)).run()
    assert result.slo_attainment == 1.0 and result.p99_wait_s() == 0


def test_the_clairvoyant_pays_for_need_plus_cheapest_gaps():
    trace = Trace("two-bursts", 10, (10.0,) * 6 + (0.0,) * 30 + (10.0,) * 6)  # 60 s, a 300 s gap, 60 s
    result = clairvoyant(trace, SCENARIO)
    # launch 100 s ahead ($0.1) + 120 s serving ($0.12) + the gap stopped ($0.03 + restart $0.02)
    assert result.cost == pytest.approx(0.1 + 0.12 + 0.03 + 0.02)
    assert (result.launches, result.cold_starts, result.slo_attainment) == (1, 1, 1.0)


def test_the_production_policy_is_the_lambdas_function(monkeypatch):
    calls = []
    real = policies.production.decide
    monkeypatch.setattr(policies.production, "decide", lambda snapshot: calls.append(snapshot) or real(snapshot))
    Simulation(Trace("flat", 10, (5.0,) * 12), SCENARIO, policies.Production()).run()
    assert calls[0].group.max_workers == SCENARIO.max_workers
    # on the minute, as scheduled; and while work queues (no worker serves for 100 s), every 10 s
    assert [c.now for c in calls] == [0, 1, 11, 21, 31, 41, 51, 60, 61, 71, 81, 91, 101, 111]
    assert calls[1].backlog == 5.0 and calls[1].group.target_queue_time == SCENARIO.target_wait_s


def test_a_run_is_deterministic_for_a_seed_and_writes_its_outputs(tmp_path):
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "tiny.csv").write_text("t_s,load\n" + "".join(f"{10 * i},{5 + (i % 30)}\n" for i in range(360)))
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({
        "step_s": 10, "slo": {"target_queue_time_s": 10}, "limits": {"max_workers": 20},
        "worker": {"max_perf": 10.0, "max_perf_spread": 0.2, "load_time_s": {"median": 180, "sigma": 0.5, "max": 900},
                   "start_from_stopped_s": 20, "launch_failure_rate": 0.03, "mean_time_between_failures_h": 12,
                   "price_per_hour": 1.5, "stopped_price_per_hour": 0.05, "stopped_start_unavailable_rate": 0.1}}))
    first = run(traces, scenario, tmp_path / "a", seed=3, policies=("production", "k8s-hpa"))
    second = run(traces, scenario, tmp_path / "b", seed=3, policies=("production", "k8s-hpa"))
    assert first == second
    assert {r["policy"] for r in first} == {"clairvoyant", "production", "k8s-hpa"}
    assert set(first[0]) == {"trace", "policy", "slo_attainment", "cost", "cost_vs_clairvoyant", "p99_wait_s",
                             "launches", "cold_starts", "peak_workers"}
    assert (tmp_path / "a" / "tiny.png").stat().st_size > 10_000 and (tmp_path / "a" / "results.md").exists()
