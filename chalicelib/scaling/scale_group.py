"""The reconciler: one pass over one worker group.

Take the group's lease, reconcile our records with the provider's own list, ask the policy
about the snapshot built from the rows (`snapshot.build_snapshot`), searching offers when
it wants launches, then act on the plan through the provider, recording every decision
(`actuator`). The policy decides; everything with side effects is here and in `actuator`.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace

from chalicelib.core import settings
from chalicelib.core.fleet.events import new_event
from chalicelib.core.fleet.workers import Status
from chalicelib.core.store import Endpoint, Event, LoadHour, Worker, WorkerGroup, update_existing
from chalicelib.providers import Instance, Provider, ProviderAuthError, ProviderError
from chalicelib.scaling import policy
from chalicelib.scaling.actuator import Actuator, Recorder, WatchedProvider, attempt, finish_roll, parse_label
from chalicelib.scaling.snapshot import build_snapshot


@dataclass
class Outcome:
    """What a pass did to one group."""

    group_id: int
    skipped: str | None = None
    error: str | None = None  # the pass failed on this group (the others go on)
    plan: policy.Plan | None = None
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


def release_lease(group: WorkerGroup, owner: str, memory: tuple[policy.Hour, ...] = ()) -> None:
    """Give the group back, saving the policy's memory in the same write."""
    actions = [WorkerGroup.lease_until.set(0)]
    if memory:
        actions.append(WorkerGroup.memory.set([LoadHour(start=h.start, peak=h.peak, rise=h.rise) for h in memory]))
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
    if worker.status == Status.STOPPING:  # a pass ended between withdrawing and stopping it: serve again
        changes.append(Worker.status.set(Status.IDLE))
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
                     snapshot: policy.Snapshot) -> tuple[policy.Plan, dict[int, str]]:
    """The policy's plan; when it wants launches, the offers are searched and it decides again
    with them. Also the GPU of each offer found, by offer id."""
    plan = policy.decide(snapshot)
    if not plan.needs_offers:
        return plan, {}
    found = provider.search_offers(group.search_params, float(group.gpu_ram),
                                   limit=max(snapshot.group.max_workers, 1))
    offers = tuple(policy.Candidate(o.id, o.price_per_hour) for o in found)
    gpu_names = {o.id: o.gpu_name for o in found}
    return policy.decide(replace(snapshot, offers=offers)), gpu_names


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
        release_lease(group, owner, outcome.plan.memory if outcome.plan else ())
    return outcome
