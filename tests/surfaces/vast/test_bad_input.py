"""Malformed requests to the Vast surface, field by field: a 400 whose `msg` names the field,
never a 500, never a partial write.

Every case starts from a small fleet (an endpoint, a worker group, a ready worker: the Vast
`world`, tests/surfaces/vast/routes.py), changes one route's valid body in one place and checks
the status, the error and that nothing stored or shown changed. What holds on every route of
every surface (bodies that are not JSON objects, unknown ids, ...) is in tests/surfaces/test_bad_input.py.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.surfaces.vast import wire
from tests.support.envelopes import VAST
from tests.support.surfaces import DROP, UNKNOWN
from tests.surfaces.vast.routes import RANGE

NAN, INF = float("nan"), float("inf")


def rejects(fleet, route: str, changes: dict, field: str) -> None:
    """`changes` to the route's valid body get a 400 naming `field`, and nothing is stored."""
    fleet.rejects(route, names=f"'{field}'", changes=changes)


def bad(route: str, changes: dict, field: str | None = None, **kwargs):
    field = field or next(iter(changes))
    shown = ", ".join(f"{k}={'<dropped>' if val is DROP else repr(val)}" for k, val in changes.items())
    return pytest.param(route, changes, field, id=f"{route}: {shown}", **kwargs)


# --- the headline cases, spelled out -------------------------------------------------------

def test_nan_min_load_is_a_400_naming_the_field_and_creates_nothing(api):
    status, reply = api.call("POST", "/api/v0/endptjobs/", raw=b'{"endpoint_name":"x","min_load":NaN}')
    VAST.check(status, reply, 400, "invalid_args", "'min_load'")
    assert api.ok("GET", "/api/v0/endptjobs/")["results"] == []


def test_infinite_max_queue_time_is_a_400_naming_the_field_and_creates_nothing(api):
    status, reply = api.call("POST", "/api/v0/endptjobs", raw=b'{"endpoint_name":"x","max_queue_time":Infinity}')
    VAST.check(status, reply, 400, "invalid_args", "'max_queue_time'")
    assert api.ok("GET", "/api/v0/endptjobs")["results"] == []


def test_negative_min_load_is_a_400_naming_the_field(api):
    status, reply = api.call("POST", "/api/v0/endptjobs/", {"endpoint_name": "x", "min_load": -1})
    VAST.check(status, reply, 400, "invalid_args", "'min_load'")
    assert api.ok("GET", "/api/v0/endptjobs/")["results"] == []


def test_a_rejected_update_leaves_the_endpoint_unchanged(fleet):
    path = fleet.path("update endpoint")
    before = fleet.api.ok("GET", path)["result"]
    # Valid changes first, the bad one last: none of them may be applied.
    status, reply = fleet.api.call("PUT", path, {"endpoint_name": "renamed", "min_load": 5, "max_workers": -3})
    VAST.check(status, reply, 400, "invalid_args", "'max_workers'")
    assert fleet.api.ok("GET", path)["result"] == before


def test_a_rejected_group_update_leaves_the_group_unchanged(fleet):
    path = fleet.path("update group")
    before = fleet.api.ok("GET", path)["result"]
    status, reply = fleet.api.call("PUT", path, {"search_params": "gpu_ram>=24", "gpu_ram": "24"})
    VAST.check(status, reply, 400, "invalid_args", "'gpu_ram'")
    assert fleet.api.ok("GET", path)["result"] == before


def test_a_rejected_worker_report_leaves_the_worker_unchanged(fleet):
    before = fleet.worker_row()
    status, reply = fleet.send("worker status", {"cur_load": 3.0, "url": "http://10.0.0.9:5000", "max_perf": NAN})
    VAST.check(status, reply, 400, "invalid_args", "'max_perf'")
    assert fleet.worker_row() == before


def test_a_rejected_finished_requests_report_leaves_the_worker_unchanged(fleet):
    before = fleet.worker_row()
    status, reply = fleet.send("delete requests", {"requests": [{"success": False}, {"success": "no"}]})
    VAST.check(status, reply, 400, "invalid_args", "'success'")
    assert fleet.worker_row() == before


# --- missing fields -------------------------------------------------------------------------

@pytest.mark.parametrize(("route", "changes", "field"), [
    bad("create endpoint", {"endpoint_name": DROP}),
    bad("create endpoint", {"endpoint_name": None}),
    bad("create group", {"endpoint_id": DROP}),
    bad("worker status", {"id": DROP}),
    bad("worker status", {"id": None}),
    bad("delete requests", {"worker_id": DROP}),
    bad("delete requests", {"requests": DROP}),
    bad("route", {"endpoint": DROP}),
    bad("endpoint stats", {"endpoint": DROP}),
    bad("endpoint stats", {"metric_name": None, "t1": 0, "t2": 60}, "metric_name"),
    bad("endpoint stats", {"metric_name": "curload", "t2": 60}, "t1"),
    bad("endpoint stats", {"metric_name": "curload", "t1": 0}, "t2"),
    bad("group stats", {"id": DROP}),
    bad("group stats", {"metric_name": "nworkers", "t1": 0}, "t2"),
    bad("endpoint workers", {"endpoint": DROP}),
    bad("group workers", {"id": DROP}),
    bad("group logs", {"id": DROP}),
    bad("update workers", {"workergroup_id": DROP}),
])
def test_a_missing_required_field_is_a_400_naming_it(fleet, route, changes, field):
    rejects(fleet, route, changes, field)



# --- wrong types ----------------------------------------------------------------------------

@pytest.mark.parametrize(("route", "changes", "field"), [
    bad("create endpoint", {"min_load": "1"}),
    bad("create endpoint", {"min_load": True}),
    bad("create endpoint", {"cold_workers": "5"}),
    bad("create endpoint", {"max_workers": [20]}),
    bad("create endpoint", {"target_util": {"value": 0.9}}),
    bad("create endpoint", {"inactivity_timeout": "never"}),
    bad("update endpoint", {"min_cold_load": "0"}),
    bad("update endpoint", {"max_queue_time": True}),
    bad("update endpoint", {"cold_mult": False}),
    bad("create group", {"endpoint_id": "1"}),
    bad("create group", {"endpoint_id": True}),
    bad("create group", {"gpu_ram": "8"}),
    bad("create group", {"test_workers": True}),
    bad("create group", {"template_id": "7"}),
    bad("update group", {"min_load": "0"}),
    bad("update group", {"cold_mult": False}),
    bad("update group", {"endpoint_id": "x"}),
    bad("register worker", {"instance_id": "12"}),
    bad("register worker", {"instance_id": True}),
    bad("worker status", {"id": "1"}),
    bad("worker status", {"id": True}),
    bad("worker status", {"loadtime": "3"}),
    bad("worker status", {"max_perf": True}),
    bad("worker status", {"cur_load": "0"}),
    bad("worker status", {"cur_perf": [1]}),
    bad("worker status", {"disk_usage": {}}),
    bad("worker status", {"num_requests_working": "2"}),
    bad("worker status", {"num_requests_recieved": True}),
    bad("worker status", {"version": 3, "new_load": "1"}, "new_load"),
    bad("worker status", {"message": "data update", "overloaded": "yes"}, "overloaded"),
    bad("delete requests", {"worker_id": "1"}),
    bad("route", {"cost": "100"}),
    bad("route", {"cost": True}),
    bad("route", {"request_idx": "1"}),
    bad("endpoint stats", {"endpoint": DROP, "id": "abc"}, "id"),
    bad("endpoint stats", {"id": True}),
    bad("endpoint stats", {**RANGE, "t1": "0"}, "t1"),
    bad("endpoint stats", {**RANGE, "t2": True}, "t2"),
    bad("group stats", {"id": "1"}),
    bad("endpoint workers", {"id": False}),
    bad("group workers", {"id": [1]}),
])
def test_a_string_boolean_or_container_where_a_number_belongs_is_a_400_naming_the_field(fleet, route, changes, field):
    rejects(fleet, route, changes, field)


@pytest.mark.parametrize(("route", "changes", "field"), [
    bad("create endpoint", {"endpoint_name": 5}),
    bad("create endpoint", {"endpoint_state": 1}),
    bad("update endpoint", {"endpoint_name": ["demo"]}),
    bad("update endpoint", {"endpoint_state": True}),
    bad("create group", {"endpoint_id": DROP, "endpoint_name": 5}, "endpoint_name"),
    bad("create group", {"search_params": 5}),
    bad("create group", {"search_params": ["gpu_ram>=8"]}),
    bad("create group", {"template_hash": 5}),
    bad("update group", {"launch_args": {"a": 1}}),
    bad("update group", {"endpoint_name": 7}),
    bad("create endpoint", {"endpoint_name": "two\nlines"}),
    bad("create endpoint", {"endpoint_name": "nul\x00"}),
    bad("create endpoint", {"endpoint_name": "para\u2029graph"}),
    bad("update endpoint", {"endpoint_name": "\u202eright to left"}),
    bad("update endpoint", {"endpoint_name": " padded"}),
    bad("create group", {"search_params": "gpu_ram"}),
    bad("create group", {"search_params": "gpu_name in [RTX_4090"}),
    bad("worker status", {"url": 5}),
    bad("worker status", {"error_msg": 5}),
    bad("worker status", {"error": [1]}),
    bad("worker status", {"message": 5}),
    bad("delete requests", {"requests": "all"}),
    bad("delete requests", {"requests": [1]}),
    bad("delete requests", {"requests": [{"success": "yes"}]}, "success"),
    bad("route", {"endpoint": 5}),
    bad("endpoint stats", {"endpoint": 5}),
    bad("endpoint stats", {**RANGE, "metric_name": 5}, "metric_name"),
])
def test_a_wrong_type_where_text_a_list_or_a_boolean_belongs_is_a_400_naming_the_field(fleet, route, changes, field):
    rejects(fleet, route, changes, field)


# --- numbers out of range -------------------------------------------------------------------

ENDPOINT_KNOBS = ("min_load", "min_cold_load", "target_util", "cold_mult", "cold_workers", "max_workers",
                  "max_queue_time", "target_queue_time", "inactivity_timeout")
GROUP_KNOBS = ("min_load", "min_cold_load", "target_util", "cold_mult", "cold_workers", "max_workers",
               "test_workers", "gpu_ram", "perf_hint", "template_id")
REPORT_NUMBERS = ("id", "loadtime", "max_perf", "cur_load", "new_load", "rej_load", "cur_perf", "disk_usage",
                  "additional_disk_usage", "num_requests_working", "num_requests_recieved")


@pytest.mark.parametrize(("route", "changes", "field"), [
    *[bad("create endpoint", {name: -2}) for name in ENDPOINT_KNOBS],  # -1 is inactivity_timeout's "none"
    *[bad("update endpoint", {name: -0.5}) for name in ENDPOINT_KNOBS],
    *[bad("create group", {name: -1}) for name in (*GROUP_KNOBS, "endpoint_id")],
    *[bad("update group", {name: -0.5}) for name in GROUP_KNOBS],
    bad("register worker", {"instance_id": -1}),
    *[bad("worker status", {name: -1}) for name in REPORT_NUMBERS],
    bad("delete requests", {"worker_id": -1}),
    bad("route", {"cost": -1}),
    bad("route", {"request_idx": -1}),
    bad("endpoint stats", {"endpoint": DROP, "id": -1}, "id"),
    bad("endpoint stats", {**RANGE, "t1": -60}, "t1"),
    bad("endpoint stats", {**RANGE, "t2": -1}, "t2"),
    bad("group stats", {"id": -1}),
    bad("endpoint workers", {"endpoint": DROP, "id": -1}, "id"),
    bad("group workers", {"id": -1}),
])
def test_a_negative_number_is_a_400_naming_the_field(fleet, route, changes, field):
    rejects(fleet, route, changes, field)


@pytest.mark.parametrize(("route", "changes", "field"), [
    bad("create endpoint", {"min_load": NAN}),
    bad("create endpoint", {"max_queue_time": INF}),
    bad("create endpoint", {"cold_workers": -INF}),
    bad("update endpoint", {"target_util": NAN}),
    bad("update endpoint", {"inactivity_timeout": INF}),
    bad("create group", {"gpu_ram": NAN}),
    bad("create group", {"endpoint_id": NAN}),
    bad("update group", {"min_load": INF}),
    bad("register worker", {"instance_id": NAN}),
    bad("worker status", {"id": NAN}),
    bad("worker status", {"max_perf": NAN}),
    bad("worker status", {"cur_load": INF}),
    bad("worker status", {"version": 3, "new_load": NAN}, "new_load"),
    bad("delete requests", {"worker_id": INF}),
    bad("route", {"cost": NAN}),
    bad("route", {"request_idx": INF}),
    bad("endpoint stats", {**RANGE, "t1": NAN}, "t1"),
    bad("endpoint stats", {**RANGE, "t2": INF}, "t2"),
    bad("group stats", {"id": NAN}),
    bad("group workers", {"id": INF}),
])
def test_nan_or_infinity_is_a_400_naming_the_field(fleet, route, changes, field):
    rejects(fleet, route, changes, field)


@pytest.mark.parametrize(("route", "changes", "field"), [
    bad("create endpoint", {"target_util": 0}),
    bad("create endpoint", {"target_util": 1.5}),
    bad("create endpoint", {"cold_mult": 0.5}),
    bad("create endpoint", {"cold_workers": 1.5}),
    bad("create endpoint", {"max_workers": 10_001}),
    bad("create endpoint", {"max_queue_time": 0}),
    bad("update endpoint", {"target_queue_time": 0}),
    bad("update endpoint", {"max_workers": 20.5}),
    bad("create group", {"test_workers": 2.5}),
    bad("create group", {"endpoint_id": 1.5}),
    bad("update group", {"target_util": 2}),
    bad("update group", {"template_id": 0.5}),
    bad("register worker", {"instance_id": 7.25}),
    bad("worker status", {"id": 1.5}),
    bad("worker status", {"num_requests_working": 0.5}),
    bad("delete requests", {"worker_id": 1.5}),
    bad("route", {"request_idx": 0.5}),
    bad("endpoint stats", {**RANGE, "t1": 120, "t2": 60}, "t2"),
    bad("group stats", {"id": 2.5}),
])
def test_a_number_outside_its_bounds_is_a_400_naming_the_field(fleet, route, changes, field):
    rejects(fleet, route, changes, field)


@pytest.mark.parametrize(("route", "changes", "field"), [
    bad("create endpoint", {"endpoint_state": "paused"}),
    bad("update endpoint", {"endpoint_state": "ACTIVE"}),
    bad("worker status", {"message": "hello"}),
    bad("endpoint stats", {**RANGE, "metric_name": "bogus"}, "metric_name"),
    bad("group stats", {**RANGE, "metric_name": ""}, "metric_name"),
])
def test_a_value_outside_its_choices_is_a_400_naming_the_field(fleet, route, changes, field):
    rejects(fleet, route, changes, field)


@pytest.mark.parametrize(("route", "changes", "field"), [
    bad("create endpoint", {"endpoint_name": ""}),
    bad("create endpoint", {"endpoint_name": "x" * 129}),
    bad("create endpoint", {"endpoint_name": " padded "}),
    bad("update endpoint", {"endpoint_name": ""}),
    bad("update endpoint", {"endpoint_name": "demo\n"}),
    bad("create group", {"search_params": "x" * 4097}),
    bad("create group", {"search_params": {"gpu_name": "x" * 4097}}),
    bad("update group", {"launch_args": "x" * 4097}),
    bad("worker status", {"url": "http://" + "x" * 2048}),
    bad("route", {"endpoint": ""}),
    bad("route", {"endpoint": "x" * 129}),
    bad("endpoint workers", {"endpoint": ""}),
])
def test_text_of_the_wrong_length_or_shape_is_a_400_naming_the_field(fleet, route, changes, field):
    rejects(fleet, route, changes, field)


def test_a_delete_requests_list_over_its_limit_is_a_400_naming_the_field(fleet, monkeypatch):
    monkeypatch.setattr(wire, "MAX_FINISHED", 10)
    rejects(fleet, "delete requests", {"requests": [{"success": True}] * 11}, "requests")


def test_a_pyworkers_backlog_of_finished_requests_is_taken_whole(fleet):
    """(It resends the whole backlog each second until a 2xx: refusing it once refuses it forever.)"""
    status, reply = fleet.send("delete requests", {"requests": [{"success": True}] * 5000})
    assert status == 200, reply


def test_a_rejected_group_move_leaves_the_group_where_it_was(fleet):
    path = fleet.path("update group")
    before = fleet.api.ok("GET", path)["result"]
    status, _ = fleet.api.call("PUT", path, {"min_load": 3, "endpoint_id": UNKNOWN})
    assert status == 404
    assert fleet.api.ok("GET", path)["result"] == before



# --- numbers and text the store cannot hold -------------------------------------------------

@pytest.mark.parametrize(("route", "changes", "field"), [
    bad("create endpoint", {"min_load": 1e16}),
    bad("create endpoint", {"cold_workers": 1e300}),
    bad("update endpoint", {"inactivity_timeout": 1e300}),
    bad("create group", {"gpu_ram": 1e300}),
    bad("update group", {"template_id": 1e16}),
    bad("register worker", {"instance_id": 1e300}),
    bad("worker status", {"max_perf": 1e300}),
    bad("worker status", {"num_requests_recieved": 10**20}),
    bad("delete requests", {"worker_id": 1e300}),
    bad("route", {"cost": 1e300}),
    bad("route", {"request_idx": 10**16}),
    bad("endpoint stats", {**RANGE, "t2": 1e300}, "t2"),
    bad("group workers", {"id": 1e300}),
])
def test_a_number_above_the_cap_is_a_400_naming_the_field(fleet, route, changes, field):
    rejects(fleet, route, changes, field)


@pytest.mark.parametrize(("route", "field"), [("create endpoint", "min_load"), ("worker status", "max_perf"),
                                              ("route", "cost"), ("group stats", "id")])
def test_an_integer_too_large_for_a_float_is_a_400_naming_the_field(fleet, route, field):
    body = json.dumps(fleet.body(route, {field: 7})).replace(": 7", ": 1" + "0" * 400)
    fleet.rejects(route, names=f"'{field}'", raw=body.encode())


@pytest.mark.parametrize(("route", "changes", "field"), [
    bad("create endpoint", {"min_load": 1e-300}),
    bad("update endpoint", {"min_load": 1e-300}),
    bad("create group", {"gpu_ram": 1e-300}),
    bad("update group", {"gpu_ram": 1e-300}),
    bad("worker status", {"max_perf": 1e-300}),
    bad("route", {"cost": 1e-300}),
])
def test_a_number_too_small_for_the_store_is_a_400_naming_the_field(fleet, route, changes, field):
    rejects(fleet, route, changes, field)


@pytest.mark.parametrize(("route", "changes", "field"), [
    bad("create endpoint", {"endpoint_name": "x\ud800"}),
    bad("update endpoint", {"endpoint_name": "x\ud800"}),
    bad("create group", {"search_params": "x\ud800"}),
    bad("worker status", {"url": "http://x\ud800"}),
])
def test_text_that_is_not_valid_unicode_is_a_400_naming_the_field(fleet, route, changes, field):
    rejects(fleet, route, changes, field)
