"""Endpoint groups: create, list, read, update, delete; and which endpoint a caller means."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core.auth.credentials import Principal, endpoint_api_key, hash_secret, new_endpoint_key
from chalicelib.core.errors import bad_request, conflict, not_found
from chalicelib.core.store import (
    ROUTING_FIELDS,
    ApiKey,
    Endpoint,
    EndpointName,
    WorkerGroup,
    complete,
    connection,
    missing_fields,
    next_id,
)

STATES = ("active", "suspended", "stopped")
MAX_GROUPS = 50  # per endpoint; keeps deletion within one transaction

# name -> (default, validation bounds). Defaults are Vast's.
KNOBS: dict[str, tuple[Any, dict]] = {
    "min_load": (0.0, {}),
    "min_cold_load": (0.0, {}),
    "target_util": (0.9, {"minimum": 0, "exclusive_minimum": True, "maximum": 1}),
    "cold_mult": (2.5, {"minimum": 1}),
    "cold_workers": (5, {"integer": True}),
    "max_workers": (20, {"integer": True, "maximum": 10000}),
    "max_queue_time": (30.0, {"minimum": 0, "exclusive_minimum": True}),
    "target_queue_time": (10.0, {"minimum": 0, "exclusive_minimum": True}),
    "inactivity_timeout": (None, {"minimum": -1}),  # -1: none (no scaling to zero by timeout)
}


@dataclass(frozen=True)
class EndpointFields:
    """What a create or an update gives: on an update, None leaves a field as it is, and a
    knob given as None is cleared."""

    name: str | None = None
    state: str | None = None
    knobs: dict[str, Any] = field(default_factory=dict)  # names and bounds from KNOBS, checked


def list_endpoints(account_id: int) -> list[Endpoint]:
    """The account's endpoints (an incomplete row is logged and left out)."""
    return complete(Endpoint.query(account_id, consistent_read=True))


def find_by_name(account_id: int, name: str) -> Endpoint | None:
    return next((e for e in list_endpoints(account_id) if e.endpoint_name == name), None)


def resolve(principal: Principal, *, endpoint_id: int | None = None, name: str | None = None,
            key: ApiKey | None = None) -> Endpoint | ApiKey:
    """The endpoint a caller means by its id or its name; 404 naming it if it may not see it.

    An endpoint key means its own endpoint only, an account key any of its account's. Given
    the endpoint key's row (`key`), the routing copy it holds stands in for the endpoint, saving
    a read, and a miss is "for this key".
    """
    if endpoint_id is not None:
        endpoint = get_endpoint(principal, endpoint_id)
        if name is not None and endpoint.endpoint_name != name:
            raise bad_request(f"'endpoint_id' {endpoint_id} is endpoint '{endpoint.endpoint_name}', not "
                              f"'endpoint_name' '{name}': give one of them")
        return endpoint
    if principal.endpoint_id is None:
        found = find_by_name(principal.account_id, name)
    elif key is not None and all(getattr(key, f) is not None for f in ROUTING_FIELDS):
        found = key
    else:  # a key written before keys held a copy
        found = get_endpoint(principal, principal.endpoint_id)
    if found is None or found.endpoint_name != name:
        raise not_found(f"endpoint '{name}'" + (" for this key" if key is not None else ""))
    return found


def get_endpoint(principal: Principal, endpoint_id: int) -> Endpoint:
    """The endpoint if `principal` may see it; 404 otherwise (never 403: ids are not probes)."""
    if not principal.may_see(endpoint_id):
        raise not_found(f"endpoint {endpoint_id}")
    try:
        endpoint = Endpoint.get(principal.account_id, endpoint_id, consistent_read=True)
    except Endpoint.DoesNotExist:
        raise not_found(f"endpoint {endpoint_id}") from None
    refuse_incomplete(endpoint, f"endpoint {endpoint_id}")
    return endpoint


def refuse_incomplete(item: Endpoint | WorkerGroup, what: str) -> None:
    """A 409 naming what a stored row lacks, rather than acting on it."""
    if missing := missing_fields(item):
        raise conflict(f"{what} is stored incomplete (no {', '.join(missing)}); delete it and create it again")


def _claim(tx: TransactWrite, account_id: int, name: str, endpoint_id: int) -> None:
    tx.save(EndpointName(EndpointName.key(account_id, name), endpoint_id=endpoint_id),
            condition=EndpointName.name.does_not_exist())


def _refused(error: TransactWriteError) -> list[int]:
    """The positions of the items whose condition refused the transaction."""
    return [i for i, r in enumerate(error.cancellation_reasons or []) if r is not None
            and r.code == "ConditionalCheckFailed"]


def create_endpoint(account_id: int, fields: EndpointFields) -> Endpoint:
    """A new endpoint named `fields.name`, with its key and its name claimed, in one transaction."""
    name, knobs, state = fields.name, fields.knobs, fields.state or "active"
    if find_by_name(account_id, name):  # endpoints made before names were claimed have no name item
        raise conflict(f"an endpoint named '{name}' already exists")
    endpoint_id = next_id("endpoint")
    endpoint = Endpoint(account_id, endpoint_id, endpoint_name=name, endpoint_state=state,
                        key_nonce="", created_at=time.time(), **knobs)
    endpoint.key_nonce, key_row = new_endpoint_key(account_id, endpoint_id, _routing(endpoint))
    try:
        with TransactWrite(connection=connection()) as tx:
            _claim(tx, account_id, name, endpoint_id)
            tx.save(endpoint)
            tx.save(key_row)
    except TransactWriteError as error:
        if _refused(error) == [0]:
            raise conflict(f"an endpoint named '{name}' already exists") from None
        raise
    return endpoint


def _routing(endpoint: Endpoint) -> dict[str, Any]:
    return {name: getattr(endpoint, name) for name in ROUTING_FIELDS}


def update_endpoint(principal: Principal, endpoint_id: int, fields: EndpointFields) -> Endpoint:
    """Change the fields given: in one transaction with the key's routing copy and the name."""
    changes, name, state = dict(fields.knobs), fields.name, fields.state
    endpoint = get_endpoint(principal, endpoint_id)
    old_name = endpoint.endpoint_name
    renamed = name is not None and name != old_name
    if renamed:
        if find_by_name(principal.account_id, name):
            raise conflict(f"an endpoint named '{name}' already exists")
        changes["endpoint_name"] = name
    if state is not None:
        changes["endpoint_state"] = state
    if not changes:
        return endpoint
    for attribute, value in changes.items():
        setattr(endpoint, attribute, value)
    actions = [getattr(Endpoint, k).set(val) if val is not None else getattr(Endpoint, k).remove()
               for k, val in changes.items()]
    routing = [getattr(ApiKey, k).set(val) for k, val in _routing(endpoint).items()]
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(endpoint, actions=actions, condition=Endpoint.endpoint_id.exists())
            tx.update(ApiKey(hash_secret(endpoint_api_key(endpoint))), actions=routing,
                      condition=ApiKey.key_hash.exists())
            if renamed:
                _claim(tx, principal.account_id, name, endpoint_id)
                tx.delete(EndpointName(EndpointName.key(principal.account_id, old_name)))
    except TransactWriteError as error:
        refused = _refused(error)
        if 0 in refused or 1 in refused:
            raise not_found(f"endpoint {endpoint_id}") from None  # deleted meanwhile
        if refused:
            raise conflict(f"an endpoint named '{name}' already exists") from None
        raise
    return endpoint


def delete_endpoint(principal: Principal, endpoint_id: int) -> None:
    """Delete the endpoint, its key, its name and its worker groups in one transaction.

    Workers are left alone: they stop being routed to and expire when they go silent.
    An endpoint holds at most MAX_GROUPS groups, so this fits one transaction.
    """
    endpoint = get_endpoint(principal, endpoint_id)
    groups = [g for g in WorkerGroup.query(principal.account_id, consistent_read=True)
              if g.endpoint_id == endpoint_id]
    with TransactWrite(connection=connection()) as tx:
        tx.delete(endpoint, condition=Endpoint.endpoint_id.exists())
        tx.delete(ApiKey(hash_secret(endpoint_api_key(endpoint))))
        tx.delete(EndpointName(EndpointName.key(principal.account_id, endpoint.endpoint_name)))
        for group in groups:
            tx.delete(group)
