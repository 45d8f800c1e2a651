"""Worker groups (Vast's `autojobs` / `workergroups`): their knobs, create, read, update, delete, rolling updates."""
from __future__ import annotations

import time
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core.auth.credentials import Principal
from chalicelib.core.errors import conflict, not_found
from chalicelib.core.fleet.endpoints import KNOBS as ENDPOINT_KNOBS
from chalicelib.core.fleet.endpoints import MAX_GROUPS, refuse_incomplete
from chalicelib.core.fleet.events import new_event
from chalicelib.core.store import (
    Endpoint,
    Event,
    Worker,
    WorkerGroup,
    WorkersByEndpoint,
    complete,
    condition_failed,
    connection,
    next_id,
    update_existing,
)

# A group's own value of an endpoint knob overrides the endpoint's for that group; unset
# (null), the group follows its endpoint. The other knobs are the group's alone.
SHARED_KNOBS = ("min_load", "min_cold_load", "target_util", "cold_mult", "cold_workers", "max_workers")
KNOBS: dict[str, tuple[Any, dict]] = {
    **{k: (None, ENDPOINT_KNOBS[k][1]) for k in SHARED_KNOBS},
    "test_workers": (3, {"integer": True}),
    "gpu_ram": (8.0, {}),
    "perf_hint": (None, {"minimum": 0, "exclusive_minimum": True}),  # work units/s one worker serves, declared
}
TEXT_FIELDS = ("template_hash", "launch_args")
UNSETTABLE = (*SHARED_KNOBS, "perf_hint")  # knobs with no value of their own unless set


def effective_knobs(group: WorkerGroup, endpoint: Endpoint) -> dict[str, Any]:
    """The knobs that govern `group`: its own where set, else its endpoint's."""
    own = {name: getattr(group, name) for name in SHARED_KNOBS}
    return {**{name: getattr(endpoint, name) for name in ENDPOINT_KNOBS},
            **{name: value for name, value in own.items() if value is not None},
            "test_workers": group.test_workers, "gpu_ram": group.gpu_ram, "perf_hint": group.perf_hint}


def list_groups(account_id: int) -> list[WorkerGroup]:
    """The account's groups (an incomplete row is logged and left out)."""
    return complete(WorkerGroup.query(account_id, consistent_read=True))


def _stored_group(principal: Principal, group_id: int) -> WorkerGroup:
    try:
        group = WorkerGroup.get(principal.account_id, group_id, consistent_read=True)
    except WorkerGroup.DoesNotExist:
        raise not_found(f"worker group {group_id}") from None
    if group.endpoint_id is not None and not principal.may_see(int(group.endpoint_id)):
        raise not_found(f"worker group {group_id}")
    if group.endpoint_id is None and principal.endpoint_id is not None:
        raise not_found(f"worker group {group_id}")  # whose it is is unknown: only the account sees it
    return group


def get_group(principal: Principal, group_id: int) -> WorkerGroup:
    group = _stored_group(principal, group_id)
    refuse_incomplete(group, f"worker group {group_id}")
    return group


def create_group(principal: Principal, endpoint: Endpoint, fields: dict[str, Any]) -> WorkerGroup:
    """A new group of `endpoint` with `fields` (every field of a group: KNOBS, TEXT_FIELDS,
    search_params, template_id), unless the endpoint was deleted meanwhile."""
    siblings = [g for g in list_groups(principal.account_id) if int(g.endpoint_id) == int(endpoint.endpoint_id)]
    if len(siblings) >= MAX_GROUPS:
        raise conflict(f"an endpoint may have at most {MAX_GROUPS} worker groups")
    group = WorkerGroup(principal.account_id, next_id("group"), endpoint_id=int(endpoint.endpoint_id),
                        created_at=time.time(), **fields)
    try:
        with TransactWrite(connection=connection()) as tx:  # not into an endpoint deleted meanwhile
            tx.condition_check(Endpoint, endpoint.account_id, endpoint.endpoint_id,
                               condition=Endpoint.endpoint_id.exists())
            tx.save(group)
    except TransactWriteError as error:
        if condition_failed(error):
            raise not_found(f"endpoint {int(endpoint.endpoint_id)}") from None
        raise
    return group


def update_group(group: WorkerGroup, fields: dict[str, Any], endpoint: Endpoint | None = None) -> WorkerGroup:
    """Set the fields given (None clears one) and, with `endpoint`, move the group there: 409 if
    that endpoint has MAX_GROUPS groups, or while the group has workers (they serve the endpoint
    they were launched for: delete them, or make a group on the other endpoint)."""
    group_id = int(group.group_id)
    moving = endpoint is not None and int(endpoint.endpoint_id) != int(group.endpoint_id)
    if endpoint is not None:
        fields = {**fields, "endpoint_id": int(endpoint.endpoint_id)}
    if not fields:
        return group
    actions = [getattr(WorkerGroup, k).set(val) if val is not None else getattr(WorkerGroup, k).remove()
               for k, val in fields.items()]
    if not moving:
        if not update_existing(group, actions):
            raise not_found(f"worker group {group_id}")  # deleted meanwhile
        return group
    _refuse_move(group, endpoint)
    try:
        with TransactWrite(connection=connection()) as tx:  # not into an endpoint deleted meanwhile
            tx.condition_check(Endpoint, endpoint.account_id, endpoint.endpoint_id,
                               condition=Endpoint.endpoint_id.exists())
            tx.update(group, actions=actions, condition=WorkerGroup.group_id.exists())
    except TransactWriteError as error:
        if condition_failed(error):
            raise not_found(f"worker group {group_id} or endpoint {int(endpoint.endpoint_id)}") from None
        raise
    for name, value in fields.items():
        setattr(group, name, value)
    return group


def _refuse_move(group: WorkerGroup, endpoint: Endpoint) -> None:
    group_id, endpoint_id = int(group.group_id), int(endpoint.endpoint_id)
    siblings = [g for g in list_groups(int(group.account_id)) if int(g.endpoint_id) == endpoint_id]
    if len(siblings) >= MAX_GROUPS:
        raise conflict(f"an endpoint may have at most {MAX_GROUPS} worker groups")
    now = time.time()
    if any(w.is_live(now) for w in Worker.by_endpoint.query(int(group.endpoint_id),
                                                             WorkersByEndpoint.group_id == group_id)):
        raise conflict(f"worker group {group_id} has workers serving endpoint {int(group.endpoint_id)}: "
                       "delete them before moving it, or create a group on the other endpoint")


def delete_group(principal: Principal, group_id: int) -> None:
    """Forget the group, complete or not; its instances are not destroyed by this (as on Vast)."""
    _stored_group(principal, group_id).delete()


def start_rolling_update(group: WorkerGroup, now: float | None = None) -> int:
    """Begin replacing the group's workers with ones launched on its current template (the
    scaler does it, a few at a time); returns how many workers are to be replaced.

    One transaction: the group's next generation, marked rolling, and the event saying so.
    Workers launched from now on carry the new generation; the older ones are replaced.
    """
    now = time.time() if now is None else now
    workers = [w for w in Worker.by_endpoint.query(int(group.endpoint_id), WorkersByEndpoint.group_id ==
                                                    int(group.group_id)) if w.launch_label and w.is_live(now)]
    generation = int(group.generation or 0) + 1
    _set_rolling(group, [WorkerGroup.generation.set(generation), WorkerGroup.rolling.set(True)],
                 new_event(int(group.group_id), int(group.endpoint_id), "update workers",
                           f"rolling update to generation {generation}: {len(workers)} workers to replace", now=now))
    return len(workers)


def cancel_rolling_update(group: WorkerGroup, now: float | None = None) -> None:
    """Stop the rolling update where it is: replaced workers stay, the others are kept as they are."""
    reason = "cancelled by its owner" if group.rolling else "no rolling update was in progress"
    _set_rolling(group, [WorkerGroup.rolling.set(False)],
                 new_event(int(group.group_id), int(group.endpoint_id), "update workers", reason, "cancelled",
                           now=now))


def _set_rolling(group: WorkerGroup, actions: list, event: Event) -> None:
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(group, actions=actions, condition=WorkerGroup.group_id.exists())
            tx.save(event)
    except TransactWriteError as error:
        if condition_failed(error):
            raise not_found(f"worker group {int(group.group_id)}") from None  # deleted meanwhile
        raise
