"""`/api/runs/`: one active run per account (409 while one is started), ended by PATCH (kept,
with `finished_at`) or by DELETE (removed with its metrics, 204). The real client's form body
and its url credentials (HTTP Basic, key as the password) work; no account sees another's runs."""
from __future__ import annotations

import json
import re
import uuid

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib.core.store import Metric
from chalicelib.core.store.bench import bench_pk, metrics_prefix
from tests.surfaces.mlbench.conftest import form
from tests.surfaces.mlbench.routes import ok

SEED_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
CLIENT_FORM = {"name": "bench-1", "num_workers": "2", "num_cpus": "2.0", "max_bandwidth": "1000",
               "gpu_enabled": "false", "light_target": "true", "run_all_nodes": "false",
               "image_name": "mlbench/pytorch-cifar10-resnet20-all-reduce:latest", "backend": "MPI"}


@pytest.fixture
def idle(api):
    """An account with no run."""
    return api


def test_a_new_run_is_started_at_once(idle):
    run = ok(idle, "POST", "/api/runs/", {"name": "first"}, 201)
    assert run["name"] == "first" and run["state"] == "started" and run["finished_at"] is None
    assert isinstance(run["id"], int) and str(uuid.UUID(run["job_id"])) == run["job_id"]
    assert SEED_DATE.fullmatch(run["created_at"]) and run["job_metadata"] == {}
    assert ok(idle, "GET", f"/api/runs/{run['id']}") == run
    assert ok(idle, "GET", "/api/runs") == [run]


def test_the_real_clients_form_with_its_key_as_the_basic_password(idle):
    status, run = form(idle, "POST", "/api/runs", CLIENT_FORM, basic=True)
    assert status == 201, run
    assert (run["name"], run["num_workers"]) == ("bench-1", 2)
    assert run["job_metadata"] == {"num_cpus": 2.0, "max_bandwidth": 1000.0, "gpu_enabled": False,
                                   "light_target": True, "run_all_nodes": False, "backend": "MPI",
                                   "image_name": "mlbench/pytorch-cifar10-resnet20-all-reduce:latest"}


def test_one_cpu_from_the_real_cli_is_taken(idle):
    """(`mlbench run NAME N --num-cpus 1` sends num_cpus less one: "0.0".)"""
    status, run = form(idle, "POST", "/api/runs", {**CLIENT_FORM, "num_cpus": "0.0"}, basic=True)
    assert status == 201 and run["job_metadata"]["num_cpus"] == 0.0, run


def test_a_new_run_is_a_409_with_a_message_while_one_is_started(bench):
    bench.rejects("create run", 409, "conflict", "active")
    status, reply = form(bench.api, "POST", "/api/runs/", CLIENT_FORM, basic=True)
    assert status == 409 and reply["message"], reply


@pytest.mark.parametrize("state", ["finished", "failed", "FINISHED"])
def test_ending_a_run_keeps_it_with_finished_at_and_allows_a_new_one(bench, state):
    started = bench.refs["started"]
    run = ok(bench.api, "PATCH", f"/api/runs/{started}/", {"state": state})
    assert run["state"] == state.lower() and SEED_DATE.fullmatch(run["finished_at"])
    assert ok(bench.api, "GET", f"/api/runs/{started}/") == run
    assert ok(bench.api, "POST", "/api/runs/", {"name": "next"}, 201)["state"] == "started"


def test_an_ended_run_cannot_be_ended_again(bench):
    bench.rejects("end run", 409, "conflict", path=f"/api/runs/{bench.refs['run']}/")


@pytest.mark.parametrize(("body", "field"), [({}, "state"), ({"state": "started"}, "state"),
                                             ({"state": 1}, "state"), ({"state": "done"}, "state")])
def test_a_bad_state_is_a_400_naming_it(bench, body, field):
    bench.rejects("end run", names=f"'{field}'", raw=json.dumps(body).encode())


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": ""}, "name"), ({"name": None}, "name"), ({"name": 5}, "name"), ({"num_workers": 0}, "num_workers"),
    ({"num_workers": "two"}, "num_workers"), ({"num_cpus": "nan"}, "num_cpus"), ({"num_cpus": "-1"}, "num_cpus"),
    ({"gpu_enabled": "yes please"}, "gpu_enabled"), ({"name": "a\nb"}, "name"), ({"name": " padded"}, "name"),
    ({"name": "\t"}, "name"), ({"name": "a\x00b"}, "name"), ({"name": "\ud800"}, "name")])
def test_a_bad_run_is_a_400_naming_the_field(idle, changes, field):
    status, reply = idle.call("POST", "/api/runs/", {"name": "x", **changes})
    assert status == 400 and f"'{field}'" in reply["message"], reply
    assert ok(idle, "GET", "/api/runs/") == []


def test_delete_removes_the_run_and_its_metrics(bench):
    run = bench.refs["run"]
    status, reply = bench.api.call("DELETE", f"/api/runs/{run}")
    assert (status, reply) == (204, None)
    status, reply = bench.api.call("GET", f"/api/runs/{run}/")
    assert (status, reply["code"]) == (404, "not_found")
    assert ok(bench.api, "GET", f"/api/metrics/{run}/?metric_type=run") == {}
    assert str(run) not in ok(bench.api, "GET", "/api/metrics/")["run_metrics"]
    assert [r["id"] for r in ok(bench.api, "GET", "/api/runs/")] == [bench.refs["started"]]


def test_a_delete_cut_short_after_the_run_went_is_finished_by_the_next(bench, monkeypatch):
    run = bench.refs["run"]

    def cut_short(*args, **kwargs):
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
    monkeypatch.setattr(Metric, "batch_write", cut_short)
    status, reply = bench.api.call("DELETE", f"/api/runs/{run}")
    assert status == 503 and "again" in reply["message"]
    monkeypatch.undo()
    assert ok(bench.api, "GET", f"/api/metrics/{run}/?metric_type=run") == {}  # what is left is not read
    status, reply = bench.api.call("DELETE", f"/api/runs/{run}")
    assert (status, reply["code"]) == (404, "not_found")
    assert list(Metric.query(bench_pk(bench.api.account_id), Metric.sk.startswith(metrics_prefix("run", run)))) == []


def test_deleting_the_started_run_allows_a_new_one(bench):
    assert bench.api.call("DELETE", f"/api/runs/{bench.refs['started']}/")[0] == 204
    assert ok(bench.api, "POST", "/api/runs/", {"name": "next"}, 201)["state"] == "started"


def test_runs_are_listed_oldest_first_with_lowercase_states(bench):
    assert [(r["id"], r["state"]) for r in ok(bench.api, "GET", "/api/runs/")] == [
        (bench.refs["run"], "finished"), (bench.refs["started"], "started")]


def test_a_wrong_basic_password_is_a_401_with_a_message_and_a_challenge(api):
    response = api.client.http.get("/api/runs/", headers={"Authorization": "Basic dXNlcjpub3BlCg=="})
    assert response.status_code == 401 and response.json_body["message"]
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("credentials", ["Zm9v\u00ff", "\u00e9\u00e9", "!!!"])
def test_basic_credentials_that_are_not_base64_are_a_401_with_a_challenge(api, credentials):
    response = api.client.http.get("/api/runs/", headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 401 and "malformed" in response.json_body["message"]
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_a_refused_bearer_key_is_a_401_without_a_challenge_a_browser_would_prompt_for(api):
    response = api.client.http.get("/api/runs/", headers={"Authorization": "Bearer not-a-key-0123456789"})
    assert response.status_code == 401 and response.json_body["message"]
    assert "WWW-Authenticate" not in response.headers


def test_another_accounts_runs_are_never_seen_nor_changed(bench, other_api):
    assert ok(other_api, "GET", "/api/runs/") == []
    for method, body in (("GET", None), ("PATCH", {"state": "failed"}), ("DELETE", None)):
        status, reply = other_api.call(method, f"/api/runs/{bench.refs['started']}/", body)
        assert (status, reply["code"]) == (404, "not_found"), (method, reply)
    assert ok(bench.api, "GET", f"/api/runs/{bench.refs['started']}/")["state"] == "started"
    assert ok(other_api, "POST", "/api/runs/", {"name": "theirs"}, 201)["id"] > bench.refs["started"]
