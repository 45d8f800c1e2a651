"""One scheduler pass over many groups on moto: DynamoDB requests per group and wall time.

    python -m bench.scheduler_pass --groups 1000 --workers 20

The fleet is in steady state (every group at its target, so the pass decides and acts
on nothing): what is measured is the cost of looking. A second run with a different
number of workers per group shows that requests per group do not grow with it.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("DYNAMODB_ENDPOINT", None)
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # keep the figures readable
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

import botocore.handlers  # noqa: E402

CALLS: collections.Counter = collections.Counter()
botocore.handlers.BUILTIN_HANDLERS.append(("before-call.dynamodb", lambda model, **_: CALLS.update([model.name])))

from moto import mock_aws  # noqa: E402

from chalicelib.core import store as models  # noqa: E402
from chalicelib.core.store import Endpoint, Worker, WorkerGroup, epoch  # noqa: E402
from chalicelib.providers import Instance  # noqa: E402
from chalicelib.scaling import scheduler  # noqa: E402
from chalicelib.scaling.scale_group import label  # noqa: E402

PERF = 10.0
GROUPS_PER_ENDPOINT = 10


class SteadyProvider:
    """An in-memory provider whose instances match the records: the pass finds nothing to do."""

    def __init__(self, instances: list[Instance]):
        self.instances = instances

    def list_instances(self) -> list[Instance]:
        return self.instances

    def search_offers(self, *args, **kwargs):
        raise AssertionError("a steady fleet should not search offers")

    launch = start = stop = destroy = search_offers


def progress(done: int, total: int, what: str) -> None:
    if done == total or done % max(total // 20, 1) == 0:
        print(f"\r  {what}: {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def build(groups: int, workers: int, now: float) -> list[Instance]:
    instances = []
    for e in range(groups // GROUPS_PER_ENDPOINT):
        Endpoint(1, e + 1, endpoint_name=f"e{e}", min_load=0, min_cold_load=0, target_util=0.9, cold_mult=1,
                 cold_workers=0, max_workers=workers, max_queue_time=30, target_queue_time=10, key_nonce="n",
                 created_at=now).save()
    with WorkerGroup.batch_write() as batch:
        for g in range(groups):
            batch.save(WorkerGroup(1, g + 1, endpoint_id=g // GROUPS_PER_ENDPOINT + 1,
                                   min_load=workers * PERF * 0.9, min_cold_load=0, target_util=0.9, cold_mult=1,
                                   cold_workers=0, test_workers=3, max_workers=workers, gpu_ram=8, created_at=now))
    worker_id = 0
    with Worker.batch_write() as batch:
        for g in range(groups):
            for _ in range(workers):
                worker_id += 1
                instances.append(Instance(100000 + worker_id, label(g + 1, worker_id), "running", 1.0))
                batch.save(Worker(f"t{worker_id}", worker_id=worker_id, instance_id=100000 + worker_id,
                                  launch_label=label(g + 1, worker_id), account_id=1,
                                  endpoint_id=g // GROUPS_PER_ENDPOINT + 1, group_id=g + 1, status="idle",
                                  max_perf=PERF, price_per_hour=1.0, started_at=now - 3600, loaded_at=now - 3000,
                                  last_report_at=now - 5, expires_at=epoch(now + 3600)))
            progress(g + 1, groups, "writing the fleet")
    return instances


def measure(groups: int, workers: int) -> dict:
    with mock_aws():
        models.create_tables()
        now = time.time()
        provider = SteadyProvider(build(groups, workers, now))
        CALLS.clear()
        started = time.perf_counter()
        report = scheduler.run_pass(provider, now=now)
        seconds = time.perf_counter() - started
        acted = sum(len(o.decisions) for o in report.outcomes)
    requests = sum(CALLS.values())
    return {"groups": groups, "workers": workers, "requests": requests, "per_group": requests / groups,
            "by_operation": dict(CALLS), "seconds": seconds, "actions": acted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[20, 5])
    args = parser.parse_args(argv)
    print("| groups | workers/group | DynamoDB requests | per group | by operation | pass wall time |")
    print("|---:|---:|---:|---:|---|---:|")
    for workers in args.workers:
        row = measure(args.groups, workers)
        assert row["actions"] == 0, "the fleet was not steady"
        ops = ", ".join(f"{k} {v}" for k, v in sorted(row["by_operation"].items()))
        print(f"| {row['groups']} | {row['workers']} | {row['requests']} | {row['per_group']:.2f} | {ops} "
              f"| {row['seconds']:.1f} s |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
