"""The clairvoyant reference: the near-limit no online policy can beat.

It knows the whole future load and each worker's load time, so it holds exactly
ceil(load / perf) workers serving at every moment (at most max_workers: work beyond what they
serve is late, and none other), launching each one its load time
ahead (with a warm start, those the first step needs are serving already); between two
busy stretches of the same worker it keeps it running, stops it (restarting it just in
time) or destroys it (relaunching ahead), whichever is cheapest for that gap. No work ever
waits. Computed, not simulated.
"""
from __future__ import annotations

from bench.simulator import Result
from bench.traces import Scenario, Trace, workers_for


def clairvoyant(trace: Trace, scenario: Scenario) -> Result:
    price, stopped_price = scenario.price_per_hour / 3600, scenario.stopped_price_per_hour / 3600
    launch_cost = scenario.load_median_s * price
    restart_cost = scenario.start_from_stopped_s * price
    need = [min(workers_for(load, scenario.max_perf), scenario.max_workers) for load in trace.loads]
    result = Result(trace.name, "clairvoyant", arrived=sum(trace.loads) * trace.step_s)
    most = scenario.max_workers * scenario.max_perf
    for i, load in enumerate(trace.loads):
        if load > most:
            minute = int(i * trace.step_s // 60)
            result.missed[minute] = result.missed.get(minute, 0.0) + (load - most) * trace.step_s
    result.within_slo = result.arrived - sum(result.missed.values())
    result.waits = {0: result.within_slo}
    result.peak_workers = max(need, default=0)
    for slot in range(1, result.peak_workers + 1):
        busy, start = [], None
        for i, n in enumerate(need + [0]):
            if n >= slot and start is None:
                start = i
            elif n < slot and start is not None:
                busy.append((start, i))
                start = None
        if slot > scenario.warm_workers(trace):  # a warm start's workers are already serving
            result.launches += 1
            result.cost += launch_cost
        for (_, end), (next_start, _) in zip(busy, busy[1:], strict=False):
            gap = (next_start - end) * trace.step_s
            options = {"keep": gap * price, "stop": gap * stopped_price + restart_cost, "relaunch": launch_cost}
            choice = min(options, key=options.get)
            result.cost += options[choice]
            result.cold_starts += choice == "stop"
            result.launches += choice == "relaunch"
        result.cost += sum(end - begin for begin, end in busy) * trace.step_s * price
    for i in range(0, len(need), max(int(60 // trace.step_s), 1)):
        result.timeline.append((i * trace.step_s, trace.loads[i], need[i] * scenario.max_perf))
    return result
