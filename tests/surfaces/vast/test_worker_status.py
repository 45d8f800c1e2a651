"""`/worker_status/` and `/delete_requests/`: every payload generation, at two DynamoDB requests."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.core.fleet.workers import mark_stopped
from chalicelib.core.store import Worker


@pytest.fixture
def group(api):
    return api.group(api.endpoint("demo"))


def listed(api, group) -> dict:
    rows = api.ok("POST", "/get_autogroup_workers/", {"id": group["id"], "api_key": api.key}, key=None)
    return {row["id"]: row for row in rows}


def test_seed_001_loaded_then_update_then_error(api, group):
    worker = api.worker(group)
    assert listed(api, group)[worker["id"]]["status"] == "starting"

    assert api.report(worker, loadtime=12.5, max_perf=0.5)[0] == 200
    row = listed(api, group)[worker["id"]]
    assert (row["status"], row["perf"]) == ("idle", 0.5)
    assert row["loaded_at"] > 0

    assert api.report(worker, cur_load=0.4, num_requests_recieved=7)[0] == 200
    row = listed(api, group)[worker["id"]]
    assert (row["status"], row["cur_load"]) == ("running", 0.4)

    assert api.report(worker, error_msg="CUDA out of memory")[0] == 200
    assert listed(api, group)[worker["id"]]["status"] == "error"


def test_2024_pyworker_loading_then_data_updates(api, group):
    worker = api.worker(group)
    api.report(worker, message="loading update", disk_usage=3.0, additional_disk_usage=1.0)
    assert listed(api, group)[worker["id"]]["status"] == "loading"

    status, _ = api.report(worker, message="data update", num_requests_working=2, overloaded=False,
                           num_requests_recieved=5, cur_perf=8.0, error="", loadtime=30.0, max_perf=10.0,
                           url="http://1.2.3.4:5000")
    assert status == 200
    row = listed(api, group)[worker["id"]]
    assert (row["status"], row["perf"], row["reqs_working"], row["url"]) == ("running", 10.0, 2, "http://1.2.3.4:5000")


def current_sdk_report(worker: dict, **fields) -> dict:
    report = dict(id=worker["id"], mtoken=worker["mtoken"], version="1.9.1", loadtime=0.0, cur_load=0.0,
                  rej_load=0.0, new_load=0.0, error_msg="", max_perf=0.0, cur_perf=0.0, cur_capacity=0,
                  max_capacity=0, num_requests_working=0, num_requests_recieved=0, additional_disk_usage=0.0,
                  disk_usage=1.5, working_request_idxs=[], url="http://127.0.0.1:4000")
    return {**report, **fields}


def test_current_sdk_worker_status_data(api, group):
    worker = api.worker(group)
    api.ok("POST", "/worker_status/", current_sdk_report(worker), key=None)
    assert listed(api, group)[worker["id"]]["status"] == "loading"

    api.ok("POST", "/worker_status/", current_sdk_report(worker, loadtime=42.0, max_perf=25.0), key=None)
    assert listed(api, group)[worker["id"]]["status"] == "idle"

    api.ok("POST", "/worker_status/", current_sdk_report(
        worker, loadtime=42.0, max_perf=25.0, new_load=100.0, cur_load=30.0, num_requests_working=3,
        num_requests_recieved=10, working_request_idxs=[1, 2, 3]), key=None)
    row = listed(api, group)[worker["id"]]
    assert row["status"] == "running" and row["reqs_working"] == 3 and row["cur_load"] > 0


def test_a_report_may_carry_the_providers_instance_id(api, group):
    worker = api.worker(group, instance_id=987654)
    assert api.report({**worker, "id": 987654}, loadtime=1.0, max_perf=3.0)[0] == 200
    assert listed(api, group)[worker["id"]]["status"] == "idle"


@pytest.mark.parametrize("change", [{"mtoken": "wt_forged"}, {"id": 424242}, {"mtoken": ""}])
def test_wrong_token_or_id_is_401_and_stores_nothing(api, group, change):
    worker = api.worker(group)
    before = listed(api, group)[worker["id"]]
    status, reply = api.report({**worker, **change}, loadtime=1.0, max_perf=9.0)
    assert status == 401 and reply["success"] is False
    assert listed(api, group)[worker["id"]] == before


def test_missing_mtoken_is_401_naming_it(api, group):
    worker = api.worker(group)
    status, reply = api.call("POST", "/worker_status/", {"id": worker["id"], "loadtime": 1.0}, key=None)
    assert status == 401 and "mtoken" in reply["msg"]


def test_a_worker_silent_past_its_timeout_is_gone_at_once(api, group, monkeypatch):
    worker = api.ready_worker(group)
    assert worker["id"] in listed(api, group)
    monkeypatch.setenv("WORKER_TIMEOUT_S", "0.05")
    api.report(worker, cur_load=1.0)
    time.sleep(0.1)
    assert listed(api, group) == {}
    status, reply = api.report(worker, cur_load=1.0)  # gone means gone: it must register again, and is told so
    assert status == 401 and f"worker {worker['id']} expired" in reply["msg"] and "register it again" in reply["msg"]


def test_one_report_costs_at_most_two_dynamodb_requests(api, group, dynamodb_calls):
    worker = api.ready_worker(group)
    for body in (
        {"cur_load": 3.0, "num_requests_recieved": 4},
        current_sdk_report(worker, loadtime=5.0, max_perf=10.0, new_load=20.0, num_requests_recieved=9),
        {"message": "data update", "cur_perf": 2.0, "loadtime": 5.0, "max_perf": 10.0},
    ):
        dynamodb_calls.clear()
        assert api.report(worker, **body)[0] == 200
        assert sum(dynamodb_calls.values()) <= 2, dict(dynamodb_calls)


def test_finished_requests_move_reliability_and_cost_two_requests(api, group, dynamodb_calls):
    worker = api.ready_worker(group)
    finished = [{"request_idx": i, "success": i % 2 == 0, "status": "done", "entered_queue_at": 1.0,
                 "work_started_at": 2.0, "work_completed_at": 3.0} for i in range(4)]
    dynamodb_calls.clear()
    reply = api.ok("POST", "/delete_requests/",
                   {"worker_id": worker["id"], "mtoken": worker["mtoken"], "requests": finished}, key=None)
    assert reply["deleted"] == 4
    assert sum(dynamodb_calls.values()) <= 2
    assert 0.8 < listed(api, group)[worker["id"]]["reliability"] < 1.0


def test_a_junk_request_idx_in_the_backlog_does_not_refuse_the_rest(api, group):
    """(The pyworker queues a refused caller's request_idx as it came, and resends its whole
    backlog until a 2xx.)"""
    worker = api.ready_worker(group)
    finished = [{"request_idx": i, "success": True} for i in (1, 2, 3)] + [
        {"request_idx": junk, "success": False} for junk in ("junk", -1, 1.5, 10**16, None)]
    reply = api.ok("POST", "/delete_requests/",
                   {"worker_id": worker["id"], "mtoken": worker["mtoken"], "requests": finished}, key=None)
    assert reply["deleted"] == 8


def test_a_report_a_stopped_worker_sent_while_it_shut_down_changes_nothing(api, group):
    worker = api.ready_worker(group)
    mark_stopped(next(iter(Worker.scan())), time.time())  # what a pass does once its machine stopped
    before = next(iter(Worker.scan())).attribute_values
    assert api.report(worker, cur_load=2.0, num_requests_recieved=3)[0] == 200
    after = next(iter(Worker.scan())).attribute_values
    assert after == before and after["status"] == "stopped"
    assert listed(api, group)[worker["id"]]["status"] == "stopped"


def test_a_worker_deleted_between_read_and_write_gets_401_and_nothing_is_written(api, group, monkeypatch):
    from chalicelib.core.fleet import worker_status as module

    worker = api.worker(group)
    real = module.authenticate_worker

    def read_then_delete(*args, **kwargs):
        found = real(*args, **kwargs)
        Worker.get(found.token_hash).delete()
        return found

    monkeypatch.setattr(module, "authenticate_worker", read_then_delete)
    status, _ = api.report(worker, loadtime=1.0, max_perf=2.0)
    assert status == 401
    assert list(Worker.scan()) == []
    assert list(module.stats.StatBucket.scan()) == []  # the buckets were in the same transaction


# --- concurrency and order --------------------------------------------------------------

def totreqs(api, group) -> float:
    return api.ok("POST", "/get_autogroup_stats/", {"id": group["id"], "api_key": api.key}, key=None)["totreqs"]


def concurrently(calls: list, threads: int = 12) -> list:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    barrier = Barrier(min(threads, len(calls)))

    def run(call):
        barrier.wait() if len(calls) <= threads else None
        return call()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, calls))


def test_twelve_concurrent_finished_reports_all_count_by_atomic_adds(api, group, dynamodb_requests):
    from tests.conftest import updates_of

    worker = api.ready_worker(group)
    body = {"worker_id": worker["id"], "mtoken": worker["mtoken"],
            "requests": [{"request_idx": 1, "success": True}, {"request_idx": 2, "success": False},
                         {"request_idx": 3, "success": False}]}
    dynamodb_requests.clear()
    replies = concurrently([lambda: api.call("POST", "/delete_requests/", body, key=None) for _ in range(12)])
    assert [status for status, _ in replies] == [200] * 12
    stored = Worker.get(next(iter(w.token_hash for w in Worker.scan())))
    assert (stored.ok_count, stored.failed_count) == (12, 24)
    assert listed(api, group)[worker["id"]]["reliability"] == pytest.approx((12 + 10) / (36 + 10))
    worker_updates = [u for u in updates_of(dynamodb_requests) if u["TableName"].endswith("-workers")]
    assert len(worker_updates) == 12 and all(u["UpdateExpression"].startswith("ADD") for u in worker_updates)
    assert all("SET" not in u["UpdateExpression"] for u in worker_updates)  # no read-modify-write


@pytest.mark.parametrize("counts, stored", [((10, 20), 20), ((20, 10), 20), ((20, 20), 20), ((5, 10, 7, 30), 30)])
def test_cumulative_counts_are_applied_in_order_whatever_order_they_arrive_in(api, group, counts, stored):
    worker = api.ready_worker(group)
    for count in counts:
        assert api.report(worker, cur_load=1.0, num_requests_recieved=count)[0] == 200
    assert totreqs(api, group) == stored


def test_overlapping_reports_in_flight_count_every_request_once(api, group, dynamodb_requests):
    import random

    worker = api.ready_worker(group)
    counts = list(range(10, 490, 10))  # 480 requests, reported every 10
    shuffled = counts[:]
    for i in range(0, len(shuffled) - 1, 2):  # each report may overtake the one before it
        if random.Random(i).random() < 0.5:
            shuffled[i], shuffled[i + 1] = shuffled[i + 1], shuffled[i]
    replies = concurrently([lambda c=c: api.report(worker, cur_load=1.0, num_requests_recieved=c) for c in shuffled],
                           threads=8)
    assert {status for status, _ in replies} <= {200, 503}
    api.report(worker, cur_load=1.0, num_requests_recieved=480)  # the next periodic report
    assert totreqs(api, group) == 480
    # Each write held only for the worker as it was read: none could apply over another.
    from tests.conftest import updates_of
    writes = [u for u in updates_of(dynamodb_requests) if u["TableName"].endswith("-workers")]
    assert writes and all("last_report_at" in json.dumps(u.get("ExpressionAttributeNames", {}))
                          and "ConditionExpression" in u for u in writes)
