"""The scheduled pass against the fake Vast API over real HTTP: faults, races, replacements."""
from __future__ import annotations

import random
import threading
from dataclasses import replace

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.core.auth.accounts import create_account
from chalicelib.core.auth.credentials import Principal
from chalicelib.core.fleet import stats, worker_status
from chalicelib.core.fleet.endpoints import create_endpoint
from chalicelib.core.fleet.worker_groups import create_group
from chalicelib.core.store import Endpoint, Event, LoadHour, Worker, WorkerGroup, connection
from chalicelib.providers import Instance, ProviderAuthError, ProviderError
from chalicelib.providers.vast import VastProvider
from chalicelib.scaling import context, policy, recurrence, scale_group, scheduler
from chalicelib.scaling.scale_group import Actuator, Recorder, WatchedProvider, label
from chalicelib.surfaces.vast import wire
from tests.support.fake_vast import FakeVast

T0 = 1_800_000_000.0


@pytest.fixture
def vast(fake):
    return VastProvider(fake.url, fake.api_key, timeout_s=0.15, backoff_s=0.01, max_backoff_s=0.05, attempts=3)


@pytest.fixture
def group(aws, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://control-plane.example")
    monkeypatch.setenv("WORKER_TIMEOUT_S", "150")  # these tests report once a pass, not every 10 s
    account_id, _ = create_account("fleet")
    endpoint = create_endpoint(account_id, wire.new_endpoint({"endpoint_name": "llm"}))
    # Demand of 27 units/s at target_util 0.9 is a target of 30: three workers of 10 units/s.
    return a_group(endpoint, min_load=27, cold_mult=1, cold_workers=0, test_workers=3)


def a_group(endpoint, **fields):
    """A group of `endpoint` created as the Vast API creates one from these fields."""
    return create_group(Principal(int(endpoint.account_id)), endpoint, wire.group_fields(fields, partial=False))


def boot(fake: FakeVast, now: float, perf: float = 10.0) -> None:
    """What the launched machines would do: report in, loaded, to the address they were given."""
    for instance in fake.live():
        if instance.intended == "running" and not instance.failed:
            env = instance.env
            assert env["REPORT_ADDR"] == "https://control-plane.example"
            loaded = worker_status.Report(int(env["CONTAINER_ID"]), env["MASTER_TOKEN"], loadtime=30.0,
                                          max_perf=perf, url=f"http://10.0.0.{instance.id}", reloaded=True)
            worker_status.record_report(loaded, now=now)


def records(group) -> list[Worker]:
    return [w for w in Worker.scan() if int(w.group_id) == int(group.group_id)]


def decisions(group) -> list[Event]:
    return list(Event.query(int(group.group_id)))


def assert_no_orphans_or_duplicates(fake, group):
    instances = {i.id: i for i in fake.live()}
    linked = [int(w.instance_id) for w in records(group) if w.instance_id]
    assert len(linked) == len(set(linked)), "two records claim one instance"
    assert set(linked) == set(instances), "an instance without a record, or a record without an instance"
    for worker in records(group):
        assert instances[int(worker.instance_id)].label == label(int(group.group_id), int(worker.worker_id))


def test_a_pass_launches_what_the_target_needs_with_labels_and_env(fake, vast, group):
    report = scheduler.run_pass(vast, now=T0)
    assert report.count("launch") == 3 and report.error is None
    assert_no_orphans_or_duplicates(fake, group)
    boot(fake, T0 + 60)
    assert scheduler.run_pass(vast, now=T0 + 60).count("launch") == 0
    assert {w.status for w in records(group)} == {"idle"}
    assert {w.gpu_name for w in records(group)} == {"RTX 4090"}  # from the offer it was launched on


def test_with_30_percent_of_calls_failing_it_converges_without_duplicates_or_orphans(fake, vast, group):
    fake.failure_rate = 0.3
    now = T0
    for _ in range(12):
        scheduler.run_pass(vast, now=now)
        now += 60
        boot(fake, now)
    fake.failure_rate = 0.0
    scheduler.run_pass(vast, now=now)
    assert_no_orphans_or_duplicates(fake, group)
    serving = [w for w in records(group) if w.status in ("running", "idle")]
    assert len(serving) == 3 and len(fake.live()) == 3
    assert any(d.outcome.startswith("failed") for d in decisions(group)), "the faults were not exercised"


def test_two_passes_racing_on_a_group_launch_nothing_twice(fake, vast, group):
    barrier = threading.Barrier(2)
    reports = []

    def run():
        barrier.wait()
        reports.append(scheduler.run_pass(vast, now=T0))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake.launches == 3
    assert sorted(r.outcomes[0].skipped or "acted" for r in reports) == ["acted", "another pass holds the group"]
    assert_no_orphans_or_duplicates(fake, group)


def test_a_worker_that_never_finishes_loading_is_replaced_after_the_deadline(fake, vast, group):
    scheduler.run_pass(vast, now=T0)
    stuck = fake.live()[0]
    stuck.failed = True  # never reports
    destroyed_at = None
    for t in range(60, 1500, 60):
        boot(fake, T0 + t)
        report = scheduler.run_pass(vast, now=T0 + t)
        if report.count("destroy"):
            destroyed_at = t
            assert report.count("destroy") == 1 and report.count("launch") == 1, report.outcomes[0].plan
            break
    assert destroyed_at == 1260  # the first pass past the 1200 s loading deadline
    assert stuck.id not in {i.id for i in fake.live()}
    assert any("not serving" in d.reason for d in decisions(group) if d.action == "destroy")


def test_a_refused_key_is_reported_once_per_pass_and_not_retried(fake, group):
    wrong = VastProvider(fake.url, "not-the-key", timeout_s=0.15, backoff_s=0.01)
    report = scheduler.run_pass(wrong, now=T0)
    assert "refused" in report.error and fake.calls == ["GET /api/v1/instances/"]
    assert "refused" in decisions(group)[-1].outcome
    scheduler.run_pass(wrong, now=T0 + 60)
    assert len(fake.calls) == 2  # one call a pass, no retry loop


def refusing(calls: list | None = None):
    """A provider method that refuses the key, noting what it was called with."""
    def refused(*args, **kwargs):
        if calls is not None:
            calls.append(args)
        raise ProviderAuthError(f"call {args[0] if args else ''}: HTTP 401, the Vast API key was refused")
    return refused


def test_a_key_refused_mid_plan_fails_that_action_skips_the_rest_and_ends_the_pass(fake, vast, group, monkeypatch):
    a_group(Endpoint.get(int(group.account_id), int(group.endpoint_id)), min_load=27, cold_mult=1, cold_workers=0)
    monkeypatch.setattr(vast, "launch", refusing())
    report = scheduler.run_pass(vast, now=T0)
    assert report.error == "the provider refused the API key" and len(report.outcomes) == 1  # the other: not tried
    (outcome,) = report.outcomes
    assert outcome.auth_failed and outcome.summary()["actions"] == {"launch": 0}
    assert [(d.action, d.outcome, d.worker_id, d.offer_id) for d in outcome.decisions] == [
        ("launch", "failed: call 100: HTTP 401, the Vast API key was refused", 1, 100),
        ("launch", "skipped: the provider refused the key", None, 101),
        ("launch", "skipped: the provider refused the key", None, 102)]
    assert list(Worker.scan()) == []  # the refused launch leaves no record, the skipped ones made none


def test_a_key_refused_while_replacing_a_worker_skips_its_replacement(fake, vast, group, monkeypatch):
    scheduler.run_pass(vast, now=T0)
    boot(fake, T0 + 60)
    broken = records(group)[0]
    broken.update(actions=[Worker.status.set("error")])
    monkeypatch.setattr(vast, "destroy", refusing())
    (outcome,) = scheduler.run_pass(vast, now=T0 + 120).outcomes
    assert outcome.auth_failed
    assert [(d.action, d.reason, d.outcome, d.worker_id, d.instance_id) for d in outcome.decisions] == [
        ("destroy", "replace: reported an error",
         f"failed: call {broken.instance_id}: HTTP 401, the Vast API key was refused",
         int(broken.worker_id), int(broken.instance_id)),
        ("launch", "capacity 20.0 below target 30.0", "skipped: the provider refused the key", None, None)]
    assert len(records(group)) == 3 and len(fake.live()) == 3


def test_a_key_refused_while_destroying_orphans_fails_each_and_nothing_is_decided(fake, vast, group, monkeypatch):
    orphans = sorted(vast.launch(fake.offers[-1 - i]["id"], _spec(label(int(group.group_id), 900 + i)))
                     for i in range(2))
    calls = []
    monkeypatch.setattr(vast, "destroy", refusing(calls))
    report = scheduler.run_pass(vast, now=T0)
    (outcome,) = report.outcomes
    assert outcome.auth_failed and outcome.plan is None and report.error == "the provider refused the API key"
    assert sorted(args[0] for args in calls) == orphans  # each orphan is still tried
    assert sorted((d.action, d.outcome, d.instance_id) for d in outcome.decisions) == [
        ("destroy", f"failed: call {i}: HTTP 401, the Vast API key was refused", i) for i in orphans]
    assert fake.launches == 2 and list(Worker.scan()) == []  # only the orphans: no plan after the refusal


def test_a_key_refused_by_the_offer_search_is_the_passs_decision_and_keeps_no_plan(fake, vast, group, monkeypatch):
    monkeypatch.setattr(vast, "search_offers", refusing())
    report = scheduler.run_pass(vast, now=T0)
    (outcome,) = report.outcomes
    assert outcome.auth_failed and outcome.plan is None and report.error == "the provider refused the API key"
    assert [(d.action, d.reason, d.outcome) for d in outcome.decisions] == [
        ("pass", "the provider refused the key", f"failed: call {group.search_params}: HTTP 401, the Vast API key "
         "was refused")]
    stored = WorkerGroup.get(int(group.account_id), int(group.group_id))
    assert not stored.memory and stored.lease_until == 0  # the lease is released, no memory saved


def test_orphans_are_destroyed_and_vanished_instances_forgotten(fake, vast, group):
    scheduler.run_pass(vast, now=T0)
    boot(fake, T0 + 60)
    gone = fake.live()[0]
    del fake.instances[gone.id]  # destroyed behind our back
    orphan_id = vast.launch(fake.offers[-1]["id"], _spec(label(int(group.group_id), 999)))
    report = scheduler.run_pass(vast, now=T0 + 120)
    actions = {(d.action, d.outcome) for d in report.outcomes[0].decisions}
    assert ("forget", "ok") in actions and ("destroy", "ok") in actions
    assert orphan_id not in {i.id for i in fake.live()}
    assert_no_orphans_or_duplicates(fake, group)


def test_a_stopped_worker_whose_machine_was_taken_is_replaced(fake, vast, group):
    scheduler.run_pass(vast, now=T0)
    boot(fake, T0 + 60)
    set_min_load(group, 18)
    boot(fake, T0 + 120)
    scheduler.run_pass(vast, now=T0 + 120)  # target 20: one worker is stopped (kept cold: cold_mult 1.5)
    (stopped,) = [w for w in records(group) if w.status == "stopped"]
    fake.take_gpu(int(stopped.instance_id))
    set_min_load(group, 27)
    boot(fake, T0 + 180)
    failed_start = scheduler.run_pass(vast, now=T0 + 180)
    assert any(d.action == "start" and "failed" in d.outcome for d in failed_start.outcomes[0].decisions)
    boot(fake, T0 + 240)
    replaced = scheduler.run_pass(vast, now=T0 + 240)
    kinds = [(d.action, d.outcome) for d in replaced.outcomes[0].decisions]
    assert ("destroy", "ok") in kinds and ("launch", "ok") in kinds


def set_min_load(group, value: float) -> None:
    WorkerGroup.get(int(group.account_id), int(group.group_id)).update(
        actions=[WorkerGroup.min_load.set(value), WorkerGroup.cold_mult.set(1.5)])


class Clock:
    """A monotonic clock that sleeping moves, and passes that take `pass_s` of it."""

    def __init__(self, pass_s: float = 1.0):
        self.now, self.pass_s, self.passes = 0.0, pass_s, []

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds

    def run_pass(self, errors: tuple = ()) -> scheduler.PassReport:
        self.passes.append(self.now)
        self.now += self.pass_s
        return scheduler.PassReport(error=errors[len(self.passes) - 1] if len(errors) >= len(self.passes) else None)


@pytest.mark.parametrize("interval, pass_s, passes", [
    ("20", 1.0, [0.0, 20.0, 40.0]),
    ("60", 1.0, [0.0]),
    ("20", 25.0, [0.0, 40.0]),  # the first overran its slot: the one at 20 s is skipped
])
def test_a_tick_of_the_schedule_runs_a_pass_every_pass_interval(monkeypatch, interval, pass_s, passes):
    monkeypatch.setenv("PASS_INTERVAL_S", interval)
    clock = Clock(pass_s)
    monkeypatch.setattr(scheduler, "run_pass", clock.run_pass)
    assert len(scheduler.run_schedule(60.0, clock=lambda: clock.now, sleep=clock.sleep)) == len(passes)
    assert clock.passes == passes


def test_a_pass_that_failed_as_a_whole_ends_the_tick(monkeypatch):
    monkeypatch.setenv("PASS_INTERVAL_S", "20")
    clock = Clock()
    refused = "the provider refused the API key"
    monkeypatch.setattr(scheduler, "run_pass", lambda: clock.run_pass(errors=(None, refused)))
    reports = scheduler.run_schedule(60.0, clock=lambda: clock.now, sleep=clock.sleep)
    assert [r.error for r in reports] == [None, refused] and clock.passes == [0.0, 20.0]


def _spec(name):
    from chalicelib.providers import LaunchSpec

    return LaunchSpec(label=name, env={})


def test_the_scheduled_lambda_acts_and_its_decisions_are_readable(api, fake, monkeypatch):
    monkeypatch.setenv("PASS_INTERVAL_S", "60")  # one pass in the tick
    monkeypatch.setenv("PROVIDER", "vast")
    monkeypatch.setenv("VAST_API_URL", fake.url)
    monkeypatch.setenv("VAST_API_KEY", fake.api_key)
    monkeypatch.setenv("PUBLIC_URL", "https://control-plane.example")
    group = api.group(api.endpoint("llm"), min_load=9, cold_mult=1, cold_workers=0, test_workers=1)
    result = api.client.lambda_.invoke("scale_fleet", api.client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    (only,) = result.payload["passes"]
    assert only["groups"] == 1 and only["error"] is None
    assert len(fake.live()) == 1
    reply = api.ok("GET", f"/api/v0/autojobs/{group['id']}/decisions/")
    (decision,) = reply["results"]
    assert decision["action"] == "launch" and decision["outcome"] == "ok"
    assert "below target 10.0" in decision["reason"] and decision["instance_id"] == fake.live()[0].id
    assert api.ok("GET", f"/api/v0/workergroups/{group['id']}/decisions?limit=5")["results"] == reply["results"]


def test_without_a_public_url_nothing_is_launched_and_the_decision_says_why(fake, vast, group, monkeypatch):
    monkeypatch.delenv("PUBLIC_URL")
    report = scheduler.run_pass(vast, now=T0)
    assert fake.launches == 0 and report.count("launch") == 0
    assert "PUBLIC_URL" in decisions(group)[0].outcome


def test_decisions_of_another_accounts_group_are_a_404(api, other_api):
    group = api.group(api.endpoint("llm"))
    assert other_api.call("GET", f"/api/v0/autojobs/{group['id']}/decisions/")[0] == 404


@pytest.mark.parametrize("limit", ["abc", "0", "1001", "-1", "2.5"])
def test_a_bad_decisions_limit_is_a_400_naming_it(api, limit):
    group = api.group(api.endpoint("llm"))
    status, reply = api.call("GET", f"/api/v0/autojobs/{group['id']}/decisions/?limit={limit}")
    assert status == 400 and "'limit'" in reply["msg"]


def test_a_woken_pass_scales_only_the_groups_of_that_endpoint(fake, vast, group):
    other = create_endpoint(int(group.account_id), wire.new_endpoint({"endpoint_name": "other"}))
    a_group(other, min_load=27, cold_mult=1, cold_workers=0)
    report = scheduler.run_pass(vast, now=T0, endpoint=(int(group.account_id), int(group.endpoint_id)))
    assert [o.group_id for o in report.outcomes] == [int(group.group_id)] and report.count("launch") == 3


def test_the_policy_memory_is_kept_on_the_group_row(fake, vast, group, monkeypatch):
    seen = []
    real = policy.decide
    monkeypatch.setattr(policy, "decide", lambda snapshot: seen.append(snapshot) or real(snapshot))
    scheduler.run_pass(vast, now=T0)
    row = WorkerGroup.get(int(group.account_id), int(group.group_id))
    hour = T0 // 3600 * 3600  # nothing in routing yet: the minutes before read as no load, the last hour's too
    assert [(h.start, h.peak, h.rise, h.surge) for h in row.memory] == [(hour - 3600, 0.0, 0.0, 0.0),
                                                                        (hour, 0.0, 0.0, 0.0)]
    earlier = context.Hour(T0 // 3600 * 3600 - 3600, 50.0, rise=40.0, surge=30.0)
    row.update(actions=[WorkerGroup.memory.set([LoadHour(start=h.start, peak=h.peak, rise=h.rise, surge=h.surge)
                                                for h in (earlier, context.Hour(T0 // 3600 * 3600, 0.0))])])
    records(group)[0].update(actions=[Worker.restart_s.set(22.0)])  # as a restarted worker reported it
    scheduler.run_pass(vast, now=T0 + 60)
    assert seen[-1].memory == (earlier, context.Hour(T0 // 3600 * 3600, 0.0))
    assert [w.restart_s for w in seen[-1].workers if w.restart_s] == [22.0]


def test_the_jumps_the_policy_noted_are_kept_on_the_group_row_and_reach_the_next_pass(fake, vast, group,
                                                                                         monkeypatch):
    seen, noted = [], (recurrence.Jump(T0 - 900.0, 0.0, 40.0, end=T0 - 880.0), recurrence.Jump(T0 - 300.0, 0.0, 42.0))
    real = policy.decide

    def deciding(snapshot):
        seen.append(snapshot)
        return replace(real(snapshot), jumps=noted) if snapshot.now == T0 else real(snapshot)

    monkeypatch.setattr(policy, "decide", deciding)
    scheduler.run_pass(vast, now=T0)
    stored = WorkerGroup.get(int(group.account_id), int(group.group_id)).jumps
    assert [(j.at, j.base, j.level, j.end) for j in stored] == [(T0 - 900.0, 0.0, 40.0, T0 - 880.0),
                                                                 (T0 - 300.0, 0.0, 42.0, None)]
    scheduler.run_pass(vast, now=T0 + 60)
    assert seen[0].jumps == () and seen[-1].jumps == noted and seen[-1].now == T0 + 60


def test_the_load_each_pass_saw_is_kept_on_the_group_row_and_reaches_the_next_pass(fake, vast, group, monkeypatch):
    seen, plans, real = [], [], policy.decide

    def deciding(snapshot):
        seen.append(snapshot)
        plans.append(real(snapshot))
        return plans[-1]

    monkeypatch.setattr(policy, "decide", deciding)
    scheduler.run_pass(vast, now=T0)
    stored = WorkerGroup.get(int(group.account_id), int(group.group_id)).noted_load
    assert [(n.t, n.load) for n in stored] == [(T0, 0.0)] == list(plans[0].noted_load)
    scheduler.run_pass(vast, now=T0 + 60)
    assert seen[0].noted_load == () and seen[-1].noted_load == ((T0, 0.0),)


def test_a_worker_that_requests_reached_after_the_pass_read_it_drains_then_stops(fake, vast, group, monkeypatch):
    scheduler.run_pass(vast, now=T0)
    boot(fake, T0 + 60)
    set_min_load(group, 18)  # target 20: one of the three goes
    real_act = Actuator.act

    def routed_meanwhile(self, plan, workers):  # /route/ sends work to every worker, after the read
        for worker in records(group):
            worker.update(actions=[Worker.routed_load.add(5)])
        return real_act(self, plan, workers)

    monkeypatch.setattr(Actuator, "act", routed_meanwhile)
    outcomes = scheduler.run_pass(vast, now=T0 + 120).outcomes[0].decisions
    assert [(d.action, d.outcome) for d in outcomes] == [
        ("stop", "draining: requests are queued at it; it goes once they are served")]
    drained = next(w for w in records(group) if w.status == "stopping")  # out of routing at once
    assert drained.withdrawn_at == T0 + 120
    assert sorted(w.status for w in records(group)) == ["idle", "idle", "stopping"] and len(fake.live()) == 3
    monkeypatch.setattr(Actuator, "act", real_act)
    assert scheduler.run_pass(vast, now=T0 + 125).count("stop") == 0  # its queue is not served yet
    boot(fake, T0 + 130)  # the workers report: the routed work is theirs now, and served
    assert {w.status for w in records(group) if w.worker_id == drained.worker_id} == {"stopping"}
    report = scheduler.run_pass(vast, now=T0 + 140)
    assert report.count("stop") == 1
    assert {w.status for w in records(group) if w.worker_id == drained.worker_id} == {"stopped"}


def test_a_draining_worker_whose_queue_is_never_served_goes_after_drain_timeout_s(fake, vast, group, monkeypatch):
    scheduler.run_pass(vast, now=T0)
    boot(fake, T0 + 60)
    set_min_load(group, 18)  # target 20: one of the three goes
    stuck = records(group)[0]
    stuck.update(actions=[Worker.status.set("stopping"), Worker.withdrawn_at.set(T0 + 100),
                          Worker.queue_load.set(3)])  # a request stuck at it
    monkeypatch.setenv("DRAIN_TIMEOUT_S", "60")
    assert scheduler.run_pass(vast, now=T0 + 150).count("stop") == 0
    report = scheduler.run_pass(vast, now=T0 + 160)
    assert report.count("stop") == 1
    [gone] = [w for w in records(group) if w.worker_id == stuck.worker_id]
    assert gone.status == "stopped" and gone.withdrawn_at is None


def test_a_draining_worker_is_put_back_in_routing_when_capacity_is_wanted_again(fake, vast, group, monkeypatch):
    scheduler.run_pass(vast, now=T0)
    boot(fake, T0 + 60)
    left = records(group)[0]
    left.update(actions=[Worker.status.set("stopping"), Worker.routed_load.add(5)])  # draining, its queue not served
    report = scheduler.run_pass(vast, now=T0 + 120)  # the group still needs all three
    assert report.count("resume") == 1 and {w.status for w in records(group)} == {"idle", "running"}
    [back] = [w for w in records(group) if w.worker_id == left.worker_id]
    assert back.status == "running" and back.withdrawn_at is None


def test_a_stop_the_provider_refuses_puts_the_worker_back_in_routing(fake, vast, group, monkeypatch):
    scheduler.run_pass(vast, now=T0)
    boot(fake, T0 + 60)
    set_min_load(group, 18)

    def refused(instance_id):
        raise ProviderError(f"stopping {instance_id}: 500 after 3 attempts")

    monkeypatch.setattr(vast, "stop", refused)
    outcomes = scheduler.run_pass(vast, now=T0 + 120).outcomes[0].decisions
    assert [d.action for d in outcomes] == ["stop"] and outcomes[0].outcome.startswith("failed")
    assert {w.status for w in records(group)} == {"idle"}


def test_a_worker_left_withdrawn_by_a_pass_that_died_is_put_back_in_routing_if_needed(fake, vast, group):
    scheduler.run_pass(vast, now=T0)
    boot(fake, T0 + 60)
    left = records(group)[0]
    left.update(actions=[Worker.status.set("stopping")])  # the pass died before the provider call
    boot(fake, T0 + 90)  # its reports keep it out of routing...
    assert {w.status for w in records(group) if w.worker_id == left.worker_id} == {"stopping"}
    scheduler.run_pass(vast, now=T0 + 120)  # ...until the next pass, which needs all three
    assert {w.status for w in records(group)} == {"idle"}


def test_a_lease_release_that_fails_keeps_the_record_of_what_the_pass_did(fake, vast, group, monkeypatch):
    real = scale_group.release_lease

    def throttled(*args, **kwargs):
        real(*args, **kwargs)
        raise UpdateError("Failed to update item", cause=ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "UpdateItem"))
    monkeypatch.setattr(scale_group, "release_lease", throttled)
    report = scheduler.run_pass(vast, now=T0)
    assert fake.launches == 3 and report.count("launch") == 3
    assert [d.action for d in decisions(group)].count("launch") == 3
    assert "releasing the lease failed" in report.outcomes[0].error


# --- deleted, incomplete and failing groups ----------------------------------------------

def test_a_group_deleted_while_a_pass_runs_is_not_brought_back_and_scaling_goes_on(api, fake, vast, monkeypatch):
    from chalicelib.scaling import scheduler as module

    monkeypatch.setenv("PUBLIC_URL", "https://control-plane.example")
    endpoint = api.endpoint("llm")
    doomed, kept = (api.group(endpoint, min_load=9, cold_mult=1, cold_workers=0, test_workers=1) for _ in range(2))
    real = module._groups

    def listed_then_deleted(*args):
        groups = real(*args)
        api.ok("DELETE", f"/api/v0/autojobs/{doomed['id']}/")  # after the pass listed it, before its lease
        return groups

    monkeypatch.setattr(module, "_groups", listed_then_deleted)
    report = scheduler.run_pass(vast, now=T0)
    outcomes = {o.group_id: o for o in report.outcomes}
    assert outcomes[doomed["id"]].skipped and outcomes[kept["id"]].count("launch") == 1
    assert [int(g.group_id) for g in WorkerGroup.scan()] == [kept["id"]]  # no row of keys and a lease
    monkeypatch.setattr(module, "_groups", real)
    assert [g["id"] for g in api.ok("GET", "/api/v0/autojobs/")["results"]] == [kept["id"]]
    assert scheduler.run_pass(vast, now=T0 + 60).error is None
    api.group(endpoint)


def test_an_incomplete_row_is_skipped_by_the_pass_and_listings_refused_by_id_and_deletable(api, fake, vast,
                                                                                           monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://control-plane.example")
    good = api.group(api.endpoint("llm"), min_load=9, cold_mult=1, cold_workers=0, test_workers=1)
    account_id = good["user_id"]
    WorkerGroup(account_id, 999).update(actions=[WorkerGroup.lease_until.set(1)])  # what the old lease left
    report = scheduler.run_pass(vast, now=T0)
    assert [o.group_id for o in report.outcomes] == [good["id"]] and report.count("launch") == 1
    assert [g["id"] for g in api.ok("GET", "/api/v0/autojobs/")["results"]] == [good["id"]]
    status, reply = api.call("GET", "/api/v0/autojobs/999/")
    assert status == 409 and "endpoint_id" in reply["msg"] and reply["error"] == "conflict"
    api.group(api.endpoint("other"))  # creating still works
    assert api.ok("DELETE", "/api/v0/autojobs/999/") == {"success": True}
    assert api.call("GET", "/api/v0/autojobs/999/")[0] == 404


def test_one_groups_failure_whatever_its_cause_never_stops_the_others(api, fake, vast, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://control-plane.example")
    endpoint = api.endpoint("llm")
    broken, healthy = (api.group(endpoint, min_load=9, cold_mult=1, cold_workers=0, test_workers=1)
                       for _ in range(2))
    real = scale_group.plan_with_offers

    def fails_for_one(provider, group, snapshot):
        if int(group.group_id) == broken["id"]:
            raise TypeError("a bug, a bad row, anything")
        return real(provider, group, snapshot)

    monkeypatch.setattr(scale_group, "plan_with_offers", fails_for_one)
    report = scheduler.run_pass(vast, now=T0)
    outcomes = {o.group_id: o for o in report.outcomes}
    assert "TypeError" in outcomes[broken["id"]].error and outcomes[healthy["id"]].count("launch") == 1
    assert report.summary()["outcomes"][0]["error"] is not None
    (failed,) = [d for d in Event.query(broken["id"])]
    assert failed.action == "pass" and "TypeError" in failed.outcome
    assert WorkerGroup.get(healthy["user_id"], broken["id"]).lease_until == 0  # released all the same


class _Refusing:
    """A provider whose every call fails: the paths that put a worker back are taken."""

    def __getattr__(self, name):
        def call(*args, **kwargs):
            raise ProviderError("refused")
        return call


class _Obliging:
    def __getattr__(self, name):
        return lambda *args, **kwargs: 4242


def actuator_for(provider, group) -> Actuator:
    return Actuator(WatchedProvider(provider), group, T0, Recorder(group, T0, []))


WRITE_PATHS = {
    "link to its instance": lambda run, w: scale_group._sync(w, Instance(7, "x", "unavailable", 2.0)),
    "withdraw from routing": lambda run, w: run._withdraw("stop", "surplus", w),
    "mark stopped": lambda run, w: run._stop(context.Action("stop", "surplus", int(w.worker_id)), w),
    "mark started": lambda run, w: run._start(context.Action("start", "queue", int(w.worker_id)), w),
}


@pytest.mark.parametrize("provider", [_Obliging(), _Refusing()], ids=["provider obliges", "provider refuses"])
@pytest.mark.parametrize("path", WRITE_PATHS)
def test_no_write_of_a_pass_brings_a_deleted_worker_back(group, path, provider):
    from chalicelib.core.fleet.workers import register_worker

    worker, _ = register_worker(group, instance_id=7, now=T0)
    worker.delete()
    worker.status = "idle"  # as the pass read it, before the delete
    WRITE_PATHS[path](actuator_for(provider, group), worker)
    assert list(Worker.scan()) == []


def test_no_lease_write_brings_a_deleted_group_back(group):
    from chalicelib.scaling.scale_group import acquire_lease, release_lease

    group.delete()
    assert acquire_lease(group, "pass", T0) is False
    release_lease(group, "pass", context.Plan((), 0.0, 0.0, memory=(context.Hour(T0, 5.0, 0.0),)))
    assert list(WorkerGroup.scan()) == []


def test_a_launch_whose_worker_was_deleted_meanwhile_leaves_no_partial_row(group, monkeypatch):
    real = scale_group.register_worker

    def then_deleted(*args, **kwargs):
        worker, token = real(*args, **kwargs)
        Worker.get(worker.token_hash).delete()
        return worker, token

    monkeypatch.setattr(scale_group, "register_worker", then_deleted)
    actuator_for(_Obliging(), group)._launch(context.Action("launch", "need", offer_id=1))
    assert list(Worker.scan()) == []  # the instance it launched is an orphan the next pass destroys


def test_a_steady_pass_over_one_group_costs_six_requests(fake, vast, group, dynamodb_calls):
    scheduler.run_pass(vast, now=T0)
    boot(fake, T0 + 60)
    scheduler.run_pass(vast, now=T0 + 60)
    dynamodb_calls.clear()
    assert sum(len(o.decisions) for o in scheduler.run_pass(vast, now=T0 + 120).outcomes) == 0
    # per pass: the groups' Scan and their endpoints' BatchGetItem; per group: the lease and
    # the release; per endpoint: a Query of its workers and one of its load (bench.scheduler_pass)
    assert dict(dynamodb_calls) == {"Scan": 1, "BatchGetItem": 1, "UpdateItem": 2, "Query": 2}
    a_group(Endpoint.get(int(group.account_id), int(group.endpoint_id)), min_load=0, cold_workers=0)
    dynamodb_calls.clear()
    scheduler.run_pass(vast, now=T0 + 180)
    assert dict(dynamodb_calls) == {"Scan": 1, "BatchGetItem": 1, "UpdateItem": 4, "Query": 2}  # a second group


def test_a_rolling_update_replaces_every_worker_while_the_target_keeps_serving(fake, vast, group):
    from chalicelib.core.fleet.worker_groups import start_rolling_update

    scheduler.run_pass(vast, now=T0)
    boot(fake, T0 + 30)
    first = {int(w.worker_id) for w in records(group)}
    assert len(first) == 3 and start_rolling_update(WorkerGroup.get(group.account_id, group.group_id), T0 + 40) == 3
    now = T0 + 60
    for _ in range(15):
        scheduler.run_pass(vast, now=now)
        serving = [w for w in records(group) if w.status in ("running", "idle")]
        assert sum(float(w.max_perf) for w in serving) >= 30, "capacity dipped below the target"
        boot(fake, now + 30)
        now += 60
    workers = records(group)
    assert len(workers) == 3 and not first & {int(w.worker_id) for w in workers}
    assert {int(w.generation) for w in workers} == {1}
    assert WorkerGroup.get(group.account_id, group.group_id).rolling is False
    assert_no_orphans_or_duplicates(fake, group)
    log = [(d.action, d.outcome) for d in decisions(group)]
    assert ("update workers", "done") in log and log.count(("launch", "ok")) == 6


def test_a_steady_load_reads_steady_whatever_second_a_pass_runs_at(fake, vast, group, monkeypatch):
    """Three workers of 12 units/s are sent 27 units/s in turn, a request of 13.5 every half
    second, and report what arrived every 10 s at phases of their own. Whatever second a pass
    runs at, the load it reads (each minute's and the load now) is 27 within a request or two
    per worker, so it launches nothing more and stops nothing: no trend is drawn from when the
    reports happened to land. (No pool headroom: the three serve it, and stopped spares would
    hide what the pass read.)"""
    monkeypatch.setenv("POOL_HEADROOM", "0")
    rng = random.Random(16)
    scheduler.run_pass(vast, now=T0)
    boot(fake, T0 + 1, perf=12.0)
    workers = {int(w.worker_id): w for w in records(group)}
    tokens = {int(i.env["CONTAINER_ID"]): i.env["MASTER_TOKEN"] for i in fake.live()}
    assert len(workers) == 3
    arrived = dict.fromkeys(workers, 0.0)
    phases = {worker_id: rng.uniform(2, 12) for worker_id in workers}
    events = [(T0 + phases[worker_id] + 10 * k, "report", worker_id) for worker_id in workers for k in range(30)]
    events += [(T0 + 2 + k / 2, "route", list(workers)[k % 3]) for k in range(600)]
    events += [(T0 + 125 + rng.uniform(0, 175), "pass", None) for _ in range(8)]
    seen, real_decide = [], policy.decide
    monkeypatch.setattr(policy, "decide", lambda snapshot: seen.append(snapshot) or real_decide(snapshot))
    for at, kind, worker_id in sorted(events):
        if kind == "route":
            Worker.get(workers[worker_id].token_hash).update(actions=[Worker.routed_load.add(13.5)])
            arrived[worker_id] += 13.5
        elif kind == "report":
            worker_status.record_report(worker_status.Report(worker_id, tokens[worker_id], loadtime=30.0,
                                                             arrived_amount=arrived[worker_id]), now=at)
            arrived[worker_id] = 0.0
        else:
            report = scheduler.run_pass(vast, now=at)
            assert report.count("launch") == report.count("stop") == report.count("destroy") == 0, report.outcomes
    assert len(seen) == 8
    for snapshot in seen:
        # A report's 10 s hold 6 or 7 requests: 27 is read within one request a worker.
        assert 25 <= policy.load_now(snapshot) <= 29, snapshot.now - T0
        # A minute, whether finished, just finished or still filling, is read within 1.5 of it.
        assert all(25.5 <= load <= 28.5 for t, load in snapshot.load if t >= T0 + 60), (snapshot.now - T0,
                                                                                         snapshot.load)


def test_an_endpoint_idle_for_its_inactivity_timeout_scales_to_zero_stays_there_and_wakes_on_a_request(
        fake, vast, aws, monkeypatch):
    """Its worker reports no load for ten minutes (its inactivity_timeout, longer than the
    passes' five-minute window): a pass stops it. With nothing in routing, the minutes that
    bring no report are minutes of no load, so later passes keep it at zero, until a request
    finds no worker."""
    monkeypatch.setenv("PUBLIC_URL", "https://control-plane.example")
    monkeypatch.setenv("WORKER_TIMEOUT_S", "150")
    account_id, _ = create_account("cron")
    endpoint = create_endpoint(account_id, wire.new_endpoint({"endpoint_name": "nightly", "inactivity_timeout": 600}))
    endpoint.update(actions=[Endpoint.created_at.set(T0)])  # new: not idle for its timeout yet
    group = a_group(endpoint, min_load=0, cold_mult=1, cold_workers=1, test_workers=1)
    assert scheduler.run_pass(vast, now=T0).count("launch") == 1  # one worker, to benchmark
    boot(fake, T0 + 30)
    (instance,) = fake.live()
    worker_id, token = int(instance.env["CONTAINER_ID"]), instance.env["MASTER_TOKEN"]
    stopped_at = None
    for second in range(40, 900, 10):
        at = T0 + second
        if stopped_at is None:
            worker_status.record_report(worker_status.Report(worker_id, token, loadtime=30.0, arrived_amount=0.0),
                                        now=at)
        if second % 60 == 0:
            report = scheduler.run_pass(vast, now=at)
            assert report.count("launch") == report.count("start") == 0
            if report.count("stop"):
                stopped_at = second
    assert stopped_at is not None and 600 <= stopped_at <= 720  # idle for the timeout, not before
    for later in (1800, 3600, 7200):  # no report, no request: still nothing serving
        report = scheduler.run_pass(vast, now=T0 + later)
        assert report.count("launch") == report.count("start") == 0, later
    with TransactWrite(connection=connection()) as tx:  # what /route/ counts for a request that found no worker
        stats.add_to_buckets(tx, [stats.series("e", int(endpoint.endpoint_id))], T0 + 7205, unmet_work=5.0,
                             unmet_reqs=1)
    assert scheduler.run_pass(vast, now=T0 + 7210).count("start") == 1
    assert [w.status for w in records(group)] == ["starting"]
