"""The reconciler: one pass over one worker group.

Take the group's lease, reconcile our records with the provider's own list, ask the policy
about the snapshot built from the rows (`snapshot.build_snapshot`), searching offers when
it wants launches, then act on the plan through the provider (`Actuator`), recording every
decision (`Recorder`). The policy decides; everything with side effects is here.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.core import settings
from chalicelib.core.fleet.events import new_event
from chalicelib.core.fleet.workers import (
    SERVING,
    Status,
    drain,
    mark_started,
    mark_stopped,
    put_back,
    register_worker,
    resume,
    withdraw,
)
from chalicelib.core.observability import logger
from chalicelib.core.store import Endpoint, Event, LoadHour, LoadJump, NotedLoad, Worker, WorkerGroup, update_existing
from chalicelib.providers import (
    Instance,
    LaunchSpec,
    Offer,
    Provider,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
)
from chalicelib.scaling import context, policy
from chalicelib.scaling.snapshot import build_snapshot

LABEL_PREFIX = "gpucp"


def label(group_id: int, worker_id: int) -> str:
    """The label a launched instance carries: it names the group and the worker record it is for."""
    return f"{LABEL_PREFIX}-{group_id}-{worker_id}"


def parse_label(text: str) -> tuple[int, int] | None:
    """(group id, worker id) of one of our labels; None for any other."""
    parts = text.split("-")
    if len(parts) == 3 and parts[0] == LABEL_PREFIX and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return None


class Recorder:
    """Records a pass's decisions on one group into `events`, in the order they are taken."""

    def __init__(self, group: WorkerGroup, now: float, events: list[Event]):
        self.group, self.now, self.events = group, now, events

    def __call__(self, action: str, reason: str, outcome: str, worker: Worker | None = None, *,
                 offer_id: int | None = None, instance_id: int | None = None) -> None:
        self.events.append(new_event(
            int(self.group.group_id), int(self.group.endpoint_id), action, reason, outcome, now=self.now,
            worker_id=int(worker.worker_id) if worker is not None else None,
            instance_id=instance_id if instance_id is not None else (
                int(worker.instance_id) if worker is not None and worker.instance_id else None),
            offer_id=offer_id))


class WatchedProvider:
    """The provider as one pass calls it. It remembers whether the provider refused our key:
    the one place the pass learns that it is to act no more."""

    def __init__(self, provider: Provider):
        self.provider = provider
        self.key_refused = False

    def search_offers(self, search_params: str, gpu_ram: float, limit: int) -> list[Offer]:
        return self._watch(self.provider.search_offers, search_params, gpu_ram, limit=limit)

    def launch(self, offer_id: int, spec: LaunchSpec) -> int:
        return self._watch(self.provider.launch, offer_id, spec)

    def start(self, instance_id: int) -> None:
        self._watch(self.provider.start, instance_id)

    def stop(self, instance_id: int) -> None:
        self._watch(self.provider.stop, instance_id)

    def destroy(self, instance_id: int) -> None:
        self._watch(self.provider.destroy, instance_id)

    def _watch(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ProviderAuthError:
            self.key_refused = True
            raise


def attempt(method: Callable[..., Any], *args: Any) -> str:
    """Call the provider: the decision's outcome, "ok" or why it failed."""
    try:
        method(*args)
        return "ok"
    except ProviderError as error:
        return f"failed: {error}"


@dataclass
class Outcome:
    """What a pass did to one group."""

    group_id: int
    skipped: str | None = None
    error: str | None = None  # the pass failed on this group (the others go on)
    plan: context.Plan | None = None
    decisions: list[Event] = field(default_factory=list)
    auth_failed: bool = False  # the provider refused the key: the scheduler ends its pass

    def count(self, action: str) -> int:
        return sum(1 for d in self.decisions if d.action == action and d.outcome == "ok")

    def summary(self) -> dict:
        """What the pass did to this group, as the scheduled function reports it."""
        actions = {d.action: self.count(d.action) for d in self.decisions if d.action != "pass"}
        return {"group_id": self.group_id, "skipped": self.skipped, "error": self.error, "actions": actions}


def acquire_lease(group: WorkerGroup, owner: str, now: float) -> bool:
    """Take the group for this pass: a conditional write, so overlapping passes never both act
    (and never on a group deleted since the pass listed it)."""
    return update_existing(
        group, [WorkerGroup.lease_owner.set(owner), WorkerGroup.lease_until.set(now + settings.lease_s())],
        WorkerGroup.lease_until.does_not_exist() | (WorkerGroup.lease_until < now),
    )


def release_lease(group: WorkerGroup, owner: str, plan: context.Plan | None = None) -> None:
    """Give the group back, saving what the policy keeps between passes (its memory of the
    day's load, the jumps it noted and the load each recent pass saw) in the same write."""
    actions = [WorkerGroup.lease_until.set(0)]
    if plan is not None and plan.memory:
        actions.append(WorkerGroup.memory.set([LoadHour(start=h.start, peak=h.peak, rise=h.rise, surge=h.surge)
                                                for h in plan.memory]))
    if plan is not None and (plan.jumps or group.jumps):
        actions.append(WorkerGroup.jumps.set([LoadJump(at=j.at, base=j.base, level=j.level, end=j.end)
                                              for j in plan.jumps]))
    if plan is not None and (plan.noted_load or group.noted_load):
        actions.append(WorkerGroup.noted_load.set([NotedLoad(t=t, load=load) for t, load in plan.noted_load]))
    update_existing(group, actions, WorkerGroup.lease_owner == owner)  # False: taken over, or deleted


def failed_pass(group: WorkerGroup, now: float, error: str) -> Event:
    """The decision recorded for a group when the pass could not even list the instances."""
    return new_event(int(group.group_id), int(group.endpoint_id), "pass", "listing the provider's instances failed",
                     f"failed: {error}", now=now)


# --- reconcile ------------------------------------------------------------------------

def reconcile(provider: WatchedProvider, group: WorkerGroup, workers: list[Worker], instances: list[Instance],
              now: float, record: Recorder) -> list[Worker]:
    """Match records to the provider's instances: link each to its own, forget one whose
    instance is gone (unless its launch may still be on its way), destroy instances labelled
    for a worker that has no record. Returns the workers that remain."""
    by_worker = {}
    for instance in instances:
        parsed = parse_label(instance.label)
        if parsed and parsed[0] == int(group.group_id):
            by_worker[parsed[1]] = instance
    remaining = []
    for worker in workers:
        instance = by_worker.pop(int(worker.worker_id), None)
        if worker.launch_label is None:  # brought by its owner: not ours to reconcile
            remaining.append(worker)
        elif instance is None:
            if worker.status == Status.LAUNCHING and now - float(worker.started_at) < settings.launch_grace_s():
                remaining.append(worker)  # the launch may still be on its way
            else:
                worker.delete()
                record("forget", "its instance is gone from the provider's list", "ok", worker)
        else:
            remaining.append(_sync(worker, instance))
    for worker_id, instance in by_worker.items():
        outcome = attempt(provider.destroy, instance.id)
        record("destroy", f"orphan: instance {instance.id} is labelled for worker {worker_id}, which has no record",
               outcome, instance_id=instance.id)
    return remaining


def _sync(worker: Worker, instance: Instance) -> Worker:
    """The record brought in line with its instance: linked, its price, whether it can start."""
    changes = []
    if worker.instance_id is None:
        changes.append(Worker.instance_id.set(instance.id))
    if instance.state == "unavailable" and not worker.unavailable:
        changes.append(Worker.unavailable.set(True))
    if instance.price_per_hour and instance.price_per_hour != float(worker.price_per_hour or 0):
        changes.append(Worker.price_per_hour.set(instance.price_per_hour))
    if changes:
        update_existing(worker, changes)
    return worker


# --- decide -------------------------------------------------------------------------

def plan_with_offers(provider: WatchedProvider, group: WorkerGroup,
                     snapshot: context.Snapshot) -> tuple[context.Plan, dict[int, str]]:
    """The policy's plan; when it wants launches, the offers are searched and it decides again
    with them. Also the GPU of each offer found, by offer id."""
    plan = policy.decide(snapshot)
    if not plan.needs_offers:
        return plan, {}
    found = provider.search_offers(group.search_params, float(group.gpu_ram),
                                   limit=max(snapshot.group.max_workers, 1))
    offers = tuple(context.Candidate(o.id, o.price_per_hour) for o in found)
    gpu_names = {o.id: o.gpu_name for o in found}
    return policy.decide(replace(snapshot, offers=offers)), gpu_names


# --- act ----------------------------------------------------------------------------

class Actuator:
    """Carries out a plan on one group's workers through the provider, recording each step:
    destroys first, then stops, resumes, starts and launches. Once the provider has refused
    the key, what is left is recorded as skipped."""

    ORDER = {"destroy": 0, "stop": 1, "resume": 2, "start": 3, "launch": 4}

    def __init__(self, provider: WatchedProvider, group: WorkerGroup, now: float, record: Recorder,
                 gpu_names: dict[int, str] | None = None):
        self.provider, self.group, self.now, self.record = provider, group, now, record
        self.gpu_names = gpu_names or {}  # offer id -> its GPU, from the search

    def act(self, plan: context.Plan, workers: list[Worker]) -> None:
        by_id = {int(w.worker_id): w for w in workers}
        for action in sorted(plan.actions, key=lambda a: self.ORDER[a.kind]):
            if self.provider.key_refused:
                self.record(action.kind, action.reason, "skipped: the provider refused the key",
                            offer_id=action.offer_id)
                continue
            if action.kind == "launch":
                self._launch(action)
                continue
            worker = by_id[action.worker_id]  # the policy acts only on workers the scaler launched
            {"destroy": self._destroy, "stop": self._stop, "start": self._start,
             "resume": self._resume}[action.kind](action, worker)

    def _withdraw(self, action: str, reason: str, worker: Worker) -> bool:
        """Out of routing before it goes: True if nothing is queued at it, or it was draining
        already (the policy saw its queue served, or waited long enough), so it goes now.
        Otherwise it drains (out of routing, serving its queue), and a later pass lets it go."""
        if worker.status == Status.STOPPING or withdraw(worker, self.now):
            return True
        if drain(worker, self.now):
            self.record(action, reason, "draining: requests are queued at it; it goes once they are served", worker)
        else:
            self.record(action, reason, "skipped: it is no longer serving", worker)
        return False

    def _destroy(self, action: context.Action, worker: Worker) -> None:
        serving = worker.status if worker.status in (*SERVING, Status.STOPPING) else None
        if serving and not self._withdraw("destroy", action.reason, worker):
            return
        outcome = attempt(self.provider.destroy, int(worker.instance_id)) if worker.instance_id else "ok"
        if outcome == "ok":
            worker.delete()
        elif serving:
            put_back(worker, serving)  # still up: back in routing
        self.record("destroy", action.reason, outcome, worker)

    def _stop(self, action: context.Action, worker: Worker) -> None:
        serving = worker.status
        if not self._withdraw("stop", action.reason, worker):
            return
        outcome = attempt(self.provider.stop, int(worker.instance_id))
        if outcome == "ok":
            mark_stopped(worker, self.now)
        else:
            put_back(worker, serving)  # still up: back in routing
        self.record("stop", action.reason, outcome, worker)

    def _resume(self, action: context.Action, worker: Worker) -> None:
        outcome = "ok" if resume(worker) else "skipped: it is no longer draining"
        self.record("resume", action.reason, outcome, worker)

    def _start(self, action: context.Action, worker: Worker) -> None:
        try:
            self.provider.start(int(worker.instance_id))
        except ProviderUnavailable as error:
            update_existing(worker, [Worker.unavailable.set(True)])  # the next pass replaces it
            outcome = f"failed: {error}"
        except ProviderError as error:
            outcome = f"failed: {error}"
        else:
            mark_started(worker, self.now)
            outcome = "ok"
        self.record("start", action.reason, outcome, worker)

    def _launch(self, action: context.Action) -> None:
        if not settings.public_url():
            self.record("launch", action.reason, "failed: PUBLIC_URL is not set, so a new worker could not report",
                        offer_id=action.offer_id)
            return
        group = self.group
        worker, token = register_worker(group, now=self.now, replaces=action.replaces,
                                        gpu_name=self.gpu_names.get(action.offer_id),
                                        launch_label=lambda worker_id: label(int(group.group_id), worker_id))
        spec = LaunchSpec(
            label=worker.launch_label,
            env={"CONTAINER_ID": str(int(worker.worker_id)), "MASTER_TOKEN": token,
                 "REPORT_ADDR": settings.public_url()},
            template_hash=group.template_hash, launch_args=group.launch_args,
        )
        try:
            instance_id = self.provider.launch(action.offer_id, spec)
        except ProviderAuthError as error:
            worker.delete()
            self.record("launch", action.reason, f"failed: {error}", worker, offer_id=action.offer_id)
            return
        except ProviderError as error:
            # Kept LAUNCHING: if the instance exists after all, the next pass links it by label.
            self.record("launch", action.reason, f"failed: {error}", worker, offer_id=action.offer_id)
            return
        update_existing(worker, [Worker.instance_id.set(instance_id)])  # if gone, the next pass finds the orphan
        self.record("launch", action.reason, "ok", worker, offer_id=action.offer_id, instance_id=instance_id)


def finish_roll(group: WorkerGroup, record: Recorder) -> None:
    """The rolling update replaced every outdated worker: over, unless a newer one began since."""
    if update_existing(group, [WorkerGroup.rolling.set(False)],
                       (WorkerGroup.generation == int(group.generation or 0)) & (WorkerGroup.rolling == True)):  # noqa: E712
        record("update workers", f"every worker is of generation {int(group.generation or 0)}", "done")


# --- the pass -----------------------------------------------------------------------

def scale_group(provider: Provider, group: WorkerGroup, endpoint: Endpoint, workers: list[Worker],
                instances: list[Instance], load: tuple, now: float | None = None) -> Outcome:
    """One pass over one group; returns what it did (decisions are saved by the caller).
    A refused key stops it acting: the rest of the plan is recorded as skipped."""
    now = time.time() if now is None else now
    owner = uuid.uuid4().hex
    if not acquire_lease(group, owner, now):
        return Outcome(int(group.group_id), skipped="another pass holds the group")
    outcome = Outcome(int(group.group_id))
    watched, record = WatchedProvider(provider), Recorder(group, now, outcome.decisions)
    try:
        remaining = reconcile(watched, group, workers, instances, now, record)
        if not watched.key_refused:
            outcome.plan, gpu_names = plan_with_offers(watched, group,
                                                       build_snapshot(group, endpoint, remaining, load, now))
            Actuator(watched, group, now, record, gpu_names).act(outcome.plan, remaining)
            if outcome.plan.roll_done:
                finish_roll(group, record)
    except ProviderAuthError as error:
        record("pass", "the provider refused the key", f"failed: {error}")
    except ProviderError as error:
        record("pass", "a provider call failed", f"failed: {error}")
    except Exception as error:  # noqa: BLE001 - a storage failure or a bad row: this group only, recorded
        outcome.error = f"{type(error).__name__}: {error}"[:500]
        record("pass", "the pass failed on this group", f"failed: {outcome.error}")
    finally:
        outcome.auth_failed = watched.key_refused
        try:
            release_lease(group, owner, outcome.plan)
        except Exception as error:  # noqa: BLE001 - what the pass did stands; the lease lapses in LEASE_S
            logger.exception("releasing the lease failed", group_id=int(group.group_id))
            outcome.error = outcome.error or f"releasing the lease failed: {type(error).__name__}: {error}"[:500]
    return outcome
