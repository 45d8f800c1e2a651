"""What each part of the production policy buys: the policy with one part taken out.

    python -m bench.ablations --traces ../shared/traces --scenario ../shared/traces/scenario.json [--seeds 1,2,3]

Prints a markdown table of SLO attainment and cost / clairvoyant per trace (means over the seeds). Most parts are
switched off through the thresholds the Lambda reads from its environment; the rest by
changing what the simulated control plane gives the policy, or one function of it.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path
from unittest import mock

from bench.clairvoyant import clairvoyant
from bench.policies import Production
from bench.simulator import Simulation
from bench.traces import Scenario, Trace, load_traces
from chalicelib.scaling import context, policy


class NoWake(Production):
    """Only the schedule's passes: /route/ never wakes the scaler."""

    def wakes(self, expected_wait_s: float) -> bool:
        return False


class NoRise(Production):
    """The memory keeps peaks but forgets jumps from idle: no ready floor."""

    def decide(self, view):
        actions = super().decide(view)
        self.memory = tuple(replace(h, rise=0.0) for h in self.memory)
        return actions


class DayPeakPool(Production):
    """The pool holds the day's peak, as if the load had reached each hour's peak within a lead time."""

    def decide(self, view):
        actions = super().decide(view)
        self.memory = tuple(replace(h, surge=max(h.surge, h.peak)) for h in self.memory)
        return actions


_queue_to_drain = policy._queue_to_drain


def queued_now(snapshot: context.Snapshot, restart_s: float) -> tuple[float, bool]:
    """The queue as it is at the wake: as if cold workers served at once."""
    return _queue_to_drain(snapshot, 0.0)


_predict_load = policy.predict_load


def minutes_only(load, now: float, thresholds: context.Thresholds, current: float | None = None) -> float:
    """The trend through the minute buckets only, not the rate the latest reports give."""
    return _predict_load(load, now, thresholds)


_pool = policy._pool


def pool_of_the_load_now(snapshot: context.Snapshot, memory, forecast, serving: float, steady: float,
                         projected: float) -> tuple[float, float]:
    """cold_mult multiplies the target of the load now, one report window's spike included."""
    return _pool(snapshot, memory, forecast, serving, max(steady, serving / snapshot.group.target_util), projected)


def unbounded(snapshot: context.Snapshot) -> float:
    """Launches for a growing queue as many as its projected drain asks, whatever the need."""
    return float("inf")


# name: (adapter, thresholds, patches of the policy module)
VARIANTS = {
    "final (defaults)": (Production, {}, {}),
    "no foresight of recurring jumps (`RECUR_REPEATS` never reached)": (Production, {"recur_repeats": 10**6}, {}),
    "a pass a minute, not every 20 s (`PASS_INTERVAL_S=60`)": (Production, {"pass_interval_s": 60.0}, {}),
    "launches for a growing queue not bounded by need": (Production, {}, {"_queue_need": unbounded}),
    "the trend through the minute buckets only, not the latest reports too":
        (Production, {}, {"predict_load": minutes_only}),
    "no spare starts for machines gone while stopped (`RESTART_SPARE=0`)": (Production, {"restart_spare": 0.0}, {}),
    "no ready floor from jumps: one worker kept serving": (NoRise, {}, {}),
    "the ready floor from the first jump from idle, not the second (`READY_FLOOR_JUMPS=1`)":
        (Production, {"ready_floor_jumps": 1}, {}),
    "no wake: the schedule's passes only": (NoWake, {}, {}),
    "wake at a quarter of `target_queue_time`, not a tenth (`WAKE_FRACTION` 0.25)":
        (Production, {}, {"WAKE_FRACTION": 0.25}),
    "the queue as it is now, not as it will be when cold workers serve":
        (Production, {}, {"_queue_to_drain": queued_now}),
    "the pool holds the day's peak, not what the load can reach within a lead time": (DayPeakPool, {}, {}),
    "`cold_mult` x the target of the load now, not of the minute buckets":
        (Production, {}, {"_pool": pool_of_the_load_now}),
    "no headroom above what the pool holds (`POOL_HEADROOM=0`)": (Production, {"pool_headroom": 0.0}, {}),
    "the pool remembers 1 hour, not 24 (`POOL_MEMORY_S=3600`)": (Production, {"pool_memory_s": 3600.0}, {}),
    "cold workers trimmed at the pool's goal, young ones too (`POOL_KEEP_S=0`)": (Production, {"pool_keep_s": 0.0}, {}),
    "serving follows the 2-minute peak (`SCALE_DOWN_DELAY_S=120`)": (Production, {"scale_down_delay_s": 120.0}, {}),
    "starts for all of the load now, not a report window of it (`BURST_S` without end)":
        (Production, {"burst_s": 1e12}, {}),
    "short jumps met as any other (`SHORT_JUMPS` never reached)": (Production, {"short_jumps": 10**6}, {}),
    "no serving for the load's noise (`NOISE_FLOOR` never reached)": (Production, {"noise_floor": 1e6}, {}),
}


def simulate(job: tuple[str, Path, Path, int]) -> tuple[str, str, float, float]:
    """One variant on one trace at one seed: (variant, trace, SLO attainment, cost / clairvoyant)."""
    variant, trace_path, scenario_path, seed = job
    adapter, thresholds, patches = VARIANTS[variant]
    trace, scenario = Trace.load(trace_path), Scenario.load(scenario_path)
    production = adapter()
    production.thresholds = thresholds
    with contextlib.ExitStack() as patched:
        for name, replacement in patches.items():
            patched.enter_context(mock.patch.object(policy, name, replacement))
        result = Simulation(trace, scenario, production, seed).run()
    return variant, trace.name, result.slo_attainment, result.cost / clairvoyant(trace, scenario).cost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ablations")
    parser.add_argument("--traces", type=Path, required=True)
    parser.add_argument("--scenario", type=Path, required=True)
    parser.add_argument("--seeds", default="1", help="each cell once per seed, e.g. 1,2,3 (cells give means)")
    args = parser.parse_args(argv)
    try:
        seeds = [int(x) for x in args.seeds.split(",")]
    except ValueError:
        parser.error(f"--seeds {args.seeds}: a comma-separated list of whole numbers, like 1,2,3")
    names = [t.name for t in load_traces(args.traces)]
    jobs = [(v, args.traces / f"{n}.csv", args.scenario, seed) for v in VARIANTS for n in names for seed in seeds]
    started, cells = time.monotonic(), {}
    with Pool(processes=2) as pool:
        for done, (variant, name, slo, ratio) in enumerate(pool.imap_unordered(simulate, jobs), 1):
            cells.setdefault((variant, name), []).append((slo, ratio))
            print(f"[{done}/{len(jobs)}] {time.monotonic() - started:4.0f} s", file=sys.stderr, flush=True)
    print("| variant | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for variant in VARIANTS:
        means = [[sum(x) / len(x) for x in zip(*cells[variant, n], strict=True)] for n in names]
        print(f"| {variant} | " + " | ".join(f"{100 * slo:.2f}% {ratio:.2f}x" for slo, ratio in means) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
