"""`/route/`: pick the ready worker with the least expected queue time and sign its URL.

With no worker ready, the reply has no `url` (the client polls again) and the demand
is counted as unmet, once per request, for the scaler to read.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from pynamodb.transactions import TransactWrite

from chalicelib.core import validation as v
from chalicelib.core.auth import server_keys
from chalicelib.core.auth.credentials import Principal, key_row
from chalicelib.core.errors import not_found
from chalicelib.core.fleet import stats
from chalicelib.core.fleet.endpoints import get_endpoint
from chalicelib.core.observability import metrics
from chalicelib.core.store import (
    ROUTING_FIELDS,
    ApiKey,
    Endpoint,
    Worker,
    WorkersByEndpoint,
    connection,
    update_existing,
)
from chalicelib.scaling.policy import should_wake
from chalicelib.scaling.wake import wake

READY = ("running", "idle")


@dataclass(frozen=True)
class RouteRequest:
    endpoint: str
    api_key: object  # as sent: a missing or malformed key is a 401, from authentication
    cost: float
    request_idx: int


def parse_route(body: dict) -> RouteRequest:
    return RouteRequest(
        endpoint=v.string(body, "endpoint", min_len=1, max_len=128),
        api_key=body.get("api_key"),
        cost=v.number(body, "cost", 100.0),
        request_idx=v.integer(body, "request_idx", 0),
    )


def expected_queue_s(worker: Worker, cost: float = 0.0) -> float:
    """Seconds of work ahead of a request of `cost` on `worker`."""
    perf = float(worker.max_perf or 0)
    if perf <= 0:
        return float("inf")
    return (float(worker.queue_load or 0) + float(worker.routed_load or 0) + cost) / perf


def choose_worker(workers: list[Worker], cost: float, max_queue_time: float, now: float) -> Worker | None:
    """The ready worker that would start this request soonest; none over `max_queue_time`. Pure."""
    candidates = [
        w for w in workers
        if w.is_live(now) and w.status in READY and w.url and not w.overloaded
        and expected_queue_s(w) <= max_queue_time
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda w: (expected_queue_s(w, cost), int(w.worker_id)))


def endpoint_workers(endpoint_id: int, group_id: int | None = None) -> list[Worker]:
    """All worker records of an endpoint (or one of its groups), live or not: one paged Query."""
    condition = WorkersByEndpoint.group_id == group_id if group_id is not None else None
    return list(Worker.by_endpoint.query(endpoint_id, condition))


def routed_endpoint(api_key: object, name: str) -> ApiKey | Endpoint:
    """What routing reads of the endpoint `api_key` is for: the copy on its key (no extra read),
    or the endpoint itself for a key written before keys held one. 401 or 404 otherwise."""
    key = key_row(api_key)
    if key.kind != "endpoint":
        raise not_found(f"endpoint '{name}' for this key")
    if any(getattr(key, field) is None for field in ROUTING_FIELDS):
        return get_endpoint(Principal(int(key.account_id), int(key.endpoint_id)), int(key.endpoint_id))
    return key


def route(body: dict, now: float | None = None) -> dict:
    """Three DynamoDB requests: the key, the endpoint's workers, the chosen worker's update."""
    now = time.time() if now is None else now
    request = parse_route(body)
    endpoint = routed_endpoint(request.api_key, request.endpoint)
    if endpoint.endpoint_name != request.endpoint:
        raise not_found(f"endpoint '{request.endpoint}' for this key")
    is_new = request.request_idx == 0
    request_idx = request.request_idx or secrets.randbelow(10**15) + 1  # within what request_idx accepts
    reply = {"endpoint": endpoint.endpoint_name, "request_idx": request_idx, "cost": request.cost}
    workers = endpoint_workers(int(endpoint.endpoint_id)) if endpoint.endpoint_state != "stopped" else []
    while True:
        worker = choose_worker(workers, request.cost, float(endpoint.max_queue_time), now)
        waiting = expected_queue_s(worker) if worker else None
        if endpoint.endpoint_state == "active" and should_wake(waiting, float(endpoint.target_queue_time)):
            wake(endpoint, now)
        if worker is None:
            if is_new:
                _count_unmet(endpoint, request.cost, now)
                metrics.add_metric(name="UnmetRequests", unit="Count", value=1)
            return {**reply, "status": "no workers ready"}
        if update_existing(worker, [Worker.routed_load.add(request.cost), Worker.routed_count.add(1)],
                           Worker.status.is_in(*READY)):  # still there, and not withdrawn by a scaling pass
            break
        workers = [w for w in workers if w is not worker]  # gone or withdrawn since the query: the next one
    metrics.add_metric(name="RoutedRequests", unit="Count", value=1)
    url = worker.url
    return {
        **reply,
        "url": url,
        "reqnum": int(worker.routed_count),
        "signature": server_keys.current().sign_url(url),
        "__request_id": str(request_idx),
    }


def _count_unmet(endpoint: Endpoint, cost: float, now: float) -> None:
    with TransactWrite(connection=connection()) as tx:
        stats.add_to_buckets(tx, [stats.series("e", int(endpoint.endpoint_id))], now, unmet_work=cost, unmet_reqs=1)
