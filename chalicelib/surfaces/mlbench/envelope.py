"""The MLBench dashboard API's envelope: the paths it owns, and its errors as
`{"message": ..., "code": ...}` (the real CLI prints `message`)."""
from __future__ import annotations

from chalicelib.core.errors import ApiError

OWNS = (("api", "pods"), ("api", "metrics"), ("api", "runs"))


def error_body(error: ApiError) -> dict:
    return {"message": error.message, "code": error.code}
