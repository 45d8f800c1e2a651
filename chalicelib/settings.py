"""Settings read from the environment when first needed, never at import.

Chalice puts a stage's `environment_variables` into the environment; the Chalice
test client only does so for the duration of a call, so nothing here is cached.
"""
from __future__ import annotations

import os

TABLES = ("API_KEYS", "ENDPOINTS", "WORKER_GROUPS", "WORKERS", "STATS", "META")


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def table_name(kind: str) -> str:
    """The DynamoDB table name for `kind` (one of TABLES), from `<KIND>_TABLE`."""
    return os.environ.get(f"{kind}_TABLE") or f"gpucp-{kind.lower().replace('_', '-')}"


def dynamodb_endpoint() -> str | None:
    """Where DynamoDB is: unset means the real AWS endpoint of the region."""
    return os.environ.get("DYNAMODB_ENDPOINT") or None


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def admin_token_hash() -> str:
    """SHA-256 hex of the operator's admin token; empty disables the admin API."""
    return os.environ.get("ADMIN_TOKEN_HASH", "")


def worker_timeout_s() -> float:
    """A worker silent for this long is gone from every answer."""
    return _number("WORKER_TIMEOUT_S", 60.0)


def registration_timeout_s() -> float:
    """How long a registered worker may stay silent before its first report (model loading)."""
    return _number("REGISTRATION_TIMEOUT_S", 1800.0)


def stats_bucket_s() -> int:
    """Width of one stats sample; timeseries answers have one value per bucket."""
    return int(_number("STATS_BUCKET_S", 60))


def stats_retention_s() -> float:
    return _number("STATS_RETENTION_DAYS", 14) * 86400


def stats_max_points() -> int:
    """Longer timeseries ranges are answered with coarser (merged) buckets."""
    return int(_number("STATS_MAX_POINTS", 1440))
