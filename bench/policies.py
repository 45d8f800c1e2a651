"""The policies compared: the production policy and the baselines of
../shared/reference/autoscaling-baselines.md, each seeing only what a control plane sees.

"Metric" is per-worker utilisation (observed load / worker perf); the replica-count
baselines launch new workers to scale up and destroy them to scale down.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from bench.simulator import Action, View, WorkerView
from chalicelib.scaling import context
from chalicelib.scaling import policy as production

UP = ("loading", "starting", "running")


def observed_rate(view: View, seconds: float) -> float:
    """Mean arrival rate over the report windows of the last `seconds`."""
    recent = [rate for start, rate in view.arrivals if start >= view.now - seconds]
    return sum(recent) / len(recent) if recent else 0.0


def perf_of(view: View) -> float:
    known = [w.perf for w in view.workers if w.perf > 0]
    return sum(known) / len(known) if known else view.scenario.max_perf


def replicas(view: View, desired: int) -> list[Action]:
    """Actions that bring the fleet to `desired` workers up: replace errored ones, launch, destroy newest."""
    desired = max(0, min(desired, view.scenario.max_workers))
    actions = [Action("destroy", w.id) for w in view.workers if w.status == "error"]
    up = sorted((w for w in view.workers if w.status in UP), key=lambda w: (w.status == "running", w.started_at))
    if desired > len(up):
        actions += [Action("launch")] * (desired - len(up))
    else:
        actions += [Action("destroy", w.id) for w in up[: len(up) - desired]]
    return actions


@dataclass
class Production:
    """The very function the Lambda calls, with default settings: every pass_interval_s, as the
    scheduled Lambda spaces its passes, and at once when a request would queue (as /route/
    wakes the scaler)."""

    name: str = "production"
    bucket_s: float = 60.0  # what the stats buckets give the Lambda
    thresholds: dict = field(default_factory=dict)  # overrides, as the Lambda reads them from its environment
    memory: tuple = ()  # the policy's memory, which the deployed system keeps on the group's row
    jumps: tuple = ()  # the jumps of its load it noted, kept there too
    noted_load: tuple = ()  # and the load its recent passes saw
    target_queue_time: float = 10.0  # the endpoint's; set to the scenario's SLO
    target_util: float = 0.9  # the group's knob (GroupSettings' default)
    offers_rated: bool = True  # each offer promises the scenario's max_perf, as the baselines are given it

    @property
    def interval_s(self) -> float:
        return context.Thresholds(**self.thresholds).pass_interval_s

    def wakes(self, expected_wait_s: float) -> bool:
        return production.should_wake(expected_wait_s if expected_wait_s < math.inf else None,
                                      self.target_queue_time)

    def decide(self, view: View) -> list[Action]:
        self.target_queue_time = view.scenario.target_wait_s
        buckets: dict[float, list[float]] = {}
        for start, rate in view.arrivals:
            buckets.setdefault(start // self.bucket_s * self.bucket_s, []).append(rate)
        load = tuple((t, sum(rates) / len(rates)) for t, rates in sorted(buckets.items()))
        workers = tuple(self._state(w, view) for w in view.workers)
        price = view.scenario.price_per_hour
        rating = view.scenario.max_perf if self.offers_rated else None
        offers = tuple(context.Candidate(i, price, rating) for i in range(1, view.scenario.max_workers + 1))
        group = context.GroupSettings(max_workers=view.scenario.max_workers, target_util=self.target_util,
                                         target_queue_time=self.target_queue_time)
        thresholds = context.Thresholds(**self.thresholds)
        reported = view.arrivals[-1][1] if view.arrivals else 0.0
        plan = production.decide(context.Snapshot(view.now, group, thresholds, workers, load, offers,
                                                     backlog=view.backlog, current_load=max(view.routing, reported),
                                                     reported_load=reported,
                                                     memory=self.memory, jumps=self.jumps,
                                                     noted_load=self.noted_load))
        self.memory, self.jumps, self.noted_load = plan.memory, plan.jumps, plan.noted_load
        return [Action("launch") if a.kind == "launch" else Action(a.kind, a.worker_id) for a in plan.actions]

    @staticmethod
    def _state(worker: WorkerView, view: View) -> context.WorkerState:
        return context.WorkerState(worker.id, worker.status, worker.perf, view.scenario.price_per_hour,
                                      worker.started_at, benchmarked=worker.perf > 0, restart_s=worker.restart_s)


@dataclass
class VastHeuristic:
    """Documented Vast behaviour: active = max(load, min_load) / 0.9; total incl. cold = 2.5 x active."""

    name: str = "vast-heuristic"
    interval_s: float = 60.0
    target_util: float = 0.9
    cold_mult: float = 2.5
    cold_workers: int = 5

    def decide(self, view: View) -> list[Action]:
        perf = perf_of(view)
        active_goal = math.ceil(observed_rate(view, 60) / self.target_util / perf)
        total_goal = max(math.ceil(self.cold_mult * active_goal), self.cold_workers)
        actions = [Action("destroy", w.id) for w in view.workers if w.status == "error"]
        up = [w for w in view.workers if w.status in UP]
        stopped = [w for w in view.workers if w.status == "stopped"]
        if len(up) < active_goal:
            starts = stopped[: active_goal - len(up)]
            actions += [Action("start", w.id) for w in starts]
            actions += [Action("launch")] * (active_goal - len(up) - len(starts))
        running = [w for w in up if w.status == "running"]
        for w in running[: max(len(up) - active_goal, 0)]:
            actions.append(Action("stop", w.id))
        total = len(up) + len(stopped)
        if total < total_goal:
            actions += [Action("launch")] * (total_goal - total)
        return actions


@dataclass
class Static:
    """A fixed fleet sized for the trace's peak: the just-overprovision choice."""

    peak_load: float
    name: str = "static"
    interval_s: float = 60.0
    size: float = 1.0  # the fleet, as a share of what the peak needs

    def decide(self, view: View) -> list[Action]:
        return replicas(view, math.ceil(self.size * self.peak_load / view.scenario.max_perf))


@dataclass
class Hpa:
    """Kubernetes HPA: sync 15 s, 10% tolerance, 300 s scale-down stabilisation, rate limits."""

    name: str = "k8s-hpa"
    interval_s: float = 15.0
    target_util: float = 0.9
    history: deque = field(default_factory=lambda: deque(maxlen=20))  # 300 s of 15 s recommendations

    def decide(self, view: View) -> list[Action]:
        ready = sum(1 for w in view.workers if w.status == "running")
        current = sum(1 for w in view.workers if w.status in UP)
        load = observed_rate(view, 30)
        target = self.target_util * perf_of(view)
        if ready == 0:
            desired = 1 if load > 0 or current == 0 else current
        else:
            ratio = (load / ready) / target  # unready pods count as 0 use on scale-up
            desired = ready if abs(1 - ratio) <= 0.1 else math.ceil(ratio * ready)
        desired = max(desired, 1)
        self.history.append(desired)
        if desired < current:
            desired = max(self.history)
        desired = min(desired, max(current + 4, 2 * current))
        return replicas(view, desired)


@dataclass
class Kpa:
    """Knative KPA: 2 s tick, 60 s stable and 6 s panic windows, target 0.7 x capacity, scale to zero."""

    name: str = "knative-kpa"
    interval_s: float = 2.0
    target_util: float = 0.7  # Knative's target: the share of a replica's capacity it aims to use
    panic_until: float = -1.0
    panic_floor: int = 0

    def decide(self, view: View) -> list[Action]:
        target = self.target_util * perf_of(view)
        ready = sum(1 for w in view.workers if w.status == "running")
        stable, panic = observed_rate(view, 60), observed_rate(view, 10)  # reports come every 10 s
        low, high = math.floor(ready / 2), math.ceil(1000 * max(ready, 1))
        dspc = min(max(math.ceil(stable / target), low), high)
        dppc = min(max(math.ceil(panic / target), low), high)
        if dppc / max(1, ready) >= 2.0:
            self.panic_until = view.now + 60
        if view.now < self.panic_until:
            self.panic_floor = max(self.panic_floor, dspc, dppc)
            desired = self.panic_floor
        else:
            self.panic_floor = 0
            desired = dspc
        if observed_rate(view, 30) == 0:
            desired = 0  # scale to zero after the 30 s grace
        return replicas(view, desired)


@dataclass
class RayServe:
    """Ray Serve: desired = load / target; up after 30 s of wanting more, down after 600 s of wanting less."""

    name: str = "ray-serve"
    interval_s: float = 10.0
    target_util: float = 0.9
    wanting_since: float | None = None
    wanting: str = ""

    def decide(self, view: View) -> list[Action]:
        current = sum(1 for w in view.workers if w.status in UP)
        desired = math.ceil(observed_rate(view, 10) / (self.target_util * perf_of(view)))
        direction = "up" if desired > current else ("down" if desired < current else "")
        if direction != self.wanting:
            self.wanting, self.wanting_since = direction, view.now
        if current == 0 and desired > 0:
            return replicas(view, desired)
        delay = {"up": 30.0, "down": 600.0}.get(direction)
        if delay is not None and view.now - self.wanting_since >= delay:
            return replicas(view, desired)
        return replicas(view, current)


@dataclass
class SkyServe:
    """SkyServe: qps over 60 s; decide every 20 s; up after 15 'more' in a row, down after 60 'fewer'."""

    name: str = "skyserve"
    interval_s: float = 20.0
    target_util: float = 0.9
    more: int = 0
    fewer: int = 0

    def decide(self, view: View) -> list[Action]:
        current = sum(1 for w in view.workers if w.status in UP)
        desired = min(math.ceil(observed_rate(view, 60) / (self.target_util * perf_of(view))),
                      view.scenario.max_workers)
        if current == 0 and desired > 0:
            self.more = self.fewer = 0
            return replicas(view, desired)
        self.more, self.fewer = (self.more + 1, 0) if desired > current else (
            (0, self.fewer + 1) if desired < current else (0, 0))
        if self.more >= 15 or self.fewer >= 60:
            self.more = self.fewer = 0
            return replicas(view, desired)
        return replicas(view, current)
