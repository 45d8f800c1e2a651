"""The event log: `/get_endpoint_logs/` and `/get_autogroup_logs/` as `vastai get endpt-logs` and
`get wrkgrp-logs` read them, and what writes to it (worker reports, the scaler, rolling updates)."""
from __future__ import annotations

import re

import pytest

from chalicelib.core.fleet import events
from chalicelib.core.store import Event, bind
from chalicelib.surfaces.vast import logs

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC group \d+: ")


def save(group: dict, action: str, outcome: str = "ok", reason: str = "why", t: float = 1_000_000.0, **ids):
    bind()
    events.new_event(group["id"], group["endpoint_id"], action, reason, outcome, now=t, **ids).save()


def group_logs(api, group: dict, **body) -> dict:
    return api.ok("POST", "/get_autogroup_logs/", {"id": group["id"], **body})


def test_a_worker_that_loads_and_then_errors_is_in_its_groups_log(api, group):
    worker = api.ready_worker(group, max_perf=12.0)
    api.report(worker, error_msg="CUDA out of memory")
    log = group_logs(api, group)
    lines = log["info1"].splitlines()
    assert len(lines) == 2 and all(LINE.match(line) for line in lines)
    assert f"loaded worker {worker['id']}: ok (serving after 3 s, perf 12)" in lines[0]
    assert f"errored worker {worker['id']}: ok (CUDA out of memory)" in lines[1]
    assert log["success"] is True and log["id"] == group["id"] and log["endpoint"] == "llm"


def test_a_multi_line_error_stays_one_line_and_forges_none(api, group):
    worker = api.ready_worker(group)
    forged = "2026-01-01 00:00:00 UTC group 1: destroy worker 2: ok"
    api.report(worker, error_msg=f"Traceback:\r\n  boom\n{forged}\u2028\x1b[31m")
    lines = group_logs(api, group)["info1"].splitlines()
    assert len(lines) == 2 and not any(line.startswith(forged) for line in lines)
    assert lines[1].endswith(f"(Traceback:\\r\\n  boom\\n{forged}\\u2028\\x1b[31m)")


def test_a_report_that_changes_nothing_of_the_lifecycle_logs_nothing(api, group):
    worker = api.ready_worker(group)
    api.report(worker, cur_load=3.0)
    api.report(worker, cur_load=0.0)
    assert len(group_logs(api, group)["debug"].splitlines()) == 1


def test_levels_add_detail_as_the_cli_numbers_them(api, group):
    save(group, "launch", "ok", "capacity 0.0 below target 5.0", t=1_000_000, offer_id=77, instance_id=9)
    save(group, "start", "failed: the machine is gone", t=1_000_001)
    save(group, "stop", "skipped: it is no longer serving", t=1_000_002)
    log = group_logs(api, group)
    assert [len(log[level].splitlines()) for level in logs.LEVELS] == [1, 2, 3, 3]
    assert "launch: ok (capacity 0.0 below target 5.0)" in log["info0"]
    assert "instance=9 offer=77" in log["debug"] and "offer=" not in log["trace"]


def test_tail_keeps_the_last_lines_newest_last(api, group):
    for i in range(5):
        save(group, "launch", reason=f"step {i}", t=1_000_000 + i)
    lines = group_logs(api, group, tail=2)["info0"].splitlines()
    assert ["step 3" in lines[0], "step 4" in lines[1]] == [True, True]
    assert len(group_logs(api, group, tail=-1)["info0"].splitlines()) == 5


def test_an_endpoints_log_holds_every_group_of_it_in_time_order(api, endpoint, group):
    other = api.group(endpoint)
    save(group, "launch", reason="first", t=1_000_000)
    save(other, "launch", reason="second", t=1_000_001)
    save(group, "destroy", reason="third", t=1_000_002)
    log = api.ok("POST", "/get_endpoint_logs/", {"id": endpoint["id"]})
    assert [line.split("(")[-1] for line in log["info0"].splitlines()] == ["first)", "second)", "third)"]
    assert log["id"] == endpoint["id"]
    by_name = api.ok("POST", "/get_endpoint_logs/", {"endpoint": "llm", "api_key": endpoint["api_key"]})
    assert by_name["info0"] == log["info0"]


def test_logs_are_the_owners_alone(api, other_api, endpoint, group):
    save(group, "launch")
    assert other_api.call("POST", "/get_autogroup_logs/", {"id": group["id"]})[0] == 404
    assert other_api.call("POST", "/get_endpoint_logs/", {"id": endpoint["id"]})[0] == 404
    assert api.call("POST", "/get_endpoint_logs/", {"id": endpoint["id"]}, key=None)[0] == 401


@pytest.mark.parametrize("body, field", [({"id": "x"}, "id"), ({"tail": "many"}, "tail"), ({"tail": 1.5}, "tail")])
def test_bad_log_requests_are_400s_naming_the_field(api, group, body, field):
    status, reply = api.call("POST", "/get_autogroup_logs/", {"id": group["id"], **body})
    assert status == 400 and field in reply["msg"]


def test_a_log_call_costs_one_query(api, endpoint, group, dynamodb_calls):
    save(group, "launch")
    dynamodb_calls.clear()
    api.ok("POST", "/get_endpoint_logs/", {"id": endpoint["id"]})
    assert dict(dynamodb_calls) == {"GetItem": 2, "Query": 1}  # key, endpoint; events
    dynamodb_calls.clear()
    api.ok("POST", "/get_autogroup_logs/", {"id": group["id"]})
    assert dict(dynamodb_calls) == {"GetItem": 3, "Query": 1}  # key, group, its endpoint; events


def test_events_expire_with_a_ttl(api, group):
    save(group, "launch", t=1_000_000)
    (event,) = Event.query(group["id"])
    assert event.expires_at.timestamp() == pytest.approx(1_000_000 + 14 * 86400)


# --- rolling updates: the route; the policy's part is in test_scaling_policy -------------

def test_update_workers_starts_a_rolling_update_and_cancel_stops_it(api, group):
    api.ready_worker(group)  # brought by its owner: not the scaler's to replace
    reply = api.ok("POST", "/update_workers/", {"workergroup_id": group["id"]})
    assert reply == {"success": True, "workers_to_update": 0}
    row = api.ok("GET", f"/api/v0/autojobs/{group['id']}/")["result"]
    assert row["rolling"] is True and row["generation"] == 1
    reply = api.ok("POST", "/update_workers/", {"workergroup_id": group["id"], "cancel_update": True})
    assert reply == {"success": True, "cancelled": True}
    row = api.ok("GET", f"/api/v0/autojobs/{group['id']}/")["result"]
    assert row["rolling"] is False and row["generation"] == 1
    log = group_logs(api, group)["trace"]
    assert "update workers: ok (rolling update to generation 1: 0 workers to replace)" in log
    assert "update workers: cancelled (cancelled by its owner)" in log


def test_update_workers_needs_the_account_key_of_the_groups_owner(api, other_api, endpoint, group):
    body = {"workergroup_id": group["id"]}
    assert api.call("POST", "/update_workers/", {**body, "api_key": endpoint["api_key"]}, key=None)[0] == 401
    assert other_api.call("POST", "/update_workers/", body)[0] == 404
    assert api.call("POST", "/update_workers/", {"workergroup_id": "seven"})[0] == 400
    assert api.ok("GET", f"/api/v0/autojobs/{group['id']}/")["result"]["rolling"] is False


def test_starting_a_rolling_update_costs_four_requests(api, group, dynamodb_calls):
    dynamodb_calls.clear()
    api.ok("POST", "/update_workers/", {"workergroup_id": group["id"]})
    # key, group; its workers; the group's generation and the event in one transaction
    assert dict(dynamodb_calls) == {"GetItem": 2, "Query": 1, "TransactWriteItems": 1}


def test_a_report_that_logs_an_event_still_costs_two_requests(api, group, dynamodb_calls):
    worker = api.worker(group)
    dynamodb_calls.clear()
    api.report(worker, loadtime=3.0, max_perf=10.0, url="http://10.0.0.1:5000")
    assert dict(dynamodb_calls) == {"GetItem": 1, "TransactWriteItems": 1}  # the event is in the transaction
    assert "loaded" in group_logs(api, group)["info0"]


def test_tail_counts_each_levels_own_lines(api, group):
    save(group, "launch", reason="the one that took effect", t=1_000_000)
    for i in range(3):
        save(group, "stop", "skipped: it is no longer serving", t=1_000_001 + i)
    log = group_logs(api, group, tail=1)
    assert "the one that took effect" in log["info0"] and "skipped" in log["trace"]
