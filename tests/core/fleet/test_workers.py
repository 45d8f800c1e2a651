"""The worker lifecycle: where a report moves a worker, and what a registration starts as."""
from __future__ import annotations

import pytest

from chalicelib.core.fleet.workers import SERVING, Status, after_report, mark_stopped
from chalicelib.core.store import Worker


@pytest.mark.parametrize("current, error, loaded, busy, expected", [
    (Status.REGISTERED, False, False, False, Status.LOADING),
    (Status.LAUNCHING, False, True, False, Status.IDLE),
    (Status.STARTING, False, True, True, Status.RUNNING),
    (Status.RUNNING, False, True, False, Status.IDLE),
    (Status.IDLE, True, True, True, Status.ERROR),
    (Status.STOPPING, False, True, True, Status.STOPPING),  # a pass is stopping it: not back in routing
    (Status.STOPPING, True, True, True, Status.ERROR),
    (Status.ERROR, False, True, False, Status.IDLE),  # it recovered
])
def test_a_report_moves_a_worker_along_its_lifecycle(current, error, loaded, busy, expected):
    assert after_report(current, error=error, loaded=loaded, busy=busy) == expected


def test_only_running_and_idle_workers_serve():
    assert set(SERVING) == {Status.RUNNING, Status.IDLE}
    assert all(status == status.value for status in Status)  # stored and compared as plain text


def test_a_stopped_worker_owes_nothing_routed_to_it(api):
    worker = api.ready_worker(api.group(api.endpoint("llm")))
    row = next(w for w in Worker.scan() if int(w.worker_id) == worker["id"])
    row.update(actions=[Worker.routed_load.add(20), Worker.routed_requests.add(2)])
    mark_stopped(row, now=row.last_report_at + 5)
    row.refresh()
    assert (row.status, row.routed_load, row.routed_requests) == ("stopped", 0, 0)
