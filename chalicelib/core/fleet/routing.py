"""Routing: pick the ready worker with the least expected queue time and sign its URL.

With no worker ready, none is chosen (the client asks again) and the demand is counted
as unmet, once per request, for the scaler to read.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace

from pynamodb.transactions import TransactWrite

from chalicelib.core.auth import server_keys
from chalicelib.core.auth.credentials import Principal
from chalicelib.core.errors import not_found
from chalicelib.core.fleet import stats
from chalicelib.core.fleet.endpoints import resolve
from chalicelib.core.fleet.workers import SERVING, list_workers
from chalicelib.core.observability import metrics
from chalicelib.core.store import ApiKey, Endpoint, Worker, connection, update_existing
from chalicelib.scaling.policy import should_wake
from chalicelib.scaling.wake import wake


@dataclass(frozen=True)
class Routed:
    """Where a request goes: `worker` (None while none is ready) and the signature of its url."""

    endpoint_name: str
    request_idx: int
    cost: float
    worker: Worker | None = None
    signature: str | None = None


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
        if w.is_live(now) and w.status in SERVING and w.url and not w.overloaded
        and expected_queue_s(w) <= max_queue_time
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda w: (expected_queue_s(w, cost), int(w.worker_id)))


def route(key: ApiKey, name: str, cost: float, request_idx: int = 0, now: float | None = None) -> Routed:
    """Route a request of `cost` for the endpoint `name` of the endpoint key `key` (404 for any
    other). `request_idx` 0 is a new request: one is drawn for it, and unmet demand counted.

    Two DynamoDB requests after the key: the endpoint's workers, the chosen worker's update.
    """
    now = time.time() if now is None else now
    if key.kind != "endpoint":
        raise not_found(f"endpoint '{name}' for this key")
    principal = Principal(int(key.account_id), int(key.endpoint_id))
    endpoint = resolve(principal, name=name, key=key)
    is_new = request_idx == 0
    request_idx = request_idx or secrets.randbelow(10**15) + 1  # within what request_idx accepts
    routed = Routed(endpoint.endpoint_name, request_idx, cost)
    state = endpoint.endpoint_state
    workers = list_workers(int(endpoint.endpoint_id)) if state != "stopped" else []
    while True:
        worker = choose_worker(workers, cost, float(endpoint.max_queue_time), now)
        waiting = expected_queue_s(worker) if worker else None
        if state == "active" and should_wake(waiting, float(endpoint.target_queue_time)):
            wake(endpoint, now)
        if worker is None:
            if is_new:
                _count_unmet(endpoint, cost, now)
                metrics.add_metric(name="UnmetRequests", unit="Count", value=1)
            return routed
        if update_existing(worker, [Worker.routed_load.add(cost), Worker.routed_count.add(1),
                                   Worker.routed_requests.add(1)],
                           Worker.status.is_in(*SERVING)):  # still there, and not withdrawn by a scaling pass
            break
        workers = [w for w in workers if w is not worker]  # gone or withdrawn since the query: the next one
    metrics.add_metric(name="RoutedRequests", unit="Count", value=1)
    return replace(routed, worker=worker, signature=server_keys.current().sign_url(worker.url))


def _count_unmet(endpoint: Endpoint, cost: float, now: float) -> None:
    with TransactWrite(connection=connection()) as tx:
        stats.add_to_buckets(tx, [stats.series("e", int(endpoint.endpoint_id))], now, unmet_work=cost, unmet_reqs=1)
