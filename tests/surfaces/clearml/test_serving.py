"""The serving actions over HTTP: what each field accepts, the accounts kept apart, expiry, and the
DynamoDB requests of the hot calls. (The generic bad-input and isolation specs run over this
surface's table too: tests/surfaces/test_bad_input.py, test_isolation.py.)"""
from __future__ import annotations

import base64
import time

import pytest

from chalicelib.core import settings
from chalicelib.core.auth import clearml_keys
from chalicelib.core.serving import containers
from chalicelib.core.store import Container, Sample
from tests.support.envelopes import CLEARML
from tests.support.faults import Faults
from tests.surfaces.clearml.routes import CONTAINER, ROUTES, URL, clearml_world


@pytest.fixture
def world(request):
    return clearml_world(request)


def call(world, action: str, body: dict | None = None, token: str | None = None, method: str = "POST"):
    return world.api.call(method, f"/serving.{action}", body, key=token or world.refs["token"])


def ok(world, action: str, body: dict | None = None, **kwargs) -> dict:
    status, reply = call(world, action, body, **kwargs)
    assert status == 200 and reply["meta"]["result_code"] == 200, reply
    return reply["data"]


def rejected(world, action: str, body: dict, names: str, subcode: int = 12) -> None:
    before = (sorted(str(c.attribute_values) for c in Container.scan()), Sample.count())
    status, reply = call(world, action, body)
    CLEARML.check(status, reply, 400, names=names)
    assert reply["meta"]["result_subcode"] == subcode, reply
    assert (sorted(str(c.attribute_values) for c in Container.scan()), Sample.count()) == before


REPORT = {**CONTAINER, "endpoint_url": URL}
HISTORY = {"endpoint_url": URL, "from_date": 0, "to_date": 4e9, "interval": 10**8}


@pytest.mark.parametrize("action, body, names, subcode", [
    ("register_container", {**CONTAINER, "timeout": 0}, "timeout", 12),
    ("register_container", {**CONTAINER, "timeout": "600"}, "timeout", 12),
    ("register_container", {"endpoint_name": "llm", "model_name": "m"}, "container_id", 11),
    ("register_container", {**CONTAINER, "model_name": None}, "model_name", 11),
    ("register_container", {**CONTAINER, "endpoint_name": 5}, "endpoint_name", 12),
    ("register_container", {**CONTAINER, "reference": [{"type": "job", "value": "x"}]}, "type", 12),
    ("register_container", {**CONTAINER, "tags": "a"}, "tags", 12),
    ("register_container", {**CONTAINER, "container_id": "\U0001f600" * 251}, "container_id", 12),  # 1,004 bytes
    ("register_container", {**CONTAINER, "reference": [{"type": "url", "value": "\u4e2d" * 1024}] * 100},
     "300000", 12),
    ("register_container", {**CONTAINER, "reference": [{"type": "url", "value": "\u4e2d" * 1024}] * 60},
     "300000", 12),  # 184 KB in UTF-8, 369 KB as stored (escaped)
    ("container_status_report", {**REPORT, "machine_stats": {"cpu_usage": [None]}}, "list of numbers", 12),
    ("container_status_report", CONTAINER, "endpoint_url", 11),
    ("container_status_report", {**REPORT, "requests_num": "5"}, "requests_num", 12),
    ("container_status_report", {**REPORT, "machine_stats": {"cpu_usage": ["x"]}}, "'machine_stats.cpu_usage'", 12),
    ("container_status_report", {**REPORT, "machine_stats": {"network_rx": "5"}}, "'machine_stats.network_rx'", 12),
    ("container_status_report", {**REPORT, "machine_stats": [1]}, "machine_stats", 12),
    ("unregister_container", {}, "container_id", 11),
    ("get_endpoint_details", {}, "endpoint_url", 11),
    ("get_endpoint_details", {"endpoint_url": "http://nobody/serves"}, "no containers for url", 1052),
    ("get_endpoint_metrics_history", {**HISTORY, "to_date": 0}, "from_date", 12),
    ("get_endpoint_metrics_history", {**HISTORY, "interval": 0}, "interval", 12),
    ("get_endpoint_metrics_history", {**HISTORY, "metric_type": "gpu_fans"}, "metric_type", 12),
    ("get_endpoint_metrics_history", {**HISTORY, "interval": 60}, "interval", 12),  # 66 million points
    ("get_endpoint_metrics_history", {key: v for key, v in HISTORY.items() if key != "interval"}, "interval", 11),
])
def test_a_bad_field_is_a_400_naming_it_in_the_envelope_and_stores_nothing(world, action, body, names, subcode):
    rejected(world, action, body, names, subcode)


def test_what_the_real_client_sends_looser_than_the_schema_is_accepted(world):
    ok(world, "container_status_report", {**REPORT, "model_source": None, "input_size": "None", "tags": None,
                                          "latency_ms": 12.987654, "machine_stats": {"cpu_usage": [33.3]}})
    [instance] = ok(world, "get_endpoint_details", {"endpoint_url": URL})["instances"]
    assert (instance["latency_ms"], instance["cpu_count"], instance["gpu_count"]) == (12, 1, 0)


def test_a_container_id_of_1000_bytes_reports_and_reads_back(world):
    wide = "\U0001f600" * 250  # 250 characters, 1,000 bytes in UTF-8
    ok(world, "container_status_report", {**REPORT, "container_id": wide})
    assert wide in [i["id"] for i in ok(world, "get_endpoint_details", {"endpoint_url": URL})["instances"]]


def test_a_tiny_machine_stat_is_kept_as_it_is(world):
    ok(world, "container_status_report", {**REPORT, "container_id": "tiny",
                                          "machine_stats": {"network_rx": 5e-7, "cpu_usage": [1e-9]}})
    [sample] = [s for s in Sample.scan() if s.container_id == "tiny"]
    assert sample.machine_stats == {"network_rx": 5e-7, "cpu_usage": [1e-9]}


@pytest.mark.parametrize("to_date", [9.9e9, 1e10, 1e12])
def test_the_metric_history_to_a_far_future_date_keeps_every_sample(world, to_date):
    ok(world, "container_status_report", {**REPORT, "requests_num": 7})
    history = ok(world, "get_endpoint_metrics_history", {**HISTORY, "to_date": to_date, "interval": 10**9,
                                                         "metric_type": "requests"})
    assert sum(history["total"]["values"]) > 0, history


def test_a_report_from_an_unknown_container_registers_it_with_the_default_timeout(world):
    ok(world, "container_status_report", {**REPORT, "container_id": "fresh"})
    stored = Container.get(f"{world.api.account_id}#containers", "fresh")
    assert float(stored.timeout) == settings.container_timeout_s() == 600


def test_a_report_keeps_the_timeout_and_register_time_of_a_live_container(world):
    ok(world, "register_container", {**CONTAINER, "container_id": "kept", "timeout": 30})
    registered = Container.get(f"{world.api.account_id}#containers", "kept")
    ok(world, "container_status_report", {**REPORT, "container_id": "kept"})
    reported = Container.get(f"{world.api.account_id}#containers", "kept")
    assert (float(reported.timeout), float(reported.register_time)) == (30, float(registered.register_time))


def test_a_container_is_gone_from_every_answer_the_moment_its_timeout_passes(world):
    ok(world, "container_status_report", {**REPORT, "container_id": "brief", "endpoint_url": "http://brief/x"})
    ok(world, "register_container", {**CONTAINER, "container_id": "brief", "endpoint_url": "http://brief/x",
                                     "timeout": 1})
    time.sleep(1.2)  # DynamoDB's TTL would delete it up to 48 h late: the reads filter on expiry
    assert "http://brief/x" not in [e["url"] for e in ok(world, "get_endpoints")["endpoints"]]
    assert "brief" not in [i["id"] for i in ok(world, "get_loading_instances")["instances"]]
    status, reply = call(world, "get_endpoint_details", {"endpoint_url": "http://brief/x"})
    assert status == 400 and reply["meta"]["result_subcode"] == 1052


def test_a_container_lives_its_timeout_to_the_fraction_of_a_second(world):
    now = 1_796_000_000.9
    containers.register(world.api.account_id, containers.ContainerInfo("edge", "llm", "m"), timeout=1, now=now)
    assert "edge" in [c.container_id for c in containers.live(world.api.account_id, now=now + 0.95)]
    assert "edge" not in [c.container_id for c in containers.live(world.api.account_id, now=now + 1.0)]


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_every_action_answers_get_and_put_as_it_answers_post(world, route):
    """(The client sends PUT for every call, auth.login too, when CLEARML_API_DEFAULT_REQ_METHOD says so.)"""
    answers = [world.api.call(method, route.path, world.body(route), key=world.refs["token"])
               for method in route.methods]
    assert [status for status, _ in answers] == [200, 200, 200], answers
    data = [reply["data"] for _, reply in answers]
    if route.name == "loading":  # age_sec may tick between them
        data = [[i["id"] for i in each["instances"]] for each in data]
    if route.name not in ("login", "report"):  # a fresh token; a report is a new sample
        assert data[0] == data[1] == data[2]


def test_auth_login_honours_the_lifetime_the_client_asks_for_and_refuses_a_bad_one(world):
    bearer = {"Authorization": f"Bearer {world.refs['token']}"}
    reply = world.api.client.http.get("/auth.login?expiration_sec=300", headers=bearer).json_body
    claims = clearml_keys.verify(reply["data"]["token"], time.time())
    assert claims.exp - time.time() == pytest.approx(300, abs=2)
    response = world.api.client.http.get("/auth.login?expiration_sec=soon", headers=bearer)
    CLEARML.check(response.status_code, response.json_body, 400, names="'expiration_sec'")


def test_a_container_of_non_ascii_text_within_the_limit_as_stored_is_registered(world):
    body = {**CONTAINER, "container_id": "wide", "reference": [{"type": "url", "value": "\u4e2d" * 1024}] * 40}
    ok(world, "register_container", body)  # 246 KB as stored
    assert Container.count() >= 2


def test_the_history_of_a_url_nothing_reported_for_is_empty_charts_as_the_reference_answers(world):
    data = ok(world, "get_endpoint_metrics_history", {**HISTORY, "endpoint_url": "http://nobody/serves"})
    assert data == {"computed_interval": 10**8, "instances": {},
                    "total": {"title": "Number of Requests", "dates": [], "values": []}}


def _login_basic(world):
    basic = base64.b64encode(f"{world.refs['access_key']}:{world.refs['secret_key']}".encode()).decode()
    return world.api.client.http.get("/auth.login", headers={"Authorization": f"Basic {basic}"})


def test_a_login_the_store_fails_is_answered_in_the_envelope(world, monkeypatch):
    """(Basic access:secret reads the key's row, where a bearer refresh reads nothing.)"""
    def a_bug(self, request):
        raise RuntimeError("a bug of our own")
    monkeypatch.setattr(Faults, "__call__", a_bug)
    response = _login_basic(world)
    CLEARML.check(response.status_code, response.json_body, 500, names="failed")


def test_a_login_the_store_is_too_busy_for_says_to_send_it_again_in_the_envelope(world, faults):
    faults.start(1.0)
    response = _login_basic(world)
    CLEARML.check(response.status_code, response.json_body, 500, names="send the request again")


@pytest.mark.parametrize("version", ["2.31", "2.35", "3.0"])
def test_a_versioned_call_at_2_31_or_later_is_answered_with_the_version_asked_for(world, version):
    status, reply = world.api.call("GET", f"/v{version}/serving.get_endpoints", None, key=world.refs["token"])
    assert status == 200 and reply["data"]["endpoints"][0]["url"] == URL
    assert reply["meta"]["endpoint"] == {"name": "serving.get_endpoints", "requested_version": version,
                                         "actual_version": "2.31"}


def test_a_version_before_2_31_is_a_400_naming_it(world):
    status, reply = world.api.call("GET", "/v2.23/serving.get_endpoints", None, key=world.refs["token"])
    CLEARML.check(status, reply, 400, names="2.31")
    assert reply["meta"]["endpoint"]["requested_version"] == "2.23"


@pytest.mark.parametrize("path", ["/v2.31/serving.no_such_action", "/v2.31/auth.login"])
def test_a_versioned_path_that_is_no_call_is_a_404_in_the_envelope(world, path):
    status, reply = world.api.call("GET", path, None, key=world.refs["token"])
    CLEARML.check(status, reply, 404, names=path)


# --- two accounts ------------------------------------------------------------------------

@pytest.fixture
def theirs(request, world):
    return clearml_world(request, "other_api")


def test_another_accounts_containers_and_endpoints_are_never_seen(world, theirs):
    ok(theirs, "container_status_report", {**REPORT, "container_id": "theirs", "endpoint_url": "http://theirs/x"})
    assert [e["url"] for e in ok(world, "get_endpoints")["endpoints"]] == [URL]
    assert "theirs" not in [i["id"] for i in ok(world, "get_loading_instances")["instances"]]
    status, reply = call(world, "get_endpoint_details", {"endpoint_url": "http://theirs/x"})
    assert status == 400 and reply["meta"]["result_subcode"] == 1052  # as for a url nobody serves
    history = ok(world, "get_endpoint_metrics_history", {**HISTORY, "endpoint_url": "http://theirs/x"})
    assert history["instances"] == {} and history["total"]["dates"] == []  # as for a url nothing reported for


def test_the_same_container_id_and_url_in_two_accounts_are_two_containers(world, theirs):
    ok(theirs, "container_status_report", {**REPORT, "requests_num": 99})  # their c-serving at the same URL
    ok(theirs, "unregister_container", {"container_id": "c-loading"})
    [mine] = ok(world, "get_endpoint_details", {"endpoint_url": URL})["instances"]
    assert mine["requests"] == 1
    assert "c-loading" in [i["id"] for i in ok(world, "get_loading_instances")["instances"]]  # theirs went


def test_a_token_of_a_revoked_credential_opens_nothing(world):
    status, _ = world.api.call("DELETE", f"/api/v0/clearml/credentials/{world.refs['access_key']}")
    assert status == 200
    for action, body in (("get_endpoints", {}), ("container_status_report", REPORT)):
        status, reply = call(world, action, body)
        CLEARML.check(status, reply, 401)


# --- what the hot calls cost -----------------------------------------------------------------

def test_a_status_report_costs_two_dynamodb_requests(world, dynamodb_calls):
    dynamodb_calls.clear()
    ok(world, "container_status_report", {**REPORT, "requests_num": 7})
    assert dynamodb_calls == {"TransactGetItems": 1, "TransactWriteItems": 1}


def test_a_call_past_the_recheck_interval_reads_its_credential_too(world, dynamodb_calls, monkeypatch):
    monkeypatch.setenv("CLEARML_CREDENTIAL_RECHECK_S", "0")
    dynamodb_calls.clear()
    ok(world, "get_endpoints")
    assert dynamodb_calls == {"GetItem": 1, "Query": 1}


@pytest.mark.parametrize("action", ["get_endpoints", "get_loading_instances", "get_endpoint_details"])
def test_a_listing_is_one_query_of_the_accounts_containers(world, dynamodb_calls, action):
    ok(world, "container_status_report", REPORT)
    ok(world, "get_endpoints")  # the token's credential found current: trusted for the recheck interval
    dynamodb_calls.clear()
    ok(world, action, {"endpoint_url": URL} if action == "get_endpoint_details" else {})
    assert dynamodb_calls == {"Query": 1}


def test_the_metric_history_is_one_query_whatever_the_containers(world, dynamodb_calls):
    for n in range(3):
        ok(world, "container_status_report", {**REPORT, "container_id": f"c{n}", "requests_num": n})
    ok(world, "get_endpoints")
    dynamodb_calls.clear()
    ok(world, "get_endpoint_metrics_history", HISTORY)
    assert dynamodb_calls == {"Query": 1}
    assert len(containers.samples(world.api.account_id, URL, 0, 4e9)) == 4
