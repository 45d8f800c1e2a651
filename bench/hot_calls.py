"""DynamoDB requests of each hot call, counted on moto: what each costs in requests, not time.

    .venv/bin/python -m bench.hot_calls

Every call is made through the app (the Chalice test client), in the steady state:
an endpoint with one group and three loaded workers, keys and server keys warm.
"""
from __future__ import annotations

import collections
import json
import os
import sys
import time

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("DYNAMODB_ENDPOINT", None)
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

import botocore.handlers  # noqa: E402

CALLS: collections.Counter = collections.Counter()
botocore.handlers.BUILTIN_HANDLERS.append(("before-call.dynamodb", lambda model, **_: CALLS.update([model.name])))

from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from devstack.stack import stage_environment  # noqa: E402

os.environ.update(stage_environment("local"))

from app import app  # noqa: E402
from chalicelib.core import store as models  # noqa: E402
from chalicelib.core.auth.accounts import create_account  # noqa: E402


def main() -> int:
    with mock_aws(), Client(app, stage_name="local") as client:
        models.create_tables()
        _, key = create_account("bench")
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

        def call(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
            reply = getattr(client.http, method)(path, headers=headers or auth,
                                                 body=json.dumps(body) if body is not None else None)
            assert reply.status_code == 200, (path, reply.status_code, reply.body)
            return reply.json_body

        plain = {"Content-Type": "application/json"}
        endpoint_id = call("post", "/api/v0/endptjobs/", {"endpoint_name": "e"})["result"]
        endpoint = call("get", f"/api/v0/endptjobs/{endpoint_id}/")["result"]
        group_id = call("post", "/api/v0/autojobs/", {"endpoint_id": endpoint_id})["id"]
        workers = [call("post", f"/api/v0/autojobs/{group_id}/workers/") for _ in range(3)]
        for i, w in enumerate(workers):
            call("post", "/worker_status/", {"id": w["id"], "mtoken": w["mtoken"], "loadtime": 1.0, "max_perf": 10.0,
                                             "url": f"http://10.0.0.{i}:5000"}, plain)
        w = workers[0]
        now = int(time.time())
        hot = {
            "report (seed 001 update)": ("post", "/worker_status/", {"id": w["id"], "mtoken": w["mtoken"],
                                                                    "cur_load": 1.0, "num_requests_recieved": 5}),
            "report (current SDK)": ("post", "/worker_status/", {
                "id": w["id"], "mtoken": w["mtoken"], "version": "1", "loadtime": 1.0, "max_perf": 10.0,
                "new_load": 5.0, "cur_load": 1.0, "num_requests_recieved": 9}),
            "finished requests": ("post", "/delete_requests/", {"worker_id": w["id"], "mtoken": w["mtoken"],
                                                               "requests": [{"request_idx": 1, "success": True}]}),
            "route": ("post", "/route/", {"endpoint": "e", "api_key": endpoint["api_key"], "cost": 1}),
            "endpoint stats (current)": ("post", "/get_endpoint_stats/", {"id": endpoint_id,
                                                                          "api_key": endpoint["api_key"]}),
            "group stats (timeseries)": ("post", "/get_autogroup_stats/", {
                "id": group_id, "api_key": key, "metric_name": "curload", "t1": now - 3600, "t2": now}),
            "endpoint workers": ("post", "/get_endpoint_workers/", {"id": endpoint_id, "api_key": endpoint["api_key"]}),
            "endpoint logs": ("post", "/get_endpoint_logs/", {"id": endpoint_id, "api_key": key}),
            "group logs": ("post", "/get_autogroup_logs/", {"id": group_id, "api_key": key, "tail": 50}),
            "rolling update (start)": ("post", "/update_workers/", {"workergroup_id": group_id, "api_key": key}),
        }
        print("| call | DynamoDB requests | by operation |")
        print("|---|---:|---|")
        for name, (method, path, body) in hot.items():
            call(method, path, body, plain)  # warm: the server keys, the connections
            CALLS.clear()
            call(method, path, body if "num_requests_recieved" not in body else
                 {**body, "num_requests_recieved": body["num_requests_recieved"] + 1}, plain)
            ops = ", ".join(f"{k} {v}" for k, v in sorted(CALLS.items()))
            print(f"| {name} | {sum(CALLS.values())} | {ops} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
