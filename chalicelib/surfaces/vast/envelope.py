"""The Vast API's envelope: the paths it owns, and its errors as
`{"success": false, "error": <code>, "msg": <what was wrong>}`."""
from __future__ import annotations

from chalicelib.core.errors import ApiError

# Leading path segments of every call of the Vast API (console and runtime).
OWNS = (("api", "v0"), ("worker_status",), ("delete_requests",), ("route",), ("pubkey",), ("update_workers",),
        ("get_endpoint_stats",), ("get_autogroup_stats",), ("get_endpoint_workers",), ("get_autogroup_workers",),
        ("get_endpoint_logs",), ("get_autogroup_logs",))


def error_body(error: ApiError) -> dict:
    return {"success": False, "error": error.code, "msg": error.message}
