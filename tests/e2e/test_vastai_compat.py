"""The real `vastai` package from PyPI, unmodified, against this API over HTTP.

Its worker library registers, fetches /pubkey/ and reports; its client finds the
endpoint, is routed to that worker, and the worker accepts the signature and answers.
"""
from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from vastai.serverless.client.client import Serverless

from devstack.stack import Stack, free_port

SUPPORT = Path(__file__).parents[1] / "support"


class OfflineServerless(Serverless):
    """The SDK client; only the root-certificate download (internet) is replaced."""

    async def get_ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context()


@pytest.fixture(scope="module")
def stack():
    with Stack(port=free_port(), quiet=True) as running:
        yield running


def console(stack: Stack, method: str, path: str, body: dict | None = None) -> dict:
    reply = requests.request(method, stack.url + path, json=body, timeout=10,
                             headers={"Authorization": f"Bearer {stack.api_key}"})
    assert reply.status_code == 200, reply.text
    return reply.json()


def workers_of(stack: Stack, endpoint: dict) -> list[dict]:
    reply = requests.post(f"{stack.url}/get_endpoint_workers/", timeout=10,
                          json={"id": endpoint["id"], "api_key": endpoint["api_key"]})
    assert reply.status_code == 200, reply.text
    return reply.json()


def wait_until(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def pyworker(stack, tmp_path):
    """One pyworker process registered into a new endpoint's worker group."""
    endpoint_id = console(stack, "POST", "/api/v0/endptjobs/", {"endpoint_name": "compat"})["result"]
    endpoint = console(stack, "GET", f"/api/v0/endptjobs/{endpoint_id}/")["result"]
    group_id = console(stack, "POST", "/api/v0/workergroups/", {"endpoint_id": endpoint_id})["id"]
    registered = console(stack, "POST", f"/api/v0/workergroups/{group_id}/workers/")
    port, http_port, model_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "CONTAINER_ID": str(registered["id"]),
        "MASTER_TOKEN": registered["mtoken"],
        "REPORT_ADDR": stack.url,
        "WORKER_PORT": str(port),
        "WORKER_HTTP_PORT": str(http_port),
        f"VAST_TCP_PORT_{port}": str(port),
        "PUBLIC_IPADDR": "127.0.0.1",
        "MODEL_PORT": str(model_port),
        "MODEL_LOG": str(tmp_path / "model.log"),
    }
    log = open(tmp_path / "pyworker.log", "w")
    process = subprocess.Popen([sys.executable, str(SUPPORT / "vast_worker.py")], cwd=tmp_path, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        yield endpoint, registered, process
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        print((tmp_path / "pyworker.log").read_text()[-4000:])


def test_pyworker_reports_and_the_sdk_client_is_routed_to_it(stack, pyworker):
    endpoint, registered, process = pyworker

    ready = wait_until(
        lambda: [w for w in workers_of(stack, endpoint) if w["status"] in ("running", "idle")],
        90, "the pyworker to report itself loaded",
    )
    assert ready[0]["id"] == registered["id"]
    assert ready[0]["perf"] > 0  # its benchmarked max_perf

    async def request_through_sdk() -> dict:
        async with OfflineServerless(stack.api_key, autoscaler_url=stack.url, webserver_url=stack.url) as client:
            found = await client.get_endpoint("compat")
            return await found.request("/generate", {"prompt": "hello"}, cost=10)

    result = asyncio.run(asyncio.wait_for(request_through_sdk(), 60))

    assert result["ok"] and result["status"] == 200
    assert result["response"] == {"echo": {"prompt": "hello"}, "worker": str(registered["id"])}
    assert process.poll() is None

    def stats_counting_the_request() -> dict | None:
        reply = requests.post(f"{stack.url}/get_endpoint_stats/", timeout=10,
                              json={"id": endpoint["id"], "api_key": endpoint["api_key"]}).json()
        return reply if reply["totreqs"] >= 1 else None

    stats = wait_until(stats_counting_the_request, 30, "the worker's report of the request to reach the stats")
    assert stats["nworkers"] == 1 and stats["capacity"] > 0
