"""The snapshot: the thresholds are the policy's defaults with what the environment overrides;
the group's settings are its knobs, its endpoint's where it has none; a worker as its row says;
the load, a rate per minute, the minute still filling included."""
from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from pynamodb.transactions import TransactWrite

from chalicelib.core import settings
from chalicelib.core.fleet import stats
from chalicelib.core.store import Endpoint, LoadHour, Worker, WorkerGroup, connection
from chalicelib.scaling import context
from chalicelib.scaling.snapshot import (
    build_snapshot,
    group_settings,
    load_history,
    queued_and_arriving,
    routed_rate,
    thresholds,
    worker_state,
)


def test_every_threshold_the_environment_may_set_is_a_threshold_of_the_policy():
    assert {f.name for f in fields(context.Thresholds)} == set(settings.POLICY_THRESHOLDS)


def test_the_environment_overrides_a_threshold_and_the_rest_keep_their_defaults(monkeypatch):
    monkeypatch.setenv("SCALE_DOWN_DELAY_S", "30")
    monkeypatch.setenv("RECUR_REPEATS", "4")
    assert thresholds() == context.Thresholds(scale_down_delay_s=30.0, recur_repeats=4)


def test_a_groups_declared_perf_reaches_the_policy_and_none_stays_none():
    endpoint = Endpoint(1, 2, endpoint_name="llm", min_load=0, min_cold_load=0, target_util=0.9, cold_mult=2.5,
                        cold_workers=5, max_workers=20, max_queue_time=30, target_queue_time=10)
    group = WorkerGroup(1, 3, endpoint_id=2, test_workers=3, gpu_ram=8)
    assert group_settings(group, endpoint).perf_hint is None
    group.perf_hint = 12.5
    assert group_settings(group, endpoint).perf_hint == 12.5


def test_an_hour_kept_before_surges_were_reads_as_one_that_surged_to_its_peak():
    endpoint = Endpoint(1, 2, endpoint_name="llm", min_load=0, min_cold_load=0, target_util=0.9, cold_mult=2.5,
                        cold_workers=5, max_workers=20, max_queue_time=30, target_queue_time=10)
    group = WorkerGroup(1, 3, endpoint_id=2, test_workers=3, gpu_ram=8, memory=[
        LoadHour(start=0, peak=50, rise=0), LoadHour(start=3600, peak=40, rise=10, surge=25)])
    memory = build_snapshot(group, endpoint, [], (), 7200.0).memory
    assert memory == (context.Hour(0.0, 50.0, 0.0, surge=50.0), context.Hour(3600.0, 40.0, 10.0, surge=25.0))


def _routed_to(status="running", reported=1_800_000_000.0 - 4, **fields) -> Worker:
    return Worker(token_hash="x", status=status, max_perf=10.0, last_report_at=reported,
                  expires_at=datetime.fromtimestamp(1_800_000_000.0 + 60, UTC), **fields)


def test_work_queued_and_arriving_comes_from_the_reports_and_what_was_routed_since():
    now = 1_800_000_000.0
    workers = [  # 90 queued, 40 served since; 40 routed in 4 s by 100 requests: 36/4 a second
        _routed_to(queue_load=50.0, routed_load=40.0, routed_requests=100, cur_load=8.0),
        _routed_to(queue_load=10.0, routed_load=0.0, cur_load=9.0),  # drained since its report
        _routed_to(queue_load=500.0, routed_load=0.0, cur_load=9.0, status="stopped"),  # not serving: not counted
        _routed_to(queue_load=60.0, routed_load=0.0, cur_load=9.0, status="stopping"),  # draining: its own to serve
    ]
    assert queued_and_arriving(workers, now) == (50.0, 9.0 + 9.0, 8.0 + 9.0)


def test_a_request_or_two_routed_just_after_a_report_is_no_rate_but_a_crowd_is():
    now = 1_800_000_000.0
    one = _routed_to(reported=now - 0.2, cur_load=3.0, routed_load=20.0, routed_requests=1)
    assert queued_and_arriving([one], now)[1:] == (3.0, 3.0)  # its queue still counts: 20 units
    assert queued_and_arriving([one], now)[0] == 20.0 - 10.0 * 1.0
    crowd = _routed_to(reported=now - 2, cur_load=3.0, routed_load=400.0, routed_requests=100)
    assert queued_and_arriving([crowd], now)[1] == 400.0 * 0.9 / 2


def test_a_routed_rate_is_a_counts_low_end_and_without_a_count_the_work_as_it_came():
    assert [routed_rate(20.0, 1, 1.0), routed_rate(40.0, 4, 2.0), routed_rate(50.0, 0, 5.0)] == [0.0, 10.0, 10.0]


def test_a_worker_is_busy_while_work_is_queued_at_it_or_routed_to_it_draining_or_not():
    group = WorkerGroup(1, 3, endpoint_id=2, generation=0)
    now = 1_800_000_000.0

    def state(status, queue_load=0.0, routed_load=0.0):
        worker = Worker(token_hash="x", worker_id=7, status=status, max_perf=10.0, started_at=now - 600,
                        last_report_at=now - 5, queue_load=queue_load, routed_load=routed_load,
                        expires_at=datetime.fromtimestamp(now + 60, UTC))
        return worker_state(worker, group, now)

    assert [state("running", routed_load=2.0).busy, state("idle").busy] == [True, False]
    assert [state("stopping", queue_load=5.0).busy, state("stopping").busy] == [True, False]
    assert state("stopping").status == context.DRAINING


MINUTE = 1_800_000_000 // 60 * 60  # a stats bucket's start
ENDPOINT_LOAD = stats.series("e", 1)


def report(at: float, rate: float) -> None:
    """What a worker's report of `rate` over the 10 s before `at` adds to the endpoint's buckets."""
    with TransactWrite(connection=connection()) as tx:
        stats.add_to_buckets(tx, [ENDPOINT_LOAD], at, span_s=10.0, work=rate * 10.0)


def reporting(last_report_at: float, status: str = "running") -> Worker:
    return Worker(token_hash="x", status=status, cur_load=10.0, last_report_at=last_report_at,
                  expires_at=datetime.fromtimestamp(MINUTE + 600, UTC))


def test_the_minute_still_filling_reads_as_a_rate_over_all_of_it(aws):
    report(MINUTE + 3, 10.0)
    report(MINUTE + 8, 10.0)
    with TransactWrite(connection=connection()) as tx:  # /route/ found no worker for 5 units
        stats.add_to_buckets(tx, [ENDPOINT_LOAD], MINUTE + 9, unmet_work=5.0)
    workers = [reporting(MINUTE + 3), reporting(MINUTE + 8), reporting(MINUTE - 30, status="stopped")]
    # 3 + 8 s of 10 units/s reported in the minute, 7 + 2 s carried on at the reported rate, 5 unmet.
    assert load_history(1, 1, MINUTE + 10, 300.0, workers) == ((MINUTE - 60, (70 + 20) / 60), (MINUTE, 20.5))
    assert load_history(1, 2, MINUTE + 10, 300.0, workers)[-1] == (MINUTE, 10.25)  # two groups share it
    # A minute with no report yet reads what the workers last reported.
    assert load_history(1, 1, MINUTE + 61, 300.0, workers)[-1] == (MINUTE + 60, 20.0)


def test_the_minute_just_finished_is_carried_on_until_every_worker_has_reported_since(aws):
    for at in range(MINUTE + 5, MINUTE + 60, 10):  # one worker at 10 units/s, its last report 5 s before the end
        report(at, 10.0)
    worker = reporting(MINUTE + 55)
    assert load_history(1, 1, MINUTE + 62, 300.0, [worker]) == ((MINUTE - 60, 50 / 60), (MINUTE, 10.0),
                                                                 (MINUTE + 60, 10.0))


def test_minutes_without_reports_read_as_no_load_while_no_worker_is_in_routing(aws):
    report(MINUTE - 170, 10.0)  # the last report, in the minute three back; its worker is stopped since
    stopped = [reporting(MINUTE - 170, status="stopped")]
    # Every request since would have found no worker and counted as unmet: the minutes without a bucket had none.
    assert load_history(1, 1, MINUTE + 10, 300.0, stopped) == (
        (MINUTE - 300, 0.0), (MINUTE - 240, 0.0), (MINUTE - 180, 100 / 60), (MINUTE - 120, 0.0), (MINUTE - 60, 0.0),
        (MINUTE, 0.0))
    # ... not before the endpoint was created,
    assert load_history(1, 1, MINUTE + 10, 300.0, stopped, created_at=MINUTE - 100)[0] == (MINUTE - 180, 100 / 60)
    assert load_history(2, 1, MINUTE + 10, 300.0, [], created_at=MINUTE + 5) == ((MINUTE, 0.0),)  # a new one
    # ... and with a worker in routing, a minute without a bucket may be work not reported yet: no sample.
    running = [reporting(MINUTE - 170)]
    assert [t for t, _ in load_history(1, 1, MINUTE + 10, 300.0, running)] == [MINUTE - 180, MINUTE - 60, MINUTE]
