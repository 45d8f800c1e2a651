"""Every path no surface routes: a JSON 404 in the envelope of the surface that owns the prefix;
and ClearML's versioned calls (`/v2.31/serving.<action>`), whose first segment varies, which
a route of their own would make a second variable at the root beside `/{proxy+}` (API
Gateway allows one).

On API Gateway `/{proxy+}` catches what no other resource matches; the gateway's own 4xx
answers (an unknown method on a known path, say) are rendered without the request's
headers by the responses in infra/template.py, since its default echoes `Authorization`.
"""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.errors import no_such_call
from chalicelib.surfaces.clearml import routes as clearml
from chalicelib.surfaces.edge import error_response
from chalicelib.surfaces.owners import error_body_for, request_path

unrouted = Blueprint(__name__)
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]


@unrouted.route("/{proxy+}", methods=METHODS, content_types=["*/*"])
def unknown_path() -> Response:
    request = unrouted.current_request
    path = request_path(request)
    versioned = clearml.dispatch(request, path)  # /v<version>/serving.<action>: a variable first segment
    if versioned is not None:
        return versioned
    return error_response(no_such_call(request.method, path), error_body_for(path))
