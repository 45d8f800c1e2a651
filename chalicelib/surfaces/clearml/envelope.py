"""The ClearML API's envelope: `{"meta": {...}, "data": {...}}`, its errors with the HTTP status
as `result_code` and the reference server's subcodes. Never 429/502/503 for an ordinary error:
the real client retries those for hours."""
from __future__ import annotations

import uuid

from chalicelib.core.errors import ApiError

API_VERSION = "2.31"
SUBCODES = {"missing_field": 11, "invalid_args": 12, "bad_value": 16, "no_containers_for_url": 1052}


def owns(segments: tuple[str, ...]) -> bool:
    """`/auth.login`, `/serving.<action>` and `/v<version>/serving.<action>`."""
    if segments and segments[0].startswith("v") and len(segments) == 2:
        segments = segments[1:]
    return len(segments) == 1 and (segments[0] == "auth.login" or segments[0].startswith("serving."))


def meta(action: str = "", requested_version: str | None = None, code: int = 200, subcode: int = 0,
         message: str = "OK") -> dict:
    trx = uuid.uuid4().hex
    return {"id": trx, "trx": trx,
            "endpoint": {"name": action, "requested_version": requested_version or API_VERSION,
                         "actual_version": API_VERSION},
            "result_code": code, "result_subcode": subcode, "result_msg": message}


def reply(data: dict, action: str, requested_version: str | None = None) -> dict:
    return {"meta": meta(action, requested_version), "data": data}


def error_body(error: ApiError, action: str = "", requested_version: str | None = None) -> dict:
    code = error.code
    if code == "invalid_args" and error.message.endswith("is required"):
        code = "missing_field"
    status = 500 if error.status in (429, 502, 503) else error.status  # never a status the client retries
    return {"meta": meta(action, requested_version, status, SUBCODES.get(code, 0), error.message), "data": {}}
