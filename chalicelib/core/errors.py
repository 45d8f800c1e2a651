"""The one error type the core raises: what went wrong, by meaning. Each surface renders it
in its own envelope (surfaces/*/envelope.py)."""
from __future__ import annotations


class ApiError(Exception):
    """A 4xx, a 503 worth retrying or a 500 for a fault of our own: `status`, a machine-readable
    `code`, and a `message` naming what was wrong."""

    def __init__(self, status: int, code: str, message: str, retry_after_s: int | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after_s = status, code, message, retry_after_s


def bad_request(message: str) -> ApiError:
    return ApiError(400, "invalid_args", message)


def unauthorized(message: str = "missing or invalid api key") -> ApiError:
    return ApiError(401, "unauthorized", message)


def forbidden(code: str, message: str) -> ApiError:
    return ApiError(403, code, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def no_such_call(method: str, path: str) -> ApiError:
    """The 404 for `method path`; the path is named, never a header or the query (they may hold keys)."""
    shown = path if len(path) <= 200 else path[:200] + "..."
    return ApiError(404, "not_found", f"no such call: {method} {shown}")


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


def too_large(message: str) -> ApiError:
    return ApiError(413, "too_large", message)


def internal_error() -> ApiError:
    """A 500 for a fault of the server's own (logged with its traceback): the request may be sent again."""
    return ApiError(500, "internal_error", "the server failed on this request; it is logged, and may be sent again")


def unavailable(message: str, retry_after_s: int = 1) -> ApiError:
    """A 503 for a transient failure: nothing was written, the same call may be sent again."""
    return ApiError(503, "unavailable", message, retry_after_s)
