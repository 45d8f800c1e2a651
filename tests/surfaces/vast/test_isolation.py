"""Isolation: a key reaches only what it was issued for.

An account key never sees or changes another account's endpoints, worker groups, workers
or stats (404 for ids that are not yours, and lists leave them out); an endpoint key reads
only its own endpoint and never opens the console; an mtoken speaks only for its worker;
the admin API takes only the admin token. Nothing is written by a refused request.
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

import pytest

from chalicelib.core import store as models
from chalicelib.core.auth.credentials import hash_secret

ADMIN_TOKEN = "operator-secret-for-isolation"


@dataclass
class Tenant:
    api: object
    endpoint: dict  # named "demo" in both accounts
    other_endpoint: dict
    group: dict
    other_group: dict
    worker: dict  # ready, in `group`
    other_worker: dict  # ready, in `other_group`


def tenant(api, other_name: str) -> Tenant:
    endpoint, other_endpoint = api.endpoint("demo"), api.endpoint(other_name)
    group, other_group = api.group(endpoint), api.group(other_endpoint)
    worker = api.ready_worker(group, url="http://10.0.0.1:5000", max_perf=10.0)
    other_worker = api.ready_worker(other_group, url="http://10.0.0.2:5000", max_perf=20.0)
    return Tenant(api, endpoint, other_endpoint, group, other_group, worker, other_worker)


@pytest.fixture
def mine(api) -> Tenant:
    return tenant(api, "side")


@pytest.fixture
def theirs(other_api, mine) -> Tenant:
    return tenant(other_api, "private")


def stored() -> dict:
    """Every item the app keeps (the id counters aside), to show a refused request wrote nothing."""
    tables = (models.ApiKey, models.Endpoint, models.WorkerGroup, models.Worker, models.StatBucket)
    return {t.__name__: sorted(json.dumps(item.serialize(), sort_keys=True) for item in t.scan()) for t in tables}


def assert_error(status: int, reply: dict, expected_status: int, code: str) -> None:
    assert status == expected_status, reply
    assert reply == {"success": False, "error": code, "msg": reply["msg"]}


def ids(rows: list[dict]) -> set[int]:
    return {row["id"] for row in rows}


# --- accounts: lists ------------------------------------------------------------------------

def test_lists_show_only_your_own_endpoints_and_groups(mine, theirs):
    for tenant_ in (mine, theirs):
        endpoints = tenant_.api.ok("GET", "/api/v0/endptjobs/")["results"]
        assert ids(endpoints) == {tenant_.endpoint["id"], tenant_.other_endpoint["id"]}
        assert {row["user_id"] for row in endpoints} == {tenant_.endpoint["user_id"]}
        for path in ("/api/v0/autojobs/", "/api/v0/workergroups"):
            assert ids(tenant_.api.ok("GET", path)["results"]) == {tenant_.group["id"], tenant_.other_group["id"]}


# --- accounts: another account's endpoints and groups are 404s ------------------------------

@pytest.mark.parametrize(("method", "body"), [
    ("GET", None),
    ("PUT", {"min_load": 7}),
    ("PUT", {"endpoint_name": "stolen"}),
    ("DELETE", None),
])
def test_another_accounts_endpoint_is_a_404_to_read_change_or_delete(mine, theirs, method, body):
    before, row = stored(), theirs.endpoint
    status, reply = mine.api.call(method, f"/api/v0/endptjobs/{row['id']}/", body)
    assert_error(status, reply, 404, "not_found")
    assert str(row["id"]) in reply["msg"]
    assert stored() == before
    assert theirs.api.ok("GET", f"/api/v0/endptjobs/{row['id']}/")["result"] == row


def test_an_id_that_is_not_yours_looks_exactly_like_one_that_does_not_exist(mine, theirs):
    theirs_id, unused = theirs.endpoint["id"], theirs.endpoint["id"] + 1000
    _, not_yours = mine.api.call("GET", f"/api/v0/endptjobs/{theirs_id}/")
    _, missing = mine.api.call("GET", f"/api/v0/endptjobs/{unused}/")
    assert not_yours["msg"].replace(str(theirs_id), "N") == missing["msg"].replace(str(unused), "N")
    assert {**not_yours, "msg": ""} == {**missing, "msg": ""}


@pytest.mark.parametrize("base", ["/api/v0/autojobs", "/api/v0/workergroups"])
@pytest.mark.parametrize(("method", "body"), [
    ("GET", None),
    ("PUT", {"max_workers": 1}),
    ("PUT", {"endpoint_name": "demo"}),
    ("DELETE", None),
])
def test_another_accounts_group_is_a_404_to_read_change_or_delete(mine, theirs, base, method, body):
    before, row = stored(), theirs.group
    status, reply = mine.api.call(method, f"{base}/{row['id']}/", body)
    assert_error(status, reply, 404, "not_found")
    assert str(row["id"]) in reply["msg"]
    assert stored() == before
    assert theirs.api.ok("GET", f"/api/v0/autojobs/{row['id']}/")["result"] == row


@pytest.mark.parametrize("base", ["/api/v0/autojobs", "/api/v0/workergroups"])
def test_no_worker_can_be_registered_into_another_accounts_group(mine, theirs, base):
    before = stored()
    status, reply = mine.api.call("POST", f"{base}/{theirs.group['id']}/workers/", {})
    assert_error(status, reply, 404, "not_found")
    assert stored() == before


@pytest.mark.parametrize("body", [
    pytest.param({"endpoint_id": "theirs"}, id="by id"),
    pytest.param({"endpoint_name": "private"}, id="by name"),
])
def test_no_group_can_be_created_under_another_accounts_endpoint(mine, theirs, body):
    body = {k: theirs.endpoint["id"] if val == "theirs" else val for k, val in body.items()}
    before = stored()
    status, reply = mine.api.call("POST", "/api/v0/autojobs/", body)
    assert_error(status, reply, 404, "not_found")
    assert stored() == before


@pytest.mark.parametrize("body", [
    pytest.param({"endpoint_id": "theirs", "max_workers": 3}, id="by id"),
    pytest.param({"endpoint_name": "private", "max_workers": 3}, id="by name"),
])
def test_a_group_cannot_be_moved_to_another_accounts_endpoint(mine, theirs, body):
    body = {k: theirs.other_endpoint["id"] if val == "theirs" else val for k, val in body.items()}
    before = stored()
    status, reply = mine.api.call("PUT", f"/api/v0/autojobs/{mine.group['id']}/", body)
    assert_error(status, reply, 404, "not_found")
    assert stored() == before


def test_an_endpoint_name_is_looked_up_in_your_own_account_only(mine, theirs):
    made = mine.api.ok("POST", "/api/v0/autojobs/", {"endpoint_name": "demo"})
    assert mine.api.ok("GET", f"/api/v0/autojobs/{made['id']}/")["result"]["endpoint_id"] == mine.endpoint["id"]
    for tenant_ in (mine, theirs):
        body = {"api_key": tenant_.api.key, "endpoint": "demo"}
        assert tenant_.api.ok("POST", "/get_endpoint_stats/", body)["id"] == tenant_.endpoint["id"]


# --- accounts: another account's stats and workers ------------------------------------------

STATS_AND_WORKERS = ["/get_endpoint_stats/", "/get_endpoint_workers/", "/get_autogroup_stats/",
                     "/get_autogroup_workers/"]


CROSS_READS = [(path, by) for path in STATS_AND_WORKERS for by in ("id", "name", "timeseries")
               if not ("autogroup" in path and by == "name") and not ("workers" in path and by == "timeseries")]


@pytest.mark.parametrize(("path", "by"), CROSS_READS)
def test_an_account_key_cannot_read_another_accounts_stats_or_workers(mine, theirs, path, by):
    if "autogroup" in path:
        body = {"id": theirs.group["id"]}
    else:
        body = {"endpoint": "private"} if by == "name" else {"id": theirs.endpoint["id"]}
    if by == "timeseries":
        body.update(metric_name="nworkers", t1=0, t2=600)
    status, reply = mine.api.call("POST", path, {"api_key": mine.api.key, **body}, key=None)
    assert_error(status, reply, 404, "not_found")


def test_another_accounts_workers_and_reports_never_show_in_yours(mine, theirs):
    assert theirs.api.report(theirs.worker, cur_load=4.0, max_perf=50.0)[0] == 200
    body = {"api_key": mine.api.key, "id": mine.endpoint["id"]}
    workers = mine.api.ok("POST", "/get_endpoint_workers/", body, key=None)
    assert ids(workers) == {mine.worker["id"]}
    stats = mine.api.ok("POST", "/get_endpoint_stats/", body, key=None)
    assert (stats["nworkers"], stats["capacity"], stats["curload"]) == (1, 10.0, 0.0)
    group = {"api_key": mine.api.key, "id": mine.group["id"]}
    assert ids(mine.api.ok("POST", "/get_autogroup_workers/", group, key=None)) == {mine.worker["id"]}


# --- endpoint keys --------------------------------------------------------------------------

def test_an_endpoint_key_reads_its_own_endpoint_and_groups(mine):
    key = mine.endpoint["api_key"]
    for body in ({"endpoint": "demo"}, {"id": mine.endpoint["id"]}):
        assert mine.api.ok("POST", "/get_endpoint_stats/", {"api_key": key, **body}, key=None)["nworkers"] == 1
        workers = mine.api.ok("POST", "/get_endpoint_workers/", {"api_key": key, **body}, key=None)
        assert ids(workers) == {mine.worker["id"]}
    group = {"api_key": key, "id": mine.group["id"]}
    assert ids(mine.api.ok("POST", "/get_autogroup_workers/", group, key=None)) == {mine.worker["id"]}


@pytest.mark.parametrize("path", STATS_AND_WORKERS)
@pytest.mark.parametrize("target", ["my other endpoint", "my other endpoint by name", "their endpoint",
                                    "their endpoint by name"])
def test_an_endpoint_key_cannot_read_another_endpoints_stats_or_workers(mine, theirs, path, target):
    owner = mine if target.startswith("my") else theirs
    endpoint, group = owner.other_endpoint, owner.other_group
    if "autogroup" in path:
        body = {"id": group["id"]}
    else:
        body = {"endpoint": endpoint["endpoint_name"]} if target.endswith("by name") else {"id": endpoint["id"]}
    status, reply = mine.api.call("POST", path, {"api_key": mine.endpoint["api_key"], **body}, key=None)
    assert_error(status, reply, 404, "not_found")


def test_an_endpoint_key_names_only_its_own_endpoint(mine, theirs):
    """Both accounts have a "demo": each endpoint key reaches its own."""
    for tenant_ in (mine, theirs):
        body = {"api_key": tenant_.endpoint["api_key"], "endpoint": "demo"}
        assert tenant_.api.ok("POST", "/get_endpoint_stats/", body, key=None)["id"] == tenant_.endpoint["id"]


CONSOLE_ROUTES = [
    ("GET", "/api/v0/endptjobs/", None),
    ("POST", "/api/v0/endptjobs/", {"endpoint_name": "sneaky"}),
    ("GET", "/api/v0/endptjobs/{endpoint}/", None),
    ("PUT", "/api/v0/endptjobs/{endpoint}/", {"max_workers": 1}),
    ("DELETE", "/api/v0/endptjobs/{endpoint}/", None),
    ("GET", "/api/v0/autojobs/", None),
    ("POST", "/api/v0/autojobs/", {"endpoint_name": "demo"}),
    ("GET", "/api/v0/autojobs/{group}/", None),
    ("PUT", "/api/v0/autojobs/{group}/", {"max_workers": 1}),
    ("DELETE", "/api/v0/autojobs/{group}/", None),
    ("POST", "/api/v0/autojobs/{group}/workers/", {}),
    ("GET", "/api/v0/workergroups", None),
    ("DELETE", "/api/v0/workergroups/{group}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), CONSOLE_ROUTES)
def test_an_endpoint_key_is_refused_on_every_console_route(mine, method, path, body):
    before = stored()
    path = path.format(endpoint=mine.endpoint["id"], group=mine.group["id"])
    status, reply = mine.api.call(method, path, body, key=mine.endpoint["api_key"])
    assert_error(status, reply, 401, "unauthorized")
    status, reply = mine.api.call(method, f"{path}?api_key={mine.endpoint['api_key']}", body, key=None)
    assert_error(status, reply, 401, "unauthorized")
    assert stored() == before


@pytest.mark.parametrize("key", [None, "", "ak_not-a-real-key", "x" * 600], ids=["none", "empty", "unknown", "long"])
@pytest.mark.parametrize(("method", "path", "body"), CONSOLE_ROUTES)
def test_a_missing_or_unknown_key_is_a_401_on_every_console_route(mine, method, path, body, key):
    before = stored()
    path = path.format(endpoint=mine.endpoint["id"], group=mine.group["id"])
    status, reply = mine.api.call(method, path, body, key=key)
    assert_error(status, reply, 401, "unauthorized")
    assert stored() == before


@pytest.mark.parametrize("target", ["side", "private"])
def test_an_endpoint_key_routes_only_to_its_own_endpoint(mine, theirs, target):
    before = stored()
    status, reply = mine.api.call("POST", "/route/", {"endpoint": target, "api_key": mine.endpoint["api_key"]},
                                  key=None)
    assert_error(status, reply, 404, "not_found")
    assert stored() == before  # no unmet demand counted, nothing routed


def test_a_deleted_endpoints_key_opens_nothing(mine):
    key = mine.other_endpoint["api_key"]
    mine.api.ok("DELETE", f"/api/v0/endptjobs/{mine.other_endpoint['id']}/")
    for path, body in (("/route/", {"endpoint": "side"}), ("/get_endpoint_stats/", {"endpoint": "side"}),
                       ("/get_autogroup_workers/", {"id": mine.other_group["id"]})):
        status, reply = mine.api.call("POST", path, {"api_key": key, **body}, key=None)
        assert_error(status, reply, 401, "unauthorized")


# --- worker tokens --------------------------------------------------------------------------

def worker_rows(tenant_: Tenant) -> dict[int, dict]:
    rows = {}
    for endpoint in (tenant_.endpoint, tenant_.other_endpoint):
        body = {"api_key": tenant_.api.key, "id": endpoint["id"]}
        rows.update({row["id"]: row for row in tenant_.api.ok("POST", "/get_endpoint_workers/", body, key=None)})
    return rows


@pytest.mark.parametrize("target", ["my other worker", "their worker"])
@pytest.mark.parametrize("path", ["/worker_status/", "/delete_requests/"])
def test_an_mtoken_cannot_report_as_another_worker(mine, theirs, target, path):
    victim = mine.other_worker if target == "my other worker" else theirs.worker
    before, rows = stored(), (worker_rows(mine), worker_rows(theirs))
    if path == "/worker_status/":
        body = {"id": victim["id"], "cur_load": 9.0, "error_msg": "hijacked"}
    else:
        body = {"worker_id": victim["id"], "requests": [{"success": False}] * 5}
    status, reply = mine.api.call("POST", path, {**body, "mtoken": mine.worker["mtoken"]}, key=None)
    assert_error(status, reply, 401, "unauthorized")
    assert stored() == before
    assert (worker_rows(mine), worker_rows(theirs)) == rows


@pytest.mark.parametrize("mtoken", ["wt_wrong", None, ""], ids=["wrong", "missing", "empty"])
def test_a_wrong_or_missing_mtoken_is_a_401_and_nothing_is_stored(mine, mtoken):
    before = stored()
    body = {"id": mine.worker["id"], "cur_load": 9.0}
    if mtoken is not None:
        body["mtoken"] = mtoken
    status, reply = mine.api.call("POST", "/worker_status/", body, key=None)
    assert_error(status, reply, 401, "unauthorized")
    assert stored() == before


def test_an_api_key_is_not_an_mtoken(mine):
    before = stored()
    for key in (mine.api.key, mine.endpoint["api_key"]):
        body = {"id": mine.worker["id"], "mtoken": key, "cur_load": 9.0}
        assert_error(*mine.api.call("POST", "/worker_status/", body, key=None), 401, "unauthorized")
    assert stored() == before


# --- the admin API --------------------------------------------------------------------------

@pytest.fixture
def admin_on(monkeypatch):
    monkeypatch.setenv("ADMIN_TOKEN_HASH", hash_secret(ADMIN_TOKEN))


@pytest.mark.parametrize("token", ["wrong-token", None, "<account key>", hash_secret(ADMIN_TOKEN), ADMIN_TOKEN + "x"],
                         ids=["wrong", "missing", "an account key", "the hash itself", "the token and more"])
def test_a_wrong_or_missing_admin_token_is_a_401_and_creates_no_account(mine, admin_on, token):
    token = mine.api.key if token == "<account key>" else token
    before = stored()
    status, reply = mine.api.call("POST", "/admin/accounts/", {"name": "intruder"}, key=token)
    assert_error(status, reply, 401, "unauthorized")
    assert stored() == before


@pytest.mark.parametrize("setting", [None, ""], ids=["unset", "empty"])
def test_the_admin_api_is_off_with_a_403_while_admin_token_hash_is_not_set(mine, monkeypatch, setting):
    if setting is None:
        monkeypatch.delenv("ADMIN_TOKEN_HASH", raising=False)
    else:
        monkeypatch.setenv("ADMIN_TOKEN_HASH", setting)
    before = stored()
    for token in (ADMIN_TOKEN, None, mine.api.key):
        status, reply = mine.api.call("POST", "/admin/accounts/", {"name": "intruder"}, key=token)
        assert_error(status, reply, 403, "admin_disabled")
        assert "ADMIN_TOKEN_HASH" in reply["msg"]
    assert stored() == before


def test_a_new_account_sees_nothing_of_the_others(mine, theirs, admin_on):
    created = mine.api.ok("POST", "/admin/accounts/", {"name": "newcomer"}, key=ADMIN_TOKEN)
    newcomer = created["api_key"]
    assert mine.api.ok("GET", "/api/v0/endptjobs/", key=newcomer)["results"] == []
    assert mine.api.ok("GET", "/api/v0/autojobs/", key=newcomer)["results"] == []
    status, _ = mine.api.call("GET", f"/api/v0/endptjobs/{mine.endpoint['id']}/", key=newcomer)
    assert status == 404


def test_the_admin_token_is_not_an_account_key(mine, admin_on):
    status, reply = mine.api.call("GET", "/api/v0/endptjobs/", key=ADMIN_TOKEN)
    assert_error(status, reply, 401, "unauthorized")


# --- keys are compared in constant time -----------------------------------------------------

@pytest.fixture
def compared(monkeypatch) -> list[tuple]:
    """Every hmac.compare_digest call during the test, as (a, b)."""
    calls, real = [], hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls


def test_account_and_endpoint_keys_are_compared_in_constant_time(mine, compared):
    mine.api.ok("GET", "/api/v0/endptjobs/")
    mine.api.ok("POST", "/get_endpoint_stats/", {"api_key": mine.endpoint["api_key"], "endpoint": "demo"}, key=None)
    for key in (mine.api.key, mine.endpoint["api_key"]):
        assert (hash_secret(key), hash_secret(key)) in compared


def test_the_admin_token_is_compared_in_constant_time(mine, admin_on, compared):
    mine.api.call("POST", "/admin/accounts/", {"name": "x"}, key="not-the-token")
    assert (hash_secret("not-the-token"), hash_secret(ADMIN_TOKEN)) in compared
