"""The real `clearml` package from PyPI, unmodified, against the serving API over HTTP.

Its own Session logs in with an access and a secret key and sends every serving action:
`send_request` (unversioned) for the container side, as `EndpointTelemetry` does, and typed
requests at /v2.31/ for the dashboard side; with its default GET and with POST.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack.stack import Stack, free_port

SCRIPT = Path(__file__).parents[1] / "support" / "clearml_session.py"
URL = "http://10.0.0.5:8080/serve/llm"


@pytest.fixture(scope="module")
def stack():
    with Stack(port=free_port(), quiet=True) as running:
        yield running


def run(stack: Stack, steps: list, method: str | None = None, **keys: str) -> list:
    """The steps sent by the real client in a process of its own; [code, data, message] each."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_"))}
    env.update(CLEARML_API_HOST=stack.url, CLEARML_API_ACCESS_KEY=keys.get("access", stack.clearml_access_key),
               CLEARML_API_SECRET_KEY=keys.get("secret", stack.clearml_secret_key), CLEARML_CONFIG_FILE="/dev/null",
               CLEARML_WEB_HOST=stack.url, CLEARML_FILES_HOST=stack.url)
    if method:
        env["CLEARML_API_DEFAULT_REQ_METHOD"] = method
    done = subprocess.run([sys.executable, str(SCRIPT), json.dumps(steps)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def container(container_id: str, **fields) -> dict:
    """What EndpointTelemetry sends: nulls for what is unset, input_size as the text "None"."""
    return {"container_id": container_id, "endpoint_name": "llm", "model_name": "llama", "model_source": None,
            "model_version": None, "preprocess_artifact": None, "input_type": "str", "input_size": "None",
            "tags": None, "system_tags": None, "endpoint_url": None,
            "reference": [{"type": "app_id", "value": "app-1"}], **fields}


@pytest.mark.parametrize("method", [None, "POST"])
def test_the_real_client_registers_reports_lists_and_charts(stack, method):
    ids = ("a" if method is None else "p") + "1", ("a" if method is None else "p") + "2"
    url = f"{URL}/{method or 'get'}"
    start = time.time()
    first, second = (container(i) for i in ids)
    results = run(stack, [
        ["raw", "register_container", first],
        ["typed", "get_loading_instances", {}],
        ["raw", "container_status_report", {**first, "endpoint_url": url, "uptime_sec": 100, "requests_num": 10,
                                             "requests_min": 4, "latency_ms": 12.5,
                                             "machine_stats": {"cpu_usage": [50.0], "memory_used": 1024,
                                                               "memory_free": 3072}}],
        ["raw", "container_status_report", {**second, "endpoint_url": url, "uptime_sec": 40, "requests_num": 6,
                                             "requests_min": 2, "latency_ms": 0,
                                             "machine_stats": {"cpu_usage": [30.0], "gpu_usage": [80.0, 60.0],
                                                               "memory_used": 2048, "memory_free": 2048}}],
        ["typed", "get_endpoints", {}],
        ["typed", "get_endpoint_details", {"endpoint_url": url}],
        ["typed", "get_endpoint_metrics_history", {"endpoint_url": url, "from_date": start - 10,
                                                   "to_date": start + 110, "interval": 120,
                                                   "metric_type": "requests"}],
        ["typed", "get_endpoint_metrics_history", {"endpoint_url": url, "from_date": start - 10,
                                                   "to_date": start + 110, "interval": 120,
                                                   "metric_type": "ram_used", "instance_charts": False}],
        ["raw", "unregister_container", {"container_id": ids[1]}],
        ["typed", "get_endpoints", {}],
    ], method)
    assert [r[0] for r in results] == [200] * 10, results
    loading = results[1][1]["instances"]
    assert [i["id"] for i in loading if i["id"] in ids] == [ids[0]]
    [endpoint] = [e for e in results[4][1]["endpoints"] if e["url"] == url]
    # by hand: 2 instances, uptime max(100, 40), requests 10 + 6, requests_min (4 + 2) / 2, latency (12 + 0) / 2
    assert (endpoint["instances"], endpoint["uptime_sec"], endpoint["requests"]) == (2, 100, 16)
    assert (endpoint["requests_min"], endpoint["latency_ms"], endpoint["endpoint"]) == (3.0, 6, "llm")
    details = results[5][1]
    assert [(i["id"], i["cpu_count"], i["gpu_count"], i["requests"]) for i in details["instances"]] == [
        (ids[0], 1, 0, 10), (ids[1], 1, 2, 6)]
    history = results[6][1]
    # one bucket of 120 s from start - 10: each instance's max of its cumulative count, summed
    assert history["computed_interval"] == 120 and history["total"]["values"] == [16]
    assert sorted(history["instances"]) == sorted(ids)
    ram = results[7][1]
    assert ram["total"]["values"] == [3.0] and ram["instances"] == {}  # (1024 + 2048) MB = 3 GB
    [left] = [e for e in results[9][1]["endpoints"] if e["url"] == url]
    assert left["instances"] == 1


def test_a_container_with_a_short_timeout_vanishes_from_every_listing(stack):
    gone = container("short", timeout=3)
    registered = run(stack, [["raw", "register_container", gone], ["typed", "get_loading_instances", {}]])
    assert "short" in [i["id"] for i in registered[1][1]["instances"]]
    time.sleep(3.5)
    after = run(stack, [["typed", "get_loading_instances", {}], ["typed", "get_endpoints", {}]])
    assert "short" not in [i["id"] for i in after[0][1]["instances"]]


def test_wrong_credentials_are_refused_at_login(stack):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARML_")}
    env.update(CLEARML_API_HOST=stack.url, CLEARML_API_ACCESS_KEY=stack.clearml_access_key,
               CLEARML_API_SECRET_KEY="wrong-secret", CLEARML_CONFIG_FILE="/dev/null")
    done = subprocess.run([sys.executable, str(SCRIPT), "[]"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "401" in done.stderr
