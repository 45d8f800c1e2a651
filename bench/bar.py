"""Issue 16's bar, read off a run's results.json (or several): per trace, production at its
defaults against 99% of work within the target wait at 1.3x the clairvoyant's cost, its cost
at 99% against every baseline's (with --sweep), and any baseline setting that is both
cheaper and at least as good as production's defaults.

    python -m bench bar build/bench/results.json build/bench-shapes/results.json
"""
from __future__ import annotations

import json
from pathlib import Path

SLO_BAR, COST_BAR = 0.99, 1.3
NOT_COMPETING = ("production", "production-unrated", "clairvoyant")
RESULT_FIELDS = {"trace", "policy", "slo_attainment", "cost_vs_clairvoyant"}


def check(rows: list[dict]) -> list[dict]:
    """One verdict per trace that has a production row at its defaults."""
    verdicts = []
    for trace in dict.fromkeys(r["trace"] for r in rows):
        mine = [r for r in rows if r["trace"] == trace]
        production = next((r for r in mine if r["policy"] == "production" and "setting" not in r), None)
        if production is None:
            continue
        others = [r for r in mine if r["policy"] not in NOT_COMPETING and r["cost_vs_clairvoyant"] is not None]
        ours_cost = production["cost_vs_clairvoyant"]  # None when the clairvoyant costs nothing (no load)
        better = [r for r in others if ours_cost is not None and r["slo_attainment"] >= production["slo_attainment"]
                  and r["cost_vs_clairvoyant"] <= ours_cost]
        at_99 = {r["policy"]: r["cost_at_99"] for r in others if "cost_at_99" in r and "setting" not in r}
        reached = [cost for cost in at_99.values() if cost is not None]
        ours = production.get("cost_at_99")
        verdicts.append({
            "trace": trace, "slo_attainment": production["slo_attainment"],
            "slo_attainment_min": production.get("slo_attainment_min", production["slo_attainment"]),
            "cost_vs_clairvoyant": production["cost_vs_clairvoyant"],
            "meets_bar": production["slo_attainment"] >= SLO_BAR
            and (production["cost_vs_clairvoyant"] or 0.0) <= COST_BAR,
            "swept": "cost_at_99" in production, "cost_at_99": ours,
            "best_baseline_at_99": min(reached, default=None),
            "lowest_at_99": ours is not None and all(ours <= cost for cost in reached),
            "beaten_by": [r["policy"] + ("" if "setting" not in r else f" at {r['setting']:g}") for r in better],
        })
    return verdicts


def markdown(verdicts: list[dict]) -> str:
    lines = ["| trace | production (worst seed) | cost / clairvoyant | >= 99% at <= 1.3x | cost at 99%: "
             "production, best baseline | cheaper and better than production's defaults |",
             "|---|---:|---:|---|---|---|"]
    for v in verdicts:
        worst = f" ({100 * v['slo_attainment_min']:.2f}%)" if v["slo_attainment_min"] != v["slo_attainment"] else ""
        at_99 = "not swept"
        if v["swept"]:
            ours = "none" if v["cost_at_99"] is None else f"{v['cost_at_99']:.2f}"
            best = "none" if v["best_baseline_at_99"] is None else f"{v['best_baseline_at_99']:.2f}"
            at_99 = f"{ours}, {best}" + (" (lowest)" if v["lowest_at_99"] else "")
        ratio = "n/a" if v["cost_vs_clairvoyant"] is None else f"{v['cost_vs_clairvoyant']:.2f}"
        lines.append(f"| {v['trace']} | {100 * v['slo_attainment']:.2f}%{worst} | {ratio} "
                     f"| {'yes' if v['meets_bar'] else 'no'} | {at_99} | {', '.join(v['beaten_by']) or 'none'} |")
    return "\n".join(lines) + "\n"


def main(paths: list[Path]) -> str:
    rows = []
    for path in paths:
        read = json.loads(Path(path).read_text())
        if not isinstance(read, list) or not all(isinstance(r, dict) and RESULT_FIELDS <= r.keys() for r in read):
            raise ValueError(f"{path}: not the results.json of python -m bench run")
        rows += read
    return markdown(check(rows))
