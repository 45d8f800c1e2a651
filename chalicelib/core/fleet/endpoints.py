"""Endpoint groups: create, list, read, update, delete, with Vast's field names and defaults."""
from __future__ import annotations

import time
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core import validation as v
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
ALIASES = {"min_workers": "cold_workers"}  # Vast's newer name -> the stored one


def parse_knobs(body: dict, *, partial: bool, knobs: dict[str, tuple[Any, dict]] = KNOBS) -> dict[str, Any]:
    """The knobs `body` gives a value (all of `knobs`, defaulted, unless `partial`).

    A knob absent or null is not given: on an update it keeps its value.
    """
    body = with_aliases(body)
    parsed = {}
    for name, (default, bounds) in knobs.items():
        if partial and body.get(name) is None:
            continue
        parsed[name] = v.number(body, name, default, **bounds)
    if parsed.get("inactivity_timeout") is not None and parsed["inactivity_timeout"] < 0:
        if parsed["inactivity_timeout"] != -1:
            raise bad_request("'inactivity_timeout' must be at least 0, or -1 for none")
        parsed["inactivity_timeout"] = None
    return parsed


def with_aliases(body: dict) -> dict:
    """`body` with each alias under its stored name (both given and different: a 400)."""
    for alias, name in ALIASES.items():
        if body.get(alias) is None:
            continue
        if body.get(name) is not None and body[name] != body[alias]:
            raise bad_request(f"'{alias}' and '{name}' are the same knob; give one, or the same value")
        body = {**body, name: body[alias]}
    return body


def parse_name(body: dict, *, required: bool = True) -> str | None:
    name = v.string(body, "endpoint_name", v.REQUIRED if required else None, min_len=1, max_len=128)
    if name is not None and name.strip() != name:
        raise bad_request("'endpoint_name' must not start or end with whitespace")
    return name


def row(endpoint: Endpoint) -> dict:
    """An endpoint as Vast lists it (the SDK's `EndpointData.from_dict` reads this)."""
    return {
        "id": int(endpoint.endpoint_id),
        "endpoint_name": endpoint.endpoint_name,
        "api_key": endpoint_api_key(endpoint),
        "user_id": int(endpoint.account_id),
        "created_at": float(endpoint.created_at),
        "endpoint_state": endpoint.endpoint_state,
        "auto_delete_in_seconds": None,
        "auto_delete_due_24h": False,
        **{name: getattr(endpoint, name) for name in KNOBS},
        "min_workers": endpoint.cold_workers,
    }


def list_endpoints(account_id: int) -> list[Endpoint]:
    """The account's endpoints (an incomplete row is logged and left out)."""
    return complete(Endpoint.query(account_id, consistent_read=True))


def find_by_name(account_id: int, name: str) -> Endpoint | None:
    return next((e for e in list_endpoints(account_id) if e.endpoint_name == name), None)


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


def create_endpoint(account_id: int, body: dict) -> Endpoint:
    name = parse_name(body)
    knobs = parse_knobs(body, partial=False)
    state = v.choice(body, "endpoint_state", STATES, "active")
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


def update_endpoint(principal: Principal, endpoint_id: int, body: dict) -> Endpoint:
    """Change the fields `body` names: in one transaction with the key's routing copy and the name."""
    knobs = parse_knobs(body, partial=True)
    name = parse_name(body, required=False)
    state = v.choice(body, "endpoint_state", STATES, None)
    endpoint = get_endpoint(principal, endpoint_id)
    old_name = endpoint.endpoint_name
    renamed = name is not None and name != old_name
    if renamed:
        if find_by_name(principal.account_id, name):
            raise conflict(f"an endpoint named '{name}' already exists")
        knobs["endpoint_name"] = name
    if state is not None:
        knobs["endpoint_state"] = state
    if not knobs:
        return endpoint
    for field, value in knobs.items():
        setattr(endpoint, field, value)
    actions = [getattr(Endpoint, k).set(val) if val is not None else getattr(Endpoint, k).remove()
               for k, val in knobs.items()]
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
