"""Malformed requests: a 4xx whose `msg` names the field, never a 500, never a partial write.

Every case starts from a small fleet (an endpoint, a worker group, a ready worker), sends one
bad request and checks the status, the error body and that no stored item changed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from chalicelib.core import store as models
from chalicelib.core.auth.credentials import hash_secret

NAN, INF = float("nan"), float("inf")
UNKNOWN = 999_999
DROP = object()  # in `changes`: remove the field from the route's valid body

# The routes that read a body, each with a valid body (placeholders in <> are filled in
# from the fleet). A bad case changes that body in one place.
ROUTES: dict[str, tuple[str, str, dict]] = {
    "create endpoint": ("POST", "/api/v0/endptjobs/", {"endpoint_name": "fresh"}),
    "update endpoint": ("PUT", "/api/v0/endptjobs/{endpoint}/", {}),
    "create group": ("POST", "/api/v0/autojobs/", {"endpoint_id": "<endpoint>"}),
    "update group": ("PUT", "/api/v0/autojobs/{group}/", {}),
    "register worker": ("POST", "/api/v0/autojobs/{group}/workers/", {}),
    "worker status": ("POST", "/worker_status/", {"id": "<worker>", "mtoken": "<mtoken>"}),
    "delete requests": ("POST", "/delete_requests/", {"worker_id": "<worker>", "mtoken": "<mtoken>", "requests": []}),
    "route": ("POST", "/route/", {"endpoint": "demo", "api_key": "<endpoint_key>"}),
    "endpoint stats": ("POST", "/get_endpoint_stats/", {"api_key": "<api_key>", "endpoint": "demo"}),
    "group stats": ("POST", "/get_autogroup_stats/", {"api_key": "<api_key>", "id": "<group>"}),
    "endpoint workers": ("POST", "/get_endpoint_workers/", {"api_key": "<api_key>", "endpoint": "demo"}),
    "group workers": ("POST", "/get_autogroup_workers/", {"api_key": "<api_key>", "id": "<group>"}),
    "endpoint logs": ("POST", "/get_endpoint_logs/", {"api_key": "<api_key>", "id": "<endpoint>"}),
    "group logs": ("POST", "/get_autogroup_logs/", {"api_key": "<api_key>", "id": "<group>"}),
    "update workers": ("POST", "/update_workers/", {"api_key": "<api_key>", "workergroup_id": "<group>"}),
}
RANGE = {"metric_name": "curload", "t1": 0, "t2": 60}


@dataclass
class Fleet:
    api: object
    endpoint: dict
    group: dict
    worker: dict

    @property
    def refs(self) -> dict:
        return {
            "endpoint": self.endpoint["id"], "group": self.group["id"], "worker": self.worker["id"],
            "mtoken": self.worker["mtoken"], "api_key": self.api.key, "endpoint_key": self.endpoint["api_key"],
        }

    def fill(self, value):
        if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
            return self.refs[value[1:-1]]
        if isinstance(value, dict):
            return {k: self.fill(item) for k, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        return value

    def body(self, route: str, changes: dict | None = None) -> dict:
        body = {**ROUTES[route][2], **(changes or {})}
        return self.fill({k: item for k, item in body.items() if item is not DROP})

    def path(self, route: str, slash: str = "/") -> str:
        return ROUTES[route][1].format(**self.refs).rstrip("/") + slash

    def send(self, route: str, changes: dict | None = None, *, raw: bytes | None = None, slash: str = "/",
             bearer: bool = True):
        """The request, with the account key as `Authorization: Bearer` unless not `bearer`."""
        # json.dumps writes NaN and Infinity as the bare tokens a sloppy client would send.
        raw = raw if raw is not None else json.dumps(self.body(route, changes)).encode()
        return self.api.call(ROUTES[route][0], self.path(route, slash), raw=raw, key="default" if bearer else None)

    def worker_row(self) -> dict:
        _, rows = self.api.call("POST", "/get_endpoint_workers/", {"api_key": self.api.key, "id": self.endpoint["id"]})
        return next(row for row in rows if row["id"] == self.worker["id"])


@pytest.fixture
def fleet(api) -> Fleet:
    endpoint = api.endpoint("demo")
    group = api.group(endpoint)
    return Fleet(api, endpoint, group, api.ready_worker(group))


def stored() -> dict:
    """Every item the app keeps (the id counters aside), to show a rejected request wrote nothing."""
    tables = (models.ApiKey, models.Endpoint, models.WorkerGroup, models.Worker, models.StatBucket)
    return {t.__name__: sorted(json.dumps(item.serialize(), sort_keys=True) for item in t.scan()) for t in tables}


def assert_error(status: int, reply: dict, expected_status: int, code: str, names: str) -> None:
    """A reply of `expected_status` in the error shape, with `code`, whose `msg` contains `names`."""
    assert status == expected_status, reply
    assert reply == {"success": False, "error": code, "msg": reply["msg"]}
    assert names in reply["msg"]


def assert_error_shape(reply: dict) -> None:
    assert set(reply) == {"success", "error", "msg"} and reply["success"] is False, reply
    assert isinstance(reply["error"], str) and reply["msg"]


def rejects(fleet: Fleet, route: str, changes: dict, field: str) -> None:
    """`changes` to the route's valid body get a 400 naming `field`, and nothing is stored."""
    before = stored()
    status, reply = fleet.send(route, changes)
    assert_error(status, reply, 400, "invalid_args", f"'{field}'")
    assert stored() == before


def bad(route: str, changes: dict, field: str | None = None, **kwargs):
    field = field or next(iter(changes))
    shown = ", ".join(f"{k}={'<dropped>' if val is DROP else repr(val)}" for k, val in changes.items())
    return pytest.param(route, changes, field, id=f"{route}: {shown}", **kwargs)


# --- the valid bodies work, on both spellings of every path -------------------------------

@pytest.mark.parametrize("slash", ["", "/"], ids=["no slash", "slash"])
@pytest.mark.parametrize("route", ROUTES)
def test_every_body_route_answers_with_and_without_its_trailing_slash(fleet, route, slash):
    changes = RANGE if route.endswith("stats") and slash else None  # the timeseries form too
    status, reply = fleet.send(route, changes, slash=slash)
    assert status == 200, reply


@pytest.mark.parametrize("slash", ["", "/"], ids=["no slash", "slash"])
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v0/endptjobs"),
    ("GET", "/api/v0/endptjobs/{endpoint}"),
    ("DELETE", "/api/v0/endptjobs/{endpoint}"),
    ("GET", "/api/v0/autojobs"),
    ("GET", "/api/v0/autojobs/{group}"),
    ("DELETE", "/api/v0/autojobs/{group}"),
    ("GET", "/api/v0/workergroups"),
    ("GET", "/api/v0/workergroups/{group}"),
    ("PUT", "/api/v0/workergroups/{group}"),
    ("POST", "/api/v0/workergroups/{group}/workers"),
    ("DELETE", "/api/v0/workergroups/{group}"),
    ("GET", "/pubkey"),
])
def test_every_other_path_answers_with_and_without_its_trailing_slash(fleet, method, path, slash):
    body = {} if method in ("PUT", "POST") else None
    status, reply = fleet.api.call(method, path.format(**fleet.refs) + slash, body)
    assert status == 200, reply


# --- bodies that are not a JSON object ----------------------------------------------------

NOT_AN_OBJECT = {
    "not JSON": b"endpoint_name=demo",
    "truncated JSON": b'{"endpoint_name": "demo"',
    "not UTF-8": b"\xff\xfe{}",
    "a list": b'[{"endpoint_name": "demo"}]',
    "a string": b'"demo"',
    "a number": b"42",
    "null": b"null",
}


@pytest.mark.parametrize("raw", NOT_AN_OBJECT.values(), ids=NOT_AN_OBJECT.keys())
@pytest.mark.parametrize("route", ROUTES)
def test_a_body_that_is_not_a_json_object_is_a_400(fleet, route, raw):
    before = stored()
    status, reply = fleet.send(route, raw=raw)
    assert_error(status, reply, 400, "invalid_args", "JSON")
    assert stored() == before


@pytest.mark.parametrize("route", [r for r in ROUTES if r != "register worker"])
def test_an_empty_body_is_a_400(fleet, route):
    status, reply = fleet.send(route, raw=b"")
    assert_error(status, reply, 400, "invalid_args", "JSON object")


def test_registering_a_worker_needs_no_body_but_a_body_must_be_json(fleet):
    status, _ = fleet.send("register worker", raw=b"")
    assert status == 200
    status, reply = fleet.send("register worker", raw=b"instance_id=7")
    assert_error(status, reply, 400, "invalid_args", "JSON")


@pytest.mark.parametrize("route", ["create endpoint", "worker status", "route"])
def test_deeply_nested_json_is_a_400_not_a_500(fleet, route):
    status, reply = fleet.send(route, raw=b"[" * 100_000 + b"]" * 100_000)
    assert_error(status, reply, 400, "invalid_args", "JSON")


def test_an_unsupported_content_type_is_a_415_in_the_error_shape(api, client):
    before = stored()
    response = client.http.post("/api/v0/endptjobs/", body=b'{"endpoint_name": "x"}',
                                headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/xml"})
    assert response.status_code == 415
    assert_error_shape(response.json_body)
    assert stored() == before


@pytest.mark.parametrize(("method", "path"), [("PATCH", "/api/v0/endptjobs/"), ("GET", "/worker_status/"),
                                              ("GET", "/admin/accounts/")])
def test_a_method_the_path_does_not_take_is_a_405_in_the_error_shape(api, method, path):
    status, reply = api.call(method, path, {})
    assert status == 405
    assert_error_shape(reply)


# --- the headline cases, spelled out -------------------------------------------------------

def test_nan_min_load_is_a_400_naming_the_field_and_creates_nothing(api):
    status, reply = api.call("POST", "/api/v0/endptjobs/", raw=b'{"endpoint_name":"x","min_load":NaN}')
    assert_error(status, reply, 400, "invalid_args", "'min_load'")
    assert api.ok("GET", "/api/v0/endptjobs/")["results"] == []


def test_infinite_max_queue_time_is_a_400_naming_the_field_and_creates_nothing(api):
    status, reply = api.call("POST", "/api/v0/endptjobs", raw=b'{"endpoint_name":"x","max_queue_time":Infinity}')
    assert_error(status, reply, 400, "invalid_args", "'max_queue_time'")
    assert api.ok("GET", "/api/v0/endptjobs")["results"] == []


def test_negative_min_load_is_a_400_naming_the_field(api):
    status, reply = api.call("POST", "/api/v0/endptjobs/", {"endpoint_name": "x", "min_load": -1})
    assert_error(status, reply, 400, "invalid_args", "'min_load'")
    assert api.ok("GET", "/api/v0/endptjobs/")["results"] == []


def test_a_rejected_update_leaves_the_endpoint_unchanged(fleet):
    path = fleet.path("update endpoint")
    before = fleet.api.ok("GET", path)["result"]
    # Valid changes first, the bad one last: none of them may be applied.
    status, reply = fleet.api.call("PUT", path, {"endpoint_name": "renamed", "min_load": 5, "max_workers": -3})
    assert_error(status, reply, 400, "invalid_args", "'max_workers'")
    assert fleet.api.ok("GET", path)["result"] == before


def test_a_rejected_group_update_leaves_the_group_unchanged(fleet):
    path = fleet.path("update group")
    before = fleet.api.ok("GET", path)["result"]
    status, reply = fleet.api.call("PUT", path, {"search_params": "gpu_ram>=24", "gpu_ram": "24"})
    assert_error(status, reply, 400, "invalid_args", "'gpu_ram'")
    assert fleet.api.ok("GET", path)["result"] == before


def test_a_rejected_worker_report_leaves_the_worker_unchanged(fleet):
    before = fleet.worker_row()
    status, reply = fleet.send("worker status", {"cur_load": 3.0, "url": "http://10.0.0.9:5000", "max_perf": NAN})
    assert_error(status, reply, 400, "invalid_args", "'max_perf'")
    assert fleet.worker_row() == before


def test_a_rejected_finished_requests_report_leaves_the_worker_unchanged(fleet):
    before = fleet.worker_row()
    status, reply = fleet.send("delete requests", {"requests": [{"success": False}, {"success": "no"}]})
    assert_error(status, reply, 400, "invalid_args", "'success'")
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


@pytest.mark.parametrize("route", ["route", "endpoint stats", "group stats", "endpoint workers", "group workers",
                                   "endpoint logs", "group logs", "update workers"])
@pytest.mark.parametrize("key", [DROP, None, "", 5, ["<api_key>"], "x" * 513, "x\ud800"],
                         ids=["missing", "null", "empty", "a number", "a list", "too long", "not unicode"])
def test_a_missing_or_malformed_api_key_is_a_401_like_a_wrong_one(fleet, route, key):
    """(With no `Authorization` header: a key in the body is the only key.)"""
    before = stored()
    status, reply = fleet.send(route, {"api_key": key}, bearer=False)
    assert_error(status, reply, 401, "unauthorized", "api key")
    assert stored() == before



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
    bad("delete requests", {"requests": [{"success": True, "request_idx": "7"}]}, "request_idx"),
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
               "test_workers", "gpu_ram", "template_id")
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
    bad("delete requests", {"requests": [{"success": True, "request_idx": -1}]}, "request_idx"),
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


def test_a_delete_requests_list_over_its_limit_is_a_400_naming_the_field(fleet):
    rejects(fleet, "delete requests", {"requests": [{"success": True}] * 1001}, "requests")


# --- ids in the path ------------------------------------------------------------------------

PATH_ROUTES = [
    ("GET", "/api/v0/endptjobs/{id}/", "endpoint_id"),
    ("PUT", "/api/v0/endptjobs/{id}/", "endpoint_id"),
    ("DELETE", "/api/v0/endptjobs/{id}/", "endpoint_id"),
    ("GET", "/api/v0/autojobs/{id}/", "group_id"),
    ("PUT", "/api/v0/autojobs/{id}/", "group_id"),
    ("DELETE", "/api/v0/autojobs/{id}/", "group_id"),
    ("POST", "/api/v0/autojobs/{id}/workers/", "group_id"),
    ("GET", "/api/v0/workergroups/{id}", "group_id"),
    ("PUT", "/api/v0/workergroups/{id}", "group_id"),
    ("DELETE", "/api/v0/workergroups/{id}", "group_id"),
    ("POST", "/api/v0/workergroups/{id}/workers", "group_id"),
]
PATH_IDS = [
    pytest.param(method, path, field, ident, id=f"{method} {path.format(id=ident)}")
    for method, path, field in PATH_ROUTES
    for ident in ("abc", "-1", "1.5", "1e3", "0x1", "+1", "9" * 16)
]


@pytest.mark.parametrize(("method", "path", "field", "ident"), PATH_IDS)
def test_a_path_id_that_is_not_a_positive_integer_is_a_400_naming_it(fleet, method, path, field, ident):
    before = stored()
    body = {} if method in ("PUT", "POST") else None
    status, reply = fleet.api.call(method, path.format(id=ident), body)
    assert_error(status, reply, 400, "invalid_args", f"'{field}'")
    assert stored() == before


@pytest.mark.parametrize("ident", ["\u00b2", "\uff11"], ids=["superscript two", "fullwidth one"])
@pytest.mark.parametrize(("method", "path", "field"), [PATH_ROUTES[0], PATH_ROUTES[3]])
def test_a_path_id_of_non_ascii_digits_is_a_400_naming_it(fleet, method, path, field, ident):
    status, reply = fleet.api.call(method, path.format(id=ident))
    assert_error(status, reply, 400, "invalid_args", f"'{field}'")


# --- unknown ids ----------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", f"/api/v0/endptjobs/{UNKNOWN}/", None),
    ("PUT", f"/api/v0/endptjobs/{UNKNOWN}/", {"min_load": 1}),
    ("DELETE", f"/api/v0/endptjobs/{UNKNOWN}/", None),
    ("GET", f"/api/v0/autojobs/{UNKNOWN}/", None),
    ("PUT", f"/api/v0/autojobs/{UNKNOWN}/", {"min_load": 1}),
    ("DELETE", f"/api/v0/autojobs/{UNKNOWN}/", None),
    ("POST", f"/api/v0/autojobs/{UNKNOWN}/workers/", {}),
    ("GET", f"/api/v0/workergroups/{UNKNOWN}/", None),
    ("POST", "/api/v0/autojobs/", {"endpoint_id": UNKNOWN}),
    ("PUT", "/api/v0/autojobs/{group}/", {"endpoint_id": UNKNOWN}),
    ("POST", "/get_endpoint_stats/", {"api_key": "<api_key>", "id": UNKNOWN}),
    ("POST", "/get_autogroup_stats/", {"api_key": "<api_key>", "id": UNKNOWN}),
    ("POST", "/get_endpoint_workers/", {"api_key": "<api_key>", "id": UNKNOWN}),
    ("POST", "/get_autogroup_workers/", {"api_key": "<api_key>", "id": UNKNOWN}),
])
def test_an_unknown_id_is_a_404_naming_it(fleet, method, path, body):
    before = stored()
    status, reply = fleet.api.call(method, path.format(**fleet.refs), fleet.fill(body))
    assert_error(status, reply, 404, "not_found", str(UNKNOWN))
    assert stored() == before


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/v0/autojobs/", {"endpoint_name": "nope"}),
    ("PUT", "/api/v0/autojobs/{group}/", {"endpoint_name": "nope"}),
    ("POST", "/route/", {"endpoint": "nope", "api_key": "<endpoint_key>"}),
    ("POST", "/get_endpoint_stats/", {"api_key": "<api_key>", "endpoint": "nope"}),
    ("POST", "/get_endpoint_workers/", {"api_key": "<api_key>", "endpoint": "nope"}),
    ("POST", "/get_endpoint_stats/", {"api_key": "<endpoint_key>", "endpoint": "nope"}),
])
def test_an_unknown_endpoint_name_is_a_404_naming_it(fleet, method, path, body):
    before = stored()
    status, reply = fleet.api.call(method, path.format(**fleet.refs), fleet.fill(body))
    assert_error(status, reply, 404, "not_found", "'nope'")
    assert stored() == before


def test_a_rejected_group_move_leaves_the_group_where_it_was(fleet):
    path = fleet.path("update group")
    before = fleet.api.ok("GET", path)["result"]
    status, _ = fleet.api.call("PUT", path, {"min_load": 3, "endpoint_id": UNKNOWN})
    assert status == 404
    assert fleet.api.ok("GET", path)["result"] == before


# --- worker credentials: a 401, whatever is wrong with them ---------------------------------

@pytest.mark.parametrize("changes", [
    pytest.param({"mtoken": "wt_not-a-token"}, id="a wrong mtoken"),
    pytest.param({"mtoken": DROP}, id="no mtoken"),
    pytest.param({"mtoken": None}, id="a null mtoken"),
    pytest.param({"mtoken": ""}, id="an empty mtoken"),
    pytest.param({"mtoken": 5}, id="a numeric mtoken"),
    pytest.param({"mtoken": ["<mtoken>"]}, id="a list mtoken"),
    pytest.param({"mtoken": "x" * 513}, id="an overlong mtoken"),
    pytest.param({"mtoken": "x\ud800"}, id="an mtoken that is not valid unicode"),
])
@pytest.mark.parametrize(("route", "ident"), [("worker status", "id"), ("delete requests", "worker_id")])
def test_a_missing_wrong_or_malformed_mtoken_is_a_401_and_changes_nothing(fleet, route, ident, changes):
    before = fleet.worker_row()
    stored_before = stored()
    status, reply = fleet.send(route, {**changes, "cur_load": 1.0, "requests": [{"success": False}]})
    assert_error(status, reply, 401, "unauthorized", "mtoken")
    assert stored() == stored_before
    assert fleet.worker_row() == before


@pytest.mark.parametrize(("route", "ident"), [("worker status", "id"), ("delete requests", "worker_id")])
def test_a_report_for_an_unknown_worker_id_is_a_401_and_changes_nothing(fleet, route, ident):
    before = stored()
    status, reply = fleet.send(route, {ident: UNKNOWN, "cur_load": 1.0, "requests": [{"success": False}]})
    assert_error(status, reply, 401, "unauthorized", "mtoken")
    assert stored() == before


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
    before = stored()
    status, reply = fleet.send(route, raw=body.encode())
    assert_error(status, reply, 400, "invalid_args", f"'{field}'")
    assert stored() == before


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


# --- the admin API --------------------------------------------------------------------------

ADMIN_TOKEN = "admin-token-for-tests"


@pytest.fixture
def admin(api, monkeypatch):
    monkeypatch.setenv("ADMIN_TOKEN_HASH", hash_secret(ADMIN_TOKEN))
    return api


@pytest.mark.parametrize(("raw", "names"), [
    pytest.param(b"name=ops", "JSON", id="not JSON"),
    pytest.param(b'["ops"]', "JSON", id="a list"),
    pytest.param(b"", "JSON", id="empty"),
    pytest.param(b"{}", "'name'", id="name missing"),
    pytest.param(b'{"name": null}', "'name'", id="name null"),
    pytest.param(b'{"name": 5}', "'name'", id="name a number"),
    pytest.param(b'{"name": ""}', "'name'", id="name empty"),
    pytest.param(b'{"name": "' + b"x" * 129 + b'"}', "'name'", id="name too long"),
])
def test_a_bad_account_request_is_a_400_and_creates_no_account(admin, raw, names):
    before = stored()
    status, reply = admin.call("POST", "/admin/accounts/", raw=raw, key=ADMIN_TOKEN)
    assert_error(status, reply, 400, "invalid_args", names)
    assert stored() == before


@pytest.mark.parametrize("slash", ["", "/"], ids=["no slash", "slash"])
def test_the_admin_route_answers_with_and_without_its_trailing_slash(admin, slash):
    reply = admin.ok("POST", "/admin/accounts" + slash, {"name": "ops"}, key=ADMIN_TOKEN)
    assert reply["name"] == "ops"
