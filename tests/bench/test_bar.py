"""Issue 16's bar, read off results rows: production's defaults against 99% at 1.3x, its cost
at 99% against the baselines', and any baseline setting that beats its defaults on both."""
from __future__ import annotations

import json

import pytest

from bench import bar
from bench.__main__ import main


def row(policy, slo, cost, trace="day", **more):
    return {"trace": trace, "policy": policy, "slo_attainment": slo, "cost_vs_clairvoyant": cost, **more}


ROWS = [
    row("clairvoyant", 1.0, 1.0),
    row("production", 0.992, 1.2, cost_at_99=1.1, cost_at_99_setting=0.95, slo_attainment_min=0.99),
    row("production", 0.95, 1.0, setting=0.95),
    row("k8s-hpa", 0.97, 1.15, cost_at_99=1.5, cost_at_99_setting=0.5),
    row("k8s-hpa", 0.995, 1.5, setting=0.5),
    row("static", 0.999, 2.0, cost_at_99=2.0, cost_at_99_setting=1.0),
    row("static", 0.993, 1.19, setting=0.9),  # cheaper and better than production's defaults
]


def test_a_trace_meets_the_bar_and_production_is_cheapest_at_99_unless_a_setting_beats_its_defaults():
    (verdict,) = bar.check(ROWS)
    assert verdict["meets_bar"] and verdict["lowest_at_99"]
    assert (verdict["cost_at_99"], verdict["best_baseline_at_99"]) == (1.1, 1.5)
    assert verdict["beaten_by"] == ["static at 0.9"]


def test_missing_the_bar_on_either_count():
    slow = [row("production", 0.989, 1.0, trace="slow")]
    dear = [row("production", 0.999, 1.31, trace="dear")]
    assert [v["meets_bar"] for v in bar.check(slow + dear)] == [False, False]


def test_a_baseline_cheaper_at_99_is_said_and_an_unswept_run_says_so(tmp_path, capsys):
    swept = [row("production", 0.99, 1.2, cost_at_99=None), row("static", 0.999, 3.0, cost_at_99=3.0)]
    assert not bar.check(swept)[0]["lowest_at_99"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(ROWS + [row("production", 0.99, 1.0, trace="other")]))
    assert main(["bar", str(path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[2] == "| day | 99.20% (99.00%) | 1.20 | yes | 1.10, 1.50 (lowest) | static at 0.9 |"
    assert table[3] == "| other | 99.00% | 1.00 | yes | not swept | none |"


def test_a_trace_without_load_has_no_ratio_and_nothing_beats_it(capsys, tmp_path):
    idle = [row("production", 1.0, None, trace="idle"), row("static", 1.0, None, trace="idle")]
    (verdict,) = bar.check(idle)
    assert verdict["beaten_by"] == [] and verdict["meets_bar"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(idle))
    assert main(["bar", str(path)]) == 0
    assert "| idle | 100.00% | n/a | yes | not swept | none |" in capsys.readouterr().out


def test_a_file_that_is_no_results_json_is_refused_by_name(tmp_path, capsys):
    for text in ('{"a": 1}', "[1]", '[{"trace": "t"}]'):
        path = tmp_path / "results.json"
        path.write_text(text)
        with pytest.raises(SystemExit) as exited:
            main(["bar", str(path)])
        assert exited.value.code == 2
        assert "not the results.json of python -m bench run" in capsys.readouterr().err
