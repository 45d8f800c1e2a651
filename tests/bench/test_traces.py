"""The benchmark reads traces it has never seen: what it accepts, and what it refuses by name."""
from __future__ import annotations

import json

import pytest

from bench.__main__ import main, markdown
from bench.traces import InputError, Scenario, Trace, load_traces


def write(tmp_path, text, name="t.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_trace_is_its_loads_at_a_fixed_step(tmp_path):
    trace = Trace.load(write(tmp_path, "t_s,load\n0,1.5\n60,2\n120,0\n"))
    assert (trace.name, trace.step_s, trace.loads, trace.duration_s) == ("t", 60.0, (1.5, 2.0, 0.0), 180.0)
    assert trace.load_at(59) == 1.5 and trace.load_at(60) == 2.0 and trace.load_at(500) == 0.0


def test_a_spreadsheet_export_with_a_bom_and_crlf_reads_the_same(tmp_path):
    trace = Trace.load(write(tmp_path, "t_s,load\r\n0,3\r\n10,4\r\n", encoding="utf-8-sig"))
    assert trace.loads == (3.0, 4.0)


def test_a_header_spelled_with_capitals_and_spaces_and_a_csv_in_capitals_are_read(tmp_path):
    write(tmp_path, "T_S, Load\n0,3\n10,4\n", name="DAY.CSV")
    write(tmp_path, "not a trace", name="notes.txt")
    assert [(t.name, t.loads) for t in load_traces(tmp_path)] == [("DAY", (3.0, 4.0))]


@pytest.mark.parametrize("text, problem", [
    ("time,load\n0,1\n", "header must name columns t_s and load"),
    ("t_s,load\n", "no rows after the header"),
    ("t_s,load\n0,1\n10,x\n", "t.csv:3: t_s and load must be numbers"),
    ("t_s,load\n0,1\n10\n", "t.csv:3: t_s and load must be numbers"),
    ("t_s,load\n0,1\n10,-2\n", "t.csv:3: load must be a finite number >= 0"),
    ("t_s,load\n0,1\n10,nan\n", "load must be a finite number >= 0"),
    ("t_s,load\n0,1\ninf,1\n", "t.csv:3: t_s must be a finite number"),
    ("t_s,load\n0,1\n10,1\n30,1\n", "row 3 is at t_s=30; rows must be evenly spaced by 10 s"),
    ("t_s,load\n10,1\n0,1\n", "t_s must increase"),
    ("t_s,load\n0,1\n0.5,1\n", "steps must be whole seconds"),
    ("t_s,load\n0,1\n1.5,1\n", "steps must be whole seconds"),
    ("t_s,load\n0,1\n10,\x00\n", "t.csv"),
])
def test_a_malformed_trace_is_refused_with_its_problem(tmp_path, text, problem):
    with pytest.raises(InputError, match=problem):
        Trace.load(write(tmp_path, text))


def test_a_trace_that_is_not_utf8_is_refused_as_such(tmp_path):
    for encoding, text in (("latin-1", "t_s,load\n0,1\n10,2 \u00e9\n"), ("utf-16", "t_s,load\n0,1\n")):
        with pytest.raises(InputError, match="t.csv: not UTF-8 text"):
            Trace.load(write(tmp_path, text, encoding=encoding))


SCENARIO = {"step_s": 10, "worker": {"max_perf": 10.0, "max_perf_spread": 0.2,
            "load_time_s": {"median": 180, "sigma": 0.5, "max": 900}, "start_from_stopped_s": 20,
            "launch_failure_rate": 0.03, "mean_time_between_failures_h": 12, "price_per_hour": 1.5,
            "stopped_price_per_hour": 0.05, "stopped_start_unavailable_rate": 0.1},
            "slo": {"target_queue_time_s": 10}, "limits": {"max_workers": 60}}


@pytest.mark.parametrize(("where", "value", "problem"), [
    (("worker", "max_perf"), "10", "worker.max_perf must be a number, not '10'"),
    (("worker", "max_perf"), None, "worker.max_perf must be a number"),
    (("worker", "max_perf"), 0, r"worker.max_perf must be within \(0, inf\]"),
    (("worker", "price_per_hour"), -1.5, "worker.price_per_hour must be within"),
    (("worker", "price_per_hour"), float("nan"), "worker.price_per_hour must be a number"),
    (("worker", "mean_time_between_failures_h"), float("inf"), "must be finite"),
    (("worker", "max_perf_spread"), 2, r"worker.max_perf_spread must be within \[0, 1\)"),
    (("worker", "load_time_s", "median"), 0, "worker.load_time_s.median must be within"),
    (("worker", "launch_failure_rate"), 1, "worker.launch_failure_rate must be within"),
    (("slo", "target_queue_time_s"), 0, "slo.target_queue_time_s must be within"),
    (("limits", "max_workers"), 0, "limits.max_workers must be within"),
    (("limits", "max_workers"), 2.7, "limits.max_workers must be a whole number"),
    (("limits", "max_workers"), True, "limits.max_workers must be a number"),
])
def test_a_scenario_value_out_of_its_range_is_refused_by_name(tmp_path, where, value, problem):
    raw = json.loads(json.dumps(SCENARIO))
    parent = raw
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = value
    with pytest.raises(InputError, match=problem):
        Scenario.load(write(tmp_path, json.dumps(raw), "scenario.json"))


def test_a_scenario_as_the_shared_ones_spell_it_is_read(tmp_path):
    scenario = Scenario.load(write(tmp_path, json.dumps(SCENARIO), "scenario.json"))
    assert (scenario.max_workers, scenario.mtbf_s, scenario.warm_start) == (60, 12 * 3600, False)


def test_a_scenario_missing_a_field_is_refused_by_name(tmp_path):
    with pytest.raises(InputError, match="missing field 'worker'"):
        Scenario.load(write(tmp_path, '{"step_s": 10}', "scenario.json"))
    with pytest.raises(InputError, match="not JSON"):
        Scenario.load(write(tmp_path, "{", "scenario.json"))


def test_the_command_exits_2_with_the_problem_not_a_traceback(tmp_path, capsys):
    traces = tmp_path / "traces"
    traces.mkdir()
    write(traces, "t_s,load\n0,1\n10,oops\n", "broken.csv")
    scenario = write(tmp_path, '{"step_s": 10}', "scenario.json")
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--traces", str(traces), "--scenario", str(scenario), "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert "broken.csv:3: t_s and load must be numbers" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--traces", str(tmp_path / "none"), "--scenario", str(scenario), "--out", str(tmp_path)])
    assert "no *.csv traces" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--traces", str(traces), "--scenario", str(scenario), "--out", str(tmp_path),
              "--policies", "production,magic"])
    assert "unknown policies ['magic']" in capsys.readouterr().err


def test_a_trace_without_load_has_no_cost_ratio_to_print():
    rows = [{"trace": "idle", "policy": "static", "slo_attainment": 1.0, "cost": 0.0, "cost_vs_clairvoyant": None,
             "p99_wait_s": 0, "launches": 0, "cold_starts": 0, "peak_workers": 0}]
    assert "| idle | static | 100.00% | 0.00 | n/a | 0 |" in markdown(rows)
