"""Which workers the plan acts on (scaling/actions.py): what goes first, draining workers,
rolling updates. Worked by hand through `decide`, as test_policy.py works the capacity wanted."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.scaling.context import WorkerState
from tests.support.policy_snapshots import NOW, kinds, offers, plan, steady, worker

# --- what goes first, and draining -----------------------------------------------------------

def test_workers_with_nothing_queued_go_before_one_with_requests_in_flight():
    workers = [worker(1), worker(2, busy=True), worker(3)]
    # one of the three is enough: 3 and 1 go, and 2, busy, is the one that stays
    assert kinds(plan(workers, steady(9.0))) == [("destroy", 3), ("destroy", 1)]


def test_under_steady_load_a_surplus_worker_goes_though_requests_are_in_flight_at_every_one():
    # Routing keeps every worker busy: the surplus one still goes (the actuator drains it first).
    workers = [worker(1, busy=True), worker(2, busy=True, price=2.0), worker(3, busy=True)]
    assert kinds(plan(workers, steady(18.0))) == [("destroy", 2)]


def draining(wid, busy=True, **kw) -> WorkerState:
    return worker(wid, "stopping", busy=busy, **kw)


def test_a_draining_worker_goes_once_nothing_is_queued_at_it_and_counts_as_cold_meanwhile():
    serving = [worker(1), worker(2)]
    # cold_mult 1.5: 30 in all wanted; the draining one will be stopped, so nothing is launched for it
    assert plan([*serving, draining(3, age=600)], steady(18.0), cold_mult=1.5, offers=offers(1.0)).actions == ()
    result = plan([*serving, draining(3, busy=False, age=600)], steady(18.0), cold_mult=1.5, offers=offers(1.0))
    assert kinds(result) == [("stop", 3)] and result.actions[0].reason == "drained; kept cold"
    assert kinds(plan([*serving, draining(3, busy=False)], steady(18.0))) == [("destroy", 3)]


def test_a_draining_worker_still_busy_goes_drain_timeout_s_after_it_left_routing():
    stuck = [worker(1), worker(2), draining(3, draining_since=NOW - 299)]
    assert plan(stuck, steady(18.0)).actions == ()
    result = plan(stuck, steady(18.0), drain_timeout_s=120.0)
    assert kinds(result) == [("destroy", 3)]
    assert result.actions[0].reason == "still busy 299 s after it left routing (drain_timeout_s 120); cold pool full"


def test_a_stopped_endpoint_stops_its_draining_workers_once_drained_or_timed_out():
    workers = [draining(1), draining(2, busy=False), draining(3, draining_since=NOW - 300)]
    assert kinds(plan(workers, steady(0.0), endpoint_state="stopped")) == [("stop", 2), ("stop", 3)]


def test_a_draining_worker_is_put_back_in_routing_before_a_stopped_one_starts():
    workers = [worker(1), draining(2), worker(3, "stopped")]
    result = plan(workers, steady(18.0), current_load=18.0, cold_mult=1.5)
    assert kinds(result) == [("resume", 2)]
    assert kinds(plan(workers, steady(27.0), current_load=27.0, cold_mult=1.5)) == [("resume", 2), ("start", 3)]


# --- rolling updates -----------------------------------------------------------------------
# Four outdated workers of 10 serve a steady 30: the target is 30 / 0.9 = 33.3, so all four
# are needed and any three (30) are not. One replacement launches at a time (25% of 4).

def old(wid, status="running", **kw) -> WorkerState:
    return worker(wid, status, outdated=True, **kw)


def test_a_rolling_update_launches_one_replacement_for_the_first_serving_outdated_worker():
    result = plan([old(1), old(2), old(3), old(4)], steady(30.0), offers=offers(1.0, 1.0), rolling=True)
    assert kinds(result) == [("launch", 100)] and result.actions[0].replaces == 1
    assert not result.roll_done
    assert plan([old(1), old(2), old(3), old(4)], steady(30.0), rolling=True).needs_offers


def test_an_outdated_worker_goes_once_its_replacement_serves_and_capacity_holds_without_it():
    new = worker(5, replaces=1)
    # 50 serving: scale-down removes an outdated one first (worker 4: 40 left >= 33.3). The roll
    # would retire worker 1 only if 40 - 10 >= 33.3, which it is not: it launches another
    # replacement for it meanwhile.
    result = plan([old(1), old(2), old(3), old(4), new], steady(30.0), offers=offers(1.0), rolling=True)
    assert kinds(result) == [("destroy", 4), ("launch", 100)] and result.actions[1].replaces == 1
    # A stopped outdated worker goes as soon as its replacement is benchmarked.
    result = plan([new, old(1, "stopped")], steady(5.0), rolling=True, cold_workers=2)
    assert kinds(result) == [("destroy", 1)] and result.actions[0].reason == "rolling update: replaced by worker 5"


def test_an_outdated_worker_with_requests_in_flight_goes_once_they_are_served():
    result = plan([old(1, busy=True), worker(5, replaces=1)], steady(5.0), rolling=True)
    assert kinds(result) == [("destroy", 1)]  # the actuator drains it first
    draining = replace(old(1, busy=True), status="stopping")
    assert plan([draining, worker(5, replaces=1)], steady(5.0), rolling=True).actions == ()
    result = plan([replace(draining, busy=False), worker(5, replaces=1)], steady(5.0), rolling=True)
    assert kinds(result) == [("destroy", 1)] and result.actions[0].reason == "drained: outdated"


def test_a_replacement_still_loading_keeps_its_outdated_worker_and_counts_against_the_surge():
    loading = WorkerState(5, "loading", 0.0, 1.0, NOW - 60, replaces=1)
    result = plan([old(1), old(2), old(3), old(4), loading], steady(30.0), offers=offers(1.0), rolling=True)
    assert result.actions == ()


def test_at_max_workers_an_outdated_worker_goes_first_if_capacity_allows():
    serving = [old(1), old(2), old(3), old(4)]
    assert plan(serving, steady(30.0), offers=offers(1.0), rolling=True, max_workers=4).actions == ()  # all needed
    # Three serve 20 (22.2 needed, all three); cold_workers keeps the stopped one, but it may go.
    workers = [old(1), old(2), old(3), old(4, "stopped")]
    result = plan(workers, steady(20.0), offers=offers(1.0), rolling=True, max_workers=4, cold_workers=4)
    assert kinds(result) == [("destroy", 4)] and "max_workers" in result.actions[0].reason


def test_outdated_workers_still_warming_are_replaced_once_they_serve():
    warming = WorkerState(1, "loading", 10.0, 1.0, NOW - 60, benchmarked=True, outdated=True)
    result = plan([warming, worker(2)], steady(5.0), offers=offers(1.0), rolling=True)
    assert ("launch", 100) not in kinds(result)


def test_the_roll_is_done_when_no_outdated_worker_is_left():
    assert plan([worker(1), worker(2)], steady(15.0), rolling=True).roll_done
    assert not plan([worker(1), worker(2)], steady(15.0)).roll_done  # not rolling: nothing to finish


def test_without_a_roll_outdated_workers_are_the_first_to_go():
    result = plan([worker(1), old(2), worker(3)], steady(15.0))  # 30 serving, 16.7 needed: one goes
    assert kinds(result) == [("destroy", 2)]


def run_roll(workers: list[WorkerState], load: float, passes: int, rolling=lambda step: True):
    """Passes a minute apart; a launch serves (benchmarked at 10) at the pass after next,
    a destroy takes effect at once. Returns the workers and each pass's serving capacity."""
    serving, next_id = [], 100
    for step in range(passes):
        now = NOW + 60 * step
        result = plan(workers, steady(load, now=now), offers=offers(1.0, 1.0, 1.0), rolling=rolling(step), now=now)
        gone = {a.worker_id for a in result.actions if a.kind in ("destroy", "stop")}
        workers = [w if w.status != "loading" or now - w.started_at < 120 else
                   WorkerState(w.id, "running", 10.0, 1.0, w.started_at, benchmarked=True, replaces=w.replaces)
                   for w in workers if w.id not in gone]
        for launch in (a for a in result.actions if a.kind == "launch"):
            next_id += 1
            workers.append(WorkerState(next_id, "loading", 0.0, 1.0, now, replaces=launch.replaces))
        serving.append(sum(w.perf for w in workers if w.status == "running"))
    return workers, serving


def test_a_group_of_four_under_load_rolls_to_four_new_workers_without_dipping_below_the_load():
    workers, serving = run_roll([old(1), old(2), old(3), old(4)], 30.0, passes=20)
    assert sorted(w.outdated for w in workers) == [False] * 4 and len(workers) == 4
    assert all(w.status == "running" for w in workers)
    assert min(serving) >= 40.0 > 33.3  # four serve all along: each goes only after its replacement serves
    assert plan(workers, steady(30.0), rolling=True).roll_done


def test_a_roll_cancelled_halfway_leaves_a_mixed_group_that_keeps_serving():
    workers, serving = run_roll([old(1), old(2), old(3), old(4)], 30.0, passes=20, rolling=lambda step: step < 4)
    assert 0 < sum(w.outdated for w in workers) < 4 and len(workers) == 4
    assert min(serving) >= 40.0
    assert plan(workers, steady(30.0), offers=offers(1.0)).actions == ()  # nothing more is replaced
