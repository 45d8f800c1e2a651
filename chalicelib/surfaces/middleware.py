"""HTTP middleware: bind the tables, log one line per request, publish metrics.

Request bodies and headers are never logged: they carry keys and tokens.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from chalice import Response
from chalice.app import Request

from chalicelib.core.errors import ApiError
from chalicelib.core.observability import logger, metrics
from chalicelib.core.store import bind
from chalicelib.surfaces.owners import error_body_for, request_path


def handle_request(event: Request, get_response: Callable[[Request], Response]) -> Response:
    started = time.perf_counter()
    bind()
    response = get_response(event)
    if 400 <= response.status_code < 500 and isinstance(response.body, dict) and "Code" in response.body:
        # Chalice's own 4xx (unsupported media type, method not allowed): in the envelope of the path's surface.
        error = ApiError(response.status_code, response.body["Code"], response.body.get("Message", ""))
        response.body = error_body_for(request_path(event))(error)
    logger.info(
        "request",
        method=event.method,
        path=event.context.get("resourcePath", event.path),
        status=response.status_code,
        ms=round((time.perf_counter() - started) * 1000, 1),
    )
    if metrics.metric_set:
        metrics.flush_metrics()
    return response
