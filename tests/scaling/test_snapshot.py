"""The snapshot: the thresholds are the policy's defaults with what the environment overrides;
the group's settings are its knobs, its endpoint's where it has none."""
from __future__ import annotations

from dataclasses import fields

from chalicelib.core import settings
from chalicelib.core.store import Endpoint, WorkerGroup
from chalicelib.scaling import policy
from chalicelib.scaling.snapshot import group_settings, thresholds


def test_every_threshold_the_environment_may_set_is_a_threshold_of_the_policy():
    assert {f.name for f in fields(policy.Thresholds)} == set(settings.POLICY_THRESHOLDS)


def test_the_environment_overrides_a_threshold_and_the_rest_keep_their_defaults(monkeypatch):
    monkeypatch.setenv("SCALE_DOWN_DELAY_S", "30")
    monkeypatch.setenv("RECUR_REPEATS", "4")
    assert thresholds() == policy.Thresholds(scale_down_delay_s=30.0, recur_repeats=4)


def test_a_groups_declared_perf_reaches_the_policy_and_none_stays_none():
    endpoint = Endpoint(1, 2, endpoint_name="llm", min_load=0, min_cold_load=0, target_util=0.9, cold_mult=2.5,
                        cold_workers=5, max_workers=20, max_queue_time=30, target_queue_time=10)
    group = WorkerGroup(1, 3, endpoint_id=2, test_workers=3, gpu_ram=8)
    assert group_settings(group, endpoint).perf_hint is None
    group.perf_hint = 12.5
    assert group_settings(group, endpoint).perf_hint == 12.5
