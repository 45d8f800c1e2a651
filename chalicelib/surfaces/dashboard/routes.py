"""The web dashboard: static files shipped in the package, served at `/dashboard/` (`/`
redirects there). The page reads everything through the JSON APIs with the account key the
operator signs in with; it keeps no state here.

Redirects are built from the path the client asked for (`requestContext.path`), so they keep
API Gateway's stage prefix (`/api/dashboard/`); the page's own links are relative.
"""
from __future__ import annotations

import functools
from pathlib import Path

from chalice import Blueprint, Response

dashboard = Blueprint(__name__)
STATIC = Path(__file__).parent / "static"
TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".txt": "text/plain"}
HEADERS = {
    "Cache-Control": "no-cache",  # revalidated on each load: a deployment shows at once
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline';"
                               " frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "Referrer-Policy": "no-referrer",
}


@functools.cache
def files() -> dict[str, tuple[str, str]]:
    """Every file the page is made of: name -> (content type, text)."""
    return {p.name: (f"{TYPES[p.suffix]}; charset=utf-8", p.read_text(encoding="utf-8"))
            for p in sorted(STATIC.iterdir()) if p.suffix in TYPES}


def _asked_path() -> str:
    request = dashboard.current_request
    return (request.context or {}).get("path") or request.path


def _redirect(location: str) -> Response:
    return Response("", status_code=302, headers={"Location": location, "Cache-Control": "no-cache"})


def _file(name: str) -> Response:
    content_type, text = files()[name]
    return Response(text, headers={**HEADERS, "Content-Type": content_type})


@dashboard.route("/", methods=["GET"])
def root() -> Response:
    return _redirect(_asked_path().rstrip("/") + "/dashboard/")


@dashboard.route("/dashboard", methods=["GET"])
def page() -> Response:
    asked = _asked_path()
    if not asked.endswith("/"):  # the page's relative links need the slash
        return _redirect(asked + "/")
    return _file("index.html")


@dashboard.route("/dashboard/{name}", methods=["GET"])
def asset(name: str) -> Response:
    if name not in files():
        return Response({"message": f"no file '{name[:100]}' in the dashboard"}, status_code=404)
    return _file(name)
