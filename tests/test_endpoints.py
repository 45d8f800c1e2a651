"""Endpoint groups (`/api/v0/endptjobs/`): Vast's fields, defaults and reply shapes."""
from __future__ import annotations

import json

from vastai.data.endpoint import EndpointData

VAST_DEFAULTS = {"min_load": 0.0, "min_cold_load": 0.0, "target_util": 0.9, "cold_mult": 2.5, "cold_workers": 5,
                 "max_workers": 20, "max_queue_time": 30.0, "target_queue_time": 10.0}


def test_create_replies_with_the_id_and_the_row_has_vasts_defaults(api):
    reply = api.ok("POST", "/api/v0/endptjobs/", {"endpoint_name": "llm", "client_id": "me"})
    assert reply == {"success": True, "result": reply["result"]} and isinstance(reply["result"], int)
    row = api.ok("GET", f"/api/v0/endptjobs/{reply['result']}/")["result"]
    assert {k: row[k] for k in VAST_DEFAULTS} == VAST_DEFAULTS
    assert row["endpoint_name"] == "llm" and row["endpoint_state"] == "active"
    assert row["api_key"].startswith("ek_")


def test_rows_parse_with_the_sdks_own_endpoint_data(api):
    api.endpoint("a", min_load=5, target_util=0.8)
    listed = api.ok("GET", "/api/v0/endptjobs/?client_id=me")
    assert listed["success"] is True
    (data,) = [EndpointData.from_dict(row) for row in listed["results"]]
    assert (data.config.endpoint_name, data.config.min_load, data.config.target_util) == ("a", 5, 0.8)


def test_the_key_may_come_as_a_query_parameter_and_paths_take_either_slash(api):
    api.endpoint("a")
    by_param = api.ok("GET", f"/api/v0/endptjobs?api_key={api.key}", key=None)
    assert [r["endpoint_name"] for r in by_param["results"]] == ["a"]
    assert api.ok("GET", "/api/v0/endptjobs")["results"] == by_param["results"]


def test_update_changes_only_what_is_given(api):
    endpoint = api.endpoint("a", max_workers=7)
    updated = api.ok("PUT", f"/api/v0/endptjobs/{endpoint['id']}/", {"min_load": 50, "endpoint_state": "suspended"})
    row = updated["result"]
    assert (row["min_load"], row["endpoint_state"], row["max_workers"]) == (50, "suspended", 7)
    assert row["api_key"] == endpoint["api_key"]


def test_names_are_unique_per_account(api, other_api):
    api.endpoint("a")
    status, reply = api.call("POST", "/api/v0/endptjobs/", {"endpoint_name": "a"})
    assert status == 409 and "'a'" in reply["msg"]
    other_api.endpoint("a")  # another account may use the name


def test_delete_removes_the_endpoint_its_groups_and_its_key(api):
    endpoint = api.endpoint("a")
    api.group(endpoint)
    assert api.ok("DELETE", f"/api/v0/endptjobs/{endpoint['id']}/") == {"success": True}
    assert api.ok("GET", "/api/v0/endptjobs/")["results"] == []
    assert api.ok("GET", "/api/v0/autojobs/")["results"] == []
    status, _ = api.call("POST", "/route/", {"endpoint": "a", "api_key": endpoint["api_key"]}, key=None)
    assert status == 401
    assert api.call("DELETE", f"/api/v0/endptjobs/{endpoint['id']}/")[0] == 404


def test_ten_racing_creates_of_one_name_make_one_endpoint(api, dynamodb_requests):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    barrier = Barrier(10)

    def create(_):
        barrier.wait()
        return api.call("POST", "/api/v0/endptjobs/", {"endpoint_name": "racing"})[0]

    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(pool.map(create, range(10)))
    assert statuses == [200] + [409] * 9
    assert [r["endpoint_name"] for r in api.ok("GET", "/api/v0/endptjobs/")["results"]] == ["racing"]
    # What makes it hold on DynamoDB too: the name is claimed by a conditional put in the endpoint's transaction.
    creates = [p for op, p in dynamodb_requests if op == "TransactWriteItems"
               and any("Put" in i and i["Put"]["TableName"].endswith("-endpoints") for i in p["TransactItems"])]
    assert creates and all(any(i.get("Put", {}).get("ConditionExpression", "").startswith("attribute_not_exists")
                               and "endpoint-name#" in json.dumps(i) for i in p["TransactItems"]) for p in creates)


def test_a_rename_releases_the_old_name_and_a_delete_releases_the_name(api):
    first = api.endpoint("a")
    api.ok("PUT", f"/api/v0/endptjobs/{first['id']}/", {"endpoint_name": "b"})
    second = api.endpoint("a")  # free again
    assert api.call("PUT", f"/api/v0/endptjobs/{second['id']}/", {"endpoint_name": "b"})[0] == 409
    api.ok("DELETE", f"/api/v0/endptjobs/{first['id']}/")
    api.ok("PUT", f"/api/v0/endptjobs/{second['id']}/", {"endpoint_name": "b"})
    assert [r["endpoint_name"] for r in api.ok("GET", "/api/v0/endptjobs/")["results"]] == ["b"]


def test_route_reads_the_endpoint_settings_its_key_carries_after_every_update(api):
    endpoint = api.endpoint("a")
    api.ok("PUT", f"/api/v0/endptjobs/{endpoint['id']}/", {"endpoint_name": "renamed", "endpoint_state": "stopped"})
    route = {"api_key": endpoint["api_key"], "cost": 1}
    assert api.call("POST", "/route/", {**route, "endpoint": "a"}, key=None)[0] == 404
    assert api.ok("POST", "/route/", {**route, "endpoint": "renamed"}, key=None)["status"] == "no workers ready"
