"""The scaling benchmark: every policy on every trace, side by side.

    python -m bench run --traces ../shared/traces --scenario ../shared/traces/scenario.json --out build/bench
    python -m bench run ... --seeds 1,2,3         # each cell on each seed: means, and the worst attainment
    python -m bench run ... --sweep               # and each policy at each of its settings: cost at 99%
    python -m bench shapes --out build/shapes     # traces of other shapes, to run the same way
    python -m bench bar build/bench/results.json  # issue 16's bar, trace by trace (bench/bar.py)

Writes results.json (one row per trace and policy), results.md and one PNG per trace
(offered load and each policy's serving capacity over the day).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from multiprocessing import Pool
from pathlib import Path

from bench import bar
from bench.clairvoyant import clairvoyant
from bench.policies import Hpa, Kpa, Production, RayServe, SkyServe, Static, VastHeuristic
from bench.shapes import write_shapes
from bench.simulator import Result, Simulation
from bench.sweep import SETTINGS, cost_at_99, cost_table, frontier
from bench.traces import InputError, Scenario, Trace, load_traces, trace_files

POLICIES = ("production", "k8s-hpa", "knative-kpa", "ray-serve", "skyserve", "vast-heuristic", "static")
# Run only when asked (--policies): production on offers that promise no perf, so that until a
# worker has benchmarked it launches a test batch (what the first minutes cost without a rating).
EXTRA_POLICIES = ("production-unrated",)


def make_policy(name: str, trace: Trace, setting: float | None = None):
    """The policy `name`, at its defaults, or with its swept setting (bench.sweep) at `setting`."""
    policy = {"production": Production,
              "production-unrated": lambda: Production("production-unrated", offers_rated=False),
              "k8s-hpa": Hpa, "knative-kpa": Kpa, "ray-serve": RayServe, "skyserve": SkyServe,
              "vast-heuristic": VastHeuristic,
              "static": lambda: Static(peak_load=max(trace.loads))}[name]()
    if setting is not None:
        setattr(policy, SETTINGS[name][0], setting)
    return policy


FIRST_MINUTES_S = 900.0  # rows say what share of the work was late within the first 15 minutes
Job = tuple[Path, Path, str, int, float | None]  # trace, scenario, policy, seed, setting (None: the defaults)


def simulate(job: Job) -> tuple[int, float | None, Result]:
    trace_path, scenario_path, policy, seed, setting = job
    trace = Trace.load(trace_path)
    return seed, setting, Simulation(trace, Scenario.load(scenario_path), make_policy(policy, trace, setting),
                                     seed).run()


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _count(values: list[int]) -> float:
    """A count's mean: whole where it is whole (one seed), else to a tenth."""
    mean = _mean(values)
    return int(mean) if float(mean).is_integer() else round(mean, 1)


def row(results: list[Result], reference: float) -> dict:
    """One trace and policy: over several seeds, SLO attainment and cost ratio are means (with
    the worst seed's attainment beside them), counts are means, p99 wait and peak workers the worst."""
    p99 = max(r.p99_wait_s() for r in results)
    out = {"trace": results[0].trace, "policy": results[0].policy,
           "slo_attainment": round(_mean([r.slo_attainment for r in results]), 5),
           "cost": round(_mean([r.cost for r in results]), 2),
           "cost_vs_clairvoyant": round(_mean([r.cost / reference for r in results]), 3) if reference else None,
           "p99_wait_s": None if math.isinf(p99) else p99,
           "launches": _count([r.launches for r in results]), "cold_starts": _count([r.cold_starts for r in results]),
           "peak_workers": max(r.peak_workers for r in results),
           "late_first_15_min": round(_mean([r.late_before(FIRST_MINUTES_S) for r in results]), 5)}
    if len(results) > 1:
        out["slo_attainment_min"] = round(min(r.slo_attainment for r in results), 5)
        out["seeds"] = len(results)
    return out


def markdown(rows: list[dict]) -> str:
    lines = ["| trace | policy | SLO attainment | cost ($) | cost / clairvoyant | p99 wait (s) | launches "
             "| cold starts | peak workers |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        p99 = "never served" if r["p99_wait_s"] is None else f"{r['p99_wait_s']:.0f}"
        ratio = "n/a" if r["cost_vs_clairvoyant"] is None else f"{r['cost_vs_clairvoyant']:.2f}"  # no load: $0
        worst = f" (worst {100 * r['slo_attainment_min']:.2f}%)" if "slo_attainment_min" in r else ""
        lines.append(f"| {r['trace']} | {r['policy']} | {100 * r['slo_attainment']:.2f}%{worst} | {r['cost']:.2f} "
                     f"| {ratio} | {p99} | {r['launches']} | {r['cold_starts']} "
                     f"| {r['peak_workers']} |")
    return "\n".join(lines) + "\n"


def plot(trace: str, results: list[Result], out: Path) -> None:
    """Offered load and each policy's serving capacity; below, the work production served late."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (axis, late) = plt.subplots(2, 1, figsize=(12, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    reference = next(r for r in results if r.policy == "clairvoyant")
    hours = [t / 3600 for t, _, _ in reference.timeline]
    load = [load for _, load, _ in reference.timeline]
    axis.fill_between(hours, load, color="0.85", label="offered load")
    for result in results:
        style = {"linewidth": 2.0, "color": "black"} if result.policy == "production" else {"linewidth": 0.9}
        axis.plot([t / 3600 for t, _, _ in result.timeline], [c for _, _, c in result.timeline],
                  label=result.policy, **style)
    axis.plot(hours, load, color="0.45", linewidth=0.8, linestyle=":")  # the load's edges, over the lines
    axis.set_ylabel("work units / s")
    axis.set_title(f"{trace}: offered load and serving capacity")
    axis.legend(loc="upper left", fontsize=8, ncol=2)
    production = next((r for r in results if r.policy == "production"), None)
    if production is not None:
        minutes = sorted(production.missed)
        late.bar([m / 60 for m in minutes], [production.missed[m] for m in minutes], width=1 / 60, color="firebrick")
        late.set_title(f"production: work served later than the target wait, per minute "
                       f"({100 * (1 - production.slo_attainment):.2f}% of the day's work)", fontsize=9)
    late.set_ylabel("work units")
    late.set_xlabel("hour")
    figure.tight_layout()
    figure.savefig(out / f"{trace}.png", dpi=110)
    plt.close(figure)


def run(traces_dir: Path, scenario_path: Path, out: Path, seeds: tuple[int, ...],
        policies: tuple[str, ...], sweep: bool = False) -> list[dict]:
    """Every policy on every trace, once per seed; the plots show the first seed. With `sweep`,
    each policy also at each of its settings: rows with a `setting`, and on each default row
    the policy's `cost_at_99` on that trace."""
    traces = load_traces(traces_dir)
    scenario = Scenario.load(scenario_path)
    settings = {p: (None, *(SETTINGS[p][1] if sweep else ())) for p in policies}
    jobs = [(traces_dir / f"{t.name}.csv", scenario_path, p, seed, setting)
            for t in traces for p in policies for setting in settings[p] for seed in seeds]
    reference = {t.name: clairvoyant(t, scenario) for t in traces}
    results: dict[tuple[str, str, float | None], dict[int, Result]] = {}
    started = time.monotonic()
    with Pool(processes=2) as pool:
        for done, (seed, setting, result) in enumerate(pool.imap_unordered(simulate, jobs), 1):
            results.setdefault((result.trace, result.policy, setting), {})[seed] = result
            at = "" if setting is None else f" at {setting:g}"
            print(f"[{done}/{len(jobs)}] {time.monotonic() - started:5.0f} s  {result.trace:12} {result.policy:15} "
                  f"seed {seed}{at}  SLO {100 * result.slo_attainment:6.2f}%  ${result.cost:8.2f}",
                  file=sys.stderr, flush=True)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for trace in traces:
        cost = reference[trace.name].cost
        ordered = sorted(policies, key=lambda p: (p != "production", p))
        defaults = [[results[(trace.name, p, None)][seed] for seed in seeds] for p in ordered]
        trace_rows = [row([reference[trace.name]], cost)] + [row(runs, cost) for runs in defaults]
        if sweep:
            for policy, default in zip(ordered, trace_rows[1:], strict=True):
                swept = [{**row([results[(trace.name, policy, x)][seed] for seed in seeds], cost), "setting": x}
                         for x in settings[policy][1:]]
                default["cost_at_99"], default["cost_at_99_setting"] = cost_at_99(swept)
                trace_rows += swept
            frontier(trace.name, trace_rows, out)
        rows += trace_rows
        plot(trace.name, [reference[trace.name]] + [runs[0] for runs in defaults], out)
    (out / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out / "results.md").write_text(markdown([r for r in rows if "setting" not in r]) + (
        "\n" + cost_table(rows) if sweep else ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("run", help="every policy on every trace of a directory")
    command.add_argument("--traces", type=Path, required=True)
    command.add_argument("--scenario", type=Path, required=True)
    command.add_argument("--out", type=Path, required=True)
    command.add_argument("--seed", type=int, default=1)
    command.add_argument("--seeds", help="run each trace and policy once per seed, e.g. 1,2,3 (rows give means)")
    command.add_argument("--policies", default=",".join(POLICIES))
    command.add_argument("--sweep", action="store_true",
                         help="each policy also at each setting of its aggressiveness knob (bench/sweep.py)")
    command = commands.add_parser("shapes", help="write traces of ten other shapes (bench/shapes.py)")
    command.add_argument("--out", type=Path, required=True)
    command.add_argument("--seed", type=int, default=7)
    command = commands.add_parser("bar", help="issue 16's bar, read off results.json files (bench/bar.py)")
    command.add_argument("results", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.command == "bar":
        try:
            print(bar.main(args.results), end="")
        except (OSError, ValueError, KeyError) as e:
            parser.exit(2, f"python -m bench bar: error: cannot read the results ({e})\n")
        return 0
    if args.command == "shapes":
        for path in write_shapes(args.out, args.seed):
            print(path)
        return 0
    policies = tuple(dict.fromkeys(args.policies.split(",")))  # each once, in the order given
    unknown = set(policies) - set(POLICIES + EXTRA_POLICIES)
    if unknown:
        parser.error(f"unknown policies {sorted(unknown)}; choose from {', '.join(POLICIES + EXTRA_POLICIES)}")
    if not args.traces.is_dir() or not trace_files(args.traces):
        parser.error(f"--traces {args.traces}: no *.csv traces in that directory")
    try:
        seeds = tuple(int(x) for x in args.seeds.split(",")) if args.seeds is not None else (args.seed,)
    except ValueError:
        parser.error(f"--seeds {args.seeds}: a comma-separated list of whole numbers, like 1,2,3")
    if len(set(seeds)) != len(seeds):
        parser.error(f"--seeds {args.seeds}: each seed once")
    try:
        rows = run(args.traces, args.scenario, args.out, seeds, policies, args.sweep)
    except (OSError, InputError) as e:
        parser.exit(2, f"python -m bench: error: {e}\n")
    print(markdown([r for r in rows if "setting" not in r]) + ("\n" + cost_table(rows) if args.sweep else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
