"""The fleet at a glance: an endpoint's workers by status, its load and capacity now, what they cost."""
from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.core.fleet import overview
from chalicelib.core.store import Endpoint, Worker


def test_workers_cost_their_price_and_a_stopped_one_its_disk_share():
    def worker(status, price):
        return Worker("t", status=status, price_per_hour=price)

    workers = [worker("running", 0.5), worker("loading", 0.25), worker("stopped", 2.0)]
    assert overview.cost_per_hour(workers, 0.03) == {"running": 0.75, "stopped": 0.06, "total": 0.81}
    assert overview.cost_per_hour([], 0.03) == {"running": 0, "stopped": 0, "total": 0}


def test_an_endpoints_row_counts_live_workers_by_status_and_a_stopped_ones_load_not_at_all():
    now = 1_000_000.0
    live, gone = datetime.fromtimestamp(now + 60, tz=UTC), datetime.fromtimestamp(now - 1, tz=UTC)

    def worker(status, load, perf, expires=live):
        return Worker("t", status=status, cur_load=load, max_perf=perf, price_per_hour=1.0, expires_at=expires)

    workers = [worker("running", 4.0, 10.0), worker("idle", 0.0, 10.0), worker("loading", 1.0, 10.0),
               worker("stopped", 6.0, 10.0), worker("running", 9.0, 10.0, expires=gone)]
    endpoint = Endpoint(7, 3, endpoint_name="llm", endpoint_state="active")
    row = overview.endpoint_overview(endpoint, workers, {"t": []}, now, 0.5)
    assert row["workers"] == {"idle": 1, "loading": 1, "running": 1, "stopped": 1}
    assert (row["curload"], row["capacity"]) == (5.0, 20.0)  # loading: no capacity yet; stopped: no load
    assert row["cost_per_hour"] == {"running": 3.0, "stopped": 0.5, "total": 3.5}
    assert (row["id"], row["endpoint_name"], row["last_hour"]) == (3, "llm", {"t": []})
