"""The Vast wire format: request bodies read into the core's terms, stored rows shown as Vast
shows them. Every rule about a Vast field name, alias or default-by-omission is here."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.core import validation as v
from chalicelib.core.auth.credentials import endpoint_api_key
from chalicelib.core.errors import bad_request, unauthorized
from chalicelib.core.fleet import endpoints, offer_query, worker_groups
from chalicelib.core.fleet.endpoints import EndpointFields
from chalicelib.core.fleet.routing import Routed
from chalicelib.core.fleet.stats import METRICS
from chalicelib.core.fleet.worker_status import Report
from chalicelib.core.fleet.workers import Status
from chalicelib.core.store import ApiKey, Endpoint, Event, Worker, WorkerGroup

# The pyworker sends its whole backlog of finished requests each second and drops it only on
# a 2xx: a backlog from minutes of outage is taken whole (API Gateway's 10 MB body bounds it).
MAX_FINISHED = 200_000
ALIASES = {"min_workers": "cold_workers"}  # Vast's newer name -> the stored one
# What the vastai CLI appends to every search, and sends alone when --search_params is not given.
CLI_DEFAULT_SEARCH = frozenset({"verified=True", "rentable=True", "rented=False"})


# --- endpoint groups -----------------------------------------------------------------

def knobs(body: dict, *, partial: bool, schema: dict[str, tuple[Any, dict]] = endpoints.KNOBS) -> dict[str, Any]:
    """The knobs `body` gives a value (all of `schema`, defaulted, unless `partial`).

    A knob absent or null is not given: on an update it keeps its value. `inactivity_timeout`
    -1 means none (stored as null).
    """
    body = _with_aliases(body, schema)
    parsed = {}
    for name, (default, bounds) in schema.items():
        if partial and body.get(name) is None:
            continue
        parsed[name] = v.number(body, name, default, **bounds)
    if parsed.get("inactivity_timeout") is not None and parsed["inactivity_timeout"] < 0:
        if parsed["inactivity_timeout"] != -1:
            raise bad_request("'inactivity_timeout' must be at least 0, or -1 for none")
        parsed["inactivity_timeout"] = None
    return parsed


def _with_aliases(body: dict, schema: dict[str, tuple[Any, dict]]) -> dict:
    """`body` with each alias's value, read under the alias's name, under its stored name (both
    given and different: a 400)."""
    for alias, name in ALIASES.items():
        if body.get(alias) is None or name not in schema:
            continue
        value = v.number(body, alias, **schema[name][1])
        if body.get(name) is not None and v.number(body, name, **schema[name][1]) != value:
            raise bad_request(f"'{alias}' and '{name}' are the same knob; give one, or the same value")
        body = {**body, name: value}
    return body


def _endpoint_name(body: dict, *, required: bool) -> str | None:
    return v.label(body, "endpoint_name", v.REQUIRED if required else None)


def new_endpoint(body: dict) -> EndpointFields:
    """An `endptjobs` POST: a name, and every knob (Vast's defaults for those not given)."""
    name = _endpoint_name(body, required=True)
    given = knobs(body, partial=False)
    return EndpointFields(name, v.choice(body, "endpoint_state", endpoints.STATES, "active"), given)


def endpoint_change(body: dict) -> EndpointFields:
    """An `endptjobs` PUT: only the fields it names."""
    given = knobs(body, partial=True)
    name = _endpoint_name(body, required=False)
    return EndpointFields(name, v.choice(body, "endpoint_state", endpoints.STATES, None), given)


def endpoint_row(endpoint: Endpoint) -> dict:
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
        **{name: getattr(endpoint, name) for name in endpoints.KNOBS},
        "min_workers": endpoint.cold_workers,
    }


# --- worker groups -------------------------------------------------------------------

def group_fields(body: dict, *, partial: bool) -> dict[str, Any]:
    """The group fields `body` gives (all of them, defaulted, unless `partial`); absent or null
    keeps a field's value on an update (the vastai CLI sends null for what it is not given), an
    empty text clears it, and -1 unsets a knob the endpoint also has (and perf_hint)."""
    unset = {ALIASES.get(name, name) for name, value in body.items() if partial
             and ALIASES.get(name, name) in worker_groups.UNSETTABLE and value == -1 and not isinstance(value, bool)}
    for alias, name in ALIASES.items():
        if name in unset and body.get(alias) != body.get(name) and None not in (body.get(alias), body.get(name)):
            raise bad_request(f"'{alias}' and '{name}' are the same knob; give one, or the same value")
    body = {name: value for name, value in body.items() if ALIASES.get(name, name) not in unset}
    fields = knobs(body, partial=True, schema=worker_groups.KNOBS)
    if not partial:
        fields = {name: fields.get(name, default) for name, (default, _) in worker_groups.KNOBS.items()}
    fields.update(dict.fromkeys(unset))  # -1: the group follows its endpoint again (perf_hint: none)
    params = body.get("search_params")
    if isinstance(params, dict):
        params = json.dumps(params, sort_keys=True)
    if not partial or not _keeps_search(params):
        fields["search_params"] = v.string({"search_params": params}, "search_params", "", max_len=4096)
        try:
            offer_query.parse(fields["search_params"])
        except ValueError as error:
            raise bad_request(f"'search_params' cannot be read: {error}") from None
    for name in worker_groups.TEXT_FIELDS:
        if body.get(name) is not None:
            fields[name] = v.string(body, name, max_len=4096) or None
    if body.get("template_id") is not None:
        fields["template_id"] = v.integer(body, "template_id")
    return fields


def _keeps_search(params: object) -> bool:
    """On an update, no search given: absent, null, empty, or exactly what the CLI adds to every
    search (it sends that alone when --search_params is not given)."""
    return params is None or (isinstance(params, str) and sorted(params.split()) in ([], sorted(CLI_DEFAULT_SEARCH)))


def group_endpoint(body: dict, *, required: bool) -> dict[str, Any]:
    """How a group body names its endpoint, as `endpoints.resolve` takes it: by id (and by
    name, which must then be that endpoint's), by name, or (when not `required`) not at all: {}."""
    if body.get("endpoint_id") is not None:
        named = {"name": v.string(body, "endpoint_name")} if body.get("endpoint_name") is not None else {}
        return {"endpoint_id": v.integer(body, "endpoint_id"), **named}
    if body.get("endpoint_name") is not None:
        return {"name": v.string(body, "endpoint_name")}
    if required:
        raise bad_request("'endpoint_name' or 'endpoint_id' is required")
    return {}


def group_row(group: WorkerGroup, endpoint_names: dict[int, str]) -> dict:
    return {
        "id": int(group.group_id),
        "endpoint_id": int(group.endpoint_id),
        "endpoint_name": endpoint_names.get(int(group.endpoint_id)),
        "user_id": int(group.account_id),
        "created_at": float(group.created_at),
        "search_params": group.search_params,
        "template_hash": group.template_hash,
        "template_id": group.template_id,
        "launch_args": group.launch_args,
        **{name: getattr(group, name) for name in worker_groups.KNOBS},
        "generation": int(group.generation or 0),
        "rolling": bool(group.rolling),
    }


# --- workers -------------------------------------------------------------------------

_GEN3_MARKERS = ("version", "new_load", "rej_load", "working_request_idxs", "cur_capacity")


def report(body: dict) -> Report:
    """A `/worker_status/` body of any generation (seed 001, 2024 pyworker, current SDK)."""
    worker_id = v.integer(body, "id")
    mtoken = _mtoken(body)
    num = {name: v.number(body, name, None) for name in (
        "loadtime", "max_perf", "cur_load", "new_load", "rej_load", "cur_perf",
        "disk_usage", "additional_disk_usage",
    )}
    counts = {name: v.integer(body, name, None) for name in ("num_requests_working", "num_requests_recieved")}
    url = v.string(body, "url", None, max_len=2048) or None
    error = _error_text(body)
    common = dict(worker_id=worker_id, mtoken=mtoken, url=url, error_msg=error,
                  disk_usage=num["disk_usage"], num_requests=counts["num_requests_recieved"],
                  reqs_working=counts["num_requests_working"])
    message = v.string(body, "message", None)
    if message is not None:  # 2024 pyworker
        if message not in ("loading update", "data update"):
            raise bad_request("'message' must be 'loading update' or 'data update'")
        if message == "loading update":
            return Report(**common, loading=True, reloaded=True)
        return Report(**common, loadtime=num["loadtime"], max_perf=num["max_perf"],
                      served_rate=num["cur_perf"], arrived_rate=num["cur_perf"],
                      overloaded=v.boolean(body, "overloaded", None))
    if any(marker in body for marker in _GEN3_MARKERS):  # current SDK's WorkerStatusData
        arrived = None
        if num["new_load"] is not None or num["rej_load"] is not None:
            arrived = (num["new_load"] or 0.0) + (num["rej_load"] or 0.0)
        loading = not (num["loadtime"] or error)
        return Report(**common, loading=loading, reloaded=loading, loadtime=num["loadtime"],
                      max_perf=num["max_perf"], arrived_amount=arrived, served_amount=num["cur_perf"],
                      queue_load=num["cur_load"])
    # seed 001's notify module: loaded (a (re)start) / update / error
    return Report(**common, loadtime=num["loadtime"], max_perf=num["max_perf"], arrived_rate=num["cur_load"],
                  reloaded=num["loadtime"] is not None)


def _mtoken(body: dict) -> str:
    """A missing or malformed token is an authentication failure (401), not a bad request."""
    token = body.get("mtoken")
    if not isinstance(token, str) or not 0 < len(token) <= 512 or not v.is_text(token):
        raise unauthorized("'mtoken' is missing or invalid")
    return token


def _error_text(body: dict) -> str | None:
    for name in ("error_msg", "error"):
        value = body.get(name)
        if value in (None, "", False):
            continue
        if not isinstance(value, (str, bool)):
            raise bad_request(f"'{name}' must be a string")
        return (value if isinstance(value, str) else "worker reported an error")[:1024]
    return None


def finished_requests(body: dict) -> tuple[int, str, list[bool]]:
    """A `/delete_requests/` body: (worker id, mtoken, whether each finished request succeeded).
    `request_idx` is not read: the pyworker takes it from whoever called the worker, and resends
    its whole backlog until a 2xx, so one junk index must not refuse the rest forever."""
    worker_id = v.integer(body, "worker_id")
    mtoken = _mtoken(body)
    requests = v.object_list(body, "requests", max_items=MAX_FINISHED)
    return worker_id, mtoken, [v.boolean(r, "success", False) for r in requests]


# Vast has no status for a worker its owner registered that has not reported: it shows "starting".
_STATUS_SHOWN = {Status.REGISTERED: "starting"}


def worker_row(worker: Worker) -> dict:
    return {
        "id": int(worker.worker_id),
        "status": _STATUS_SHOWN.get(worker.status, worker.status),
        "gpu_name": worker.gpu_name,
        "cur_load": worker.cur_load,
        "cur_load_rolling_avg": worker.cur_load_rolling_avg,
        "cur_perf": worker.cur_perf,
        "perf": worker.max_perf,
        "measured_perf": worker.measured_perf,
        "dlperf": worker.dlperf,
        "reliability": worker.reliability,
        "reqs_working": int(worker.reqs_working or 0),
        "disk_usage": worker.disk_usage,
        "loaded_at": worker.loaded_at,
        "started_at": worker.started_at,
        "group_id": int(worker.group_id),
        "url": worker.url,
    }


def decision_row(event: Event) -> dict:
    """An event of a group's log: what was done, why, and how it went."""
    return {"t": event.t, "group_id": int(event.group_id), "action": event.action, "reason": event.reason,
            "outcome": event.outcome, "worker_id": event.worker_id, "instance_id": event.instance_id,
            "offer_id": event.offer_id}


# --- routing and stats ---------------------------------------------------------------

@dataclass(frozen=True)
class RouteRequest:
    endpoint: str
    api_key: object  # as sent: a missing or malformed key is a 401, from authentication
    cost: float
    request_idx: int  # 0: a new request (one is drawn for it)


def route_request(body: dict) -> RouteRequest:
    return RouteRequest(
        endpoint=v.string(body, "endpoint", min_len=1, max_len=128),
        api_key=body.get("api_key"),
        cost=v.number(body, "cost", 100.0),
        request_idx=v.integer(body, "request_idx", 0),
    )


def route_reply(routed: Routed) -> dict:
    """`/route/`'s reply: the signed url of the chosen worker, or no url while none is ready."""
    reply = {"endpoint": routed.endpoint_name, "request_idx": routed.request_idx, "cost": routed.cost}
    if routed.worker is None:
        return {**reply, "status": "no workers ready"}
    return {**reply, "url": routed.worker.url, "reqnum": int(routed.worker.routed_count),
            "signature": routed.signature, "__request_id": str(routed.request_idx)}


def endpoint_ref(body: dict) -> dict[str, Any]:
    """How a stats, workers or logs call names its endpoint, as `endpoints.resolve` takes it."""
    if body.get("id") is not None:
        return {"endpoint_id": v.integer(body, "id")}
    return {"name": v.string(body, "endpoint", min_len=1, max_len=128)}


def metric_range(body: dict) -> tuple[str, float, float]:
    """(metric, t1, t2) of a timeseries request."""
    name = v.choice(body, "metric_name", METRICS)
    t1, t2 = v.number(body, "t1"), v.number(body, "t2")
    if t2 < t1:
        raise bad_request("'t2' must not be before 't1'")
    return name, t1, t2


# --- the account ---------------------------------------------------------------------

# What Vast's /users/current/ holds that this control plane has no notion of: answered empty.
_USER_FIELDS_UNKNOWN = ("email", "ssh_key", "paypal_email", "billaddress_city", "billaddress_country",
                        "billaddress_line1", "billaddress_line2", "billaddress_zip", "last4")


def user_row(row: ApiKey) -> dict:
    """An account as Vast's `GET /users/current/` shows a user (the CLI's `show user`), never its key."""
    name = row.name or f"account-{int(row.account_id)}"
    return {
        "id": int(row.account_id), "username": name, "fullname": name, "user": name,
        "balance": 0.0, "credit": 0.0, "balance_threshold": 0.0, "balance_threshold_enabled": False,
        "billed_expected": 0.0, "billed_verified": 0.0, "paid_expected": 0.0, "paid_verified": 0.0,
        "billing_creditonly": False, "can_pay": True, "email_verified": False, "got_signup_credit": False,
        "has_billing": False, "has_payout": False, "password_resettable": False,
        "host_agreement_accepted": False, "created_at": int(row.created_at),
        **dict.fromkeys(_USER_FIELDS_UNKNOWN),
    }
