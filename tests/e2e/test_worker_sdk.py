"""worker_sdk against the running API: seed 001's notify calls, finished requests, signatures."""
from __future__ import annotations

import pytest
import requests

from devstack.stack import Stack, free_port
from worker_sdk import notify
from worker_sdk.signing import fetch_public_key, is_routed


@pytest.fixture(scope="module")
def stack():
    with Stack(port=free_port(), quiet=True) as running:
        yield running


@pytest.fixture
def fleet(stack):
    auth = {"Authorization": f"Bearer {stack.api_key}"}
    endpoint_id = requests.post(f"{stack.url}/api/v0/endptjobs/", json={"endpoint_name": f"sdk{free_port()}"},
                                headers=auth).json()["result"]
    endpoint = requests.get(f"{stack.url}/api/v0/endptjobs/{endpoint_id}/", headers=auth).json()["result"]
    group = requests.post(f"{stack.url}/api/v0/autojobs/", json={"endpoint_id": endpoint_id}, headers=auth).json()
    worker = requests.post(f"{stack.url}/api/v0/autojobs/{group['id']}/workers/", headers=auth).json()
    return endpoint, worker


def workers(stack, endpoint) -> list[dict]:
    return requests.post(f"{stack.url}/get_endpoint_workers/",
                         json={"id": endpoint["id"], "api_key": endpoint["api_key"]}).json()


def test_seed_001_notify_calls_as_the_hello_autoscaler_makes_them(stack, fleet, monkeypatch):
    endpoint, worker = fleet
    monkeypatch.setenv("WORKER_URL", "http://127.0.0.1:5999")
    data = {"id": worker["id"], "mtoken": worker["mtoken"]}
    assert notify.loaded(data=data, autoscaler_address=stack.url, load_time=1.5, max_perf=0.5)
    (row,) = workers(stack, endpoint)
    assert (row["status"], row["perf"], row["url"]) == ("idle", 0.5, "http://127.0.0.1:5999")

    assert notify.update(data, stack.url, 0.4, 12)
    assert workers(stack, endpoint)[0]["status"] == "running"
    assert notify.finished(data, stack.url, [{"request_idx": 1, "success": False}])
    assert workers(stack, endpoint)[0]["reliability"] < 1.0
    assert notify.error(data, stack.url, "out of memory")
    assert workers(stack, endpoint)[0]["status"] == "error"


def test_a_refused_report_returns_false_without_retrying(stack, fleet):
    _, worker = fleet
    assert notify.update({"id": worker["id"], "mtoken": "wrong"}, stack.url, 1.0, 1) is False


def test_routed_requests_verify_and_forged_ones_do_not(stack, fleet):
    endpoint, worker = fleet
    notify.loaded({"id": worker["id"], "mtoken": worker["mtoken"], "url": "http://127.0.0.1:5998"}, stack.url, 1.0, 5.0)
    reply = requests.post(f"{stack.url}/route/", json={"endpoint": endpoint["endpoint_name"],
                                                       "api_key": endpoint["api_key"], "cost": 1}).json()
    key = fetch_public_key(stack.url)
    assert is_routed(reply, key)
    assert not is_routed({**reply, "url": "http://evil:1"}, key)
    assert not is_routed({"url": reply["url"]}, key)
    assert not is_routed({**reply, "signature": "bm90IGEgc2lnbmF0dXJl"}, key)
