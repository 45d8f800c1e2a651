"""Settings read from the environment when first needed, never at import.

Chalice puts a stage's `environment_variables` into the environment; the Chalice
test client only does so for the duration of a call, so nothing here is cached.
"""
from __future__ import annotations

import math
import os
import re

TABLES = ("API_KEYS", "ENDPOINTS", "WORKER_GROUPS", "WORKERS", "STATS", "EVENTS", "META", "SERVING", "BENCH")


class SettingError(ValueError):
    """A setting the environment gives that is not what it must be; the message names it."""


def _number(name: str, default: float, least: float = 0.0) -> float:
    raw = os.environ.get(name)
    return _parse(name, raw, least) if raw not in (None, "") else default


def _parse(name: str, raw: str, least: float = 0.0) -> float:
    """Every numeric setting is a duration, a count or a share: a finite number, at least `least`."""
    try:
        value = float(raw)
    except ValueError:
        raise SettingError(f"{name} must be a number, not {raw!r}") from None
    if not math.isfinite(value) or value < least:
        raise SettingError(f"{name} must be a finite number >= {least:g}, not {raw!r}")
    return value


def table_name(kind: str) -> str:
    """The DynamoDB table name for `kind` (one of TABLES), from `<KIND>_TABLE`."""
    return os.environ.get(f"{kind}_TABLE") or f"gpucp-{kind.lower().replace('_', '-')}"


def dynamodb_endpoint() -> str | None:
    """Where DynamoDB is: unset means the real AWS endpoint of the region."""
    return os.environ.get("DYNAMODB_ENDPOINT") or None


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def admin_token_hash() -> str:
    """SHA-256 hex of the operator's admin token (any case, spaces around it ignored); empty
    disables the admin API."""
    value = os.environ.get("ADMIN_TOKEN_HASH", "").strip().lower()
    if value and not re.fullmatch(r"[0-9a-f]{64}", value):
        raise SettingError("ADMIN_TOKEN_HASH must be the SHA-256 hex digest of the admin token (64 hex digits)")
    return value


def worker_timeout_s() -> float:
    """A worker silent for this long is gone from every answer."""
    return _number("WORKER_TIMEOUT_S", 60.0)


def registration_timeout_s() -> float:
    """How long a registered worker may stay silent before its first report (model loading)."""
    return _number("REGISTRATION_TIMEOUT_S", 1800.0)


def stats_bucket_s() -> int:
    """Width of one stats sample; timeseries answers have one value per bucket."""
    return int(_number("STATS_BUCKET_S", 60, least=1))


def stats_retention_s() -> float:
    return _number("STATS_RETENTION_DAYS", 14) * 86400


def stats_max_points() -> int:
    """Longer timeseries ranges are answered with coarser (merged) buckets."""
    return int(_number("STATS_MAX_POINTS", 1440, least=1))


def provider_name() -> str:
    """Which GPU provider the scheduler drives: `vast` or `local`."""
    return os.environ.get("PROVIDER", "vast")


def vast_api_url() -> str:
    return os.environ.get("VAST_API_URL") or "https://console.vast.ai"


def vast_api_key() -> str:
    """From VAST_API_KEY, or from Secrets Manager when VAST_API_KEY_SECRET names a secret."""
    if os.environ.get("VAST_API_KEY"):
        return os.environ["VAST_API_KEY"]
    secret = os.environ.get("VAST_API_KEY_SECRET")
    if not secret:
        return ""
    import boto3

    return boto3.client("secretsmanager", region_name=region()).get_secret_value(SecretId=secret)["SecretString"]


def public_url() -> str:
    """This API's public URL: launched workers report to it (their REPORT_ADDR)."""
    return os.environ.get("PUBLIC_URL", "")


def lease_s() -> float:
    """How long a scheduler pass holds a group; longer than a pass takes on one group."""
    return _number("LEASE_S", 50.0)


def events_retention_s() -> float:
    return _number("EVENTS_RETENTION_DAYS", 14) * 86400


def serving_samples_retention_s() -> float:
    """How long a ClearML container's status-report samples are kept (its metric history)."""
    return _number("SERVING_SAMPLES_RETENTION_DAYS", 14) * 86400


def pod_metrics_retention_s() -> float:
    """How long an MLBench metric posted for a pod is kept (a run's are kept until it is deleted)."""
    return _number("POD_METRICS_RETENTION_DAYS", 14) * 86400


def container_timeout_s() -> float:
    """A ClearML container registered without a timeout is gone this long after its last call."""
    return _number("CLEARML_CONTAINER_TIMEOUT_S", 600.0)


def clearml_recheck_s() -> float:
    """How long a process trusts a ClearML token's credential after reading it (0: every call reads)."""
    return _number("CLEARML_CREDENTIAL_RECHECK_S", 30.0)


def stopped_retention_s() -> float:
    """How long the record of a stopped (cold) worker is kept without reports."""
    return _number("STOPPED_RETENTION_DAYS", 30) * 86400


def launch_grace_s() -> float:
    """A launch with no instance listed after this long is forgotten."""
    return _number("LAUNCH_GRACE_S", 300.0)


def scale_function() -> str:
    """The Lambda that scales one endpoint when /route/ sees work queueing (set by the deploy)."""
    return os.environ.get("SCALE_FUNCTION", "")


def wake_url() -> str:
    """Elsewhere than on AWS, where /route/ POSTs the endpoint to scale (the local stack's scaler)."""
    return os.environ.get("SCALE_WAKE_URL", "")


def wake_interval_s() -> float:
    """Queueing wakes the scaler for an endpoint at most this often."""
    return _number("WAKE_INTERVAL_S", 10.0)


POLICY_THRESHOLDS = ("loading_deadline_s", "min_reliability", "prediction_window_s", "trend_min_span_s",
                     "lead_time_s", "scale_down_delay_s", "burst_s", "pool_memory_s", "pool_keep_s", "pool_headroom",
                     "restart_s", "restart_spare", "idle_window_s", "ready_floor_jumps", "pass_interval_s",
                     "jump_ratio", "jump_min_workers", "jumps_kept", "recur_repeats", "recur_tolerance_s",
                     "recur_min_period_s", "recur_headroom", "recur_same_base", "recur_chance",
                     "short_jumps", "short_jump_memory_s", "drain_timeout_s", "noise_window_s", "noise_floor")


def policy_thresholds() -> dict[str, float]:
    """Overrides of the policy's thresholds (e.g. SCALE_DOWN_DELAY_S=15 for a quick local demo)."""
    return {name: _parse(name.upper(), os.environ[name.upper()])
            for name in POLICY_THRESHOLDS if os.environ.get(name.upper())}


def stopped_price_ratio() -> float:
    """What a stopped worker costs (its disk), as a share of its running price: the dashboard's cost rate."""
    return _number("STOPPED_PRICE_RATIO", 0.03)


def check() -> None:
    """Read every setting that must be well formed once: raises SettingError for the first one that is wrong."""
    for read in (worker_timeout_s, registration_timeout_s, stats_bucket_s, stats_retention_s, stats_max_points,
                 lease_s, events_retention_s, serving_samples_retention_s, pod_metrics_retention_s,
                 container_timeout_s, clearml_recheck_s, stopped_retention_s, launch_grace_s, wake_interval_s,
                 policy_thresholds, stopped_price_ratio, admin_token_hash):
        read()
