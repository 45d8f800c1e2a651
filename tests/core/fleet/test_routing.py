"""The choice of a worker for a request: pure, without DynamoDB."""
from __future__ import annotations

from chalicelib.core.fleet.routing import choose_worker
from chalicelib.core.store import Worker, epoch


def ready(worker_id, perf, queue=0.0, routed=0.0, status="running", expires=1e10, url="http://w"):
    return Worker(f"h{worker_id}", worker_id=worker_id, account_id=1, endpoint_id=1, group_id=1, started_at=0,
                  status=status, max_perf=perf, queue_load=queue, routed_load=routed, url=url,
                  expires_at=epoch(expires))


def test_choice_is_the_least_expected_wait_including_the_request_itself():
    workers = [ready(1, perf=10, queue=20), ready(2, perf=40, queue=60)]  # 2.0 s vs 1.5 s ahead
    assert choose_worker(workers, cost=10, max_queue_time=30, now=0).worker_id == 2
    assert choose_worker(workers, cost=100, max_queue_time=30, now=0).worker_id == 2  # 3.0 vs 4.0


def test_expired_loading_errored_or_urlless_workers_are_never_chosen():
    candidates = [ready(1, 10, expires=5), ready(2, 10, status="loading"), ready(3, 10, status="error"),
                  ready(4, 10, url=None), ready(5, 0)]
    assert choose_worker(candidates, cost=1, max_queue_time=30, now=10) is None
    assert choose_worker([*candidates, ready(6, 10, status="idle")], 1, 30, now=10).worker_id == 6


def test_queue_limit_counts_work_routed_since_the_last_report():
    assert choose_worker([ready(1, perf=10, queue=20, routed=20)], cost=1, max_queue_time=3, now=0) is None
    assert choose_worker([ready(1, perf=10, queue=20, routed=10)], cost=1, max_queue_time=3, now=0) is not None
