"""Which surface owns a path, so that an error there (ours, or Chalice's own 404, 405 and 415)
is answered in that surface's envelope; a path nobody owns gets `{"message": ...}`."""
from __future__ import annotations

from collections.abc import Callable

from chalice.app import Request

from chalicelib.core.errors import ApiError
from chalicelib.surfaces.admin import envelope as admin
from chalicelib.surfaces.clearml import envelope as clearml
from chalicelib.surfaces.mlbench import envelope as mlbench
from chalicelib.surfaces.vast import envelope as vast

ENVELOPES = (vast, admin, clearml, mlbench)
ErrorBody = Callable[[ApiError], dict]


def plain_error_body(error: ApiError) -> dict:
    return {"message": error.message}


def request_path(request: Request) -> str:
    """The path asked for: the route's template, or the path itself where no route matched."""
    if "{proxy+}" in request.path:
        params = request.uri_params or {}
        return "/" + (params.get("proxy") or params.get("proxy+") or "")  # API Gateway's name, chalice local's
    return request.path


def error_body_for(path: str) -> ErrorBody:
    segments = tuple(s for s in path.split("/") if s)
    for envelope in ENVELOPES:
        owns = getattr(envelope, "owns", None)
        if owns(segments) if owns else any(segments[: len(prefix)] == prefix for prefix in envelope.OWNS):
            return envelope.error_body
    return plain_error_body
