"""The benchmark reads traces it has never seen: what it accepts, and what it refuses by name."""
from __future__ import annotations

import pytest

from bench.__main__ import main, markdown
from bench.traces import InputError, Scenario, Trace


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
])
def test_a_malformed_trace_is_refused_with_its_problem(tmp_path, text, problem):
    with pytest.raises(InputError, match=problem):
        Trace.load(write(tmp_path, text))


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
