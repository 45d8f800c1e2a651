"""Settings: read from the environment when needed; a numeric one that is not a finite number at
least its bound is an error naming the variable, never a float that breaks a pass later."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.core import settings

NUMERIC = re.findall(r'_number\("(\w+)"', Path(settings.__file__).read_text())


def test_an_unset_or_empty_setting_is_its_default(monkeypatch):
    monkeypatch.delenv("WORKER_TIMEOUT_S", raising=False)
    assert settings.worker_timeout_s() == 60.0
    monkeypatch.setenv("WORKER_TIMEOUT_S", "")
    assert settings.worker_timeout_s() == 60.0


def test_a_setting_is_read_when_needed_not_at_import(monkeypatch):
    monkeypatch.setenv("WORKER_TIMEOUT_S", "15")
    assert settings.worker_timeout_s() == 15.0


@pytest.mark.parametrize("name", NUMERIC)
@pytest.mark.parametrize("raw", ["soon", "-1", "nan", "inf"])
def test_every_numeric_setting_that_is_no_finite_number_above_its_bound_is_named_by_the_check(monkeypatch, name, raw):
    monkeypatch.setenv(name, raw)
    with pytest.raises(settings.SettingError, match=f"^{name} must be .*{re.escape(repr(raw))}"):
        settings.check()


@pytest.mark.parametrize("name", ["STATS_BUCKET_S", "STATS_MAX_POINTS"])
def test_a_bucket_and_a_point_count_are_at_least_one(monkeypatch, name):
    monkeypatch.setenv(name, "0")
    with pytest.raises(settings.SettingError, match=f"{name} must be a finite number >= 1"):
        settings.check()


@pytest.mark.parametrize("name", settings.POLICY_THRESHOLDS)
def test_every_policy_threshold_from_the_environment_is_checked_the_same_way(monkeypatch, name):
    monkeypatch.setenv(name.upper(), "-10")
    with pytest.raises(settings.SettingError, match=f"^{name.upper()} must be a finite number >= 0, not '-10'"):
        settings.check()


def test_zero_is_a_threshold_like_any_other(monkeypatch):
    monkeypatch.setenv("BURST_S", "0")
    assert settings.policy_thresholds() == {"burst_s": 0.0}


def test_the_check_passes_on_the_defaults(monkeypatch):
    for name in NUMERIC + [n.upper() for n in settings.POLICY_THRESHOLDS]:
        monkeypatch.delenv(name, raising=False)
    settings.check()


def test_the_admin_token_hash_is_read_in_any_case_with_spaces_around_it_ignored(monkeypatch):
    digest = "AB" * 32
    monkeypatch.setenv("ADMIN_TOKEN_HASH", f"  {digest}\n")
    assert settings.admin_token_hash() == digest.lower()
    monkeypatch.setenv("ADMIN_TOKEN_HASH", "   ")
    assert settings.admin_token_hash() == ""  # off, as unset


@pytest.mark.parametrize("raw", ["caf\u00e9", "ab" * 31, "zz" * 32, "operator-secret"])
def test_an_admin_token_hash_that_is_no_sha256_hex_digest_is_named_by_the_check(monkeypatch, raw):
    monkeypatch.setenv("ADMIN_TOKEN_HASH", raw)
    with pytest.raises(settings.SettingError, match="ADMIN_TOKEN_HASH"):
        settings.check()
