"""The snapshot's thresholds are the policy's defaults with what the environment overrides."""
from __future__ import annotations

from dataclasses import fields

from chalicelib.core import settings
from chalicelib.scaling import policy
from chalicelib.scaling.snapshot import thresholds


def test_every_threshold_the_environment_may_set_is_a_threshold_of_the_policy():
    assert {f.name for f in fields(policy.Thresholds)} == set(settings.POLICY_THRESHOLDS)


def test_the_environment_overrides_a_threshold_and_the_rest_keep_their_defaults(monkeypatch):
    monkeypatch.setenv("SCALE_DOWN_DELAY_S", "60")
    assert thresholds() == policy.Thresholds(scale_down_delay_s=60.0)
