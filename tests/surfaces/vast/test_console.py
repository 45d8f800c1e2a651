"""The console's views for the dashboard: the fleet at a glance, an endpoint's history and
decisions, the ClearML serving data; each a fixed number of DynamoDB requests."""
from __future__ import annotations

import base64
import json
import time

import pytest

from chalicelib.core.fleet import events, worker_status
from chalicelib.core.store import bind
from chalicelib.surfaces.vast import wire
from tests.support.envelopes import VAST


@pytest.fixture(autouse=True)
def patient(monkeypatch):
    """Workers stay live for ten minutes: a report a minute old must not have expired them."""
    monkeypatch.setenv("WORKER_TIMEOUT_S", "600")


def report_a_minute_ago(worker: dict, **fields) -> None:
    """A report recorded in the last full stats bucket (the domain function takes the clock)."""
    bind()
    worker_status.record_report(wire.report({"id": worker["id"], "mtoken": worker["mtoken"], **fields}),
                                now=time.time() - 60)


def test_the_fleet_lists_each_endpoint_with_its_workers_load_capacity_and_cost(api, endpoint, group):
    worker = api.worker(group)
    report_a_minute_ago(worker, loadtime=3.0, max_perf=12.0, url="http://10.0.0.1:5000", cur_load=3.0)
    api.report(worker, cur_load=3.0)
    api.worker(group)  # registered, never reported
    empty = api.endpoint("empty")
    reply = api.ok("GET", "/api/v0/fleet/")
    assert reply["success"] is True and abs(reply["t"] - time.time()) < 60
    first, second = reply["endpoints"]
    assert (first["id"], first["endpoint_name"], first["endpoint_state"]) == (endpoint["id"], "llm", "active")
    assert first["workers"] == {"idle": 1, "registered": 1} or first["workers"] == {"running": 1, "registered": 1}
    assert (first["curload"], first["capacity"]) == (3.0, 12.0)
    assert first["cost_per_hour"] == {"running": 0.0, "stopped": 0.0, "total": 0.0}  # own workers: no price known
    hour = first["last_hour"]
    assert set(hour) == {"t", "curload", "capacity"} and len(hour["t"]) == len(hour["curload"]) >= 60
    assert hour["t"] == sorted(hour["t"]) and hour["capacity"][-1] > 0 and hour["curload"][-1] > 0
    assert (second["id"], second["workers"], second["capacity"]) == (empty["id"], {}, 0)


def test_a_fleet_read_costs_a_query_for_the_endpoints_and_two_per_endpoint(api, endpoint, group, dynamodb_calls):
    api.ready_worker(group)
    api.endpoint("second")
    dynamodb_calls.clear()
    api.ok("GET", "/api/v0/fleet/")
    assert dict(dynamodb_calls) == {"GetItem": 1, "Query": 5}  # the key; endpoints, then workers and stats of each


@pytest.mark.parametrize("seconds, points", [(900, 16), (3600, 61)])
def test_an_endpoints_history_has_every_metric_over_the_range_in_one_query(api, endpoint, group, dynamodb_calls,
                                                                            seconds, points):
    worker = api.worker(group)
    report_a_minute_ago(worker, loadtime=3.0, max_perf=8.0, cur_load=2.0, num_requests_recieved=3)
    api.report(worker, cur_load=2.0)
    dynamodb_calls.clear()
    reply = api.ok("GET", f"/api/v0/endptjobs/{endpoint['id']}/history/?seconds={seconds}")
    assert dict(dynamodb_calls) == {"GetItem": 2, "Query": 1}  # the key, the endpoint; its buckets
    assert set(reply) == {"success", "id", "bucket_s", "t", "nworkers", "curload", "capacity", "reqrate", "reliable"}
    assert reply["bucket_s"] == 60 and points <= len(reply["t"]) <= points + 1
    assert all(len(reply[m]) == len(reply["t"]) for m in ("nworkers", "curload", "capacity", "reqrate", "reliable"))
    assert reply["t"][-1] <= time.time() - 60 < reply["t"][-1] + 60  # the last full bucket
    assert reply["nworkers"][-1] == 1.0 and reply["reliable"][-1] == 1.0


@pytest.mark.parametrize("query, named", [("seconds=59", "seconds"), ("seconds=99999999", "seconds"),
                                          ("seconds=1h", "seconds"), ("seconds=-5", "seconds"),
                                          ("seconds=" + "9" * 5000, "seconds")])
def test_a_history_range_out_of_bounds_is_refused(api, endpoint, query, named):
    status, reply = api.call("GET", f"/api/v0/endptjobs/{endpoint['id']}/history/?{query}")
    VAST.check(status, reply, 400, names=named)


def test_an_endpoints_decisions_gather_its_groups_newest_first(api, endpoint, group, dynamodb_calls):
    other = api.group(endpoint)
    bind()
    now = time.time()
    for i, gid in enumerate((group["id"], other["id"], group["id"])):
        events.new_event(gid, endpoint["id"], "launch", f"reason {i}", now=now + i).save()
    dynamodb_calls.clear()
    rows = api.ok("GET", f"/api/v0/endptjobs/{endpoint['id']}/decisions/?limit=2")["results"]
    assert dict(dynamodb_calls) == {"GetItem": 2, "Query": 1}
    assert [(r["group_id"], r["reason"]) for r in rows] == [(group["id"], "reason 2"), (other["id"], "reason 1")]
    assert set(rows[0]) == {"t", "group_id", "action", "reason", "outcome", "worker_id", "instance_id", "offer_id"}


SERVED = {"container_id": "c-1", "endpoint_name": "sentiment", "model_name": "bert", "endpoint_url": "http://m/serve"}


def serve(api, client) -> None:
    """A container registered and reporting through the ClearML surface, with the account's pair."""
    pair = api.ok("POST", "/api/v0/clearml/credentials/")
    basic = base64.b64encode(f"{pair['access_key']}:{pair['secret_key']}".encode()).decode()
    token = client.http.post("/auth.login", headers={"Authorization": f"Basic {basic}"}).json_body["data"]["token"]
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    client.http.post("/serving.register_container", headers=auth, body=json.dumps(SERVED))
    client.http.post("/serving.register_container", headers=auth,
                     body=json.dumps({**SERVED, "container_id": "c-2", "endpoint_url": None}))
    report = {**SERVED, "requests_num": 5, "requests_min": 30.0, "latency_ms": 12,
              "machine_stats": {"cpu_usage": [10.0, 30.0], "gpu_usage": [50.0]}}
    reported = client.http.post("/serving.container_status_report", headers=auth, body=json.dumps(report))
    assert reported.status_code == 200


def test_serving_lists_the_clearml_endpoints_and_loading_instances_in_one_query(api, client, dynamodb_calls):
    serve(api, client)
    dynamodb_calls.clear()
    reply = api.ok("GET", "/api/v0/serving/")
    assert dict(dynamodb_calls) == {"GetItem": 1, "Query": 1}
    (served,) = reply["endpoints"]
    assert (served["endpoint"], served["url"], served["instances"], served["requests_min"]) == (
        "sentiment", "http://m/serve", 1, 30.0)
    assert [c["id"] for c in reply["loading"]] == ["c-2"]


def test_serving_history_draws_every_chart_asked_from_one_query(api, client, dynamodb_calls):
    serve(api, client)
    dynamodb_calls.clear()
    reply = api.ok("GET", "/api/v0/serving/history/?url=http%3A%2F%2Fm%2Fserve&seconds=3600")
    assert dict(dynamodb_calls) == {"GetItem": 1, "Query": 1}
    assert set(reply) == {"success", "url", "requests_min", "latency_ms", "cpu_util", "gpu_util"}
    chart = reply["cpu_util"]
    assert chart["title"] == "Average CPU Load (%)" and len(chart["dates"]) == len(chart["values"]) == 90  # 40 s apart
    assert chart["values"][-1] == 20.0 and reply["gpu_util"]["values"][-1] == 50.0
    one = api.ok("GET", "/api/v0/serving/history/?url=http%3A%2F%2Fm%2Fserve&metrics=requests")
    assert set(one) == {"success", "url", "requests"}


@pytest.mark.parametrize("query, named", [("", "url"), ("url=", "url"), ("url=x&metrics=nope", "metrics"),
                                          ("url=x&metrics=,", "metrics"), ("url=x&seconds=0", "seconds"),
                                          ("url=x&seconds=" + "9" * 5000, "seconds")])
def test_a_bad_serving_history_query_is_refused(api, query, named):
    status, reply = api.call("GET", f"/api/v0/serving/history/?{query}")
    VAST.check(status, reply, 400, names=named)


def test_another_accounts_serving_data_is_never_shown(api, other_api, client):
    serve(other_api, client)
    assert api.ok("GET", "/api/v0/serving/") == {"success": True, "endpoints": [], "loading": []}
    reply = api.ok("GET", "/api/v0/serving/history/?url=http%3A%2F%2Fm%2Fserve")
    assert reply["requests_min"]["values"] == []  # nothing reported in range: no points
