"""Edge helpers shared by the blueprints: reading the request, finding the caller's key."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.credentials import Principal, authenticate
from chalicelib.errors import ApiError
from chalicelib.validation import json_object

# Clients send JSON under several content types (curl -d defaults to a form type).
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded"]


def body(request: Request, *, allow_empty: bool = False) -> dict:
    return json_object(request.raw_body, allow_empty=allow_empty)


def bearer_key(request: Request) -> str | None:
    """The key from `Authorization: Bearer ...`, else from the `api_key` query parameter."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return (request.query_params or {}).get("api_key")


def account(request: Request) -> Principal:
    """The account behind a console call (endpoint keys are refused here)."""
    return authenticate(bearer_key(request), allow_endpoint_keys=False)


def json_errors(view: Callable) -> Callable:
    """Answer an ApiError raised by `view` with its 4xx and JSON body.

    (Chalice turns view exceptions into 500s before middleware sees them.)
    """
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ApiError as error:
            return Response(body=error.body(), status_code=error.status)
    return wrapped
