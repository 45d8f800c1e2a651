"""The one error type handlers raise; middleware turns it into a JSON reply."""
from __future__ import annotations


class ApiError(Exception):
    """A 4xx answer: `code` is machine-readable, `msg` names what was wrong."""

    def __init__(self, status: int, code: str, msg: str):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg

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
