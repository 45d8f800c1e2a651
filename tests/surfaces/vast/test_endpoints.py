"""Endpoint groups (`/api/v0/endptjobs/`): Vast's fields, defaults and reply shapes."""
from __future__ import annotations

import json

import pytest
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


SET = {"min_load": 5.0, "min_cold_load": 3.0, "target_util": 0.7, "cold_mult": 1.5, "cold_workers": 2,
       "max_workers": 9, "max_queue_time": 20.0, "target_queue_time": 8.0, "inactivity_timeout": 600,
       "endpoint_state": "suspended", "endpoint_name": "before"}
NEW = {"min_load": 6.0, "min_cold_load": 4.0, "target_util": 0.8, "cold_mult": 2.0, "cold_workers": 3,
       "max_workers": 7, "max_queue_time": 25.0, "target_queue_time": 9.0, "inactivity_timeout": 900,
       "endpoint_state": "active", "endpoint_name": "after"}


@pytest.mark.parametrize("field", sorted(NEW))
def test_an_update_naming_one_field_changes_it_and_keeps_every_other_even_sent_as_null(api, field):
    """What the vastai CLI sends: every field, the ones not given as null."""
    endpoint_id = api.ok("POST", "/api/v0/endptjobs/", SET)["result"]
    body = {"client_id": "me", "endptjob_id": endpoint_id, "autoscaler_instance": "prod",
            **{name: None for name in NEW}, field: NEW[field]}
    api.ok("PUT", f"/api/v0/endptjobs/{endpoint_id}/", body)
    row = api.ok("GET", f"/api/v0/endptjobs/{endpoint_id}/")["result"]
    assert {name: row[name] for name in NEW} == {**SET, field: NEW[field]}


@pytest.mark.parametrize(("field", "bad"), [("min_load", -1), ("target_util", 1.5), ("cold_workers", 2.5),
                                             ("max_queue_time", 0), ("inactivity_timeout", -2),
                                             ("endpoint_state", "paused"), ("endpoint_name", " x")])
def test_a_value_given_in_an_update_is_validated_as_on_create(api, field, bad):
    endpoint_id = api.ok("POST", "/api/v0/endptjobs/", SET)["result"]
    status, reply = api.call("PUT", f"/api/v0/endptjobs/{endpoint_id}/", {field: bad})
    assert status == 400 and f"'{field}'" in reply["msg"]
    assert api.call("POST", "/api/v0/endptjobs/", {**SET, "endpoint_name": "other", field: bad})[0] == 400
    row = api.ok("GET", f"/api/v0/endptjobs/{endpoint_id}/")["result"]
    assert {name: row[name] for name in NEW} == SET


def test_inactivity_timeout_minus_one_removes_it(api):
    endpoint_id = api.ok("POST", "/api/v0/endptjobs/", SET)["result"]
    row = api.ok("PUT", f"/api/v0/endptjobs/{endpoint_id}/", {"inactivity_timeout": -1})["result"]
    assert row["inactivity_timeout"] is None and row["min_load"] == SET["min_load"]


def test_min_workers_is_cold_workers_under_vasts_newer_name(api):
    endpoint_id = api.ok("POST", "/api/v0/endptjobs/", {"endpoint_name": "a", "min_workers": 1})["result"]
    row = api.ok("GET", f"/api/v0/endptjobs/{endpoint_id}/")["result"]
    assert (row["cold_workers"], row["min_workers"]) == (1, 1)
    row = api.ok("PUT", f"/api/v0/endptjobs/{endpoint_id}/", {"min_workers": 4, "cold_workers": None})["result"]
    assert (row["cold_workers"], row["min_workers"]) == (4, 4)
    status, reply = api.call("PUT", f"/api/v0/endptjobs/{endpoint_id}/", {"min_workers": 2, "cold_workers": 3})
    assert status == 400 and "'min_workers'" in reply["msg"]


@pytest.mark.parametrize(("body", "named"), [({"min_workers": "x"}, "'min_workers'"),
                                             ({"min_workers": True, "cold_workers": 1}, "'min_workers'"),
                                             ({"min_workers": 2, "cold_workers": "x"}, "'cold_workers'")])
def test_a_bad_min_workers_is_named_as_sent(api, body, named):
    status, reply = api.call("POST", "/api/v0/endptjobs/", {"endpoint_name": "e2", **body})
    assert status == 400 and named in reply["msg"], reply


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
