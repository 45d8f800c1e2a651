"""The console's views for the dashboard (account key only), beside the Vast routes:

    GET /api/v0/fleet/                              every endpoint at a glance (core.fleet.overview)
    GET /api/v0/endptjobs/{id}/history/?seconds=    its stats, every metric, to the last full bucket
    GET /api/v0/endptjobs/{id}/decisions/?limit=    what the scaler did to its groups, newest first
    GET /api/v0/serving/                            the ClearML endpoints and loading instances
    GET /api/v0/serving/history/?url=&seconds=      an endpoint's metric-history charts
"""
from __future__ import annotations

import time

from chalicelib.core import settings
from chalicelib.core import validation as v
from chalicelib.core.errors import bad_request
from chalicelib.core.fleet import endpoints, events, overview, stats
from chalicelib.core.serving import charts, containers
from chalicelib.surfaces.edge import account
from chalicelib.surfaces.vast import wire
from chalicelib.surfaces.vast.routes import _route, vast_api

HISTORY_METRICS = ("nworkers", "curload", "capacity", "reqrate", "reliable")
SERVING_CHARTS = ("requests_min", "latency_ms", "cpu_util", "gpu_util")
MAX_CHART_POINTS = 360  # a serving chart's buckets: an hour at 10 s, a day at 4 min


def _query() -> dict:
    return vast_api.current_request.query_params or {}


def _seconds() -> int:
    """The range asked for, up to now: a minute at least, the stats' retention at most."""
    return v.query_integer(_query(), "seconds", 3600, minimum=60, maximum=int(settings.stats_retention_s()))


@_route("/api/v0/fleet", ["GET"])
def fleet() -> dict:
    principal = account(vast_api.current_request)
    now = time.time()
    return {"success": True, "t": now, "endpoints": overview.account_overview(principal.account_id, now)}


@_route("/api/v0/endptjobs/{endpoint_id}/history", ["GET"])
def history(endpoint_id: str) -> dict:
    principal = account(vast_api.current_request)
    endpoint = endpoints.get_endpoint(principal, v.path_id(endpoint_id, "endpoint_id"))
    seconds, end = _seconds(), time.time() - settings.stats_bucket_s()  # the last full bucket
    series = stats.history(stats.series("e", int(endpoint.endpoint_id)), HISTORY_METRICS, end - seconds, end)
    return {"success": True, "id": int(endpoint.endpoint_id), "bucket_s": settings.stats_bucket_s(), **series}


@_route("/api/v0/endptjobs/{endpoint_id}/decisions", ["GET"])
def endpoint_decisions(endpoint_id: str) -> dict:
    principal = account(vast_api.current_request)
    endpoint = endpoints.get_endpoint(principal, v.path_id(endpoint_id, "endpoint_id"))
    limit = v.query_integer(_query(), "limit", 100, minimum=1, maximum=events.MAX_EVENTS)
    rows = events.recent(endpoint_id=int(endpoint.endpoint_id), limit=limit)[::-1]
    return {"success": True, "results": [wire.decision_row(d) for d in rows]}


@_route("/api/v0/serving", ["GET"])
def serving() -> dict:
    principal = account(vast_api.current_request)
    now = time.time()
    live = [containers.as_dict(c) for c in containers.live(principal.account_id, now)]
    return {"success": True, "endpoints": charts.endpoint_stats(live),
            "loading": charts.loading_instances(live, now)}


@_route("/api/v0/serving/history", ["GET"])
def serving_history() -> dict:
    principal = account(vast_api.current_request)
    url = v.string(_query(), "url", min_len=1, max_len=2048)
    names = tuple(n for n in _query().get("metrics", ",".join(SERVING_CHARTS)).split(",") if n)
    unknown = [n for n in names if n not in charts.METRICS]
    if unknown or not names:
        raise bad_request(f"'metrics' must be a comma-separated list of: {', '.join(charts.METRICS)}")
    seconds, now = _seconds(), time.time()
    interval = max(charts.MIN_INTERVAL_S, -(-seconds // MAX_CHART_POINTS))
    samples = containers.samples(principal.account_id, url, now - seconds, now)
    return {"success": True, "url": url, **{
        n: charts.metrics_history(samples, now - seconds, now, interval, n, instance_charts=False,
                                  most=None)["total"]
        for n in names}}
