"""The one error type handlers raise; the surface turns it into a JSON reply."""
from __future__ import annotations


class ApiError(Exception):
    """A 4xx answer: `code` is machine-readable, `msg` names what was wrong."""

    def __init__(self, status: int, code: str, msg: str, retry_after_s: int | None = None):
        super().__init__(msg)
        self.status, self.code, self.msg, self.retry_after_s = status, code, msg, retry_after_s

    def body(self) -> dict:
        return {"success": False, "error": self.code, "msg": self.msg}


def bad_request(msg: str) -> ApiError:
    return ApiError(400, "invalid_args", msg)


def unauthorized(msg: str = "missing or invalid api key") -> ApiError:
    return ApiError(401, "unauthorized", msg)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def conflict(msg: str) -> ApiError:
    return ApiError(409, "conflict", msg)


def unavailable(msg: str, retry_after_s: int = 1) -> ApiError:
    """A 503 for a transient failure: nothing was written, the same call may be sent again."""
    return ApiError(503, "unavailable", msg, retry_after_s)
