"""The real `mlbench-core` 3.0.0 client from PyPI, unmodified, against the MLBench API over HTTP.

It sends no headers: the account key rides in its url (`user:KEY@host:port`) as the HTTP Basic
password. Its own calls post forms (`create_run`, `post_metric` with `str(datetime)` dates) and
read back runs, filtered and summarized metrics and pods; seed-shaped JSON goes through plain
`requests`.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from devstack.fleet import create_demo
from devstack.stack import Stack, free_port

SCRIPT = Path(__file__).parents[1] / "support" / "mlbench_client.py"
IMAGE = "PyTorch Cifar-10 ResNet-20"  # one of the client's MLBENCH_IMAGES
LOSS = "loss @ 0"  # as the worker library names metrics: "<metric> @ <rank>"


@pytest.fixture(scope="module")
def stack():
    with Stack(port=free_port(), quiet=True) as running:
        yield running


def client(stack: Stack, steps: list, key: str | None = None) -> list:
    """[status, body] of each step, sent by the real client in a process of its own."""
    url = f"bench:{key or stack.api_key}@{stack.url.split('://', 1)[1]}"
    done = subprocess.run([sys.executable, str(SCRIPT), url, json.dumps(steps)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def at(second: int, micro: int = 0) -> dict:
    """A datetime the client sends as `str(datetime)`: `2026-12-03 10:00:0S[.ffffff]`."""
    return {"datetime": f"2026-12-03T10:00:{second:02d}.{micro:06d}"}


def end(stack: Stack, run_id: int) -> None:
    reply = requests.patch(f"{stack.url}/api/runs/{run_id}/", json={"state": "finished"},
                           headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=10)
    assert reply.status_code == 200, reply.text


def test_a_run_its_metrics_filtered_and_summarized_and_its_deletion(stack):
    [(status, run)] = client(stack, [["create_run", ["resnet", 2], {"image": IMAGE, "backend": "MPI"}]])
    assert status == 201 and run["name"] == "resnet" and run["state"] == "started"
    assert run["job_metadata"]["image_name"] == "mlbench/pytorch-cifar10-resnet20-all-reduce:latest"
    rid = run["id"]
    posted = client(stack, [
        ["post_metric", [rid, LOSS, 1.0], {"date": at(0)}],  # no fraction: str(datetime) drops it
        ["post_metric", [rid, LOSS, 2.0], {"date": at(1, 500000)}],
        ["post_metric", [rid, LOSS, 3.0], {"date": at(2)}],
        ["post_metric", [rid, LOSS, 4.0], {"date": at(3, 250000), "cumulative": True}],
        ["post_metric", [rid, "accuracy @ 0", 0.5], {"date": at(3), "metadata": "{rank: 0, epoch:1.5}"}],
    ])
    assert [s for s, _ in posted] == [201] * 5, posted
    assert posted[0][1] == {"run_id": rid, "name": LOSS, "date": "2026-12-03T10:00:00.000000Z", "value": "1.0",
                            "cumulative": False, "metadata": ""}
    reads = client(stack, [
        ["get_run_metrics", [rid], {}],
        ["get_run_metrics", [rid], {"since": at(1, 500000)}],
        ["get_run_metrics", [rid], {"metric_filter": LOSS, "last_n": 1}],
        ["get_run_metrics", [rid], {"metric_filter": LOSS, "summarize": 2}],
        ["get_run_metrics", [rid], {"metric_filter": LOSS, "summarize": 3}],  # buckets of 2: 2 full ones
        ["get_run_metrics", [rid], {"metric_filter": LOSS, "summarize": 2, "last_n": 1}],
        ["get_runs", [], {}],
        ["get_run", [rid], {}],
        ["get_all_metrics", [], {}],
    ])
    assert [s for s, _ in reads] == [200] * 9, reads
    every, since, last, halves, thirds, last_half, runs, one, everything = (body for _, body in reads)
    assert sorted(every) == ["accuracy @ 0", LOSS]
    assert [e["value"] for e in every[LOSS]] == ["1.0", "2.0", "3.0", "4.0"]
    assert [e["date"] for e in since[LOSS]] == ["2026-12-03T10:00:01.500000Z", "2026-12-03T10:00:02.000000Z",
                                                "2026-12-03T10:00:03.250000Z"]
    assert last == {LOSS: [{"date": "2026-12-03T10:00:03.250000Z", "value": "4.0", "cumulative": True}]}
    assert float(last[LOSS][0]["value"]) == 4.0  # what the CLI reads: json()[X][0]["value"] as a float
    assert [(e["date"], float(e["value"])) for e in halves[LOSS]] == [
        ("2026-12-03T10:00:00.000000Z", 1.5), ("2026-12-03T10:00:02.000000Z", 3.5)]
    assert [float(e["value"]) for e in thirds[LOSS]] == [1.5, 3.5]
    assert [float(e["value"]) for e in last_half[LOSS]] == [3.5]
    assert [r["id"] for r in runs if r["name"] == "resnet"] == [rid] and set(runs[0]) >= {"job_id", "job_metadata"}
    assert one["id"] == rid and one["state"] == "started"
    assert [e["value"] for e in everything["run_metrics"][str(rid)][LOSS]] == ["1.0", "2.0", "3.0", "4.0"]
    assert everything["run_metrics"][str(rid)]["accuracy @ 0"][0]["metadata"] == "{rank: 0, epoch:1.5}"

    [(status, _), (after, runs), (metrics, gone)] = client(stack, [
        ["delete_run", [rid], {}], ["get_runs", [], {}], ["get_run_metrics", [rid], {}]])
    assert (status, after, metrics) == (204, 200, 200)
    assert rid not in [r["id"] for r in runs] and gone == {}


def test_a_second_run_while_one_is_started_is_a_409_with_a_message(stack):
    [(status, run), (refused, reply)] = client(stack, [["create_run", ["first", 1], {"image": IMAGE}],
                                                       ["create_run", ["second", 1], {"image": IMAGE}]])
    assert (status, refused) == (201, 409) and "already active" in reply["message"]  # what the CLI prints
    end(stack, run["id"])
    [(status, again), (listed, runs)] = client(stack, [["create_run", ["second", 1], {"image": IMAGE}],
                                                       ["get_runs", [], {}]])
    assert status == 201 and listed == 200
    finished = [r for r in runs if r["state"] == "finished"]  # the CLI's `charts` filter
    assert run["id"] in [r["id"] for r in finished] and all(r["finished_at"] for r in finished)
    end(stack, again["id"])


def test_the_fleets_workers_are_its_pods(stack):
    demo = create_demo(stack)
    auth = {"Authorization": f"Bearer {stack.api_key}"}
    groups = requests.get(f"{stack.url}/api/v0/autojobs/", headers=auth, timeout=10).json()["results"]
    group = next(g for g in groups if g["endpoint_id"] == demo["id"])
    worker = requests.post(f"{stack.url}/api/v0/autojobs/{group['id']}/workers/", json={}, headers=auth, timeout=10)
    assert worker.status_code == 200, worker.text
    [(status, pods)] = client(stack, [["get_worker_pods", [], {}]])
    assert status == 200
    [pod] = [p for p in pods if p["name"] == f"{demo['endpoint_name']}-worker-{worker.json()['id']}"]
    assert pod["phase"] == "Pending" and pod["ip"] == ""  # registered, not reporting yet
    assert eval(pod["labels"]) == {"app": "gpucp", "component": "worker", "endpoint": demo["endpoint_name"],
                                   "group": str(group["id"])}  # the repr of a dict, as the seed shows


def test_seed_shaped_json_through_plain_requests(stack):
    auth = {"Authorization": f"Bearer {stack.api_key}"}
    metric = {"pod_name": "quiet-mink-mlbench-worker-1", "name": "accuracy", "date": "2018-08-03T09:21:44.331823Z",
              "value": "0.7845", "cumulative": False, "metadata": "some additional data"}
    posted = requests.post(f"{stack.url}/api/metrics", json=metric, headers=auth, timeout=10)
    assert posted.status_code == 201 and posted.json() == metric
    both = requests.post(f"{stack.url}/api/metrics", json={**metric, "run_id": 2}, headers=auth, timeout=10)
    assert both.status_code == 400 and "pod_name" in both.json()["message"]
    read = requests.get(f"{stack.url}/api/metrics/quiet-mink-mlbench-worker-1/", headers=auth, timeout=10)
    assert read.json()["accuracy"][-1] == {"date": "2018-08-03T09:21:44.331823Z", "value": "0.7845",
                                           "cumulative": False}
    run = requests.post(f"{stack.url}/api/runs/", json={"name": "Name of the run"}, headers=auth, timeout=10)
    assert run.status_code == 201 and set(run.json()) >= {"id", "name", "created_at", "state", "job_id",
                                                           "job_metadata"}
    end(stack, run.json()["id"])


def test_a_wrong_key_in_the_url_is_a_401_with_a_message(stack):
    [(status, reply)] = client(stack, [["get_runs", [], {}]], key="not-a-key")
    assert status == 401 and reply["message"]
