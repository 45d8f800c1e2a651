"""LocalProvider: real worker processes on this machine, driven by a real scheduler pass."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import requests

from chalicelib.models import Worker, bind
from chalicelib.providers import LaunchSpec
from chalicelib.providers.local import LocalProvider, _alive
from chalicelib.scaling import scheduler
from devstack.stack import Stack, free_port

WORKER = f"{sys.executable} {Path(__file__).parent / 'support' / 'local_worker.py'}"


@pytest.fixture
def local(tmp_path):
    provider = LocalProvider(tmp_path / "state.json", WORKER, slots=3)
    yield provider
    provider.destroy_all()


def test_launch_stop_start_destroy_are_real_processes(local, tmp_path):
    spec = LaunchSpec("gpucp-1-1", {"CONTAINER_ID": "1", "MASTER_TOKEN": "t", "REPORT_ADDR": "http://127.0.0.1:9"})
    assert [o.id for o in local.search_offers("", 0)] == [1, 2, 3]
    instance_id = local.launch(1, spec)
    pid = local._load()["instances"][str(instance_id)]["pid"]
    assert _alive(pid) and [o.id for o in local.search_offers("", 0)] == [2, 3]
    local.stop(instance_id)
    assert not _alive(pid) and local.list_instances()[0].state == "stopped"
    local.start(instance_id)
    assert local.list_instances()[0].state in ("running", "unavailable")  # it exits: nothing answers on :9
    local.destroy(instance_id)
    assert local.list_instances() == [] and len(local.search_offers("", 0)) == 3


def test_a_scheduler_pass_launches_local_workers_that_report_in(local, monkeypatch):
    with Stack(port=free_port(), quiet=True) as stack:
        for name, value in stack.env.items():
            if name.endswith("_TABLE") or name in ("DYNAMODB_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                monkeypatch.setenv(name, value)
        monkeypatch.setenv("PUBLIC_URL", stack.url)
        headers = {"Authorization": f"Bearer {stack.api_key}"}
        endpoint = requests.post(f"{stack.url}/api/v0/endptjobs/", json={"endpoint_name": "local"},
                                 headers=headers).json()["result"]
        requests.post(f"{stack.url}/api/v0/autojobs/", headers=headers, json={
            "endpoint_id": endpoint, "min_load": 9, "cold_mult": 1, "cold_workers": 0, "test_workers": 1})
        bind()
        assert scheduler.run_pass(local).count("launch") == 1
        deadline = time.monotonic() + 30
        while not [w for w in Worker.scan() if w.status == "idle"]:
            assert time.monotonic() < deadline, "the local worker never reported in"
            time.sleep(0.3)
        assert scheduler.run_pass(local).count("launch") == 0
        local.destroy_all()
        assert os.listdir(local.log_dir)
