"""`make run` (python -m devstack): seed 000's own examples work verbatim against it, its
terminal reads as lines for people (the JSON logs go to files), and Ctrl-C leaves nothing running."""
from __future__ import annotations

import json
import queue
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from devstack.fleet import wake_listener
from devstack.stack import ROOT, free_port
from tests.support.make_run import MakeRun

LOCAL_KEY = "local-test-key-0123456789"

# Seed 000's Python example, as published (only its host, id and key get substituted).
SEED_000_SNIPPET = '''
import requests
import json
stats_payload = {
    "id": 28,
    "metric_name": "nworkers",
    "t1": 5000,
    "t2": 5010,
    "api_key": "API_KEY_HERE"
}
response = requests.post(
    "https://run.vast.ai/get_autogroup_stats/",
    headers={"Content-Type": "application/json"},
    data=json.dumps(stats_payload),
    timeout=4
)
if response.status_code != 200:
    print(f"Failed to call /get_autogroup_stats/, response.status_code: {response.status_code}")
    return
'''
SEED_000_CURL = ("curl https://run.vast.ai/get_autogroup_stats/ -X POST "
                 "-d '{\"id\" : 28, \"api_key\" : \"API_KEY_HERE\", \"metric_name\" : \"nworkers\", "
                 "\"t1\": 5000, \"t2\" : 5010}' -H 'Content-Type: application/json'")


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    running = MakeRun(tmp_path_factory.mktemp("local-provider"), LOCAL_API_KEY=LOCAL_KEY).start()
    yield running
    running.close()


def substitute(text: str, url: str, group_id: int, key: str) -> str:
    # Only the example's id field: a free port such as 52829 contains "28" too.
    text = re.sub(r'("id"\s*:\s*)28\b', rf"\g<1>{group_id}", text)
    return text.replace("https://run.vast.ai", url).replace("API_KEY_HERE", key)


def test_substitution_touches_the_id_and_not_a_port_that_contains_28():
    assert substitute(SEED_000_CURL, "http://127.0.0.1:52829", 5, "k").startswith(
        "curl http://127.0.0.1:52829/get_autogroup_stats/ -X POST -d '{\"id\" : 5, \"api_key\" : \"k\"")
    assert '"id": 5,' in substitute(SEED_000_SNIPPET, "http://127.0.0.1:52829", 5, "k")


def test_seed_000_examples_work_verbatim(make_run):
    url = make_run.url
    assert LOCAL_KEY in make_run.banner  # LOCAL_API_KEY pins the local account's key
    auth = {"Authorization": f"Bearer {LOCAL_KEY}"}
    created = requests.post(f"{url}/api/v0/endptjobs/", json={"endpoint_name": "seed"}, headers=auth)
    endpoint_id = created.json()["result"]
    group_id = requests.post(f"{url}/api/v0/autojobs/", json={"endpoint_id": endpoint_id}, headers=auth).json()["id"]

    namespace: dict = {}
    body = substitute(SEED_000_SNIPPET, url, group_id, LOCAL_KEY).replace("\n", "\n    ")
    exec(f"def example():{body}\n    return response", namespace)
    response = namespace["example"]()
    assert response.status_code == 200
    reply = response.json()
    assert set(reply) == {"endpoint", "id", "nworkers", "range_len"}
    assert reply["id"] == group_id and reply["range_len"] == len(reply["nworkers"])

    curl = subprocess.run(substitute(SEED_000_CURL, url, group_id, LOCAL_KEY), shell=True, capture_output=True,
                          text=True, timeout=30)
    assert curl.returncode == 0 and '"range_len"' in curl.stdout


def test_the_readme_walk_through_runs(make_run):
    url = make_run.url
    readme = (ROOT / "README.md").read_text()
    script = readme.split("## Walk-through", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    script = script.replace("API=http://127.0.0.1:8000", f"API={url}").replace(
        "KEY=paste-the-printed-key-here", f"KEY={LOCAL_KEY}")
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '"signature"' in result.stdout and '"url": "http://127.0.0.1:5000"' in result.stdout.replace('":"', '": "')
    assert '"curload"' in result.stdout and '"nworkers":1' in result.stdout.replace(" ", "")


def test_the_terminal_reads_as_lines_for_people_and_the_json_logs_go_to_the_state_dir(make_run):
    logs = Path(make_run.env["LOCAL_PROVIDER_DIR"]) / "logs"
    assert f"  logs:            {logs}/api.log, scaler.log\n" in make_run.banner
    make_run.wait_for_a_worker()
    launch = re.compile(r"^\d\d:\d\d:\d\d  scaler  demo/group \d+: launch -> ok \(.+\)$")
    deadline = time.monotonic() + 60
    while not any(launch.match(line) for line in make_run.output) and time.monotonic() < deadline:
        time.sleep(0.5)
    printed = list(make_run.output)
    assert any(launch.match(line) for line in printed), "".join(printed)
    assert not [line for line in printed if line.startswith("{")]
    requests_logged = [json.loads(line) for line in (logs / "api.log").read_text().splitlines() if line.startswith("{")]
    assert any(r.get("message") == "request" and r.get("status") == 200 for r in requests_logged)
    assert (logs / "scaler.log").stat().st_size > 0


def test_ctrl_c_stops_every_process_it_started(make_run):
    assert make_run.stop() == []


def test_the_local_scaler_takes_wakes_over_http_and_refuses_malformed_ones():
    wakes, port = queue.Queue(), free_port()
    server = wake_listener(port, wakes)
    try:
        ok = requests.post(f"http://127.0.0.1:{port}/wake", json={"account_id": 1, "endpoint_id": 2}, timeout=5)
        bad = requests.post(f"http://127.0.0.1:{port}/wake", data="not json", timeout=5)
        assert (ok.status_code, bad.status_code) == (202, 400)
        assert wakes.get_nowait() == (1, 2) and wakes.empty()
    finally:
        server.shutdown()
