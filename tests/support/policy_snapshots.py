"""Snapshots of one group written by hand for the policy's specs, and the plan `decide` makes of them."""
from __future__ import annotations

from dataclasses import fields

from chalicelib.scaling.context import Candidate, GroupSettings, Plan, Snapshot, Thresholds, WorkerState
from chalicelib.scaling.policy import decide

NOW = 10_000.0


def steady(load: float, minutes: int = 15, now: float = NOW) -> tuple:
    return tuple((now - 60 * i, load) for i in reversed(range(minutes)))


def worker(wid, status="running", perf=10.0, price=1.0, age=86400.0, **kw) -> WorkerState:
    return WorkerState(wid, status, perf, price, NOW - age, benchmarked=status in ("running", "idle", "stopped"), **kw)


def offers(*prices, perf=10.0):
    return tuple(Candidate(100 + i, price, perf) for i, price in enumerate(prices))


NO_LOAD = steady(0.0)
GROUP_FIELDS = {f.name for f in fields(GroupSettings)}


def plan(workers=(), load=NO_LOAD, offers=None, backlog=0.0, current_load=0.0, memory=(), rolling=False, now=NOW,
         jumps=(), reported_load=None, noted_load=(), **knobs) -> Plan:
    """`knobs`: fields of GroupSettings and of Thresholds, by name."""
    knobs = {"cold_mult": 1.0, "cold_workers": 0, "pool_headroom": 0.0, "restart_spare": 0.0, **knobs}
    group = GroupSettings(**{k: v for k, v in knobs.items() if k in GROUP_FIELDS})
    thresholds = Thresholds(**{k: v for k, v in knobs.items() if k not in GROUP_FIELDS})
    return decide(Snapshot(now, group, thresholds, tuple(workers), load, offers, backlog=backlog,
                           current_load=current_load, reported_load=reported_load, memory=memory, jumps=jumps,
                           noted_load=noted_load, rolling=rolling))


def kinds(result: Plan) -> list[tuple]:
    return [(a.kind, a.worker_id if a.worker_id is not None else a.offer_id) for a in result.actions]
