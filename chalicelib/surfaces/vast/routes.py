"""The Vast.ai autoscaler API: console routes (`/api/v0/...`) and the runtime routes
workers and clients call (`/worker_status/`, `/route/`, stats). Each view reads its body
with `wire`, calls the core with typed arguments and renders the reply with `wire`.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from chalice import Blueprint, Response

from chalicelib.core import validation as v
from chalicelib.core.auth import server_keys
from chalicelib.core.auth.credentials import Principal, authenticate, key_row
from chalicelib.core.fleet import endpoints, events, routing, stats, worker_groups, worker_status, workers
from chalicelib.core.store import Endpoint
from chalicelib.surfaces.edge import CONTENT_TYPES, account, answering_errors, bearer_key, body
from chalicelib.surfaces.vast import logs, wire
from chalicelib.surfaces.vast.envelope import error_body

vast_api = Blueprint(__name__)
answered = answering_errors(error_body)  # errors in the Vast envelope


def _route(path: str, methods: list[str], *aliases: str) -> Callable:
    """Register a view under `path` and its aliases (Vast renamed autojobs to workergroups)."""
    def register(view: Callable) -> Callable:
        for i, p in enumerate((path, *aliases)):
            name = f"{view.__name__}_{i}"
            vast_api.route(p, methods=methods, content_types=CONTENT_TYPES, name=name)(answered(view))
        return view
    return register


def _request() -> dict:
    return body(vast_api.current_request)


# --- the account ------------------------------------------------------------------

@_route("/api/v0/users/current", ["GET"])
def current_user() -> dict:
    """The account's own record, in the fields the CLI reads (never its key)."""
    row = key_row(bearer_key(vast_api.current_request))
    if row.kind != "account":
        account(vast_api.current_request)  # the refusal an endpoint key gets on console calls
    return wire.user_row(row)


# --- endpoint groups ---------------------------------------------------------------

@_route("/api/v0/endptjobs", ["GET", "POST"])
def endptjobs() -> dict:
    principal = account(vast_api.current_request)
    if vast_api.current_request.method == "GET":
        rows = [wire.endpoint_row(e) for e in endpoints.list_endpoints(principal.account_id)]
        return {"success": True, "results": rows}
    endpoint = endpoints.create_endpoint(principal.account_id, wire.new_endpoint(_request()))
    return {"success": True, "result": int(endpoint.endpoint_id)}


@_route("/api/v0/endptjobs/{endpoint_id}", ["GET", "PUT", "DELETE"])
def endptjob(endpoint_id: str) -> dict:
    principal = account(vast_api.current_request)
    ident = v.path_id(endpoint_id, "endpoint_id")
    method = vast_api.current_request.method
    if method == "GET":
        return {"success": True, "result": wire.endpoint_row(endpoints.get_endpoint(principal, ident))}
    if method == "PUT":
        changed = endpoints.update_endpoint(principal, ident, wire.endpoint_change(_request()))
        return {"success": True, "result": wire.endpoint_row(changed)}
    endpoints.delete_endpoint(principal, ident)
    return {"success": True}


# --- worker groups -----------------------------------------------------------------

@_route("/api/v0/autojobs", ["GET", "POST"], "/api/v0/workergroups")
def autojobs() -> dict:
    principal = account(vast_api.current_request)
    if vast_api.current_request.method == "GET":
        names = {int(e.endpoint_id): e.endpoint_name for e in endpoints.list_endpoints(principal.account_id)}
        return {"success": True, "results": [wire.group_row(g, names)
                                             for g in worker_groups.list_groups(principal.account_id)]}
    request = _request()
    fields = wire.group_fields(request, partial=False)
    endpoint = endpoints.resolve(principal, **wire.group_endpoint(request, required=True))
    group = worker_groups.create_group(principal, endpoint, fields)
    return {"success": True, "result": int(group.group_id), "id": int(group.group_id)}


@_route("/api/v0/autojobs/{group_id}", ["GET", "PUT", "DELETE"], "/api/v0/workergroups/{group_id}")
def autojob(group_id: str) -> dict:
    principal = account(vast_api.current_request)
    ident = v.path_id(group_id, "group_id")
    method = vast_api.current_request.method
    if method == "DELETE":
        worker_groups.delete_group(principal, ident)
        return {"success": True}
    if method == "PUT":
        request = _request()
        fields = wire.group_fields(request, partial=True)
        group = worker_groups.get_group(principal, ident)
        named = wire.group_endpoint(request, required=False)
        moved_to = endpoints.resolve(principal, **named) if named else None
        group = worker_groups.update_group(group, fields, moved_to)
    else:
        group = worker_groups.get_group(principal, ident)
    name = endpoints.get_endpoint(principal, int(group.endpoint_id)).endpoint_name
    return {"success": True, "result": wire.group_row(group, {int(group.endpoint_id): name})}


@_route("/api/v0/autojobs/{group_id}/workers", ["POST"], "/api/v0/workergroups/{group_id}/workers")
def register_worker(group_id: str) -> dict:
    """Bring your own worker: register a machine the scaler did not launch."""
    principal = account(vast_api.current_request)
    group = worker_groups.get_group(principal, v.path_id(group_id, "group_id"))
    request = body(vast_api.current_request, allow_empty=True)
    instance_id = v.integer(request, "instance_id", None)
    worker, token = workers.register_worker(group, instance_id)
    return {"success": True, "id": int(worker.worker_id), "mtoken": token}


@_route("/api/v0/autojobs/{group_id}/decisions", ["GET"], "/api/v0/workergroups/{group_id}/decisions")
def decisions(group_id: str) -> dict:
    """What the scaler decided for this group, newest first, and how each action went."""
    principal = account(vast_api.current_request)
    group = worker_groups.get_group(principal, v.path_id(group_id, "group_id"))
    limit = v.query_integer(vast_api.current_request.query_params, "limit", 100, minimum=1, maximum=1000)
    rows = events.recent(group_id=int(group.group_id), limit=limit)[::-1]
    return {"success": True, "results": [wire.decision_row(d) for d in rows]}


# --- worker reports ----------------------------------------------------------------

@_route("/worker_status", ["POST"])
def worker_status_report() -> dict:
    worker_status.record_report(wire.report(_request()))
    return {"success": True}


@_route("/delete_requests", ["POST"])
def delete_requests() -> dict:
    return {"success": True, "deleted": worker_status.record_finished(*wire.finished_requests(_request()))}


# --- routing -----------------------------------------------------------------------

@_route("/route", ["POST"])
def route() -> dict:
    request = wire.route_request(_request())
    routed = routing.route(key_row(request.api_key), request.endpoint, request.cost, request.request_idx)
    return wire.route_reply(routed)


@_route("/pubkey", ["GET"])
def pubkey() -> Response:
    return Response(server_keys.current().public_pem, headers={"Content-Type": "text/plain"})


# --- stats and worker lists --------------------------------------------------------

def _caller(request: dict, *, allow_endpoint_keys: bool = True) -> Principal:
    """The key in the body (the SDK's way), else the `Authorization: Bearer` key (the CLI's)."""
    key = request.get("api_key")
    if key is None:
        key = bearer_key(vast_api.current_request)
    return authenticate(key, allow_endpoint_keys=allow_endpoint_keys)  # missing: 401


def _target(request: dict, kind: str) -> tuple[Endpoint, str, int, int | None]:
    """(endpoint, stats series, reply id, group id or None) for an endpoint or autogroup call."""
    principal = _caller(request)
    if kind == "endpoint":
        endpoint = endpoints.resolve(principal, **wire.endpoint_ref(request))
        return endpoint, stats.series("e", int(endpoint.endpoint_id)), int(endpoint.endpoint_id), None
    group = worker_groups.get_group(principal, v.integer(request, "id"))
    endpoint = endpoints.get_endpoint(principal, int(group.endpoint_id))
    return endpoint, stats.series("g", int(group.group_id)), int(group.group_id), int(group.group_id)


def _stats(kind: str) -> dict:
    request = _request()
    if "metric_name" in request:
        name, t1, t2 = wire.metric_range(request)
    endpoint, key, ident, group_id = _target(request, kind)
    reply = {"endpoint": endpoint.endpoint_name, "id": ident}
    if "metric_name" in request:
        values = stats.timeseries(key, name, t1, t2)
        return {**reply, name: values, "range_len": len(values)}
    return {**reply, **stats.current(key, workers.list_workers(int(endpoint.endpoint_id), group_id))}


def _workers(kind: str) -> list[dict]:
    endpoint, _, _, group_id = _target(_request(), kind)
    now = time.time()
    return [wire.worker_row(w) for w in workers.list_workers(int(endpoint.endpoint_id), group_id)
            if w.is_live(now)]


@_route("/get_endpoint_stats", ["POST"])
def get_endpoint_stats() -> dict:
    return _stats("endpoint")


@_route("/get_autogroup_stats", ["POST"])
def get_autogroup_stats() -> dict:
    return _stats("autogroup")


def _logs(kind: str) -> dict:
    """The endpoint's or group's recent events at every level, as the CLI prints them."""
    request = _request()
    tail = v.integer(request, "tail", None, minimum=-1)  # -1 (or 0): all
    endpoint, _, ident, group_id = _target(request, kind)
    found = (events.recent(group_id=group_id) if group_id is not None
             else events.recent(endpoint_id=int(endpoint.endpoint_id)))
    return {"success": True, "id": ident, "endpoint": endpoint.endpoint_name, **logs.render(found, tail)}


@_route("/get_endpoint_logs", ["POST"])
def get_endpoint_logs() -> dict:
    return _logs("endpoint")


@_route("/get_autogroup_logs", ["POST"])
def get_autogroup_logs() -> dict:
    return _logs("autogroup")


@_route("/update_workers", ["POST"])
def update_workers() -> dict:
    """Start (or with `cancel_update`, stop) a rolling update of a group's workers."""
    request = _request()
    principal = _caller(request, allow_endpoint_keys=False)
    group = worker_groups.get_group(principal, v.integer(request, "workergroup_id"))
    if v.boolean(request, "cancel_update", False):
        worker_groups.cancel_rolling_update(group)
        return {"success": True, "cancelled": True}
    return {"success": True, "workers_to_update": worker_groups.start_rolling_update(group)}


@_route("/get_endpoint_workers", ["POST"])
def get_endpoint_workers() -> list[dict]:
    return _workers("endpoint")


@_route("/get_autogroup_workers", ["POST"])
def get_autogroup_workers() -> list[dict]:
    return _workers("autogroup")


from chalicelib.surfaces.vast import console, credentials  # noqa: E402, F401  (their routes, on this blueprint)
