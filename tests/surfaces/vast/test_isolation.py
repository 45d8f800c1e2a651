"""Isolation on the Vast surface: what its own kinds of keys reach.

Lists leave out what is not yours and a name is looked up in your own account; an endpoint key
reads only its own endpoint (not another of its account's) and dies with it; an mtoken speaks
only for its worker. Every route refusing missing, malformed and wrong credentials, and another
account's ids, is in tests/surfaces/test_isolation.py. `mine` and `theirs` are two accounts with
two of everything (tests/surfaces/vast/routes.py). Nothing is written by a refused request.
"""
from __future__ import annotations

import pytest

from chalicelib.core.auth.credentials import hash_secret
from tests.support.envelopes import VAST
from tests.surfaces.admin.routes import ADMIN_TOKEN


def ids(rows: list[dict]) -> set[int]:
    return {row["id"] for row in rows}


# --- accounts -------------------------------------------------------------------------------

def test_lists_show_only_your_own_endpoints_and_groups(mine, theirs):
    for tenant_ in (mine, theirs):
        endpoints = tenant_.api.ok("GET", "/api/v0/endptjobs/")["results"]
        assert ids(endpoints) == {tenant_.endpoint["id"], tenant_.other_endpoint["id"]}
        assert {row["user_id"] for row in endpoints} == {tenant_.endpoint["user_id"]}
        for path in ("/api/v0/autojobs/", "/api/v0/workergroups"):
            assert ids(tenant_.api.ok("GET", path)["results"]) == {tenant_.group["id"], tenant_.other_group["id"]}


def test_an_endpoint_name_is_looked_up_in_your_own_account_only(mine, theirs):
    made = mine.api.ok("POST", "/api/v0/autojobs/", {"endpoint_name": "demo"})
    assert mine.api.ok("GET", f"/api/v0/autojobs/{made['id']}/")["result"]["endpoint_id"] == mine.endpoint["id"]
    for tenant_ in (mine, theirs):
        body = {"api_key": tenant_.api.key, "endpoint": "demo"}
        assert tenant_.api.ok("POST", "/get_endpoint_stats/", body)["id"] == tenant_.endpoint["id"]


def test_another_accounts_workers_and_reports_never_show_in_yours(mine, theirs):
    assert theirs.api.report(theirs.worker, cur_load=4.0, max_perf=50.0)[0] == 200
    body = {"api_key": mine.api.key, "id": mine.endpoint["id"]}
    workers = mine.api.ok("POST", "/get_endpoint_workers/", body, key=None)
    assert ids(workers) == {mine.worker["id"]}
    stats = mine.api.ok("POST", "/get_endpoint_stats/", body, key=None)
    assert (stats["nworkers"], stats["capacity"], stats["curload"]) == (1, 10.0, 0.0)
    group = {"api_key": mine.api.key, "id": mine.group["id"]}
    assert ids(mine.api.ok("POST", "/get_autogroup_workers/", group, key=None)) == {mine.worker["id"]}


def test_a_new_account_sees_nothing_of_the_others(mine, theirs, admin_on):
    created = mine.api.ok("POST", "/admin/accounts/", {"name": "newcomer"}, key=ADMIN_TOKEN)
    newcomer = created["api_key"]
    assert mine.api.ok("GET", "/api/v0/endptjobs/", key=newcomer)["results"] == []
    assert mine.api.ok("GET", "/api/v0/autojobs/", key=newcomer)["results"] == []
    status, _ = mine.api.call("GET", f"/api/v0/endptjobs/{mine.endpoint['id']}/", key=newcomer)
    assert status == 404


def test_the_admin_token_is_not_an_account_key(mine, admin_on):
    status, reply = mine.api.call("GET", "/api/v0/endptjobs/", key=ADMIN_TOKEN)
    VAST.check(status, reply, 401, "unauthorized")


# --- endpoint keys --------------------------------------------------------------------------

STATS_AND_WORKERS = ["/get_endpoint_stats/", "/get_endpoint_workers/", "/get_autogroup_stats/",
                     "/get_autogroup_workers/"]


def test_an_endpoint_key_reads_its_own_endpoint_and_groups(mine):
    key = mine.endpoint["api_key"]
    for body in ({"endpoint": "demo"}, {"id": mine.endpoint["id"]}):
        assert mine.api.ok("POST", "/get_endpoint_stats/", {"api_key": key, **body}, key=None)["nworkers"] == 1
        workers = mine.api.ok("POST", "/get_endpoint_workers/", {"api_key": key, **body}, key=None)
        assert ids(workers) == {mine.worker["id"]}
    group = {"api_key": key, "id": mine.group["id"]}
    assert ids(mine.api.ok("POST", "/get_autogroup_workers/", group, key=None)) == {mine.worker["id"]}


@pytest.mark.parametrize("path", STATS_AND_WORKERS)
@pytest.mark.parametrize("by_name", [False, True], ids=["by id", "by name"])
def test_an_endpoint_key_cannot_read_its_accounts_other_endpoints_stats_or_workers(mine, path, by_name):
    """(Another account's: tests/surfaces/test_isolation.py, with each key the calls take.)"""
    endpoint, group = mine.other_endpoint, mine.other_group
    if "autogroup" in path:
        body = {"id": group["id"]}
    else:
        body = {"endpoint": endpoint["endpoint_name"]} if by_name else {"id": endpoint["id"]}
    status, reply = mine.api.call("POST", path, {"api_key": mine.endpoint["api_key"], **body}, key=None)
    VAST.check(status, reply, 404, "not_found")


def test_an_endpoint_key_names_only_its_own_endpoint(mine, theirs):
    """Both accounts have a "demo": each endpoint key reaches its own."""
    for tenant_ in (mine, theirs):
        body = {"api_key": tenant_.endpoint["api_key"], "endpoint": "demo"}
        assert tenant_.api.ok("POST", "/get_endpoint_stats/", body, key=None)["id"] == tenant_.endpoint["id"]


def test_an_endpoint_key_routes_only_to_its_own_endpoint(mine):
    """Not to another endpoint of its account (another account's: tests/surfaces/test_isolation.py)."""
    before = mine.snapshot()
    status, reply = mine.api.call("POST", "/route/", {"endpoint": "side", "api_key": mine.endpoint["api_key"]},
                                  key=None)
    VAST.check(status, reply, 404, "not_found")
    assert mine.snapshot() == before  # no unmet demand counted, nothing routed


def test_a_deleted_endpoints_key_opens_nothing(mine):
    key = mine.other_endpoint["api_key"]
    mine.api.ok("DELETE", f"/api/v0/endptjobs/{mine.other_endpoint['id']}/")
    for path, body in (("/route/", {"endpoint": "side"}), ("/get_endpoint_stats/", {"endpoint": "side"}),
                       ("/get_autogroup_workers/", {"id": mine.other_group["id"]})):
        status, reply = mine.api.call("POST", path, {"api_key": key, **body}, key=None)
        VAST.check(status, reply, 401, "unauthorized")


# --- worker tokens --------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["my other worker", "their worker"])
@pytest.mark.parametrize("path", ["/worker_status/", "/delete_requests/"])
def test_an_mtoken_cannot_report_as_another_worker(mine, theirs, target, path):
    victim = mine.other_worker if target == "my other worker" else theirs.worker
    before = mine.snapshot(), theirs.shown()
    if path == "/worker_status/":
        body = {"id": victim["id"], "cur_load": 9.0, "error_msg": "hijacked"}
    else:
        body = {"worker_id": victim["id"], "requests": [{"success": False}] * 5}
    status, reply = mine.api.call("POST", path, {**body, "mtoken": mine.worker["mtoken"]}, key=None)
    VAST.check(status, reply, 401, "unauthorized", "mtoken")
    assert (mine.snapshot(), theirs.shown()) == before


# --- keys are compared in constant time -----------------------------------------------------

def test_account_and_endpoint_keys_are_compared_in_constant_time(mine, compared):
    mine.api.ok("GET", "/api/v0/endptjobs/")
    mine.api.ok("POST", "/get_endpoint_stats/", {"api_key": mine.endpoint["api_key"], "endpoint": "demo"}, key=None)
    for key in (mine.api.key, mine.endpoint["api_key"]):
        assert (hash_secret(key), hash_secret(key)) in compared
