"""What every surface does at its edge: read the body, find the caller's key, answer errors."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.core.auth.credentials import Principal, authenticate
from chalicelib.core.errors import ApiError, internal_error, too_large, unavailable
from chalicelib.core.observability import logger
from chalicelib.core.store import is_too_large, is_transient
from chalicelib.core.validation import json_object

# Clients send JSON under several content types (curl -d defaults to a form type).
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded"]


def body(request: Request, *, allow_empty: bool = False) -> dict:
    return json_object(request.raw_body, allow_empty=allow_empty)


def bearer_token(request: Request) -> str | None:
    """The token from `Authorization: Bearer ...`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def bearer_key(request: Request) -> str | None:
    """The key from `Authorization: Bearer ...`, else from the `api_key` query parameter (as
    Vast's clients send it)."""
    return bearer_token(request) or (request.query_params or {}).get("api_key")


def account(request: Request) -> Principal:
    """The account behind a console call (endpoint keys are refused here)."""
    return authenticate(bearer_key(request), allow_endpoint_keys=False)


def answering_errors(error_body: Callable[[ApiError], dict]) -> Callable[[Callable], Callable]:
    """A view decorator: an ApiError raised by the view is answered with its status and
    `error_body(error)` (the surface's envelope); a DynamoDB failure of the moment with a 503
    and Retry-After (every write is one conditional request or one transaction, so nothing
    is half-written); a write DynamoDB refuses for its size with a 413; anything else, a bug,
    is logged with its traceback and answered as a 500 in the envelope, never Chalice's own.

    (Chalice turns view exceptions into 500s before middleware sees them.)
    """
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except Exception as error:
                return error_response(answered_as(error), error_body)
        return wrapped
    return decorate


def answered_as(error: Exception) -> ApiError:
    """The error a view's exception is answered as (see `answering_errors`)."""
    if isinstance(error, ApiError):
        return error
    if is_transient(error):
        logger.warning("DynamoDB failed transiently", error=type(error).__name__)
        return unavailable("the database is busy; send the request again")
    if is_too_large(error):
        return too_large("the request's data is too large to store: DynamoDB holds 400 KB an item and "
                         "1,024 bytes a key")
    logger.exception("unexpected error", error=type(error).__name__)
    return internal_error()


def error_response(error: ApiError, error_body: Callable[[ApiError], dict]) -> Response:
    headers = {"Retry-After": str(error.retry_after_s)} if error.retry_after_s is not None else None
    return Response(body=error_body(error), status_code=error.status, headers=headers)
