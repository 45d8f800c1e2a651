"""Acting on one group: the labels of our instances, the provider as a pass calls it, the
record of each decision, and the plan carried out (destroys, stops, starts, launches).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.core import settings
from chalicelib.core.fleet import workers
from chalicelib.core.fleet.events import new_event
from chalicelib.core.store import Event, Worker, WorkerGroup, update_existing
from chalicelib.providers import LaunchSpec, Offer, Provider, ProviderAuthError, ProviderError, ProviderUnavailable
from chalicelib.scaling import policy

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


class Actuator:
    """Carries out a plan on one group's workers through the provider, recording each step:
    destroys first, then stops, starts and launches. Once the provider has refused the key,
    what is left is recorded as skipped."""

    ORDER = {"destroy": 0, "stop": 1, "start": 2, "launch": 3}

    def __init__(self, provider: WatchedProvider, group: WorkerGroup, now: float, record: Recorder,
                 gpu_names: dict[int, str] | None = None):
        self.provider, self.group, self.now, self.record = provider, group, now, record
        self.gpu_names = gpu_names or {}  # offer id -> its GPU, from the search

    def act(self, plan: policy.Plan, workers: list[Worker]) -> None:
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
            {"destroy": self._destroy, "stop": self._stop, "start": self._start}[action.kind](action, worker)

    def _withdraw(self, action: str, reason: str, worker: Worker) -> bool:
        """Out of routing before it goes, unless work reached it since this pass read it."""
        if workers.withdraw(worker):
            return True
        self.record(action, reason, "skipped: requests reached it since the pass read it", worker)
        return False

    def _destroy(self, action: policy.Action, worker: Worker) -> None:
        serving = worker.status if worker.status in workers.SERVING else None
        if serving and not self._withdraw("destroy", action.reason, worker):
            return
        outcome = attempt(self.provider.destroy, int(worker.instance_id)) if worker.instance_id else "ok"
        if outcome == "ok":
            worker.delete()
        elif serving:
            workers.put_back(worker, serving)  # still up: back in routing
        self.record("destroy", action.reason, outcome, worker)

    def _stop(self, action: policy.Action, worker: Worker) -> None:
        serving = worker.status
        if not self._withdraw("stop", action.reason, worker):
            return
        outcome = attempt(self.provider.stop, int(worker.instance_id))
        if outcome == "ok":
            workers.mark_stopped(worker, self.now)
        else:
            workers.put_back(worker, serving)  # still up: back in routing
        self.record("stop", action.reason, outcome, worker)

    def _start(self, action: policy.Action, worker: Worker) -> None:
        try:
            self.provider.start(int(worker.instance_id))
        except ProviderUnavailable as error:
            update_existing(worker, [Worker.unavailable.set(True)])  # the next pass replaces it
            outcome = f"failed: {error}"
        except ProviderError as error:
            outcome = f"failed: {error}"
        else:
            workers.mark_started(worker, self.now)
            outcome = "ok"
        self.record("start", action.reason, outcome, worker)

    def _launch(self, action: policy.Action) -> None:
        if not settings.public_url():
            self.record("launch", action.reason, "failed: PUBLIC_URL is not set, so a new worker could not report",
                        offer_id=action.offer_id)
            return
        group = self.group
        worker, token = workers.register_worker(group, now=self.now, replaces=action.replaces,
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
