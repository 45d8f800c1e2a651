"""The fleet at a glance: what an endpoint's workers cost."""
from __future__ import annotations

from chalicelib.core.fleet import overview
from chalicelib.core.store import Worker


def test_workers_cost_their_price_and_a_stopped_one_its_disk_share():
    def worker(status, price):
        return Worker("t", status=status, price_per_hour=price)

    workers = [worker("running", 0.5), worker("loading", 0.25), worker("stopped", 2.0)]
    assert overview.cost_per_hour(workers, 0.03) == {"running": 0.75, "stopped": 0.06, "total": 0.81}
    assert overview.cost_per_hour([], 0.03) == {"running": 0, "stopped": 0, "total": 0}
