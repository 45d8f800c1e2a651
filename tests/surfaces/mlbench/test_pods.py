"""`GET /api/pods/`: each live worker of the account's endpoints as `<endpoint>-worker-<id>`
(labels the repr of a dict, its phase by its status, ip its url's host), then each live
ClearML container; never another account's."""
from __future__ import annotations

import pytest

from chalicelib.core.fleet.workers import list_workers
from chalicelib.core.serving import containers
from chalicelib.core.serving.containers import ContainerInfo
from chalicelib.core.store import Worker
from tests.surfaces.mlbench.routes import ok


@pytest.fixture
def group(api):
    return api.group(api.endpoint("llm"))


def pods(api) -> dict:
    return {pod["name"]: pod for pod in ok(api, "GET", "/api/pods/")}


def test_a_ready_worker_is_a_running_pod_named_by_its_endpoint(api, group):
    worker = api.ready_worker(group, url="http://10.1.2.3:5000/x")
    assert pods(api) == {f"llm-worker-{worker['id']}": {
        "name": f"llm-worker-{worker['id']}", "phase": "Running", "ip": "10.1.2.3",
        "labels": repr({"app": "gpucp", "component": "worker", "endpoint": "llm", "group": str(group["id"])})}}


def test_phases_follow_the_workers_status(api, group):
    loading, failed, stopped = api.worker(group), api.worker(group), api.ready_worker(group)
    api.report(loading, message="loading update")
    api.report(failed, error_msg="CUDA out of memory")
    row = next(w for w in list_workers(group["endpoint_id"]) if int(w.worker_id) == stopped["id"])
    row.update(actions=[Worker.status.set("stopped")])  # as a scaling pass stops its machine
    found = pods(api)
    assert {name: pod["phase"] for name, pod in found.items()} == {
        f"llm-worker-{loading['id']}": "Pending", f"llm-worker-{failed['id']}": "Failed",
        f"llm-worker-{stopped['id']}": "Succeeded"}
    assert found[f"llm-worker-{loading['id']}"]["ip"] == ""


def test_a_live_clearml_container_is_a_pod(api):
    containers.register(api.account_id, ContainerInfo("c-1", "chat", "llama", endpoint_url="http://10.0.0.9:8080/x"))
    containers.register(api.account_id, ContainerInfo("c-2", "chat", "llama"), timeout=-1)  # expired
    assert ok(api, "GET", "/api/pods/") == [{
        "name": "chat-container-c-1", "phase": "Running", "ip": "10.0.0.9",
        "labels": repr({"app": "clearml-serving", "component": "container", "endpoint": "chat", "model": "llama"})}]


def test_pods_are_strings_and_never_another_accounts(api, other_api, group):
    api.ready_worker(group)
    containers.register(api.account_id, ContainerInfo("c-1", "chat", "llama"))
    assert ok(other_api, "GET", "/api/pods/") == []
    assert all(isinstance(v, str) for pod in ok(api, "GET", "/api/pods/") for v in pod.values())


@pytest.mark.parametrize("endpoint", ["my model", "模型", "a" * 128])
def test_a_pod_of_an_endpoint_named_unlike_a_pod_takes_metrics_by_its_listed_name(api, endpoint):
    api.ready_worker(api.group(api.endpoint(endpoint)))
    [name] = pods(api)
    ok(api, "POST", "/api/metrics/", {"pod_name": name, "name": "cpu", "value": "1"}, 201)
    assert list(ok(api, "GET", f"/api/metrics/{name}/")) == ["cpu"]
    assert name == next(iter(pods(api)))  # the same name at every listing


def test_two_pods_never_share_a_name_however_their_parts_are_named(api):
    worker = api.ready_worker(api.group(api.endpoint("e-container-abc")))
    containers.register(api.account_id, ContainerInfo(f"abc-worker-{worker['id']}", "e", "m"))
    assert len(pods(api)) == 2
