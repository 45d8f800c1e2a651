"""The benchmark's simulator and references, on traces small enough to check by hand."""
from __future__ import annotations

import dataclasses
import json

import pytest

from bench import policies
from bench.__main__ import main, run
from bench.clairvoyant import clairvoyant
from bench.simulator import Action, Result, Simulation
from bench.traces import InputError, Scenario, Trace

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


def test_the_clairvoyant_holds_at_most_max_workers_and_the_work_beyond_them_is_late():
    trace = Trace("over", 10, (150.0,) * 6)  # 60 s at 150 units/s: 15 workers' worth, 10 allowed
    result = clairvoyant(trace, SCENARIO)
    assert (result.peak_workers, result.launches) == (10, 10)
    assert result.slo_attainment == pytest.approx(100 / 150)
    assert result.late_before(60) == pytest.approx(50 / 150)


def test_the_clairvoyant_serves_any_load_with_a_worker_and_a_huge_one_at_once():
    assert clairvoyant(Trace("tiny", 10, (1e-9,) * 6), SCENARIO).peak_workers == 1
    assert clairvoyant(Trace("huge", 10, (1e9,) * 6), SCENARIO).peak_workers == 10  # not 1e8 slots


WARM = dataclasses.replace(SCENARIO, warm_start=True)


def test_a_warm_start_begins_with_the_workers_the_first_step_needs_serving_and_benchmarked():
    trace = Trace("running", 10, (25.0,) * 30)  # 300 s of 25 units/s: three workers at max_perf 10
    simulation = Simulation(trace, WARM, Fixed(0))
    view = simulation.view(0.0)
    assert [(w.status, w.perf) for w in view.workers] == [("running", 10.0)] * 3
    assert view.arrivals == ()  # and no history
    result = simulation.run()
    assert (result.slo_attainment, result.launches, result.peak_workers) == (1.0, 0, 3)
    assert result.cost == pytest.approx(3 * 300 * 3.6 / 3600)


def test_a_warm_clairvoyant_launches_only_what_the_first_step_does_not_need():
    trace = Trace("rising", 10, (15.0,) * 20 + (35.0,) * 10)  # two workers from t=0, two more from t=200
    cold, warm = clairvoyant(trace, SCENARIO), clairvoyant(trace, WARM)
    assert (cold.launches, warm.launches) == (4, 2)
    assert cold.cost - warm.cost == pytest.approx(2 * 100 * 3.6 / 3600)  # two launches' loading, not paid


def test_warm_start_is_read_from_the_scenario_and_must_be_a_flag(tmp_path):
    raw = {"step_s": 10, "worker": {"max_perf": 10.0, "max_perf_spread": 0.2,
           "load_time_s": {"median": 180, "sigma": 0.5, "max": 900}, "start_from_stopped_s": 20,
           "launch_failure_rate": 0.03, "mean_time_between_failures_h": 12, "price_per_hour": 1.5,
           "stopped_price_per_hour": 0.05, "stopped_start_unavailable_rate": 0.1},
           "slo": {"target_queue_time_s": 10}, "limits": {"max_workers": 60}}
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(raw))
    assert Scenario.load(path).warm_start is False
    path.write_text(json.dumps({**raw, "warm_start": True}))
    assert Scenario.load(path).warm_start is True
    path.write_text(json.dumps({**raw, "warm_start": "yes"}))
    with pytest.raises(InputError, match="warm_start must be true or false"):
        Scenario.load(path)


def test_the_production_policy_is_the_lambdas_function(monkeypatch):
    calls = []
    real = policies.production.decide
    monkeypatch.setattr(policies.production, "decide", lambda snapshot: calls.append(snapshot) or real(snapshot))
    Simulation(Trace("flat", 10, (5.0,) * 12), SCENARIO, policies.Production()).run()
    assert calls[0].group.max_workers == SCENARIO.max_workers
    # every pass_interval_s (20 s), as the scheduled Lambda's passes come; and while work queues
    # (no worker serves for 100 s, and the first one drains the queue over seconds more), every
    # 10 s, as /route/ wakes the scaler
    assert [c.now for c in calls] == [0, 1, 11, 20, 21, 31, 40, 41, 51, 60, 61, 71, 80, 81, 91, 100, 101, 111]
    # the offers it weighs promise the scenario's perf, as the baselines are given it
    assert {o.perf for o in calls[0].offers} == {SCENARIO.max_perf}
    assert calls[1].backlog == 5.0 and calls[1].group.target_queue_time == SCENARIO.target_wait_s


def tiny_bench(tmp_path) -> tuple:
    """A directory with one hour-long trace, and a scenario file."""
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "tiny.csv").write_text("t_s,load\n" + "".join(f"{10 * i},{5 + (i % 30)}\n" for i in range(360)))
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({
        "step_s": 10, "slo": {"target_queue_time_s": 10}, "limits": {"max_workers": 20},
        "worker": {"max_perf": 10.0, "max_perf_spread": 0.2, "load_time_s": {"median": 180, "sigma": 0.5, "max": 900},
                   "start_from_stopped_s": 20, "launch_failure_rate": 0.03, "mean_time_between_failures_h": 12,
                   "price_per_hour": 1.5, "stopped_price_per_hour": 0.05, "stopped_start_unavailable_rate": 0.1}}))
    return traces, scenario


def test_a_run_is_deterministic_for_a_seed_and_writes_its_outputs(tmp_path):
    traces, scenario = tiny_bench(tmp_path)
    first = run(traces, scenario, tmp_path / "a", seeds=(3,), policies=("production", "k8s-hpa"))
    second = run(traces, scenario, tmp_path / "b", seeds=(3,), policies=("production", "k8s-hpa"))
    assert first == second
    assert {r["policy"] for r in first} == {"clairvoyant", "production", "k8s-hpa"}
    assert set(first[0]) == {"trace", "policy", "slo_attainment", "cost", "cost_vs_clairvoyant", "p99_wait_s",
                             "launches", "cold_starts", "peak_workers", "late_first_15_min"}
    assert (tmp_path / "a" / "tiny.png").stat().st_size > 10_000 and (tmp_path / "a" / "results.md").exists()


def test_several_seeds_give_means_and_the_worst_seeds_attainment(tmp_path):
    traces, scenario = tiny_bench(tmp_path)
    each = [run(traces, scenario, tmp_path / str(seed), seeds=(seed,), policies=("k8s-hpa",))[1] for seed in (1, 2, 3)]
    rows = run(traces, scenario, tmp_path / "all", seeds=(1, 2, 3), policies=("k8s-hpa",))
    assert rows[0]["policy"] == "clairvoyant" and "seeds" not in rows[0]  # computed: the same on every seed
    hpa = rows[1]
    assert hpa["seeds"] == 3
    assert hpa["slo_attainment"] == pytest.approx(sum(r["slo_attainment"] for r in each) / 3, abs=1e-5)
    assert hpa["slo_attainment_min"] == min(r["slo_attainment"] for r in each)
    assert hpa["cost_vs_clairvoyant"] == pytest.approx(sum(r["cost_vs_clairvoyant"] for r in each) / 3, abs=2e-3)
    assert hpa["peak_workers"] == max(r["peak_workers"] for r in each)
    assert "(worst " in (tmp_path / "all" / "results.md").read_text()


@pytest.mark.parametrize("seeds", ["1,x", "1,1", ""])
def test_bad_seeds_are_refused_by_the_command(tmp_path, capsys, seeds):
    traces, scenario = tiny_bench(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["run", "--traces", str(traces), "--scenario", str(scenario), "--out", str(tmp_path / "o"),
              "--seeds", seeds])
    assert exited.value.code == 2 and "--seeds" in capsys.readouterr().err


def test_the_first_minutes_share_of_late_work_counts_what_was_served_late_in_them():
    result = Result("day", "production", arrived=1000.0, missed={0: 10.0, 14: 5.0, 15: 100.0})
    assert result.late_before(900.0) == pytest.approx(0.015)
