"""The scaling policy, knob by knob, with numbers worked by hand."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.scaling.context import Candidate, GroupSettings, Hour, Snapshot, Thresholds, WorkerState
from chalicelib.scaling.policy import PEAK_BUCKET_S, load_now, predict_load
from chalicelib.scaling.recurrence import Jump
from tests.support.policy_snapshots import NO_LOAD, NOW, kinds, offers, plan, steady, worker

IDLE_FOR_A_DAY = tuple(Hour(NOW // 3600 * 3600 - 3600 * h, 0.0) for h in range(23, 0, -1))  # the policy's memory


# --- prediction and target -------------------------------------------------------------

def test_target_is_predicted_load_over_target_util():
    result = plan([worker(1), worker(2), worker(3), worker(4), worker(5)], steady(45.0))
    assert (result.predicted_load, result.target_capacity) == (45.0, 50.0)
    assert result.actions == ()  # 5 x 10 = 50 is exactly the target


def test_min_load_is_a_floor_on_the_prediction():
    assert plan(load=steady(0.0), min_load=18.0, offers=offers(1.0)).target_capacity == 20.0


def test_a_rising_load_is_projected_one_lead_time_ahead():
    load = tuple((NOW - 240 + 60 * i, 10.0 * (i + 1)) for i in range(5))  # 10, 20, 30, 40, 50 a minute apart
    assert predict_load(load, NOW, Thresholds()) == pytest.approx(50 + (10 / 60) * 180)  # 80


def test_a_ramp_within_the_minute_still_filling_is_projected_through_the_load_now():
    # The one sample so far is the minute begun 40 s ago (10 on average); 40 arrives now.
    load = ((NOW - 40, 10.0),)
    assert predict_load(load, NOW, Thresholds()) == 10.0  # the history alone: no trend
    assert predict_load(load, NOW, Thresholds(), current=40.0) == pytest.approx(40 + (30 / 40) * 180)  # 175


def test_samples_seconds_apart_make_no_trend():
    # A minute begun 5 s ago reads what one report brought: no slope is drawn through it.
    load = ((NOW - 5, 10.0),)
    assert predict_load(load, NOW, Thresholds(), current=40.0) == 40.0
    assert predict_load(load, NOW, Thresholds(trend_min_span_s=0.0), current=40.0) > 40.0


def test_what_was_routed_since_the_reports_is_the_load_now_only_while_a_queue_builds():
    def snapshot(backlog):
        return Snapshot(NOW, GroupSettings(target_queue_time=10.0), Thresholds(), (worker(1), worker(2)), steady(9.0),
                        backlog=backlog, current_load=30.0, reported_load=9.0)

    # Two workers of 10: a queue of 15 is 0.75 s of their work, under a tenth of the 10 s target wait.
    assert load_now(snapshot(backlog=15.0)) == 9.0
    assert load_now(snapshot(backlog=30.0)) == 30.0  # 1.5 s: it builds, and what arrives since counts


def test_the_trend_runs_through_what_the_reports_give_not_what_was_routed_since():
    base = dict(load=((NOW - 40, 10.0),), current_load=90.0, offers=offers(*[1.0] * 40), lead_time_s=180.0,
                pool_headroom=0.0)
    routed = plan([worker(i) for i in range(1, 10)], **base)
    reported = plan([worker(i) for i in range(1, 10)], **base, reported_load=40.0)
    assert routed.predicted_load == pytest.approx(90 + (80 / 40) * 180)
    assert reported.predicted_load == pytest.approx(40 + (30 / 40) * 180)


def test_a_falling_load_now_is_no_trend_up():
    load = tuple((NOW - 240 + 60 * i, 50.0) for i in range(5))
    assert predict_load(load, NOW, Thresholds(), current=20.0) == 50.0  # the window's peak


def test_unmet_demand_is_load_like_any_other():
    # /route/ turned away 27 units/s: with no workers that is the whole load.
    result = plan([], steady(27.0), offers=offers(1.0, 1.0, 1.0, 2.0))
    assert result.target_capacity == 30.0
    assert kinds(result) == [("launch", 100), ("launch", 101), ("launch", 102)]


def test_the_load_now_counts_before_it_reaches_the_history_as_a_burst_served_within_the_target_wait():
    # 45/s in the last report window, 18 over the minutes: a window (burst_s, 10 s) of it served
    # within target_queue_time (10 s) is 22.5/s, so the target is 25: one machine launches for
    # it, and the pool, which holds all of it, takes the rest.
    result = plan([worker(1), worker(2)], steady(18.0), current_load=45.0, offers=offers(1.0, 1.0, 1.0))
    assert result.target_capacity == 25.0 and [k for k, _ in kinds(result)] == ["launch"] * 3
    assert [a.reason.split(":")[0] for a in result.actions] == ["capacity 20.0 below target 25.0"] + ["cold pool"] * 2
    # Stops keep what all of it needs: of six serving, one goes (50 = 45 / 0.9 stay).
    assert [k for k, _ in kinds(plan([worker(i) for i in range(1, 7)], steady(18.0), current_load=45.0))] == ["stop"]
    # With a target wait of a second, the window is nearly all of it.
    assert plan([], steady(18.0), current_load=45.0, target_queue_time=1.0).target_capacity == pytest.approx(
        45 * 10 / 11 / 0.9)


# --- scaling up: cold workers first, then the cheapest offers ------------------------------

def test_a_backlog_starts_cold_workers_to_drain_it_within_target_queue_time():
    workers = [worker(1), worker(2), *(worker(i, "stopped") for i in (3, 4, 5))]
    # target 20 is served; 200 units queued drain in 10 s with 20 more: two cold workers start
    result = plan(workers, steady(18.0), backlog=200.0, offers=offers(1.0), cold_mult=2.5)
    assert kinds(result) == [("start", 3), ("start", 4)]
    # with no cold worker left, a queue that shrinks (18/s arrive, 20 serve) launches nothing...
    assert plan(workers[:2], steady(18.0), backlog=200.0, offers=offers(1.0)).actions == ()


def test_a_growing_queue_the_cold_pool_cannot_drain_is_covered_by_launches_bounded_by_need():
    # 25/s arrive, 20 serve: in the 20 s a cold worker would take, 200 queued become 300,
    # drained in 10 s by 30 more than the target of 25. No cold worker: the first launches to
    # load serve it, and the more there are, the sooner the first loads; but launches never
    # go past need: 25 arriving + the 200 queued now drained in 10 s = 45.
    result = plan([worker(1), worker(2)], steady(18.0), backlog=200.0, current_load=25.0, offers=offers(*[1.0] * 6),
                  target_util=1.0, restart_s=20.0)
    assert [k for k, _ in kinds(result)] == ["launch"] * 3  # 20 + 30 >= 45
    assert "a growing queue: 45.0 arriving and queued" in result.actions[0].reason
    # launches already on their way count: two loading, one more
    loading = [worker(3, "loading", age=60.0), worker(4, "loading", age=60.0)]
    result = plan([worker(1), worker(2), *loading], steady(18.0), backlog=200.0, current_load=25.0,
                  offers=offers(*[1.0] * 6), target_util=1.0, restart_s=20.0)
    assert [k for k, _ in kinds(result)] == ["launch"]


def test_a_queue_at_a_workload_a_few_workers_serve_launches_no_burst():
    # 75/s arrive at a new group, nothing serves yet, 75 queued: the need is 75 + 7.5, nine
    # workers of the 10 units/s the offers promise, not max_workers (the target is half of
    # 75 / 0.9, a report window of it served within the target wait; the queue asks the rest).
    result = plan([], steady(0.0, minutes=0), backlog=75.0, current_load=75.0, offers=offers(*[1.0] * 60),
                  target_util=0.9)
    assert result.target_capacity == pytest.approx(75 / 2 / 0.9)
    assert len(result.actions) == 9


def test_the_queue_to_drain_counts_what_arrives_above_capacity_until_cold_workers_serve():
    workers = [worker(1), worker(2), *(worker(i, "stopped") for i in range(3, 11))]  # 100 in all
    # 40/s arrive, 20 serve: by the time a cold worker serves (restart_s 20) the 100 queued
    # are 100 + 20 x 20 = 500, drained in 10 s by 50 more than the target of 20 (a report
    # window of the 40 served within the target wait)
    knobs = {"target_util": 1.0, "restart_s": 20.0, "cold_mult": 2.5}
    result = plan(workers, steady(18.0), backlog=100.0, current_load=40.0, **knobs)
    assert kinds(result) == [("start", i) for i in range(3, 8)]  # 20 + 50 = 20 + 50
    # nothing queued: a report window of 40 is served in time by the 20 serving
    assert kinds(plan(workers, steady(18.0), current_load=40.0, **knobs)) == []
    assert kinds(plan(workers, steady(18.0), current_load=60.0, **knobs)) == [("start", 3)]  # 30 wanted


def test_a_new_group_launches_its_test_workers_before_any_load_arrives():
    untested = tuple(Candidate(100 + i, 1.0, None) for i in range(10))
    result = plan([], NO_LOAD, offers=untested, test_workers=3, cold_workers=5)
    assert [k for k, _ in kinds(result)] == ["launch"] * 3
    # benchmarked: offers are trusted, the new endpoint keeps one worker serving for its first
    # day, and cold_workers in all
    result = kinds(plan([worker(1, "stopped")], NO_LOAD, offers=untested, cold_workers=5))
    assert result == [("start", 1), ("launch", 100), ("launch", 101), ("launch", 102), ("launch", 103)]

def test_stopped_workers_start_before_anything_is_launched():
    workers = [worker(1), worker(2), worker(3), worker(4, "stopped", price=2.0), worker(5, "stopped", price=1.0)]
    result = plan(workers, steady(45.0))
    assert kinds(result)[:2] == [("start", 5), ("start", 4)]  # best price/perf first; 30 + 20 = 50
    assert not result.needs_offers


def test_launches_ask_for_offers_then_take_the_best_value():
    first = plan([worker(1)], steady(27.0))
    assert first.needs_offers and first.actions == ()
    second = plan([worker(1)], steady(27.0),
                  offers=(Candidate(7, 3.0, 30.0), Candidate(8, 0.5, 5.0), Candidate(9, 1.5, 10.0)))
    # need 20 more: value is price/perf: #7 0.10, #8 0.10 (id breaks the tie), #9 0.15
    assert kinds(second) == [("launch", 7)]


def test_cold_pool_is_filled_to_cold_mult_times_target():
    result = plan([worker(1), worker(2)], steady(18.0), offers=offers(1.0, 1.0, 1.0), cold_mult=2.0)
    # target 20 is served; total should be 40: two more machines, stopped once loaded
    assert kinds(result) == [("launch", 100), ("launch", 101)]
    assert all(a.reason.startswith("cold pool") for a in result.actions)


def test_the_pool_multiplies_the_target_the_minutes_give_not_one_report_windows_spike():
    workers = [worker(i) for i in range(1, 5)]
    # 18 units/s over the last minutes, 36 in the last report window: the four workers serving
    # are kept for it (40 = 36 / 0.9), and the pool is cold_mult x the minutes' target
    # (2 x 20), met by those four.
    spike = plan(workers, steady(18.0), current_load=36.0, offers=offers(*[1.0] * 8), cold_mult=2.0,
                 lead_time_s=0.0)
    assert spike.target_capacity == 20.0
    assert spike.actions == ()
    # 36 over the minutes: the pool is 2 x 40, four more machines.
    level = plan(workers, steady(36.0), current_load=36.0, offers=offers(*[1.0] * 8), cold_mult=2.0,
                 lead_time_s=0.0)
    assert [k for k, _ in kinds(level)] == ["launch"] * 4


def test_test_workers_cap_launches_while_no_machine_has_been_benchmarked():
    untested = tuple(Candidate(100 + i, 1.0, None) for i in range(10))
    result = plan([], steady(90.0), offers=untested, test_workers=3)
    assert [k for k, _ in kinds(result)] == ["launch"] * 3


def test_a_declared_perf_sizes_the_first_launches_to_the_load_until_a_benchmark():
    untested = tuple(Candidate(100 + i, 1.0, None) for i in range(20))
    # 90/s at target_util 0.9 and a declared 12.5/s per worker: 100 / 12.5 = 8 launches, not 3 test workers
    first = plan([], steady(90.0), offers=untested, test_workers=3, perf_hint=12.5)
    assert [k for k, _ in kinds(first)] == ["launch"] * 8
    # the next pass counts those 8 loading at the declared perf: nothing more for the same load
    loading = [worker(i, "loading", perf=0.0, age=60.0) for i in range(1, 9)]
    assert plan(loading, steady(90.0), offers=untested, test_workers=3, perf_hint=12.5).actions == ()
    # once one has benchmarked, its perf governs: 8 x 10 = 80 < 100, two more
    measured = [worker(1, perf=10.0), *loading[1:]]
    assert [k for k, _ in kinds(plan(measured, steady(90.0), offers=untested, perf_hint=12.5))] == ["launch"] * 2


def test_max_workers_caps_launches():
    result = plan([worker(1)], steady(90.0), offers=offers(*[1.0] * 20), max_workers=4)
    assert [k for k, _ in kinds(result)] == ["launch"] * 3


def test_a_failing_worker_its_owner_brought_still_takes_a_place_under_max_workers():
    """(It is never destroyed, so it still exists: the cap is on workers that exist.)"""
    theirs = worker(1, "running", perf=10.0, managed=False, reliability=0.5)  # below min_reliability
    result = plan([theirs], load=steady(18.0), current_load=18.0, offers=offers(1.0, 1.0, 1.0), max_workers=2,
                  target_util=1.0)
    assert [k for k, _ in kinds(result)] == ["launch"]


@pytest.mark.parametrize("thresholds", [{"ready_floor_jumps": 0}, {"restart_s": 0.0}])
def test_thresholds_at_zero_decide_without_failing(thresholds):
    memory = (Hour(NOW - 7200, 20.0, rise=20.0), Hour(NOW - 3600, 20.0, rise=20.0))
    for remembered in ((), memory):
        plan([worker(1)], load=steady(5.0), memory=remembered, **thresholds)


# --- scaling down ---------------------------------------------------------------------

def test_scale_down_removes_the_worst_price_per_performance_first():
    workers = [worker(1, price=1.0), worker(2, price=3.0), worker(3, price=2.0), worker(4, price=1.0)]
    load = tuple((t, 45.0 if t < NOW - 700 else 18.0) for t, _ in steady(0.0))  # dropped 11 minutes ago
    result = plan(workers, load)
    assert result.target_capacity == 20.0
    assert kinds(result) == [("stop", 2), ("stop", 3)]  # $3 then $2 per 10 units/s; kept cold for the day's peak


def test_capacity_is_held_while_the_recent_peak_still_needs_it():
    workers = [worker(i) for i in range(1, 6)]
    load = tuple((t, 45.0 if t < NOW - 50 else 18.0) for t, _ in steady(0.0))  # dropped 50 s ago
    assert plan(workers, load).actions == ()
    load = tuple((t, 45.0 if t < NOW - 70 else 18.0) for t, _ in steady(0.0))  # 70 s ago: past scale_down_delay_s
    assert [k for k, _ in kinds(plan(workers, load))] == ["stop"] * 3


def test_the_cold_pool_holds_what_the_load_can_reach_before_a_launch_serves():
    # Yesterday evening the load rose by 60 within a lead time, to a peak of 90; now 18 arrives.
    yesterday_evening = (Hour(NOW - 30 * 3600, 200.0, surge=150.0), Hour(NOW - 20 * 3600, 90.0, surge=60.0))
    result = plan([worker(1), worker(2)], steady(18.0), offers=offers(*[1.0] * 10), memory=yesterday_evening)
    # the first hour is over 24 h old; 18 + 60 = 78 can come before a launch serves: 78 / 0.9 = 86.7
    # in all, seven more machines
    assert [k for k, _ in kinds(result)] == ["launch"] * 7
    assert result.memory == (Hour(NOW - 20 * 3600, 90.0, surge=60.0),
                             Hour(NOW // PEAK_BUCKET_S * PEAK_BUCKET_S, 18.0))
    # with headroom of half again above it (the default): 1.5 x 78 / 0.9 = 130, eleven more
    result = plan([worker(1), worker(2)], steady(18.0), offers=offers(*[1.0] * 20), memory=yesterday_evening,
                  pool_headroom=0.5)
    assert [k for k, _ in kinds(result)] == ["launch"] * 11
    # never above the day's peak: a rise of 60 from 40 reaches 90, not 100
    assert len(plan([worker(1), worker(2)], steady(40.0), offers=offers(*[1.0] * 10), memory=yesterday_evening)
               .actions) == 8  # 90 / 0.9 = 100 in all, 20 of it serving
    # the headroom is over load seen, not over min_load's floor: 27 / 0.9 = 30, three workers
    assert len(plan([], NO_LOAD, offers=offers(*[1.0] * 9), min_load=27.0, pool_headroom=0.5).actions) == 3


def test_a_peak_the_load_rose_to_slowly_is_not_held_once_older_than_pool_keep_s():
    # The same evening peak of 90, reached by a slow climb: launches follow such a rise back.
    slow_evening = (Hour(NOW - 20 * 3600, 90.0, surge=5.0),)
    result = plan([worker(1), worker(2)], steady(18.0), offers=offers(*[1.0] * 10), memory=slow_evening)
    assert kinds(result) == [("launch", 100)]  # (18 + 5) / 0.9 = 25.6: the two workers and a third
    recent = (Hour(NOW // PEAK_BUCKET_S * PEAK_BUCKET_S - PEAK_BUCKET_S, 90.0, surge=5.0),)  # within pool_keep_s
    result = plan([worker(1), worker(2)], steady(18.0), offers=offers(*[1.0] * 10), memory=recent)
    assert len(result.actions) == 8  # 90 / 0.9 = 100 in all


def test_each_pass_notes_the_largest_rise_within_a_lead_time():
    climbing = tuple((NOW - 60 * i, 80.0 if i < 2 else 20.0) for i in reversed(range(10)))  # 20, then 80
    assert plan([worker(1)], climbing, offers=offers(*[1.0] * 20)).memory[-1].surge == 60.0
    assert plan([worker(1)], steady(20.0), offers=offers(*[1.0] * 20)).memory[-1].surge == 0.0
    # the first sample has nothing before it: no reports is not no load
    assert plan([], ((NOW, 50.0),), offers=offers(*[1.0] * 20)).memory[-1].surge == 0.0


def test_min_cold_load_is_a_floor_on_the_cold_pool():
    result = plan([worker(1, "stopped")], NO_LOAD, offers=offers(*[1.0] * 6), min_cold_load=45.0,
                  memory=IDLE_FOR_A_DAY)
    assert [k for k, _ in kinds(result)] == ["launch"] * 4  # 45 / 0.9 = 50 in all, 10 of it stopped already


def test_a_fleet_found_serving_is_not_scaled_down_before_the_load_history_covers_the_delay():
    # A warm start, or a control plane redeployed: no reports yet is not no load.
    serving = [worker(1), worker(2), worker(3)]
    assert [k for k, _ in kinds(plan(serving, ()))] == []
    assert [k for k, _ in kinds(plan(serving, ((NOW - 50, 0.0),)))] == []  # 50 s of a 60 s delay
    assert [k for k, _ in kinds(plan(serving, ((NOW - 60, 0.0),)))] == ["destroy", "destroy"]


def test_a_worker_started_within_pool_keep_s_is_stopped_not_destroyed_as_surplus():
    # Relaunching costs more than keeping a stopped machine that long (cluster-autoscaler
    # waits after a scale-up for the same reason). cold_mult 1: the pool has no room for it.
    assert kinds(plan([worker(1), worker(2, age=600)], steady(9.0))) == [("stop", 2)]
    assert kinds(plan([worker(1), worker(2)], steady(9.0))) == [("destroy", 2)]
    assert plan([worker(1), worker(2, "stopped", age=600)], steady(9.0)).actions == ()


def test_jumps_from_idle_are_remembered_and_once_they_come_back_keep_enough_serving_to_meet_the_next():
    session = plan([worker(1)], steady(0.0), current_load=40.0, offers=offers(*[1.0] * 5))
    assert session.memory[-1].rise == 40.0  # nothing in the last two minutes, 40 units/s now
    once = (Hour(NOW - 3 * 3600, 40.0, rise=40.0),)
    workers = [worker(1), *(worker(i, "stopped") for i in (2, 3, 4))]
    # one jump is no pattern yet (a first use, a one-off): one worker serving, no floor
    assert plan(workers, steady(0.0), memory=once, cold_mult=2.5).target_capacity == 10.0
    later = (Hour(NOW - 5 * 3600, 30.0, rise=30.0), *once)  # jumps from idle in two hours (ready_floor_jumps)
    # idle again: 40 x (30 - 10) / 30 = 26.7 serving meets a jump to 40 while cold workers start
    result = plan(workers, steady(0.0), memory=later, cold_mult=2.5)
    assert result.target_capacity == pytest.approx(26.67, abs=0.01) and kinds(result) == [("start", 2), ("start", 3)]
    # workers that report starting in 20 s need only half the jump serving
    reported = [worker(1), *(worker(i, "stopped", restart_s=s) for i, s in ((2, 20.0), (3, 20.0), (4, 45.0)))]
    assert plan(reported, steady(0.0), memory=later, cold_mult=2.5).target_capacity == 20.0  # their median


def test_launches_on_their_way_do_not_keep_cold_workers_from_starting_for_a_queue():
    launched = WorkerState(9, "loading", 0.0, 1.0, NOW - 30)  # counts what its peers serve, in minutes
    workers = [worker(1), worker(2), launched, worker(3, "stopped")]
    result = plan(workers, steady(27.0), backlog=50.0, offers=offers(1.0), cold_mult=2.5)
    assert ("start", 3) in kinds(result)


def test_removed_workers_are_stopped_while_the_cold_pool_has_room():
    workers = [worker(i) for i in range(1, 6)]
    result = plan(workers, steady(18.0), cold_mult=2.5)
    # target 20, total goal 50: the three surplus workers are kept cold
    assert [k for k, _ in kinds(result)] == ["stop"] * 3


def test_cold_workers_are_kept_before_any_is_destroyed():
    workers = [worker(i) for i in range(1, 6)]
    result = plan(workers, steady(0.0, minutes=20), cold_workers=3, memory=IDLE_FOR_A_DAY)
    # no load for 20 minutes: everything goes, but three are kept stopped
    assert sorted(k for k, _ in kinds(result)) == ["destroy", "destroy", "stop", "stop", "stop"]


def test_the_cold_pool_is_trimmed_to_its_goal():
    workers = [worker(1), worker(2)] + [worker(i, "stopped") for i in range(3, 8)]
    result = plan(workers, steady(18.0), cold_mult=2.0)
    assert [k for k, _ in kinds(result)] == ["destroy"] * 3  # total 70 -> 40


def test_a_lowered_max_workers_destroys_stopped_workers_first():
    workers = [worker(1), worker(2), worker(3, "stopped"), worker(4, "stopped")]
    result = plan(workers, steady(18.0), max_workers=2, cold_mult=2.0, cold_workers=5)
    assert kinds(result) == [("destroy", 4), ("destroy", 3)]


# --- recurring load: started ahead, stopped when it does not come ---------------------------

def recurring(due: float, period: float = 900.0, base: float = 5.0, level: float = 45.0) -> tuple:
    """Three jumps in a row, one period apart, the next due at `due`."""
    return tuple(Jump(due - period * k, base, level) for k in (3, 2, 1))


def test_cold_workers_start_ahead_of_a_recurring_jump_when_the_next_pass_would_be_too_late():
    workers = [worker(1), *(worker(i, "stopped") for i in range(2, 8))]
    # due in 40 s: a start takes restart_s (30 s), and the next pass is pass_interval_s (20 s) away
    result = plan(workers, steady(5.0), current_load=5.0, jumps=recurring(NOW + 40), cold_mult=2.5)
    assert result.target_capacity == pytest.approx((5 + 40) / 0.9)  # what arrives, and the jump's rise
    assert kinds(result) == [("start", i) for i in range(2, 6)]
    assert "a jump recurring every 900 s, due at 10040" in result.actions[0].reason
    # due in 60 s: the next pass starts them
    assert plan(workers, steady(5.0), current_load=5.0, jumps=recurring(NOW + 60), cold_mult=2.5).actions == ()
    # a tenth more (restart_spare) for machines whose GPU was taken meanwhile
    spared = plan(workers, steady(5.0), current_load=5.0, jumps=recurring(NOW + 40), cold_mult=2.5, restart_spare=0.1)
    assert len(spared.actions) == 5


def test_workers_started_for_a_jump_that_does_not_come_are_stopped_again():
    workers = [worker(i, age=60.0) for i in range(1, 6)]
    waiting = plan(workers, steady(5.0), current_load=5.0, jumps=recurring(NOW - 10), cold_mult=2.5)
    assert waiting.actions == ()  # within recur_tolerance_s (20 s) of when it was due
    gone = plan(workers, steady(5.0), current_load=5.0, jumps=recurring(NOW - 30), cold_mult=2.5)
    assert [k for k, _ in kinds(gone)] == ["stop"] * 4


def test_a_recurring_jump_from_idle_needs_no_ready_floor_between_jumps():
    later = (Hour(NOW - 5 * 3600, 30.0, rise=30.0), Hour(NOW - 3 * 3600, 40.0, rise=40.0))  # 26.7 kept serving
    workers = [worker(1), *(worker(i, "stopped") for i in (2, 3, 4))]
    assert plan(workers, steady(0.0), memory=later, cold_mult=2.5).target_capacity == pytest.approx(26.67, abs=0.01)
    foreseen = plan(workers, steady(0.0), memory=later, cold_mult=2.5, jumps=recurring(NOW + 600, base=0.0))
    assert foreseen.target_capacity == 0.0 and kinds(foreseen) == [("stop", 1)]


def test_the_pool_holds_a_foreseen_jump_with_recur_headroom_not_the_burst_headroom():
    workers = [worker(1), *(worker(i, "stopped") for i in range(2, 10))]  # 90 in all
    # no forecast: the day's peak of 45 with half again above it, 1.5 x 45 / 0.9 = 75, is kept
    memory = (Hour(NOW - 3600, 45.0),)
    assert plan(workers, steady(5.0), memory=memory, pool_headroom=0.5, cold_mult=2.5).actions == ()
    # foreseen: 1.2 x 45 / 0.9 = 60 and a worker's slack kept, the rest destroyed
    result = plan(workers, steady(5.0), memory=memory, pool_headroom=0.5, cold_mult=2.5,
                  jumps=recurring(NOW + 600), recur_headroom=0.2)
    assert [k for k, _ in kinds(result)] == ["destroy"] * 2


def test_each_pass_notes_the_jump_its_load_is_in():
    result = plan([worker(1)], steady(5.0), current_load=45.0, offers=offers(*[1.0] * 5))
    assert result.jumps == (Jump(NOW, 5.0, 45.0),)


# --- short jumps: what drains one held, no starts for one like them ---------------------------

def short_jumps(count: int = 4, every: float = 60.0, lasted: float = 20.0, base: float = 30.0,
                levels: tuple = (140.0, 180.0, 220.0, 180.0)) -> tuple:
    """`count` jumps from `base` to `levels`, `every` seconds apart, each over `lasted` s after it began."""
    return tuple(Jump(NOW - 30 - every * k, base, levels[k % len(levels)], end=NOW - 30 - every * k + lasted)
                 for k in reversed(range(count)))


FLEET = [*(worker(i) for i in range(1, 12)), *(worker(i, "stopped") for i in range(12, 20))]  # 110 serving
IN_A_JUMP = steady(55.0, now=NOW - 60) + ((NOW - 10, 180.0),)  # the minute still filling is risen


def test_after_short_jumps_in_a_row_what_drains_one_within_the_target_wait_is_held():
    # a jump of 180 over 30 taken as one report window (10 s): (180 x 10 + 30 x 10) / (10 + 10) = 105 drains it
    # within target_queue_time (10 s); those of 140 and 220 need 85 and 125: 105 on average, / 0.9 = 116.7
    result = plan(FLEET, steady(55.0), current_load=30.0, jumps=short_jumps())
    assert result.target_capacity == pytest.approx(116.67, abs=0.01)
    assert [k for k in kinds(result) if k[0] == "start"] == [("start", 12)]
    assert "4 short jumps in a row" in result.actions[0].reason
    assert plan(FLEET, steady(55.0), current_load=30.0, jumps=short_jumps()[1:]).target_capacity == pytest.approx(61.11,
                                                                                                                abs=0.01)


def test_cold_workers_are_not_started_for_a_jump_like_the_short_ones_before_it():
    like = (*short_jumps(), Jump(NOW - 5, 30.0, 300.0))  # higher than any, not by half of the highest (220)
    result = plan([*FLEET, worker(20)], IN_A_JUMP, current_load=300.0, backlog=800.0, jumps=like)
    assert result.actions == () and result.target_capacity == pytest.approx(116.67, abs=0.01)
    # the same queue after no short jumps: cold workers start to drain it
    assert [k for k, _ in kinds(plan([*FLEET, worker(20)], IN_A_JUMP, current_load=300.0, backlog=800.0,
                                     jumps=like[-1:]))] == ["start"] * 8


def test_no_cold_worker_starts_ahead_of_short_jumps_that_recur():
    # one every 150 s, the next due at NOW + 40
    recur = tuple(Jump(NOW - 110 - 150 * k, 30.0, 180.0, end=NOW - 90 - 150 * k) for k in (3, 2, 1, 0))
    foreseen = plan(FLEET, steady(55.0), current_load=30.0, jumps=recur, short_jumps=99)
    assert foreseen.target_capacity == pytest.approx(227.78, abs=0.01)  # (55 + their rise, 150) / 0.9
    assert plan(FLEET, steady(55.0), current_load=30.0, jumps=recur).target_capacity == pytest.approx(116.67, abs=0.01)


def test_the_cold_pool_is_not_trimmed_to_a_forecast_of_short_jumps():
    # the same jumps every 150 s; the day's peak, 180, an hour ago; 110 serving and 190 stopped
    recur = tuple(Jump(NOW - 110 - 150 * k, 30.0, 180.0, end=NOW - 90 - 150 * k) for k in (3, 2, 1, 0))
    workers = [*(worker(i) for i in range(1, 12)), *(worker(i, "stopped") for i in range(12, 31))]
    memory = (Hour(NOW // PEAK_BUCKET_S * PEAK_BUCKET_S - PEAK_BUCKET_S, 180.0),)
    # foreseen, the pool would hold the jump with recur_headroom (1.2 x 180 / 0.9 = 240, and a
    # worker's slack) and destroy five; a trimmed pool is refilled when the forecast lapses
    foreseen = plan(workers, steady(55.0), current_load=30.0, jumps=recur, memory=memory, short_jumps=99,
                    cold_mult=2.5, max_workers=60)
    assert [k for k, _ in kinds(foreseen)].count("destroy") == 5
    # not foreseen: the pool is what the load reached lately (2.5 x 180 / 0.9 = 500 kept)
    held = plan(workers, steady(55.0), current_load=30.0, jumps=recur, memory=memory, cold_mult=2.5, max_workers=60)
    assert kinds(held) == [("start", 12)]


@pytest.mark.parametrize("jump, why", [
    (Jump(NOW - 60, 30.0, 180.0), "it lasted longer than a start (30 s) and a pass (20 s)"),
    (Jump(NOW - 5, 30.0, 340.0), "it rose above the highest of them (220) by more than half of it"),
])
def test_a_jump_unlike_the_short_ones_starts_cold_workers_as_any_other(jump, why):
    result = plan([*FLEET, worker(20)], IN_A_JUMP, current_load=jump.level, backlog=800.0,
                  jumps=(*short_jumps(), jump))
    assert [k for k, _ in kinds(result)] == ["start"] * 8, why


@pytest.mark.parametrize("jumps, current, why", [
    (short_jumps(every=200.0), 30.0, "the first began more than short_jump_memory_s (600 s) ago"),
    (short_jumps(lasted=60.0), 30.0, "they lasted long enough for started workers to serve them"),
    (tuple(replace(j, end=None) if k == 1 else j for k, j in enumerate(short_jumps())), 30.0, "one never ended"),
    (short_jumps(), 14.0, "the load they rose from is gone"),
])
def test_nothing_is_held_for_jumps_that_are_not_short_ones_of_a_load_still_arriving(jumps, current, why):
    assert plan(FLEET, steady(55.0), current_load=current, jumps=jumps).target_capacity == pytest.approx(61.11,
                                                                                                        abs=0.01), why


# --- the load's noise ---------------------------------------------------------------------

NOISY = tuple((NOW - 20 * i, 30.0 if i % 2 else 60.0) for i in reversed(range(1, 9)))  # 60 and 30 in turn
SEVEN = [worker(i) for i in range(1, 8)]  # 70 serving


def test_a_load_noisier_than_target_util_covers_is_served_with_the_excess_spread_more():
    # The notes stray by 15 from 45 (a spread of 1.4826 x 15 / 45 = 0.49), a quarter of it covered.
    result = plan(SEVEN, steady(45.0), current_load=45.0, noted_load=NOISY, noise_floor=0.25)
    assert result.target_capacity == pytest.approx(50.0 * (1 + 1.4826 * 15 / 45 - 0.25))  # 62.2
    assert result.actions == ()  # without one worker, 60 serve: less than the noise needs
    quiet = plan(SEVEN, steady(45.0), current_load=45.0, noise_floor=0.25)
    assert quiet.target_capacity == 50.0 and [k for k, _ in kinds(quiet)] == ["destroy"] * 2  # no pool: 50 serve


def test_noise_within_the_floor_and_a_spike_among_the_notes_add_nothing():
    assert plan(SEVEN, steady(45.0), current_load=45.0, noted_load=NOISY, noise_floor=0.5).target_capacity == 50.0
    spike = tuple((t, 200.0 if t == NOW - 40 else 45.0) for t, _ in NOISY)
    assert plan(SEVEN, steady(45.0), current_load=45.0, noted_load=spike).target_capacity == 50.0


FILLING = (*((NOW - 20 - 60 * i, 60.0) for i in reversed(range(1, 10))), (NOW - 20, 0.0))  # 60, then 20 s of 0


def test_a_noisy_load_is_served_for_the_mean_of_the_delay_not_the_quiet_start_of_a_minute():
    # The minute begun 20 s ago has had two quiet report windows; the last scale_down_delay_s
    # (60 s) holds 40 s of the minute before at 60: a mean of 40. With the quiet note now, the
    # notes (60 and 30 in turn, then 0) spread by 1.4826 x 30 / 30, a quarter of it covered.
    lift = 1 + 1.4826 - 0.25
    noisy = plan(SEVEN, FILLING, noted_load=NOISY, noise_floor=0.25)
    assert noisy.target_capacity == pytest.approx(40.0 / 0.9 * lift)  # 99.2
    assert noisy.actions == ()
    quiet = plan(SEVEN, FILLING, noise_floor=0.25)
    assert quiet.target_capacity == 10.0  # the minute still filling: one worker kept serving
    assert [k for k, _ in kinds(quiet)] == ["stop"] * 6  # kept cold: 60 served a minute ago


def test_a_minute_without_reports_is_not_in_the_mean():
    # The minute before the one filling had no bucket: 60 two minutes ago is not carried over it.
    gap = (*FILLING[:-2], FILLING[-1])
    assert plan(SEVEN, gap, noted_load=NOISY, noise_floor=0.25).target_capacity == pytest.approx(10.0 * (2.4826 - 0.25))


def test_each_pass_notes_the_load_the_latest_reports_give_for_the_next():
    result = plan(SEVEN, steady(45.0), current_load=50.0, reported_load=40.0, noted_load=((NOW - 400, 1.0), *NOISY))
    assert result.noted_load == (*NOISY, (NOW, 40.0))  # older than noise_window_s: forgotten


# --- scaling to zero and endpoint state --------------------------------------------------

def test_inactivity_timeout_gates_scaling_to_zero():
    workers = [worker(1)]
    idle_for_8_minutes = tuple((t, 0.0 if t > NOW - 500 else 5.0) for t, _ in steady(0.0))
    assert plan(workers, idle_for_8_minutes, inactivity_timeout=900).actions == ()
    assert kinds(plan(workers, idle_for_8_minutes, inactivity_timeout=300)) == [("destroy", 1)]
    # without a timeout, an endpoint in use within the last day keeps one worker serving...
    assert plan(workers, idle_for_8_minutes).actions == ()
    assert kinds(plan([worker(1), worker(2)], idle_for_8_minutes)) == [("destroy", 2)]  # ...one, not two
    # ...and one idle for a whole day lets it go (stopped if cold_workers, 0 here, wanted it)
    assert kinds(plan(workers, steady(0.0), memory=IDLE_FOR_A_DAY)) == [("destroy", 1)]
    assert kinds(plan(workers, steady(0.0), memory=IDLE_FOR_A_DAY, cold_workers=1)) == [("stop", 1)]


def test_a_stopped_endpoint_stops_its_workers_and_a_suspended_one_is_left_alone():
    workers = [worker(1), worker(2, "loading", age=60)]
    assert kinds(plan(workers, steady(50.0), endpoint_state="stopped")) == [("stop", 1), ("destroy", 2)]
    assert plan(workers, steady(50.0), endpoint_state="suspended", offers=offers(1.0)).actions == ()


# --- replacing bad workers ----------------------------------------------------------------

@pytest.mark.parametrize("bad, why", [
    (worker(9, "error"), "reported an error"),
    (worker(9, "loading", age=1500), "not serving 1500 s after start"),
    (worker(9, reliability=0.5), "reliability 0.50 below 0.70"),
])
def test_bad_workers_are_destroyed_and_replaced(bad, why):
    result = plan([worker(1), bad], steady(18.0), offers=offers(1.0))
    assert kinds(result) == [("destroy", 9), ("launch", 100)]
    assert why in result.actions[0].reason


def test_a_stopped_worker_whose_machine_is_gone_is_destroyed_not_started():
    gone = worker(2, "stopped", available=False)
    result = plan([worker(1), gone], steady(18.0), offers=offers(1.0))
    assert kinds(result) == [("destroy", 2), ("launch", 100)]


def test_a_worker_loading_within_its_deadline_counts_as_coming_capacity():
    assert plan([worker(1), worker(2, "loading", age=100)], steady(18.0)).actions == ()


def test_a_loading_worker_without_a_benchmark_counts_what_its_peers_serve():
    workers = [worker(1), worker(2), WorkerState(3, "loading", 0.0, 1.0, NOW - 60)]
    assert plan(workers, steady(27.0), offers=offers(1.0)).actions == ()  # 10 + 10 + (10) = 30


def test_scaling_down_never_destroys_what_the_cold_pool_would_launch_again():
    workers = [worker(i) for i in range(1, 9)]  # 80 serving
    result = plan(workers, steady(40.0), offers=offers(1.0, 1.0), target_util=0.8, cold_mult=1.5)
    # target 50, total goal 75: three workers go, and all three are kept cold (80 -> 50 serving + 30 stopped)
    assert [k for k, _ in kinds(result)] == ["stop"] * 3


def test_the_cold_pool_fills_to_the_target_but_trims_only_above_the_recent_peak():
    # An hour ago the load needed 50; now 20 is enough. Total is 70: below what that peak
    # keeps for pool_keep_s (2 x 50), above what the target fills to (2 x 20). Nothing churns.
    earlier = (Hour(NOW - 3600 - PEAK_BUCKET_S, 45.0),)
    workers = [worker(1), worker(2), worker(3, "stopped"), worker(4, "stopped"), worker(5, "stopped"),
               worker(6, "stopped"), worker(7, "stopped")]
    result = plan(workers, steady(18.0), offers=offers(1.0), cold_mult=2.0, memory=earlier)
    assert result.target_capacity == 20.0 and result.actions == ()
    # older than pool_keep_s, a peak the load left slowly is not kept: 2 x 20 = 40, three stopped go
    much_earlier = (Hour(NOW - 5 * 3600, 45.0),)
    result = plan(workers, steady(18.0), offers=offers(1.0), cold_mult=2.0, memory=much_earlier)
    assert [k for k, _ in kinds(result)] == ["destroy"] * 3
    # one it surged to within a lead time is kept (18 + 27 = 45: 50 in all), two go
    surged = (replace(much_earlier[0], surge=27.0),)
    result = plan(workers, steady(18.0), offers=offers(1.0), cold_mult=2.0, memory=surged)
    assert [k for k, _ in kinds(result)] == ["destroy"] * 2


def test_workers_their_owners_brought_count_as_capacity_but_are_never_stopped_or_destroyed():
    theirs = [WorkerState(i, "running", 10.0, 9.0, NOW - 3600, benchmarked=True, managed=False) for i in (1, 2)]
    assert kinds(plan([*theirs, worker(3)], steady(0.0, minutes=20))) == [("destroy", 3)]  # only ours goes
    broken = WorkerState(4, "error", 10.0, 1.0, NOW - 3600, managed=False)
    assert kinds(plan([broken], steady(9.0), offers=offers(1.0))) == [("launch", 100)]  # replaced, not touched
