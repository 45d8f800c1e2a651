"""Worker groups (`/api/v0/autojobs/`, alias `/api/v0/workergroups/`) and bring-your-own workers."""
from __future__ import annotations

from chalicelib.models import Worker


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


def test_an_endpoint_is_required_and_must_exist(api):
    status, reply = api.call("POST", "/api/v0/autojobs/", {"min_load": 1})
    assert status == 400 and "endpoint_name" in reply["msg"]
    assert api.call("POST", "/api/v0/autojobs/", {"endpoint_name": "ghost"})[0] == 404
    assert api.call("POST", "/api/v0/autojobs/", {"endpoint_id": 999})[0] == 404


def test_update_and_delete(api):
    group = api.group(api.endpoint("llm"))
    row = api.ok("PUT", f"/api/v0/autojobs/{group['id']}/", {"max_workers": 3, "launch_args": "-p 80"})["result"]
    assert (row["max_workers"], row["launch_args"], row["min_load"]) == (3, "-p 80", 0.0)
    assert api.ok("DELETE", f"/api/v0/workergroups/{group['id']}/") == {"success": True}
    assert api.call("GET", f"/api/v0/autojobs/{group['id']}/")[0] == 404


def test_registering_a_worker_returns_its_id_and_token_once_and_stores_only_a_hash(api):
    group = api.group(api.endpoint("llm"))
    first, second = api.worker(group), api.worker(group)
    assert first["id"] != second["id"] and first["mtoken"] != second["mtoken"]
    stored = [w.attribute_values for w in Worker.scan()]
    assert len(stored) == 2
    assert not any(first["mtoken"] in str(value) for row in stored for value in row.values())
