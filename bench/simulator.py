"""A trace-driven simulation of one worker group, second by second.

Semantics are those of ../shared/traces/README.md: each worker's true perf is max_perf
x (1 + U(-spread, +spread)); loading takes lognormal(median, sigma) seconds, capped; a
share of launches end in error; running workers die at random (exponential MTBF); a
share of restarts from stopped find the GPU taken; billing is per second (running price
while launching, loading or running; stopped price while stopped). Work waits in one
FIFO queue; a unit meets the SLO when it waits at most the target. Each machine draws
from its own random stream, so the k-th machine a run launches (its perf, load time and
fate) is the same for every policy at a seed: policies are compared on the same machines.

A policy sees only what the control plane would see: worker statuses and benchmarked
perf, the work that arrived in each 10 s report window (served or not), what has been
routed since the last reports, and the work queued now; never the future. It is called
every `policy.interval_s` seconds and, if it `wakes` on the wait a new request would see,
at once when work queues (at most every 10 s), as /route/ wakes the deployed scaler.
"""
from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from bench.traces import Scenario, Trace

REPORT_S = 10.0  # workers report every 10 s
SILENCE_S = 60.0  # a dead worker is seen as errored once it has been silent this long
SAMPLE_S = 60.0  # resolution of the capacity timeline kept for plots
HISTORY = 180  # report windows a policy sees: the last 30 minutes
WAKE_INTERVAL_S = 10.0  # queueing wakes the policy at most this often (the product's WAKE_INTERVAL_S)


@dataclass
class SimWorker:
    id: int
    perf: float
    started_at: float  # launched, or last started from stopped
    state: str  # loading | starting | running | stopped | failed
    ready_at: float = math.inf
    fails: bool = False
    failed_at: float = math.inf
    benchmarked: bool = False
    restart_s: float | None = None  # its last start from stopped took this long, as it reports
    epoch: int = 0  # bumps on every state change, so stale events are ignored
    draws: random.Random = field(default_factory=random.Random)  # its own: the k-th machine is the same in every run


@dataclass(frozen=True)
class WorkerView:
    """A worker as the control plane sees it."""

    id: int
    status: str  # loading | starting | running | stopped | error
    perf: float  # benchmarked perf, 0 until it has loaded once
    started_at: float  # launched, or last started from stopped (as the control plane records it)
    restart_s: float | None = None  # what its report said its last start from stopped took


@dataclass(frozen=True)
class View:
    now: float
    workers: tuple[WorkerView, ...]
    arrivals: tuple[tuple[float, float], ...]  # (window start, work units/s) of each finished 10 s window
    scenario: Scenario
    backlog: float = 0.0  # work units queued now, as the routing sees them
    routing: float = 0.0  # work units/s routed since the last reports (the window still open)


@dataclass(frozen=True)
class Action:
    kind: str  # launch | start | stop | destroy
    worker_id: int | None = None


class Policy(Protocol):
    name: str
    interval_s: float

    def decide(self, view: View) -> list[Action]: ...

    # Optional: `wakes(expected_wait_s) -> bool`, whether the wait a new request would see
    # calls the policy at once (as /route/ wakes the scaler), at most every WAKE_INTERVAL_S.


@dataclass
class Result:
    trace: str
    policy: str
    arrived: float = 0.0
    within_slo: float = 0.0
    cost: float = 0.0
    launches: int = 0
    cold_starts: int = 0
    peak_workers: int = 0
    waits: dict[int, float] = field(default_factory=dict)  # whole seconds waited -> work units
    timeline: list[tuple[float, float, float]] = field(default_factory=list)  # (t, load, serving capacity)
    missed: dict[int, float] = field(default_factory=dict)  # minute -> work units served later than the target

    @property
    def slo_attainment(self) -> float:
        return self.within_slo / self.arrived if self.arrived else 1.0

    def late_before(self, seconds: float) -> float:
        """The share of all the work that was served late within the trace's first `seconds`."""
        late = sum(units for minute, units in self.missed.items() if minute < seconds / 60)
        return late / self.arrived if self.arrived else 0.0

    def p99_wait_s(self) -> float:
        """The wait 99% of work stayed within (work never served counts as waiting forever)."""
        served = sum(self.waits.values())
        if not self.arrived:
            return 0.0
        if served < 0.99 * self.arrived:
            return math.inf
        running = 0.0
        for wait in sorted(self.waits):
            running += self.waits[wait]
            if running >= 0.99 * self.arrived:
                return float(wait)
        return float(max(self.waits, default=0))


class Simulation:
    def __init__(self, trace: Trace, scenario: Scenario, policy: Policy, seed: int = 1):
        self.trace, self.scenario, self.policy = trace, scenario, policy
        self.seed = seed
        self.workers: dict[int, SimWorker] = {}
        self.events: list[tuple[float, int, int, str]] = []
        self.next_id = 1
        self.capacity = 0.0
        self.result = Result(trace.name, policy.name)
        self.arrivals: list[tuple[float, float]] = []
        for _ in range(scenario.warm_workers(trace)):  # a service already running: serving, benchmarked
            worker = self._new_worker(0.0)
            worker.benchmarked = True
            self._set(worker, "running", 0.0)
        self.result.peak_workers = len(self.workers)

    # --- the fleet --------------------------------------------------------------------
    def _schedule(self, at: float, worker: SimWorker, kind: str) -> None:
        heapq.heappush(self.events, (at, worker.id, worker.epoch, kind))

    def _set(self, worker: SimWorker, state: str, now: float) -> None:
        if worker.state == "running":
            self.capacity -= worker.perf
        worker.state, worker.epoch = state, worker.epoch + 1
        if state == "running":
            self.capacity += worker.perf
            self._schedule(now + worker.draws.expovariate(1 / self.scenario.mtbf_s), worker, "die")
        if state == "failed":
            worker.failed_at = now

    def _new_worker(self, now: float) -> SimWorker:
        s = self.scenario
        draws = random.Random(f"{self.seed}:{self.trace.name}:{self.next_id}")
        perf = s.max_perf * (1 + draws.uniform(-s.perf_spread, s.perf_spread))
        worker = SimWorker(self.next_id, perf, now, "loading", draws=draws)
        self.next_id += 1
        self.workers[worker.id] = worker
        return worker

    def launch(self, now: float) -> None:
        s = self.scenario
        if len(self.workers) >= s.max_workers:
            return
        worker = self._new_worker(now)
        load_s = min(worker.draws.lognormvariate(math.log(s.load_median_s), s.load_sigma), s.load_max_s)
        worker.ready_at = now + load_s
        worker.fails = worker.draws.random() < s.launch_failure_rate
        self._schedule(worker.ready_at, worker, "ready")
        self.result.launches += 1
        self.result.peak_workers = max(self.result.peak_workers, len(self.workers))

    def apply(self, action: Action, now: float) -> None:
        if action.kind == "launch":
            return self.launch(now)
        worker = self.workers.get(action.worker_id)
        if worker is None:
            return
        if action.kind == "destroy":
            self._set(worker, "destroyed", now)
            del self.workers[worker.id]
        elif action.kind == "stop" and worker.state == "running":
            self._set(worker, "stopped", now)
        elif action.kind == "start" and worker.state == "stopped":
            self._set(worker, "starting", now)
            worker.started_at = now
            worker.fails = worker.draws.random() < self.scenario.stopped_unavailable_rate
            worker.ready_at = now + self.scenario.start_from_stopped_s
            self._schedule(worker.ready_at, worker, "ready")
            self.result.cold_starts += 1

    def _events_until(self, now: float) -> None:
        while self.events and self.events[0][0] <= now:
            _, worker_id, epoch, kind = heapq.heappop(self.events)
            worker = self.workers.get(worker_id)
            if worker is None or worker.epoch != epoch:
                continue
            if kind == "ready":
                if worker.fails:
                    self._set(worker, "failed", now)
                else:
                    if worker.state == "starting":
                        worker.restart_s = now - worker.started_at
                    worker.benchmarked = True
                    self._set(worker, "running", now)
            elif kind == "die" and worker.state == "running":
                self._set(worker, "failed", now)

    def view(self, now: float, backlog: float = 0.0, routing: float = 0.0) -> View:
        workers = []
        for w in self.workers.values():
            status = w.state
            if status == "failed":
                status = "error" if now - w.failed_at >= SILENCE_S or w.fails else "running"
            workers.append(WorkerView(w.id, status, w.perf if w.benchmarked else 0.0, w.started_at, w.restart_s))
        return View(now, tuple(workers), tuple(self.arrivals[-HISTORY:]), self.scenario, backlog, routing)

    # --- the run ------------------------------------------------------------------------
    def run(self) -> Result:
        s, result = self.scenario, self.result
        queue: deque[list[float]] = deque()
        window, window_start, next_sample = 0.0, 0.0, 0.0
        backlog, last_wake = 0.0, -math.inf
        wakes = getattr(self.policy, "wakes", None)  # None: the policy only runs on its timer
        running_price, stopped_price = s.price_per_hour / 3600, s.stopped_price_per_hour / 3600
        for second in range(int(self.trace.duration_s)):
            now = float(second)
            self._events_until(now)
            wait = backlog / self.capacity if self.capacity > 0 else (math.inf if backlog > 0 else 0.0)
            woken = wakes is not None and now - last_wake >= WAKE_INTERVAL_S and backlog > 0 and wakes(wait)
            if woken:
                last_wake = now
            if second % int(self.policy.interval_s) == 0 or woken:
                for action in self.policy.decide(self.view(now, backlog, window / max(now - window_start, 1.0))):
                    self.apply(action, now)
            arrived = self.trace.load_at(now)
            result.arrived += arrived
            window += arrived
            if arrived:
                queue.append([now, arrived])
                backlog += arrived
            budget = self.capacity
            while budget > 1e-9 and queue:
                head = queue[0]
                served = min(budget, head[1])
                wait = now - head[0]
                result.waits[int(wait)] = result.waits.get(int(wait), 0.0) + served
                if wait <= s.target_wait_s:
                    result.within_slo += served
                else:
                    result.missed[second // 60] = result.missed.get(second // 60, 0.0) + served
                budget -= served
                backlog -= served
                head[1] -= served
                if head[1] <= 1e-9:
                    queue.popleft()
            if not queue:
                backlog = 0.0
            stopped = sum(1 for w in self.workers.values() if w.state == "stopped")
            result.cost += (len(self.workers) - stopped) * running_price + stopped * stopped_price
            if now + 1 - window_start >= REPORT_S:
                self.arrivals.append((window_start, window / REPORT_S))
                window, window_start = 0.0, now + 1
            if now >= next_sample:
                result.timeline.append((now, arrived, self.capacity))
                next_sample += SAMPLE_S
        return result
