"""The account at a glance (the dashboard's fleet view): each endpoint's state, its live workers
by status, its load against capacity now and over the last hour, and what its workers cost.

Requests: one Query for the endpoints, then per endpoint one Query of its workers and one of
its stats buckets.
"""
from __future__ import annotations

import time
from collections import Counter

from chalicelib.core import settings
from chalicelib.core.fleet import stats
from chalicelib.core.fleet.endpoints import list_endpoints
from chalicelib.core.fleet.workers import SERVING, Status, list_workers
from chalicelib.core.store import Endpoint, Worker

HOUR_S = 3600


def cost_per_hour(workers: list[Worker], stopped_ratio: float) -> dict[str, float]:
    """Workers at their prices: a stopped one at `stopped_ratio` of its running price."""
    running = sum(float(w.price_per_hour or 0) for w in workers if w.status != Status.STOPPED)
    stopped = sum(float(w.price_per_hour or 0) for w in workers if w.status == Status.STOPPED) * stopped_ratio
    return {"running": round(running, 4), "stopped": round(stopped, 4), "total": round(running + stopped, 4)}


def endpoint_overview(endpoint: Endpoint, workers: list[Worker], load: dict[str, list[float]], now: float,
                      stopped_ratio: float) -> dict:
    """One endpoint's row: `workers` are its records (live or not), `load` its last hour (stats.history).
    The load now is what its live workers last reported, a stopped one's (stale) report left out."""
    live = [w for w in workers if w.is_live(now)]
    return {
        "id": int(endpoint.endpoint_id),
        "endpoint_name": endpoint.endpoint_name,
        "endpoint_state": endpoint.endpoint_state,
        "workers": dict(sorted(Counter(str(w.status) for w in live).items())),
        "curload": round(sum(float(w.cur_load or 0) for w in live if w.status != Status.STOPPED), 4),
        "capacity": round(sum(float(w.max_perf or 0) for w in live if w.status in SERVING), 4),
        "cost_per_hour": cost_per_hour(live, stopped_ratio),
        "last_hour": load,
    }


def account_overview(account_id: int, now: float | None = None) -> list[dict]:
    """Every endpoint of the account, as `endpoint_overview` gives it, by id."""
    now = time.time() if now is None else now
    ratio = settings.stopped_price_ratio()
    rows = []
    for endpoint in sorted(list_endpoints(account_id), key=lambda e: int(e.endpoint_id)):
        ident = int(endpoint.endpoint_id)
        end = now - settings.stats_bucket_s()  # the last full bucket: the current one is partial
        load = stats.history(stats.series("e", ident), ("curload", "capacity"), end - HOUR_S, end)
        rows.append(endpoint_overview(endpoint, list_workers(ident), load, now, ratio))
    return rows
