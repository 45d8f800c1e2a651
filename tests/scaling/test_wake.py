"""Queueing wakes the scaler for its endpoint at once: over HTTP locally, a Lambda on AWS."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.core.store import Endpoint
from chalicelib.scaling import wake
from chalicelib.scaling.policy import should_wake
from devstack.stack import free_port


class WakeListener:
    """Stands where the local stack's scaler listens: records every wake it is sent."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/wake"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def listener(monkeypatch):
    server = WakeListener()
    monkeypatch.setenv("SCALE_WAKE_URL", server.url)
    wake._last_wake.clear()  # each test is a fresh API instance
    yield server
    server.server.shutdown()


@pytest.fixture
def endpoint(api):
    return api.endpoint("llm", target_queue_time=10.0, max_queue_time=30.0)


def route(api, endpoint):
    body = {"endpoint": endpoint["endpoint_name"], "api_key": endpoint["api_key"], "cost": 10}
    return api.ok("POST", "/route/", body, key=None)


def row(endpoint: dict) -> Endpoint:
    return next(e for e in Endpoint.scan() if int(e.endpoint_id) == endpoint["id"])


def test_a_request_that_would_wait_over_a_tenth_of_target_queue_time_wakes_the_scaler():
    assert not should_wake(1.0, 10.0) and should_wake(1.1, 10.0)
    assert should_wake(None, 10.0)  # no worker ready at all: scaling from zero


def test_queueing_wakes_the_scaler_once_per_interval(api, endpoint, listener, dynamodb_calls):
    group = api.group(endpoint)
    api.ready_worker(group, max_perf=10.0)
    account_id = row(endpoint).account_id
    dynamodb_calls.clear()
    for _ in range(2):  # 0 and 10 units ahead: waits of 0 and 1 s
        assert route(api, endpoint)["url"]
    assert listener.received == [] and "UpdateItem" in dynamodb_calls  # only the routing's own write
    calls_before = sum(dynamodb_calls.values())
    route(api, endpoint)  # 20 units ahead: 2 s > 1 s
    assert sum(dynamodb_calls.values()) - calls_before == 4  # the usual 3, and the wake's conditional write
    assert listener.received == [{"account_id": account_id, "endpoint_id": endpoint["id"]}]
    for _ in range(3):
        route(api, endpoint)
    assert len(listener.received) == 1  # once per WAKE_INTERVAL_S


def test_with_no_worker_ready_the_first_request_wakes_the_scaler(api, endpoint, listener):
    api.group(endpoint)
    assert "url" not in route(api, endpoint)
    assert [w["endpoint_id"] for w in listener.received] == [endpoint["id"]]


def test_a_stopped_endpoint_is_not_woken(api, endpoint, listener):
    api.ok("PUT", f"/api/v0/endptjobs/{endpoint['id']}/", {"endpoint_state": "stopped"})
    route(api, endpoint)
    assert listener.received == []


def test_one_conditional_write_keeps_every_api_instance_to_one_wake_per_interval(api, endpoint, listener):
    target, now = row(endpoint), 1_800_000_000.0
    assert wake.wake(target, now)
    wake._last_wake.clear()  # another instance, which has not woken it itself
    assert not wake.wake(row(endpoint), now + 5)  # refused by the condition; this instance waits an interval
    assert not wake.wake(row(endpoint), now + 10)
    assert wake.wake(row(endpoint), now + 15)
    assert len(listener.received) == 2


def test_a_wake_that_cannot_be_delivered_does_not_fail_the_request(api, endpoint, monkeypatch):
    monkeypatch.setenv("SCALE_WAKE_URL", f"http://127.0.0.1:{free_port()}/wake")  # nothing listens
    wake._last_wake.clear()
    api.group(endpoint)
    assert route(api, endpoint)["status"] == "no workers ready"


def test_on_aws_the_wake_invokes_the_stage_scaler_asynchronously(api, endpoint, monkeypatch):
    client = boto3.client("lambda", region_name="us-east-1")
    stub = Stubber(client)
    payload = json.dumps({"account_id": int(row(endpoint).account_id), "endpoint_id": endpoint["id"]})
    stub.add_response("invoke", {"StatusCode": 202},
                      {"FunctionName": "gpucp-dev-scale-endpoint", "InvocationType": "Event", "Payload": payload})
    monkeypatch.setenv("SCALE_FUNCTION", "gpucp-dev-scale-endpoint")
    monkeypatch.setattr(wake.boto3, "client", lambda service, **kwargs: client)
    wake._last_wake.clear()
    with stub:
        assert wake.wake(row(endpoint), 1_800_000_000.0)
    stub.assert_no_pending_responses()


def test_a_wake_for_a_deleted_endpoint_brings_no_row_back(api, endpoint, listener):
    target = row(endpoint)
    api.ok("DELETE", f"/api/v0/endptjobs/{endpoint['id']}/")
    assert not wake.wake(target, 1_800_000_000.0)
    assert list(Endpoint.scan()) == [] and listener.received == []
