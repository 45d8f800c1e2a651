"""LocalProvider: real worker processes on this machine, driven by a real scheduler pass."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from chalicelib.core.store import Worker, bind
from chalicelib.providers import LaunchSpec, ProviderError
from chalicelib.providers.local import LocalProvider, _alive, _started
from chalicelib.scaling import scheduler
from devstack.stack import ROOT, Stack, free_port

WORKER = f"{sys.executable} {Path(__file__).parents[1] / 'support' / 'local_worker.py'}"
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]  # a worker that just keeps running
SPEC = LaunchSpec("gpucp-1-1", {"CONTAINER_ID": "1", "MASTER_TOKEN": "t", "REPORT_ADDR": "http://127.0.0.1:9"})


@pytest.fixture
def local(tmp_path):
    provider = LocalProvider(tmp_path / "state.json", WORKER, slots=3)
    yield provider
    provider.destroy_all()


def test_launch_stop_start_destroy_are_real_processes(local, tmp_path):
    spec = SPEC
    assert [o.id for o in local.search_offers("", 0)] == [1, 2, 3]
    instance_id = local.launch(1, spec)
    recorded = local._load()["instances"][str(instance_id)]
    pid, started = recorded["pid"], recorded["started"]
    assert started == _started(pid) and _alive(pid, started) and [o.id for o in local.search_offers("", 0)] == [2, 3]
    local.stop(instance_id)
    assert not _alive(pid, started) and local.list_instances()[0].state == "stopped"
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


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_the_next_run_stops_the_workers_a_crashed_run_left_running(tmp_path):
    state_file = tmp_path / "state.json"
    # A run that launches a worker and dies without destroying it, as a killed `make run` does.
    crashed = (f"from chalicelib.providers.local import LocalProvider\n"
               f"from tests.providers.test_local import SLEEPER, SPEC\n"
               f"import os, shlex\n"
               f"provider = LocalProvider({str(state_file)!r}, shlex.join(SLEEPER))\n"
               f"provider.clean_up_previous_run()\n"
               f"provider.launch(1, SPEC)\n"
               f"os._exit(9)\n")
    assert subprocess.run([sys.executable, "-c", crashed], cwd=ROOT, timeout=60).returncode == 9
    (left,) = json.loads(state_file.read_text())["instances"].values()
    assert running(left["pid"])  # orphaned: nobody else will ever stop it

    provider = LocalProvider(state_file, WORKER)
    assert provider.clean_up_previous_run() == [left["pid"]]
    assert not running(left["pid"])
    assert provider.list_instances() == [] and len(provider.search_offers("", 0)) == 8
    assert provider.launch(1, SPEC) == left["id"] + 1  # the previous run's ids are never given again
    provider.destroy_all()


def test_a_recorded_pid_that_is_now_another_process_is_never_signalled(tmp_path):
    state_file = tmp_path / "state.json"
    other = subprocess.Popen(SLEEPER, start_new_session=True)  # a group of its own: a killpg would reach it
    try:
        started = _started(other.pid)
        state_file.write_text(json.dumps({"next_id": 4, "instances": {
            str(i): {"id": i, "slot": i, "label": f"gpucp-1-{i}", "env": {}, "port": 9, "intended": "running", **pid}
            for i, pid in enumerate([
                {"pid": other.pid, "started": started + 1},  # the pid was given to another process since
                {"pid": os.getpid(), "started": _started(os.getpid()) - 1},  # ... to this test, say
                {"pid": other.pid},  # written before start times were recorded: cannot be verified
            ], start=1)}}))
        provider = LocalProvider(state_file, WORKER)
        assert {i.state for i in provider.list_instances()} == {"unavailable"}
        provider.stop(1)
        provider.destroy(2)
        assert provider.clean_up_previous_run() == []
        assert other.poll() is None and provider.list_instances() == []
    finally:
        other.kill()
        other.wait()


def test_a_state_in_use_by_a_run_still_going_is_refused(tmp_path):
    state_file = tmp_path / "state.json"
    other_run = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        owner = {"pid": other_run.pid, "started": _started(other_run.pid)}
        state_file.write_text(json.dumps({"next_id": 2, "owner": owner, "instances": {"1": {
            "id": 1, "slot": 1, "label": "gpucp-1-1", "env": {}, "port": 9, "intended": "running", **owner}}}))
        with pytest.raises(ProviderError, match="still going"):
            LocalProvider(state_file, WORKER).clean_up_previous_run()
        assert other_run.poll() is None and len(json.loads(state_file.read_text())["instances"]) == 1
    finally:
        other_run.kill()
        other_run.wait()
    assert LocalProvider(state_file, WORKER).clean_up_previous_run() == []  # once that run is gone
