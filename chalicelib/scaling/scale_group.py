"""The reconciler: one pass over one worker group.

Take the group's lease, reconcile our records with the provider's own list, build the
snapshot, ask the policy, act through the provider, record every decision. The policy
decides; everything with side effects is here.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace

from chalicelib.core import settings
from chalicelib.core.fleet import stats
from chalicelib.core.fleet.events import new_event
from chalicelib.core.fleet.worker_groups import effective_knobs, register_worker
from chalicelib.core.store import Endpoint, Event, LoadHour, StatBucket, Worker, WorkerGroup, epoch, update_existing
from chalicelib.providers import Instance, LaunchSpec, Provider, ProviderAuthError, ProviderError, ProviderUnavailable
from chalicelib.scaling import policy

LABEL_PREFIX = "gpucp"


def label(group_id: int, worker_id: int) -> str:
    return f"{LABEL_PREFIX}-{group_id}-{worker_id}"


def parse_label(text: str) -> tuple[int, int] | None:
    parts = text.split("-")
    if len(parts) == 3 and parts[0] == LABEL_PREFIX and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return None


@dataclass
class Outcome:
    """What a pass did to one group."""

    group_id: int
    skipped: str | None = None
    error: str | None = None  # the pass failed on this group (the others go on)
    plan: policy.Plan | None = None
    decisions: list[Event] = field(default_factory=list)
    auth_failed: bool = False

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


def load_history(endpoint_id: int, groups_sharing: int, now: float, window_s: float) -> tuple:
    """(time, load) samples of the endpoint, shared evenly by its groups: full buckets, then now."""
    width = settings.stats_bucket_s()
    span = StatBucket.t.between(stats.bucket_start(now - window_s), stats.bucket_start(now))
    samples = []
    for bucket in StatBucket.query(stats.series("e", endpoint_id), span):
        window = stats.Window(min(width, max(now - int(bucket.t), 1.0)))  # the last bucket is still filling
        window.add(bucket)
        samples.append((float(bucket.t), window.metric("curload") / groups_sharing))
    return tuple(samples)


def queued_and_arriving(workers: list[Worker], now: float) -> tuple[float, float]:
    """Work queued at the live workers now, and the rate arriving: their last reports, plus
    what /route/ sent them since, less what they have served since at their benchmarked perf."""
    backlog = arriving = 0.0
    for w in workers:
        if w.status == "stopped" or not w.is_live(now):
            continue
        since = max(now - float(w.last_report_at or 0), 1.0)
        routed = float(w.routed_load or 0)
        backlog += max(float(w.queue_load or 0) + routed - float(w.max_perf or 0) * since, 0.0)
        arriving += max(float(w.cur_load or 0), routed / since)
    return backlog, arriving


def failed_pass(group: WorkerGroup, now: float, error: str) -> Event:
    """The decision recorded for a group when the pass could not even list the instances."""
    return new_event(int(group.group_id), int(group.endpoint_id), "pass", "listing the provider's instances failed",
                     f"failed: {error}", now=now)


class GroupPass:
    """Acting on one group. `provider` calls raise ProviderError; a refused key stops the pass."""

    def __init__(self, provider: Provider, group: WorkerGroup, endpoint: Endpoint, now: float):
        self.provider, self.group, self.endpoint, self.now = provider, group, endpoint, now
        self.outcome = Outcome(int(group.group_id))
        self.gpu_names: dict[int, str] = {}  # offer id -> its GPU, from the search

    # --- reconcile ------------------------------------------------------------------
    def reconcile(self, workers: list[Worker], instances: list[Instance]) -> list[Worker]:
        """Match records to the provider's instances: link, forget vanished ones, destroy orphans."""
        by_worker = {}
        for instance in instances:
            parsed = parse_label(instance.label)
            if parsed and parsed[0] == int(self.group.group_id):
                by_worker[parsed[1]] = instance
        kept = []
        for worker in workers:
            instance = by_worker.pop(int(worker.worker_id), None)
            if worker.launch_label is None:  # brought by its owner: not ours to reconcile
                kept.append(worker)
            elif instance is None:
                if worker.status == "launching" and self.now - float(worker.started_at) < settings.launch_grace_s():
                    kept.append(worker)  # the launch may still be on its way
                else:
                    worker.delete()
                    self._record("forget", "its instance is gone from the provider's list", "ok", worker)
            else:
                kept.append(self._sync(worker, instance))
        for worker_id, instance in by_worker.items():
            outcome = self._call(self.provider.destroy, instance.id)
            self._record("destroy", f"orphan: instance {instance.id} is labelled for worker {worker_id}, "
                         "which has no record", outcome, instance_id=instance.id)
        return kept

    def _sync(self, worker: Worker, instance: Instance) -> Worker:
        changes = []
        if worker.status == "stopping":  # a pass ended between withdrawing and stopping it: serve again
            changes.append(Worker.status.set("idle"))
        if worker.instance_id is None:
            changes.append(Worker.instance_id.set(instance.id))
        if instance.state == "unavailable" and not worker.unavailable:
            changes.append(Worker.unavailable.set(True))
        if instance.price_per_hour and instance.price_per_hour != float(worker.price_per_hour or 0):
            changes.append(Worker.price_per_hour.set(instance.price_per_hour))
        if changes:
            update_existing(worker, changes)
        return worker

    # --- decide -----------------------------------------------------------------------
    def snapshot(self, workers: list[Worker], load: tuple) -> policy.Snapshot:
        group, endpoint = self.group, self.endpoint
        given = effective_knobs(group, endpoint)
        knobs = policy.GroupSettings(
            min_load=float(given["min_load"]), min_cold_load=float(given["min_cold_load"] or 0),
            target_util=float(given["target_util"]), cold_mult=float(given["cold_mult"]),
            cold_workers=int(given["cold_workers"]), test_workers=int(given["test_workers"]),
            max_workers=int(given["max_workers"]),
            inactivity_timeout=float(given["inactivity_timeout"]) if given["inactivity_timeout"] else None,
            endpoint_state=endpoint.endpoint_state,
            target_queue_time=float(given["target_queue_time"]),
        )
        thresholds = policy.Thresholds(**settings.policy_thresholds())
        memory = tuple(policy.Hour(float(h.start), float(h.peak), float(h.rise or 0)) for h in group.memory or ())
        backlog, current = queued_and_arriving(workers, self.now)
        return policy.Snapshot(self.now, knobs, thresholds, tuple(self._state(w) for w in workers), load,
                               backlog=backlog, current_load=current, memory=memory, rolling=bool(group.rolling))

    def _state(self, worker: Worker) -> policy.WorkerState:
        status = worker.status
        if status != "stopped" and not worker.is_live(self.now):
            status = "error"  # silent past its timeout
        return policy.WorkerState(
            id=int(worker.worker_id), status=status, perf=float(worker.max_perf or 0),
            price_per_hour=float(worker.price_per_hour or 0), started_at=float(worker.started_at),
            reliability=worker.reliability,
            available=not worker.unavailable, benchmarked=float(worker.max_perf or 0) > 0,
            managed=worker.launch_label is not None,
            busy=status in policy.ACTIVE and float(worker.queue_load or 0) + float(worker.routed_load or 0) > 0,
            restart_s=float(worker.restart_s) if worker.restart_s else None,
            outdated=int(worker.generation or 0) < int(self.group.generation or 0),
            replaces=int(worker.replaces) if worker.replaces is not None else None,
        )

    def decide(self, snapshot: policy.Snapshot) -> policy.Plan:
        plan = policy.decide(snapshot)
        if plan.needs_offers:
            found = self.provider.search_offers(self.group.search_params, float(self.group.gpu_ram),
                                                limit=max(snapshot.group.max_workers, 1))
            offers = tuple(policy.Candidate(o.id, o.price_per_hour) for o in found)
            self.gpu_names = {o.id: o.gpu_name for o in found}
            plan = policy.decide(replace(snapshot, offers=offers))
        return plan

    # --- act --------------------------------------------------------------------------
    def act(self, plan: policy.Plan, workers: list[Worker]) -> None:
        by_id = {int(w.worker_id): w for w in workers}
        order = {"destroy": 0, "stop": 1, "start": 2, "launch": 3}
        for action in sorted(plan.actions, key=lambda a: order[a.kind]):
            if self.outcome.auth_failed:
                self._record(action.kind, action.reason, "skipped: the provider refused the key",
                             offer_id=action.offer_id)
                continue
            if action.kind == "launch":
                self._launch(action)
                continue
            worker = by_id[action.worker_id]  # the policy acts only on workers the scaler launched
            {"destroy": self._destroy, "stop": self._stop, "start": self._start}[action.kind](action, worker)

    def finish_roll(self) -> None:
        """The rolling update replaced every outdated worker: over, unless a newer one began since."""
        group = self.group
        if update_existing(group, [WorkerGroup.rolling.set(False)],
                           (WorkerGroup.generation == int(group.generation or 0)) & (WorkerGroup.rolling == True)):  # noqa: E712
            self._record("update workers", f"every worker is of generation {int(group.generation or 0)}", "done")

    def _call(self, method, *args) -> str:
        try:
            method(*args)
            return "ok"
        except ProviderAuthError as error:
            self.outcome.auth_failed = True
            return f"failed: {error}"
        except ProviderError as error:
            return f"failed: {error}"

    def _withdraw(self, action: str, reason: str, worker: Worker) -> bool:
        """Take a serving worker out of routing, unless work reached it since this pass read it.

        One conditional write; /route/ only adds work to a running or idle worker, also with a
        conditional write, so the two cannot cross: a request is never routed to a worker
        that is about to stop.
        """
        idle = Worker.routed_load.does_not_exist() | (Worker.routed_load == 0)
        queue_empty = Worker.queue_load.does_not_exist() | (Worker.queue_load == 0)
        if update_existing(worker, [Worker.status.set("stopping")], idle & queue_empty):
            return True
        self._record(action, reason, "skipped: requests reached it since the pass read it", worker)
        return False

    def _destroy(self, action: policy.Action, worker: Worker) -> None:
        serving = worker.status if worker.status in policy.ACTIVE else None
        if serving and not self._withdraw("destroy", action.reason, worker):
            return
        outcome = self._call(self.provider.destroy, int(worker.instance_id)) if worker.instance_id else "ok"
        if outcome == "ok":
            worker.delete()
        elif serving:
            update_existing(worker, [Worker.status.set(serving)])  # still up: back in routing
        self._record("destroy", action.reason, outcome, worker)

    def _stop(self, action: policy.Action, worker: Worker) -> None:
        serving = worker.status
        if not self._withdraw("stop", action.reason, worker):
            return
        outcome = self._call(self.provider.stop, int(worker.instance_id))
        if outcome == "ok":
            update_existing(worker, [Worker.status.set("stopped"), Worker.routed_load.set(0),
                                     Worker.expires_at.set(epoch(self.now + settings.stopped_retention_s()))])
        else:
            update_existing(worker, [Worker.status.set(serving)])  # still up: back in routing
        self._record("stop", action.reason, outcome, worker)

    def _start(self, action: policy.Action, worker: Worker) -> None:
        try:
            self.provider.start(int(worker.instance_id))
        except ProviderUnavailable as error:
            update_existing(worker, [Worker.unavailable.set(True)])  # the next pass replaces it
            outcome = f"failed: {error}"
        except ProviderError as error:
            self.outcome.auth_failed |= isinstance(error, ProviderAuthError)
            outcome = f"failed: {error}"
        else:
            update_existing(worker, [Worker.status.set("starting"), Worker.started_at.set(self.now),
                                     Worker.expires_at.set(epoch(self.now + settings.registration_timeout_s()))])
            outcome = "ok"
        self._record("start", action.reason, outcome, worker)

    def _launch(self, action: policy.Action) -> None:
        if not settings.public_url():
            self._record("launch", action.reason, "failed: PUBLIC_URL is not set, so a new worker could not report",
                         offer_id=action.offer_id)
            return
        worker, token = register_worker(self.group, now=self.now, replaces=action.replaces,
                                        gpu_name=self.gpu_names.get(action.offer_id),
                                        launch_label=lambda worker_id: label(int(self.group.group_id), worker_id))
        name = worker.launch_label
        spec = LaunchSpec(
            label=name,
            env={"CONTAINER_ID": str(int(worker.worker_id)), "MASTER_TOKEN": token,
                 "REPORT_ADDR": settings.public_url()},
            template_hash=self.group.template_hash, launch_args=self.group.launch_args,
        )
        try:
            instance_id = self.provider.launch(action.offer_id, spec)
        except ProviderAuthError as error:
            self.outcome.auth_failed = True
            worker.delete()
            self._record("launch", action.reason, f"failed: {error}", worker, offer_id=action.offer_id)
            return
        except ProviderError as error:
            # Kept as "launching": if the instance exists after all, the next pass links it by label.
            self._record("launch", action.reason, f"failed: {error}", worker, offer_id=action.offer_id)
            return
        update_existing(worker, [Worker.instance_id.set(instance_id)])  # if gone, the next pass finds the orphan
        self._record("launch", action.reason, "ok", worker, offer_id=action.offer_id, instance_id=instance_id)

    def _record(self, action: str, reason: str, outcome: str, worker: Worker | None = None, *,
                offer_id: int | None = None, instance_id: int | None = None) -> None:
        self.outcome.decisions.append(new_event(
            int(self.group.group_id), int(self.group.endpoint_id), action, reason, outcome, now=self.now,
            worker_id=int(worker.worker_id) if worker is not None else None,
            instance_id=instance_id if instance_id is not None else (
                int(worker.instance_id) if worker is not None and worker.instance_id else None),
            offer_id=offer_id))


def scale_group(provider: Provider, group: WorkerGroup, endpoint: Endpoint, workers: list[Worker],
                instances: list[Instance], load: tuple, now: float | None = None) -> Outcome:
    """One pass over one group; returns what it did (decisions are saved by the caller)."""
    now = time.time() if now is None else now
    owner = uuid.uuid4().hex
    if not acquire_lease(group, owner, now):
        return Outcome(int(group.group_id), skipped="another pass holds the group")
    run = GroupPass(provider, group, endpoint, now)
    try:
        kept = run.reconcile(workers, instances)
        if not run.outcome.auth_failed:
            run.outcome.plan = run.decide(run.snapshot(kept, load))
            run.act(run.outcome.plan, kept)
            if run.outcome.plan.roll_done:
                run.finish_roll()
    except ProviderAuthError as error:
        run.outcome.auth_failed = True
        run._record("pass", "the provider refused the key", f"failed: {error}")
    except ProviderError as error:
        run._record("pass", "a provider call failed", f"failed: {error}")
    except Exception as error:  # noqa: BLE001 - a storage failure or a bad row: this group only, recorded
        run.outcome.error = f"{type(error).__name__}: {error}"[:500]
        run._record("pass", "the pass failed on this group", f"failed: {run.outcome.error}")
    finally:
        release_lease(group, owner, run.outcome.plan.memory if run.outcome.plan else ())
    return run.outcome
