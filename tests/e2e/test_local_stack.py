"""The whole loop on one machine, through the public API only: `make run`'s stack, load
through /route/, LocalProvider workers that launch, report loaded, serve, and are
stopped or destroyed once the load is gone (but one, kept serving)."""
from __future__ import annotations

import http.client
import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import psutil
import pytest
import requests
from moto.server import ThreadedMotoServer

from devstack.stack import free_port
from tests.support.make_run import MakeRun

KEY = "e2e-local-key-0123456789"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = MakeRun(tmp_path_factory.mktemp("local-provider"), LOCAL_API_KEY=KEY, SCALE_INTERVAL="2",
                      SCALE_DOWN_DELAY_S="15", PREDICTION_WINDOW_S="20", LOAD_SECONDS="1", UPDATE_INTERVAL="2").start()
    yield running
    running.close()


def api(url: str, method: str, path: str, body: dict | None = None):
    reply = requests.request(method, url + path, json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_load_grows_the_fleet_which_serves_it_then_shrinks_when_it_ends(stack):
    url = stack.url
    (endpoint,) = api(url, "GET", "/api/v0/endptjobs/")["results"]
    (group,) = api(url, "GET", "/api/v0/autojobs/")["results"]
    body = {"id": endpoint["id"], "api_key": endpoint["api_key"]}
    # Each request claims 20 units of work: more than one worker's worth, so the fleet grows.
    route = {"endpoint": endpoint["endpoint_name"], "api_key": endpoint["api_key"], "cost": 20}

    served, deadline = 0, time.monotonic() + 90
    while served < 20:
        assert time.monotonic() < deadline, "no worker came up to serve the load"
        reply = api(url, "POST", "/route/", route)
        if "url" not in reply:
            time.sleep(0.2)  # unmet demand: what makes the scaler launch
            continue
        try:
            answer = requests.post(f"{reply['url']}/increment", json={"auth_data": reply, "payload": {"amount": 1}},
                                   timeout=10)
        except requests.ConnectionError:
            continue  # stopped by a pass that read the fleet just before this request was routed: route again
        assert answer.status_code == 200, answer.text
        served += 1

    workers = api(url, "POST", "/get_endpoint_workers/", body)
    assert any(w["status"] in ("running", "idle") and w["perf"] > 0 for w in workers)
    decisions = api(url, "GET", f"/api/v0/autojobs/{group['id']}/decisions/")["results"]
    assert any(d["action"] == "launch" and d["outcome"] == "ok" for d in decisions)

    # No more load: after the scale-down delay the fleet shrinks to the one worker an endpoint
    # in use keeps serving (until it has been idle for the pool's memory).
    deadline = time.monotonic() + 90
    while len([w for w in api(url, "POST", "/get_endpoint_workers/", body) if w["status"] in ("running", "idle")]) > 1:
        assert time.monotonic() < deadline, "the fleet did not shrink after the load ended"
        time.sleep(1)
    decisions = api(url, "GET", f"/api/v0/autojobs/{group['id']}/decisions/")["results"]
    assert any(d["action"] in ("stop", "destroy") and d["outcome"] == "ok" for d in decisions)
    assert api(url, "POST", "/get_endpoint_stats/", body)["totreqs"] >= 1


def test_a_burst_of_first_connections_is_answered_every_one(stack):
    # 20 clients, 10 requests each, every one on a new connection: chalice local's listen
    # backlog of 5 made the kernel drop some of those handshakes (a reset, or a second's wait).
    start = threading.Barrier(20)

    def client() -> list[int]:
        start.wait()
        statuses = []
        for _ in range(10):
            connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
            try:
                connection.request("GET", "/pubkey/")
                reply = connection.getresponse()
                reply.read()
                statuses.append(reply.status)
            finally:
                connection.close()
        return statuses

    with ThreadPoolExecutor(20) as pool:
        clients = [pool.submit(client) for _ in range(20)]
        statuses = [status for done in clients for status in done.result()]  # a reset raises here
    assert statuses == [200] * 200


@pytest.mark.parametrize("key", ["ключ".encode(), "clé".encode("latin-1")], ids=["utf-8", "latin-1"])
@pytest.mark.parametrize("path", ["/api/v0/endptjobs/", "/no/such/call"])
def test_a_non_ascii_authorization_header_is_answered_with_a_4xx(stack, key, path):
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    try:
        connection.putrequest("GET", path)
        connection.putheader("Authorization", b"Bearer " + key)  # bytes go on the wire as they are
        connection.endheaders()
        reply = connection.getresponse()  # the connection was dropped here: no reply at all
        body = json.loads(reply.read())
    finally:
        connection.close()
    assert reply.status == (401 if path.startswith("/api/") else 404)
    assert body["success"] is False if path.startswith("/api/") else body == {"message": "no such call: GET " + path}


def test_queueing_wakes_the_scaler_between_scheduled_passes(tmp_path):
    running = MakeRun(tmp_path, LOCAL_API_KEY=KEY, SCALE_INTERVAL="3600", LOAD_SECONDS="1",
                      UPDATE_INTERVAL="2").start()
    try:
        (endpoint,) = api(running.url, "GET", "/api/v0/endptjobs/")["results"]
        route = {"endpoint": endpoint["endpoint_name"], "api_key": endpoint["api_key"], "cost": 1}
        deadline = time.monotonic() + 60  # the next scheduled pass is an hour away
        while "url" not in api(running.url, "POST", "/route/", route):
            assert time.monotonic() < deadline, "/route/ found no worker and did not wake the scaler"
            time.sleep(0.5)
    finally:
        assert running.stop() == []


def test_ctrl_c_leaves_nothing_running_workers_included(stack):
    assert stack.stop() == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_make_run_in_the_background_of_a_script_stops_everything_on_a_signal(tmp_path, sig):
    # `make run &` in a script starts with SIGINT ignored: no KeyboardInterrupt would ever come.
    running = MakeRun(tmp_path, SCALE_INTERVAL="1", LOAD_SECONDS="60").start(background=True)
    try:
        running.wait_for_a_worker()  # loading for a minute: still running when the signal comes
    finally:
        assert running.stop(sig) == []


def test_make_run_stops_the_workers_a_crashed_run_left_running(tmp_path):
    crashed = MakeRun(tmp_path, SCALE_INTERVAL="1", LOAD_SECONDS="60").start()
    worker = crashed.wait_for_a_worker()
    left = crashed.processes()  # its DynamoDB and API outlive it too (sessions of their own)
    crashed.process.kill()  # no cleanup at all
    crashed.process.wait()
    try:
        assert worker.is_running()
        running = MakeRun(tmp_path, DEMO_ENDPOINT="0").start()  # the same LOCAL_PROVIDER_DIR
        assert f"stopped 1 worker(s) a previous run left running (pids [{worker.pid}])" in running.banner
        assert not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE
        assert running.stop() == []
    finally:
        for process in left:
            try:
                process.kill()  # psutil checks it is still the same process first
            except psutil.NoSuchProcess:
                pass


def test_a_closed_terminal_cleans_up_like_ctrl_c(tmp_path):
    assert MakeRun(tmp_path, DEMO_ENDPOINT="0").start().stop(signal.SIGHUP) == []


def test_dynamodb_endpoint_points_the_stack_at_another_dynamodb(tmp_path):
    port = free_port()
    other = ThreadedMotoServer(ip_address="127.0.0.1", port=port)  # stands in for DynamoDB Local or LocalStack
    other.start()
    try:
        running = MakeRun(tmp_path, DYNAMODB_ENDPOINT=f"http://127.0.0.1:{port}", LOCAL_API_KEY=KEY).start()
        try:
            assert f"DynamoDB:        http://127.0.0.1:{port}" in running.banner
            dynamodb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                                    aws_access_key_id="x", aws_secret_access_key="x")
            assert "gpucp-local-workers" in dynamodb.list_tables()["TableNames"]
            started = " ".join(" ".join(c.cmdline()) for c in psutil.Process(running.process.pid).children())
            assert "moto_server" not in started  # no embedded DynamoDB of its own
        finally:
            assert running.stop() == []
    finally:
        other.stop()
