"""Worker groups (`/api/v0/autojobs/`, alias `/api/v0/workergroups/`) and bring-your-own workers."""
from __future__ import annotations

import pytest

from chalicelib.core.fleet import worker_groups
from chalicelib.core.fleet.worker_groups import effective_knobs
from chalicelib.core.store import Endpoint, Worker, WorkerGroup


def test_create_by_endpoint_name_or_id_with_vasts_fields(api):
    endpoint = api.endpoint("llm")
    by_name = api.ok("POST", "/api/v0/autojobs/", {"endpoint_name": "llm", "search_params": "gpu_ram>=23",
                                                   "template_hash": "abc", "launch_args": "--x", "gpu_ram": 24})
    assert by_name["success"] and by_name["result"] == by_name["id"]
    by_id = api.ok("POST", "/api/v0/workergroups/", {"endpoint_id": endpoint["id"], "search_params": {"verified": True},
                                                     "test_workers": 1, "cold_workers": 0})
    rows = {r["id"]: r for r in api.ok("GET", "/api/v0/workergroups/")["results"]}
    first, second = rows[by_name["id"]], rows[by_id["id"]]
    assert (first["endpoint_name"], first["search_params"], first["gpu_ram"], first["test_workers"]) == (
        "llm", "gpu_ram>=23", 24, 3)
    assert (second["endpoint_id"], second["search_params"], second["test_workers"]) == (
        endpoint["id"], '{"verified": true}', 1)
    assert api.ok("GET", "/api/v0/autojobs/")["results"] == api.ok("GET", "/api/v0/workergroups")["results"]


def test_an_id_and_a_name_naming_two_endpoints_is_a_400_naming_both_and_one_endpoint_is_fine(api):
    one, two = api.endpoint("one"), api.endpoint("two")
    status, reply = api.call("POST", "/api/v0/autojobs/", {"endpoint_id": one["id"], "endpoint_name": "two"})
    assert status == 400 and "'endpoint_id'" in reply["msg"] and "'endpoint_name'" in reply["msg"], reply
    group = api.ok("POST", "/api/v0/autojobs/", {"endpoint_id": one["id"], "endpoint_name": "one"})
    status, reply = api.call("PUT", f"/api/v0/autojobs/{group['id']}/",
                             {"endpoint_id": two["id"], "endpoint_name": "one"})
    assert status == 400, reply
    assert api.ok("GET", f"/api/v0/autojobs/{group['id']}/")["result"]["endpoint_id"] == one["id"]


def test_an_endpoint_is_required_and_must_exist(api):
    status, reply = api.call("POST", "/api/v0/autojobs/", {"min_load": 1})
    assert status == 400 and "endpoint_name" in reply["msg"]
    assert api.call("POST", "/api/v0/autojobs/", {"endpoint_name": "ghost"})[0] == 404
    assert api.call("POST", "/api/v0/autojobs/", {"endpoint_id": 999})[0] == 404


def test_update_and_delete(api):
    group = api.group(api.endpoint("llm"))
    row = api.ok("PUT", f"/api/v0/autojobs/{group['id']}/", {"max_workers": 3, "launch_args": "-p 80"})["result"]
    assert (row["max_workers"], row["launch_args"], row["min_load"]) == (3, "-p 80", None)
    assert api.ok("DELETE", f"/api/v0/workergroups/{group['id']}/") == {"success": True}
    assert api.call("GET", f"/api/v0/autojobs/{group['id']}/")[0] == 404


FIELDS = ("min_load", "min_cold_load", "target_util", "cold_mult", "cold_workers", "max_workers", "test_workers",
          "gpu_ram", "perf_hint", "search_params", "template_hash", "template_id", "launch_args", "endpoint_id")
SET = {"min_load": 5.0, "min_cold_load": 3.0, "target_util": 0.7, "cold_mult": 1.5, "cold_workers": 2,
       "max_workers": 9, "test_workers": 2, "gpu_ram": 24.0, "perf_hint": 12.5,
       "search_params": "gpu_ram>=24 verified=True", "template_hash": "abc", "template_id": 11,
       "launch_args": "--disk 64"}
NEW = {"min_load": 6.0, "min_cold_load": 4.0, "target_util": 0.8, "cold_mult": 2.0, "cold_workers": 3,
       "max_workers": 7, "test_workers": 1, "gpu_ram": 16.0, "perf_hint": 8.0,
       "search_params": "gpu_ram>=16 verified=True", "template_hash": "def", "template_id": 12,
       "launch_args": "--disk 32"}


def _stored(api, group_id: int) -> dict:
    row = api.ok("GET", f"/api/v0/autojobs/{group_id}/")["result"]
    return {name: row[name] for name in FIELDS}


@pytest.mark.parametrize("field", FIELDS)
def test_an_update_naming_one_field_changes_it_and_keeps_every_other_even_sent_as_null(api, field):
    """What the vastai CLI sends: every field, null where not given, and its default search alone."""
    first, second = api.endpoint("one"), api.endpoint("two")
    group_id = api.ok("POST", "/api/v0/autojobs/", {**SET, "endpoint_id": first["id"]})["id"]
    before = _stored(api, group_id)
    new = {**NEW, "endpoint_id": second["id"]}
    body = {"client_id": "me", "autojob_id": group_id, **{name: None for name in FIELDS}, "endpoint_name": None,
            "search_params": "verified=True rentable=True rented=False", field: new[field]}
    api.ok("PUT", f"/api/v0/autojobs/{group_id}/", body)
    assert _stored(api, group_id) == {**before, field: new[field]}


@pytest.mark.parametrize(("field", "bad"), [("min_load", -2), ("target_util", 0), ("cold_workers", 1.5),
                                             ("gpu_ram", "24"), ("perf_hint", 0), ("perf_hint", -2.0),
                                             ("template_hash", 7), ("template_id", -3),
                                             ("search_params", "gpu_ram"), ("search_params", "gpu_name in []"),
                                             ("search_params", '{"gpu_ram": {"gte": 24}')])
def test_a_value_given_in_an_update_is_validated_as_on_create(api, field, bad):
    endpoint = api.endpoint("one")
    group_id = api.ok("POST", "/api/v0/autojobs/", {**SET, "endpoint_id": endpoint["id"]})["id"]
    before = _stored(api, group_id)
    status, reply = api.call("PUT", f"/api/v0/autojobs/{group_id}/", {field: bad, "max_workers": 1})
    assert status == 400 and f"'{field}'" in reply["msg"]
    assert api.call("POST", "/api/v0/autojobs/", {**SET, "endpoint_id": endpoint["id"], field: bad})[0] == 400
    assert _stored(api, group_id) == before


def test_a_group_without_workers_moves_to_another_endpoint(api):
    group = api.group(api.endpoint("one"))
    other = api.endpoint("two")
    row = api.ok("PUT", f"/api/v0/autojobs/{group['id']}/", {"endpoint_id": other["id"]})["result"]
    assert row["endpoint_id"] == other["id"]
    assert api.ok("GET", f"/api/v0/autojobs/{group['id']}/")["result"]["endpoint_id"] == other["id"]


def test_a_group_with_workers_does_not_move_and_keeps_serving_its_endpoint(api):
    endpoint, other = api.endpoint("one"), api.endpoint("two")
    group = api.group(endpoint)
    worker = api.ready_worker(group, url="http://10.1.2.3:5000/x")
    status, reply = api.call("PUT", f"/api/v0/autojobs/{group['id']}/", {"endpoint_id": other["id"]})
    assert status == 409 and "has workers" in reply["msg"], reply
    assert api.ok("GET", f"/api/v0/autojobs/{group['id']}/")["result"]["endpoint_id"] == endpoint["id"]
    listed = api.ok("POST", "/get_autogroup_workers/", {"id": group["id"]})
    assert [w["id"] for w in listed] == [worker["id"]]


def test_a_group_does_not_move_to_an_endpoint_with_the_most_groups(api, monkeypatch):
    monkeypatch.setattr(worker_groups, "MAX_GROUPS", 2)
    full, other = api.endpoint("full"), api.endpoint("other")
    api.group(full), api.group(full)
    group = api.group(other)
    status, reply = api.call("PUT", f"/api/v0/autojobs/{group['id']}/", {"endpoint_id": full["id"]})
    assert status == 409 and "at most 2 worker groups" in reply["msg"], reply
    assert api.ok("GET", f"/api/v0/autojobs/{group['id']}/")["result"]["endpoint_id"] == other["id"]


@pytest.mark.parametrize("search", ["rented=False", "verified=True verified=True rentable=True rented=False"])
def test_a_search_of_the_clis_default_terms_given_on_purpose_is_applied(api, search):
    """(The CLI sends exactly its three default terms when no --search_params is given: those keep.)"""
    group_id = api.ok("POST", "/api/v0/autojobs/", {**SET, "endpoint_name": api.endpoint("one")["endpoint_name"]})["id"]
    api.ok("PUT", f"/api/v0/autojobs/{group_id}/", {"search_params": search})
    assert api.ok("GET", f"/api/v0/autojobs/{group_id}/")["result"]["search_params"] == search


def test_an_empty_text_clears_it(api):
    group_id = api.ok("POST", "/api/v0/autojobs/", {**SET, "endpoint_name": api.endpoint("one")["endpoint_name"]})["id"]
    row = api.ok("PUT", f"/api/v0/autojobs/{group_id}/", {"launch_args": "", "template_hash": ""})["result"]
    assert (row["launch_args"], row["template_hash"], row["template_id"]) == (None, None, 11)


def test_a_group_follows_its_endpoints_knobs_unless_it_sets_its_own(api):
    endpoint = api.endpoint("one", min_load=5, cold_workers=2, max_workers=9)
    group = api.ok("GET", f"/api/v0/autojobs/{api.group(endpoint, max_workers=4)['id']}/")["result"]
    assert (group["min_load"], group["cold_workers"], group["max_workers"]) == (None, None, 4)
    stored = WorkerGroup.get(api.account_id, group["id"])
    endpoint_row = Endpoint.get(api.account_id, endpoint["id"])
    knobs = effective_knobs(stored, endpoint_row)
    assert (knobs["min_load"], knobs["cold_workers"], knobs["max_workers"], knobs["test_workers"]) == (5, 2, 4, 3)
    api.ok("PUT", f"/api/v0/endptjobs/{endpoint['id']}/", {"min_load": 8})
    assert effective_knobs(stored, Endpoint.get(api.account_id, endpoint["id"]))["min_load"] == 8


def test_minus_one_in_an_update_makes_a_group_follow_its_endpoint_again(api):
    endpoint = api.endpoint("one", min_load=3, cold_workers=2)
    group_id = api.group(endpoint, min_load=7, cold_workers=4, perf_hint=8.0)["id"]
    row = api.ok("PUT", f"/api/v0/autojobs/{group_id}/", {"min_load": -1, "min_workers": -1, "perf_hint": -1})["result"]
    assert (row["min_load"], row["cold_workers"], row["perf_hint"]) == (None, None, None)
    knobs = effective_knobs(WorkerGroup.get(api.account_id, group_id), Endpoint.get(api.account_id, endpoint["id"]))
    assert (knobs["min_load"], knobs["cold_workers"]) == (3, 2)
    status, reply = api.call("PUT", f"/api/v0/autojobs/{group_id}/", {"min_workers": -1, "cold_workers": 3})
    assert status == 400 and "'min_workers'" in reply["msg"]
    for field in ("test_workers", "gpu_ram"):  # the group's own: no endpoint value to follow
        status, reply = api.call("PUT", f"/api/v0/autojobs/{group_id}/", {field: -1})
        assert status == 400 and f"'{field}'" in reply["msg"]


def test_registering_a_worker_returns_its_id_and_token_once_and_stores_only_a_hash(api):
    group = api.group(api.endpoint("llm"))
    first, second = api.worker(group), api.worker(group)
    assert first["id"] != second["id"] and first["mtoken"] != second["mtoken"]
    stored = [w.attribute_values for w in Worker.scan()]
    assert len(stored) == 2
    assert not any(first["mtoken"] in str(value) for row in stored for value in row.values())


def test_a_registered_worker_is_stored_registered_and_shown_as_vasts_starting(api):
    from chalicelib.core.fleet.workers import Status

    worker = api.worker(api.group(api.endpoint("e")))
    assert Worker.scan().next().status == Status.REGISTERED
    rows = api.ok("POST", "/get_endpoint_workers/", {"api_key": api.key, "endpoint": "e"}, key=None)
    assert [(r["id"], r["status"]) for r in rows] == [(worker["id"], "starting")]
