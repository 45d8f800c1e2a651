"""`/route/` and `/pubkey/`: least expected queue, never past max_queue_time, signed replies."""
from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from chalicelib.core.fleet import routing, workers
from chalicelib.core.store import Worker


@pytest.fixture
def endpoint(api):
    return api.endpoint("llm", max_queue_time=5.0)


@pytest.fixture
def group(api, endpoint):
    return api.group(endpoint)


def route(api, endpoint, **fields):
    body = {"endpoint": endpoint["endpoint_name"], "api_key": endpoint["api_key"], "cost": 10, **fields}
    return api.ok("POST", "/route/", body, key=None)


def test_routes_to_a_ready_worker_with_a_signature_workers_can_verify(api, endpoint, group):
    api.ready_worker(group, url="http://10.0.0.7:5000")
    reply = route(api, endpoint)

    assert reply["url"] == "http://10.0.0.7:5000"
    assert reply["endpoint"] == "llm" and reply["cost"] == 10 and reply["reqnum"] == 1
    assert reply["request_idx"] > 0 and reply["__request_id"] == str(reply["request_idx"])
    pem = api.client.http.get("/pubkey/").body
    public = serialization.load_pem_public_key(pem)
    message = json.dumps({"url": reply["url"]}, indent=4, sort_keys=True).encode()
    public.verify(base64.b64decode(reply["signature"]), message, padding.PKCS1v15(), hashes.SHA256())


def test_the_public_key_is_stable_and_the_private_key_never_leaves(api, client, endpoint, group):
    first, second = client.http.get("/pubkey").body, client.http.get("/pubkey/").body
    assert first == second and first.startswith(b"-----BEGIN PUBLIC KEY-----")
    api.ready_worker(group)
    assert b"PRIVATE" not in json.dumps(route(api, endpoint)).encode()


def test_requests_spread_by_expected_queue_time(api, endpoint, group):
    fast = api.ready_worker(group, url="http://fast:1", max_perf=30.0)
    slow = api.ready_worker(group, url="http://slow:1", max_perf=10.0)
    urls = [route(api, endpoint)["url"] for _ in range(8)]
    # Each routed request adds its cost to the chosen worker's queue until it reports.
    assert urls.count("http://fast:1") == 6 and urls.count("http://slow:1") == 2
    assert fast["id"] != slow["id"]


def test_a_worker_whose_queue_exceeds_max_queue_time_is_never_chosen(api, endpoint, group):
    api.ready_worker(group, max_perf=10.0)  # 5 s of queue = 50 units = 5 requests
    routed = [route(api, endpoint) for _ in range(7)]
    assert ["url" in r for r in routed] == [True] * 6 + [False]


def test_no_ready_worker_means_no_url_and_unmet_demand_counted_once(api, endpoint, group):
    api.worker(group)  # registered, still starting
    first = route(api, endpoint)
    assert "url" not in first and first["request_idx"] > 0
    again = route(api, endpoint, request_idx=first["request_idx"])  # the client polling
    assert "url" not in again and again["request_idx"] == first["request_idx"]
    stats = api.ok("POST", "/get_endpoint_stats/", {"id": endpoint["id"], "api_key": endpoint["api_key"]}, key=None)
    assert stats["nworkers"] == 1 and stats["capacity"] == 0


def test_a_wrong_endpoint_name_or_key_is_refused(api, endpoint, other_api):
    status, _ = api.call("POST", "/route/", {"endpoint": "other", "api_key": endpoint["api_key"]}, key=None)
    assert status == 404
    status, _ = api.call("POST", "/route/", {"endpoint": "llm", "api_key": "ek_nope"}, key=None)
    assert status == 401
    status, _ = api.call("POST", "/route/", {"endpoint": "llm", "api_key": api.key}, key=None)
    assert status == 404  # an account key names no endpoint


def test_a_stopped_endpoint_routes_nowhere(api, endpoint, group):
    api.ready_worker(group)
    api.ok("PUT", f"/api/v0/endptjobs/{endpoint['id']}/", {"endpoint_state": "stopped"})
    assert "url" not in route(api, endpoint)


def test_a_worker_a_scaling_pass_withdrew_after_the_route_read_it_gets_no_request(api, endpoint, group, monkeypatch):
    api.ready_worker(group, url="http://leaving:1")
    api.ready_worker(group, url="http://staying:1")
    stale = workers.list_workers(endpoint["id"])  # what the route read...
    leaving = next(w for w in Worker.scan() if w.url == "http://leaving:1")
    leaving.update(actions=[Worker.status.set("stopping")])  # ...before a pass withdrew one
    monkeypatch.setattr(routing, "list_workers", lambda *args: stale)
    assert {route(api, endpoint)["url"] for _ in range(3)} == {"http://staying:1"}


def test_the_request_idx_given_out_is_one_the_route_call_accepts_back(api, endpoint, monkeypatch):
    from chalicelib.core.fleet import routing

    monkeypatch.setattr(routing.secrets, "randbelow", lambda n: n - 1)  # the largest it can draw
    first = route(api, endpoint)
    assert route(api, endpoint, request_idx=first["request_idx"])["request_idx"] == first["request_idx"]


def test_what_was_routed_to_a_worker_since_its_report_is_kept_until_the_next(api, endpoint, group):
    worker = api.ready_worker(group)
    route(api, endpoint), route(api, endpoint, cost=4)
    row = next(w for w in Worker.scan() if int(w.worker_id) == worker["id"])
    assert (row.routed_load, row.routed_requests, row.routed_count) == (14, 2, 2)
    api.report(worker, cur_load=1.0)
    row.refresh()
    assert (row.routed_load, row.routed_requests, row.routed_count) == (0, 0, 2)  # the reqnum goes on


def test_a_route_costs_three_dynamodb_requests(api, endpoint, group, dynamodb_calls):
    api.ready_worker(group)
    route(api, endpoint)
    dynamodb_calls.clear()
    assert "url" in route(api, endpoint)
    assert dict(dynamodb_calls) == {"GetItem": 1, "Query": 1, "UpdateItem": 1}  # the key, the workers, the pick


def test_a_worker_deleted_after_the_route_read_it_is_not_brought_back(api, endpoint, group, monkeypatch):
    api.ready_worker(group)
    real = workers.list_workers

    def read_then_deleted(*args):
        workers = real(*args)
        for worker in workers:
            Worker.get(worker.token_hash).delete()
        return workers

    monkeypatch.setattr(routing, "list_workers", read_then_deleted)
    assert route(api, endpoint)["status"] == "no workers ready"
    assert list(Worker.scan()) == []


def test_an_unknown_path_is_a_json_404_that_echoes_no_credential(api):
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        status, reply = api.call(method, "/routee", {"api_key": api.key})  # a path nobody owns
        assert status == 404 and reply == {"message": f"no such call: {method} /routee"}
        assert api.key not in json.dumps(reply)
