"""One DynamoDB request in ten failing transiently, during reports, routes and scaling passes:
only 503s, nothing lost or counted twice, no instance left without a record."""
from __future__ import annotations

import time
from collections import Counter

import pytest

from chalicelib.core.store import StatBucket, Worker
from chalicelib.providers.vast import VastProvider
from chalicelib.scaling import scheduler
from tests.scaling.test_scheduler import assert_no_orphans_or_duplicates, records

ROUNDS = {0.1: 6, 0.6: 2}  # botocore backs off between its retries: many failures take seconds each


def boot(api, fake, counts: dict) -> None:
    """Launched machines report in, loaded, at an address of their own."""
    for instance in fake.live():
        worker_id = int(instance.env["CONTAINER_ID"])
        if worker_id not in counts and instance.intended == "running" and not instance.failed:
            status, _ = api.report({"id": worker_id, "mtoken": instance.env["MASTER_TOKEN"]}, loadtime=3.0,
                                   max_perf=10.0, url=f"http://10.0.0.{instance.id}:5000")
            if status == 200:
                counts[worker_id] = (instance.env["MASTER_TOKEN"], 0)


@pytest.mark.parametrize("rate", [0.1, 0.6], ids=["one in ten (botocore's retries absorb most)",
                                                  "six in ten (503s get through)"])
def test_dynamodb_requests_failing_transiently_lose_and_double_nothing(api, fake, faults, monkeypatch, rate):
    monkeypatch.setenv("PUBLIC_URL", "https://control-plane.example")
    monkeypatch.setenv("WORKER_TIMEOUT_S", "600")
    vast = VastProvider(fake.url, fake.api_key, timeout_s=2, backoff_s=0.01, max_backoff_s=0.05, attempts=3)
    endpoint = api.endpoint("llm")
    group = api.group(endpoint, min_load=27, cold_mult=1, cold_workers=0, test_workers=3)
    from chalicelib.core.store import WorkerGroup

    group_row = WorkerGroup.get(group["user_id"], group["id"])
    counts: dict[int, tuple[str, int]] = {}  # worker id -> (mtoken, its cumulative count)
    statuses: Counter = Counter()
    routed, finished_ok, finished_failed = 0, 0, 0
    scheduler.run_pass(vast)
    boot(api, fake, counts)
    assert len(counts) == 3

    faults.start(rate)
    for _ in range(ROUNDS[rate]):
        for worker_id, (mtoken, count) in list(counts.items()):
            count += 5
            counts[worker_id] = (mtoken, count)  # the worker's count grows whether its report lands or not
            status, _ = api.report({"id": worker_id, "mtoken": mtoken}, cur_load=1.0, num_requests_recieved=count)
            statuses[status] += 1
        for _ in range(10):
            status, reply = api.call("POST", "/route/", {"endpoint": "llm", "api_key": endpoint["api_key"],
                                                          "cost": 1}, key=None)
            statuses[status] += 1
            routed += status == 200 and "url" in reply
        for worker_id, (mtoken, _) in counts.items():
            body = {"worker_id": worker_id, "mtoken": mtoken,
                    "requests": [{"request_idx": i, "success": i != 3} for i in range(4)]}
            status, _ = api.call("POST", "/delete_requests/", body, key=None)
            statuses[status] += 1
            if status == 200:
                finished_ok, finished_failed = finished_ok + 3, finished_failed + 1
        scheduler.run_pass(vast)  # never raises
        boot(api, fake, counts)
    injected = sum(faults.injected.values())
    faults.stop()

    assert injected > 20 and set(statuses) <= {200, 503}, (statuses, faults.injected)
    assert rate < 0.5 or statuses[503] > 0
    for worker_id, (mtoken, count) in counts.items():  # the next periodic report of each
        assert api.report({"id": worker_id, "mtoken": mtoken}, cur_load=1.0, num_requests_recieved=count)[0] == 200
    scheduler.run_pass(vast)
    boot(api, fake, counts)
    workers = {int(w.worker_id): w for w in records(group_row)}
    assert {w: int(workers[w].num_requests) for w in counts} == {w: c for w, (_, c) in counts.items()}
    stats = api.ok("POST", "/get_autogroup_stats/", {"id": group["id"], "api_key": api.key}, key=None)
    assert stats["totreqs"] == sum(c for _, c in counts.values())  # each request counted once
    assert sum(int(w.routed_count or 0) for w in workers.values()) == routed, (statuses, faults.injected)
    buckets = [b for b in StatBucket.scan() if b.series == f"g#{group['id']}"]
    assert (sum(b.ok for b in buckets), sum(b.failed for b in buckets)) == (finished_ok, finished_failed)
    assert_no_orphans_or_duplicates(fake, group_row)
    assert all(w.status in ("running", "idle") for w in Worker.scan()), time.time()
