"""The operator's API envelope: the paths it owns, and its errors (the console's shape:
`{"success": false, "error": <code>, "msg": ...}`, so one client reads both)."""
from __future__ import annotations

from chalicelib.core.errors import ApiError

OWNS = (("admin",),)


def error_body(error: ApiError) -> dict:
    return {"success": False, "error": error.code, "msg": error.message}
