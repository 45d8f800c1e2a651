"""A worker's next state after a report: the pure arithmetic between the read and the write."""
from __future__ import annotations

import time

from chalicelib.core.fleet.worker_status import Report, is_stale, next_state
from chalicelib.core.store import Worker


def a_worker(**fields) -> Worker:
    defaults = dict(worker_id=1, account_id=1, endpoint_id=1, group_id=1, started_at=0.0)
    return Worker("hash", **{**defaults, **fields})


def test_amounts_are_turned_into_rates_over_the_time_since_the_last_report():
    worker = a_worker(last_report_at=100.0, loaded_at=50.0, max_perf=10.0, num_requests=10)
    step = next_state(worker, Report(1, "t", arrived_amount=50.0, num_requests=15), now=105.0)
    assert step.changes["cur_load"] == 10.0  # 50 units in 5 s
    assert step.changes["req_rate"] == 1.0  # 5 new requests in 5 s
    assert (step.work, step.reqs, step.capacity_s) == (50.0, 5.0, 50.0)


def test_rates_are_credited_for_the_interval_and_a_first_report_counts_ten_seconds():
    step = next_state(a_worker(), Report(1, "t", loadtime=3.0, max_perf=4.0, arrived_rate=2.0), now=1000.0)
    assert step.changes["status"] == "running" and step.changes["loaded_at"] == 1000.0
    assert (step.work, step.capacity_s) == (20.0, 40.0)


def test_a_reloaded_worker_counts_its_requests_from_zero():
    worker = a_worker(last_report_at=100.0, loaded_at=1.0, num_requests=500)
    reloading = Report(1, "t", loading=True, reloaded=True, num_requests=0)
    assert not is_stale(worker, reloading)
    step = next_state(worker, reloading, now=110.0)
    assert step.changes["num_requests"] == 0 and step.reqs == 0
    after = a_worker(last_report_at=110.0, loaded_at=1.0, num_requests=0)
    assert next_state(after, Report(1, "t", num_requests=3), now=120.0).reqs == 3.0


def test_a_report_whose_count_went_down_without_a_reload_is_older_and_changes_nothing():
    worker = a_worker(last_report_at=100.0, loaded_at=1.0, num_requests=20)
    assert is_stale(worker, Report(1, "t", num_requests=10))
    assert not is_stale(worker, Report(1, "t", num_requests=20))
    assert not is_stale(worker, Report(1, "t", num_requests=None))


def test_errors_and_loading_are_not_capacity():
    worker = a_worker(last_report_at=100.0, loaded_at=1.0, max_perf=10.0)
    assert next_state(worker, Report(1, "t", error_msg="boom"), now=110.0).capacity_s == 0
    assert next_state(a_worker(), Report(1, "t", loading=True), now=110.0).changes["status"] == "loading"


def test_a_worker_being_stopped_stays_out_of_routing_whatever_it_reports():
    stopping = Worker("h", worker_id=1, status="stopping", max_perf=10.0, loaded_at=1.0, last_report_at=0)
    report = Report(worker_id=1, mtoken="t", loadtime=3.0, max_perf=10.0, arrived_rate=5.0)
    assert next_state(stopping, report, time.time()).changes["status"] == "stopping"
    broken = Report(worker_id=1, mtoken="t", error_msg="CUDA error")
    assert next_state(stopping, broken, time.time()).changes["status"] == "error"


def test_a_worker_started_from_stopped_reports_how_long_it_took_to_serve_again():
    restarted = Worker("h", worker_id=1, status="starting", max_perf=10.0, loaded_at=1.0, last_report_at=0)
    report = Report(worker_id=1, mtoken="t", loadtime=21.5, max_perf=10.0)
    assert next_state(restarted, report, time.time()).changes["restart_s"] == 21.5
    launched = Worker("h", worker_id=1, status="starting", max_perf=0.0, loaded_at=0, last_report_at=0)
    assert "restart_s" not in next_state(launched, Report(worker_id=1, mtoken="t", loadtime=180.0), time.time()).changes


def test_a_report_takes_what_was_routed_before_it_was_read_out_of_the_counters_routes_add_to():
    worker = a_worker(last_report_at=100.0, loaded_at=1.0, routed_load=30.0, routed_requests=3)
    added = next_state(worker, Report(1, "t", arrived_amount=30.0), now=105.0).added
    assert (added["routed_load"], added["routed_requests"]) == (-30.0, -3.0)


def test_an_idle_workers_rolling_average_reaches_zero_and_never_a_number_dynamodb_refuses():
    worker, now = a_worker(last_report_at=0.0, loaded_at=1.0, cur_load_rolling_avg=1.0), 0.0
    for _ in range(4000):  # 11 hours of idle reports every 10 s
        now += 10
        average = next_state(worker, Report(1, "t", arrived_rate=0.0), now).changes["cur_load_rolling_avg"]
        assert average == 0 or average >= 1e-6
        worker.cur_load_rolling_avg, worker.last_report_at = average, now
    assert worker.cur_load_rolling_avg == 0


def test_what_was_routed_is_taken_back_exactly_however_many_decimals_its_cost_had():
    worker = a_worker(last_report_at=100.0, loaded_at=1.0, routed_load=0.1234567, routed_requests=1)
    added = next_state(worker, Report(1, "t", arrived_amount=1.0), now=105.0).added
    assert added["routed_load"] == -0.1234567
