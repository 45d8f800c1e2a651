"""The real `vastai` CLI (PyPI, unmodified: `.venv/bin/vastai`) against a running local stack.

Each command runs as a subprocess with `--url <stack> --api-key <account key>`, in a config
dir of its own, and each effect is checked through the JSON API with the same key:

- `create endpoint` with non-default knobs; `show endpoints` lists it; `update endpoint ID
  --<knob> V` changes that knob alone (the CLI sends every other knob as null: kept).
- `create workergroup`, `show workergroups`, `update workergroup ID --<field> V` one field at a
  time (the CLI's default search, sent when no `--search_params` is given, keeps the group's).
- `get endpt-workers` lists a worker that registered and reported; `get endpt-logs` and
  `get wrkgrp-logs` (`--level`, `--tail`, `--raw`) show the lines the server logged.
- `update workers` starts a rolling update, `update workers --cancel` stops it.
- `delete workergroup`, `delete endpoint`; `show user` answers the account, never its key.

The CLI exits 0 even when the server refuses (it prints the error on stderr), so every run
also asserts that stderr is empty.
"""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from devstack.stack import Stack, free_port

VASTAI = Path(sys.executable).parent / "vastai"  # the pinned package, in the virtualenv running the tests
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC ")
CLI_DEFAULT_SEARCH = "verified=True rentable=True rented=False"  # what the CLI appends to a search


@pytest.fixture(scope="module")
def stack():
    with Stack(port=free_port(), quiet=True) as running:
        yield running


@pytest.fixture(scope="module")
def vastai(stack, tmp_path_factory):
    """`vastai(*args)`: run the CLI against the stack; its stdout (parsed JSON with `raw=True`)."""
    home = tmp_path_factory.mktemp("vastai-home")
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache"), "VASTAI_NO_UPDATE_CHECK": "1"}
    env.pop("VAST_API_KEY", None)
    env.pop("VAST_URL", None)

    def run(*args: object, raw: bool = False):
        command = [str(VASTAI), "--url", stack.url, "--api-key", stack.api_key, *(["--raw"] if raw else []),
                   *map(str, args)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        shown = f"vastai {' '.join(map(str, args))}\nstdout: {done.stdout}\nstderr: {done.stderr}"
        assert done.returncode == 0 and done.stderr == "", shown
        return json.loads(done.stdout) if raw else done.stdout

    return run


def api(stack: Stack, method: str, path: str, body: dict | None = None, status: int = 200) -> dict:
    reply = requests.request(method, stack.url + path, json=body, timeout=10,
                             headers={"Authorization": f"Bearer {stack.api_key}"})
    assert reply.status_code == status, reply.text
    return reply.json()


def endpoint_row(stack: Stack, endpoint_id: int) -> dict:
    return api(stack, "GET", f"/api/v0/endptjobs/{endpoint_id}/")["result"]


def group_row(stack: Stack, group_id: int) -> dict:
    return api(stack, "GET", f"/api/v0/autojobs/{group_id}/")["result"]


def printed(stdout: str, prefix: str) -> dict:
    """The reply a command printed as `<prefix> {python dict}` (commands without --raw)."""
    assert stdout.startswith(prefix + " "), stdout
    return ast.literal_eval(stdout[len(prefix) + 1:].strip())


def create_endpoint(vastai, *args: object) -> int:
    reply = vastai("create", "endpoint", *args, raw=True)
    assert reply["success"], reply
    return reply["result"]


def create_group(vastai, endpoint_id: int, *args: object) -> int:
    reply = printed(vastai("create", "workergroup", "--endpoint_id", endpoint_id, *args), "workergroup create")
    assert reply["success"], reply
    return reply["id"]


# --- endpoints ---------------------------------------------------------------------

CREATED_KNOBS = {"min_load": 5.0, "min_cold_load": 3.0, "target_util": 0.8, "cold_mult": 3.0, "cold_workers": 2,
                 "max_workers": 9, "max_queue_time": 40.0, "target_queue_time": 8.0, "inactivity_timeout": 600}


@pytest.fixture(scope="module")
def endpoint(stack, vastai) -> int:
    options = [part for knob, value in CREATED_KNOBS.items() for part in (f"--{knob}", value)]
    return create_endpoint(vastai, "--endpoint_name", "cli-endpoint", *options)


def test_create_endpoint_sets_every_knob_given(stack, endpoint):
    row = endpoint_row(stack, endpoint)
    assert {k: row[k] for k in CREATED_KNOBS} == CREATED_KNOBS
    assert row["endpoint_name"] == "cli-endpoint" and row["endpoint_state"] == "active"
    assert row["min_workers"] == CREATED_KNOBS["cold_workers"]


def test_show_endpoints_lists_it(stack, vastai, endpoint):
    shown = {row["id"]: row for row in vastai("show", "endpoints", raw=True)}
    assert endpoint in shown
    assert {k: shown[endpoint][k] for k in CREATED_KNOBS} == CREATED_KNOBS
    assert json.loads(vastai("show", "endpoints")) == list(shown.values())  # the same rows, pretty-printed


# Each: the CLI's options, and what they change in the row (everything else must stay).
ENDPOINT_UPDATES = [
    (["--min_load", 7.5], {"min_load": 7.5}),
    (["--min_cold_load", 4], {"min_cold_load": 4.0}),
    (["--endpoint_state", "suspended"], {"endpoint_state": "suspended"}),
    (["--target_util", 0.7], {"target_util": 0.7}),
    (["--cold_mult", 2], {"cold_mult": 2.0}),
    (["--cold_workers", 3], {"cold_workers": 3, "min_workers": 3}),
    (["--max_workers", 12], {"max_workers": 12}),
    (["--endpoint_name", "cli-renamed"], {"endpoint_name": "cli-renamed"}),
    (["--max_queue_time", 45], {"max_queue_time": 45.0}),
    (["--target_queue_time", 6], {"target_queue_time": 6.0}),
    (["--inactivity_timeout", 900], {"inactivity_timeout": 900}),
    (["--inactivity_timeout", -1], {"inactivity_timeout": None}),
]


@pytest.mark.parametrize("options, changes", ENDPOINT_UPDATES,
                         ids=[" ".join(map(str, o)) for o, _ in ENDPOINT_UPDATES])
def test_update_endpoint_changes_one_knob(stack, vastai, endpoint, options, changes):
    before = endpoint_row(stack, endpoint)
    reply = vastai("update", "endpoint", endpoint, *options, raw=True)
    assert reply["success"], reply
    assert endpoint_row(stack, endpoint) == {**before, **changes}


# --- worker groups -----------------------------------------------------------------

@pytest.fixture(scope="module")
def group_endpoint(vastai) -> int:
    return create_endpoint(vastai, "--endpoint_name", "cli-groups")


@pytest.fixture(scope="module")
def group(vastai, group_endpoint) -> int:
    return create_group(vastai, group_endpoint, "--template_hash", "hash-1", "--gpu_ram", 16,
                        "--search_params", "gpu_ram>=16 num_gpus=1", "--launch_args=--image example --disk 32")


def test_create_workergroup_and_show_it(stack, vastai, group, group_endpoint):
    row = group_row(stack, group)
    assert row["endpoint_id"] == group_endpoint and row["endpoint_name"] == "cli-groups"
    assert row["template_hash"] == "hash-1" and row["gpu_ram"] == 16.0
    assert row["search_params"] == f"gpu_ram>=16 num_gpus=1 {CLI_DEFAULT_SEARCH}"
    assert row["launch_args"] == "--image example --disk 32"
    assert row["rolling"] is False

    shown = {r["id"]: r for r in vastai("show", "workergroups", raw=True)}
    assert shown[group] == row


GROUP_UPDATES = [
    ([], {}),  # only the CLI's default search is sent: nothing changes
    (["--gpu_ram", 24], {"gpu_ram": 24.0}),
    (["--template_hash", "hash-2"], {"template_hash": "hash-2"}),
    (["--template_id", 42], {"template_id": 42}),
    (["--search_params", "gpu_ram>=24"], {"search_params": f"gpu_ram>=24 {CLI_DEFAULT_SEARCH}"}),
    (["--search_params", "num_gpus=2", "--no-default"], {"search_params": "num_gpus=2"}),
    (["--no-default"], {}),  # an empty search: still none given
    (["--launch_args=--image other --disk 64"], {"launch_args": "--image other --disk 64"}),
]


@pytest.mark.parametrize("options, changes", GROUP_UPDATES,
                         ids=[" ".join(map(str, o)) or "none" for o, _ in GROUP_UPDATES])
def test_update_workergroup_changes_one_field(stack, vastai, group, options, changes):
    before = group_row(stack, group)
    reply = vastai("update", "workergroup", group, *options, raw=True)
    assert reply["success"], reply
    assert group_row(stack, group) == {**before, **changes}


def test_update_workergroup_moves_it_by_endpoint_id_and_back_by_name(stack, vastai, group, group_endpoint):
    other = create_endpoint(vastai, "--endpoint_name", "cli-groups-other")
    before = group_row(stack, group)

    vastai("update", "workergroup", group, "--endpoint_id", other, raw=True)
    assert group_row(stack, group) == {**before, "endpoint_id": other, "endpoint_name": "cli-groups-other"}

    vastai("update", "workergroup", group, "--endpoint_name", "cli-groups", raw=True)
    assert group_row(stack, group) == before


# --- workers and logs --------------------------------------------------------------

@pytest.fixture(scope="module")
def worker(stack, group) -> int:
    """A worker registered into the group that has reported itself loaded."""
    registered = api(stack, "POST", f"/api/v0/workergroups/{group}/workers/")
    api(stack, "POST", "/worker_status/", {"id": registered["id"], "mtoken": registered["mtoken"], "loadtime": 1.0,
                                            "max_perf": 10.0, "cur_load": 0.0, "url": "http://127.0.0.1:9"})
    return registered["id"]


def test_get_endpt_workers_lists_the_reporting_worker(vastai, group_endpoint, worker):
    assert f"id={worker} status=" in vastai("get", "endpt-workers", group_endpoint)
    listed = vastai("get", "endpt-workers", group_endpoint, raw=True)
    assert [w["id"] for w in listed] == [worker]


def log_lines(text: str) -> list[str]:
    lines = text.splitlines()
    assert lines and all(LOG_LINE.match(line) for line in lines), text
    return lines


def test_get_logs_show_the_worker_loading(vastai, group_endpoint, group, worker):
    loaded = f"group {group}: loaded worker {worker}"
    assert any(loaded in line for line in log_lines(vastai("get", "endpt-logs", group_endpoint)))  # --level 1
    assert any(loaded in line for line in log_lines(vastai("get", "wrkgrp-logs", group, "--level", 0)))
    assert len(log_lines(vastai("get", "wrkgrp-logs", group, "--level", 3, "--tail", 1))) == 1

    for command, ident in (("endpt-logs", group_endpoint), ("wrkgrp-logs", group)):
        reply = vastai("get", command, ident, raw=True)
        assert reply["success"] and reply["id"] == ident and reply["endpoint"] == "cli-groups"
        assert all(loaded in reply[level] for level in ("info0", "info1", "trace", "debug"))


# --- rolling updates ---------------------------------------------------------------

def test_update_workers_starts_and_cancels_a_rolling_update(stack, vastai, group):
    generation = group_row(stack, group)["generation"]

    assert vastai("update", "workers", group).startswith(f"Update started for workergroup {group} (")
    row = group_row(stack, group)
    assert row["rolling"] is True and row["generation"] == generation + 1

    assert vastai("update", "workers", group, "--cancel").strip() == f"Update cancelled for workergroup {group}"
    row = group_row(stack, group)
    assert row["rolling"] is False and row["generation"] == generation + 1

    logged = vastai("get", "wrkgrp-logs", group, "--level", 3, "--tail", 2)
    started, cancelled = log_lines(logged)
    assert f"rolling update to generation {generation + 1}" in started
    assert "cancelled" in cancelled


# --- deletion and the account ------------------------------------------------------

def test_delete_workergroup_and_endpoint(stack, vastai):
    endpoint_id = create_endpoint(vastai, "--endpoint_name", "cli-doomed")
    group_id = create_group(vastai, endpoint_id, "--template_hash", "hash-doomed")

    assert printed(vastai("delete", "workergroup", group_id), "workergroup delete")["success"]
    api(stack, "GET", f"/api/v0/autojobs/{group_id}/", status=404)
    assert group_id not in [r["id"] for r in api(stack, "GET", "/api/v0/autojobs/")["results"]]

    assert printed(vastai("delete", "endpoint", endpoint_id), "delete endpoint")["success"]
    api(stack, "GET", f"/api/v0/endptjobs/{endpoint_id}/", status=404)
    assert endpoint_id not in [r["id"] for r in api(stack, "GET", "/api/v0/endptjobs/")["results"]]


def test_show_user_answers_the_account_without_its_key(stack, vastai):
    user = vastai("show", "user", raw=True)
    assert user["id"] == api(stack, "GET", "/api/v0/users/current")["id"]
    assert stack.api_key not in json.dumps(user)
    assert stack.api_key not in json.dumps(api(stack, "GET", "/api/v0/users/current"))  # the CLI drops it; so do we
