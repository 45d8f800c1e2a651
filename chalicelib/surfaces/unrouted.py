"""Every path no surface routes: a JSON 404 in the envelope of the surface that owns the prefix.

On API Gateway `/{proxy+}` catches what no other resource matches; the gateway's own 4xx
answers (an unknown method on a known path, say) are rendered without the request's
headers by the responses in infra/template.py, since its default echoes `Authorization`.
"""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.errors import ApiError
from chalicelib.surfaces.edge import error_response

unrouted = Blueprint(__name__)
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]


@unrouted.route("/{proxy+}", methods=METHODS, content_types=["*/*"])
def unknown_path() -> Response:
    request = unrouted.current_request
    params = request.uri_params or {}
    path = "/" + (params.get("proxy") or params.get("proxy+") or "")  # API Gateway's name, chalice local's
    return error_response(unknown(request.method, path))


def unknown(method: str, path: str) -> ApiError:
    """The 404 for `method path`; the path is named, never a header or the query (they may hold keys)."""
    shown = path if len(path) <= 200 else path[:200] + "..."
    return ApiError(404, "not_found", f"no such call: {method} {shown}")
