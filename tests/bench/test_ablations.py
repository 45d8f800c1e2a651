"""The ablation script switches one part off per variant, and leaves the policy as it was."""
from __future__ import annotations

import json

from bench import ablations
from chalicelib.scaling import policy

SCENARIO = {
    "step_s": 10, "slo": {"target_queue_time_s": 10}, "limits": {"max_workers": 20},
    "worker": {"max_perf": 10.0, "max_perf_spread": 0.2, "load_time_s": {"median": 180, "sigma": 0.5, "max": 900},
               "start_from_stopped_s": 20, "launch_failure_rate": 0.03, "mean_time_between_failures_h": 12,
               "price_per_hour": 1.5, "stopped_price_per_hour": 0.05, "stopped_start_unavailable_rate": 0.1}}


def test_every_variant_runs_and_the_policy_is_restored_after(tmp_path, capsys):
    traces = tmp_path / "traces"
    traces.mkdir()
    # an hour: 20/s, a burst to 80/s at 30 min for 5 minutes
    (traces / "burst.csv").write_text("t_s,load\n" + "".join(
        f"{10 * i},{80 if 180 <= i < 210 else 20}\n" for i in range(360)))
    (tmp_path / "scenario.json").write_text(json.dumps(SCENARIO))
    real, need = policy._queue_to_drain, policy._queue_need
    assert ablations.main(["--traces", str(traces), "--scenario", str(tmp_path / "scenario.json"),
                           "--seeds", "1,2"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "| variant | burst |" and len(table) == 2 + len(ablations.VARIANTS)
    assert policy._queue_to_drain is real and policy._queue_need is need
    final, no_wake = (ablations.simulate((v, traces / "burst.csv", tmp_path / "scenario.json", 1))
                      for v in ("final (defaults)", "no wake: the schedule's passes only"))
    assert final[2] > no_wake[2]  # waking on the queue serves the burst sooner
