"""`/get_endpoint_stats/` and `/get_autogroup_stats/`: current mode and timeseries mode (seed 000)."""
from __future__ import annotations

import time

import pytest

from chalicelib.core.fleet import stats, worker_status
from chalicelib.core.fleet.workers import mark_stopped
from chalicelib.core.store import Worker, bind
from chalicelib.surfaces.vast import wire

METRICS = ("nworkers", "totreqs", "curload", "capacity", "reliable", "reqrate")


def report_at(worker: dict, at: float, **fields) -> None:
    """A report recorded as if it arrived at `at` (the domain function takes the clock)."""
    bind()
    worker_status.record_report(wire.report({"id": worker["id"], "mtoken": worker["mtoken"], **fields}), now=at)


def test_current_mode_has_every_metric(api, endpoint, group):
    worker = api.ready_worker(group, max_perf=12.0)
    api.report(worker, cur_load=3.0, num_requests_recieved=5)
    reply = api.ok("POST", "/get_endpoint_stats/", {"id": endpoint["id"], "api_key": endpoint["api_key"]}, key=None)
    assert set(reply) == {"endpoint", "id", *METRICS}
    assert (reply["endpoint"], reply["id"], reply["nworkers"], reply["capacity"]) == ("llm", endpoint["id"], 1, 12.0)
    assert (reply["curload"], reply["totreqs"], reply["reliable"]) == (3.0, 5, 1.0)
    by_name = api.ok("POST", "/get_endpoint_stats/", {"endpoint": "llm", "api_key": endpoint["api_key"]}, key=None)
    assert by_name["nworkers"] == 1
    group_reply = api.ok("POST", "/get_autogroup_stats/", {"id": group["id"], "api_key": api.key}, key=None)
    assert (group_reply["id"], group_reply["endpoint"], group_reply["capacity"]) == (group["id"], "llm", 12.0)


def test_timeseries_mode_has_the_seed_000_shape(api, endpoint, group):
    worker = api.worker(group)
    report_at(worker, 4990.0, loadtime=2.0, max_perf=10.0)
    for t in range(5000, 5120, 10):
        report_at(worker, float(t), cur_load=5.0)
    body = {"id": group["id"], "api_key": api.key, "metric_name": "nworkers", "t1": 5000, "t2": 5010}
    reply = api.ok("POST", "/get_autogroup_stats/", body, key=None)
    assert reply == {"endpoint": "llm", "id": group["id"], "nworkers": [1.0], "range_len": 1}


def test_timeseries_values_are_per_bucket_averages(api, endpoint, group):
    worker = api.worker(group)
    report_at(worker, 5990.0, loadtime=2.0, max_perf=10.0)
    for t in range(6000, 6130, 10):  # two full 60 s buckets, 10 s apart; a report covers the 10 s before it
        report_at(worker, float(t), cur_load=4.0 if t <= 6060 else 8.0, num_requests_recieved=(t - 5990) // 10)

    def series(name):
        body = {"id": endpoint["id"], "api_key": endpoint["api_key"], "metric_name": name, "t1": 6000, "t2": 6060}
        reply = api.ok("POST", "/get_endpoint_stats/", body, key=None)
        assert reply["range_len"] == 2
        return reply[name]

    assert series("nworkers") == [1.0, 1.0]
    assert series("curload") == [4.0, 8.0]
    assert series("capacity") == [10.0, 10.0]
    assert series("reqrate") == pytest.approx([0.1, 0.1])
    assert series("totreqs") == [6.0, 12.0]  # running total at the end of each bucket
    assert series("reliable") == [1.0, 1.0]


def test_unmet_demand_from_route_is_load_nobody_served(api, endpoint, group, now):
    bind()
    for _ in range(3):
        api.ok("POST", "/route/", {"endpoint": "llm", "api_key": endpoint["api_key"], "cost": 60}, key=None)
    start = stats.bucket_start(now)
    body = {"id": endpoint["id"], "api_key": endpoint["api_key"], "metric_name": "curload", "t1": start, "t2": start}
    assert api.ok("POST", "/get_endpoint_stats/", body, key=None)["curload"] == [3.0]  # 180 units / 60 s


def test_long_ranges_merge_buckets(api, endpoint, monkeypatch):
    monkeypatch.setenv("STATS_MAX_POINTS", "10")
    body = {"id": endpoint["id"], "api_key": endpoint["api_key"], "metric_name": "nworkers", "t1": 0, "t2": 86400}
    assert api.ok("POST", "/get_endpoint_stats/", body, key=None)["range_len"] <= 10


@pytest.mark.parametrize("metric", METRICS)
def test_a_timeseries_call_costs_one_query(api, endpoint, group, dynamodb_calls, metric):
    worker = api.worker(group)
    for t in range(7000, 7600, 10):
        report_at(worker, float(t), loadtime=1.0, max_perf=5.0, cur_load=1.0, num_requests_recieved=t)
    body = {"id": endpoint["id"], "api_key": endpoint["api_key"], "metric_name": metric, "t1": 7000, "t2": 7500}
    dynamodb_calls.clear()
    assert api.ok("POST", "/get_endpoint_stats/", body, key=None)["range_len"] == 10  # 6960..7500
    assert dynamodb_calls["Query"] == 1, dict(dynamodb_calls)


@pytest.mark.parametrize("body, field", [
    ({"metric_name": "nope", "t1": 1, "t2": 2}, "metric_name"),
    ({"metric_name": "curload", "t2": 2}, "t1"),
    ({"metric_name": "curload", "t1": 5, "t2": 2}, "t2"),
    ({"metric_name": "curload", "t1": -1, "t2": 2}, "t1"),
])
def test_bad_ranges_are_400s_naming_the_field(api, endpoint, body, field):
    status, reply = api.call("POST", "/get_endpoint_stats/",
                             {"id": endpoint["id"], "api_key": endpoint["api_key"], **body}, key=None)
    assert status == 400 and field in reply["msg"]


def test_current_stats_and_worker_lists_cost_a_fixed_number_of_requests(api, endpoint, group, dynamodb_calls):
    for _ in range(3):
        api.ready_worker(group)
    body = {"id": endpoint["id"], "api_key": endpoint["api_key"]}
    dynamodb_calls.clear()
    api.ok("POST", "/get_endpoint_stats/", body, key=None)
    assert dict(dynamodb_calls) == {"GetItem": 2, "Query": 2}  # key, endpoint; buckets, workers
    dynamodb_calls.clear()
    api.ok("POST", "/get_endpoint_workers/", body, key=None)
    assert dict(dynamodb_calls) == {"GetItem": 2, "Query": 1}


@pytest.mark.parametrize("path", ["/get_endpoint_workers/", "/get_autogroup_workers/", "/get_endpoint_stats/"])
def test_the_account_key_as_bearer_stands_for_the_body_key(api, endpoint, group, path):
    """The CLI's way: `{"id": ...}` and `Authorization: Bearer <account key>`."""
    worker = api.ready_worker(group)
    ident = group["id"] if "autogroup" in path else endpoint["id"]
    reply = api.ok("POST", path, {"id": ident})
    if "workers" in path:
        assert [w["id"] for w in reply] == [worker["id"]]
    else:
        assert reply["id"] == endpoint["id"] and reply["nworkers"] == 1


def test_a_bearer_key_sees_only_its_own_account(api, other_api, endpoint, group):
    api.ready_worker(group)
    status, reply = other_api.call("POST", "/get_endpoint_workers/", {"id": endpoint["id"]})
    assert status == 404 and reply["success"] is False
    status, _ = api.call("POST", "/get_endpoint_workers/", {"id": endpoint["id"]}, key=None)
    assert status == 401


def test_a_key_in_the_body_wins_over_the_bearer(api, other_api, endpoint):
    status, _ = other_api.call("POST", "/get_endpoint_workers/", {"id": endpoint["id"], "api_key": "ek_wrong"})
    assert status == 401


def test_a_stopped_worker_adds_nothing_arriving_to_the_stats(api, group):
    worker = api.ready_worker(group)
    assert api.report(worker, cur_load=4.0, num_requests_recieved=40)[0] == 200
    [row] = [w for w in Worker.scan() if int(w.worker_id) == worker["id"]]
    mark_stopped(row, time.time())  # what a pass does once its machine stopped
    stats = api.ok("POST", "/get_autogroup_stats/", {"id": group["id"], "api_key": api.key}, key=None)
    assert (stats["curload"], stats["reqrate"], stats["capacity"]) == (0, 0, 0)
