"""The ClearML serving registry API at the API's root: `auth.login` and the serving actions,
at `/serving.<action>` and (through the catch-all route, see `dispatch`) `/v<version>/serving.<action>`.
Every action answers GET, POST and PUT (the client's three methods) with a JSON body, and a
request without one."""
from __future__ import annotations

import re
import time
from collections.abc import Callable

from chalice import Blueprint, Response
from chalice.app import Request, _matches_content_type

from chalicelib.core.auth import clearml_keys
from chalicelib.core.auth.clearml_keys import TokenClaims
from chalicelib.core.errors import ApiError
from chalicelib.core.serving import charts, containers
from chalicelib.core.validation import json_object, query_integer
from chalicelib.surfaces.clearml import envelope, wire
from chalicelib.surfaces.edge import answered_as

clearml_api = Blueprint(__name__)
METHODS = ["GET", "POST", "PUT"]  # the client sends PUT when CLEARML_API_DEFAULT_REQ_METHOD says so
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded"]
VERSIONED = re.compile(r"^/v(\d+)\.(\d+)/serving\.([a-z_]+)/?$")
ACTIONS: dict[str, Callable[[Request, dict, float], dict]] = {}


def _action(name: str) -> Callable:
    """Register a serving action under `/serving.<name>`."""
    def register(view: Callable[[Request, dict, float], dict]) -> Callable:
        ACTIONS[name] = view
        clearml_api.route(f"/serving.{name}", methods=METHODS, content_types=CONTENT_TYPES,
                          name=f"serving_{name}")(lambda: answer(clearml_api.current_request, name))
        return view
    return register


def dispatch(request: Request, path: str) -> Response | None:
    """The answer to a versioned serving call (2.31 or later), or None if `path` is not one."""
    matched = VERSIONED.match(path)
    if not matched or matched.group(3) not in ACTIONS:
        return None
    name, version = matched.group(3), (int(matched.group(1)), int(matched.group(2)))
    requested = f"{version[0]}.{version[1]}"
    # What Chalice answers on the unversioned route, with its own content-type match:
    content_type = request.headers.get("content-type", "application/json")
    if request.method not in METHODS:
        return _error(ApiError(405, "MethodNotAllowedError", f"Unsupported method: {request.method}"),
                      f"serving.{name}", requested)
    if not _matches_content_type(content_type, CONTENT_TYPES):
        return _error(ApiError(415, "UnsupportedMediaType", f"Unsupported media type: {content_type}"),
                      f"serving.{name}", requested)
    if version < (2, 31):
        return _error(ApiError(400, "invalid_args", f"serving.{name} needs API version 2.31 or later"),
                      f"serving.{name}", requested)
    return answer(request, name, requested)


def _error(error: ApiError, action: str, requested_version: str | None = None) -> Response:
    body = envelope.error_body(error, action, requested_version)
    return Response(body, status_code=body["meta"]["result_code"])


def answer(request: Request, name: str, requested_version: str | None = None) -> Response:
    """Run the action; errors in the envelope, with the action named in `meta.endpoint`."""
    action = f"serving.{name}"
    try:
        body = json_object(request.raw_body, allow_empty=True)
        data = ACTIONS[name](request, body, time.time())
        return Response(envelope.reply(data, action, requested_version))
    except Exception as error:
        return _error(answered_as(error), action, requested_version)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _caller(request: Request, now: float) -> TokenClaims:
    return clearml_keys.authenticate(_bearer(request), now)


def _ip(request: Request) -> str | None:
    return ((request.context or {}).get("identity") or {}).get("sourceIp")


# --- auth.login ----------------------------------------------------------------------

@clearml_api.route("/auth.login", methods=METHODS, content_types=CONTENT_TYPES)
def login() -> Response:
    """A token for HTTP Basic access:secret, or a fresh one for a valid bearer token, valid for
    `expiration_sec` when the client asks (its `api.auth.req_token_expiration_sec`)."""
    request = clearml_api.current_request
    try:
        lifetime = query_integer(request.query_params, "expiration_sec", None, minimum=1, maximum=10**9)
        token = clearml_keys.login(request.headers.get("authorization"), time.time(), lifetime)
    except Exception as error:  # a store that fails is answered in the envelope too
        return _error(answered_as(error), "auth.login")
    return Response(envelope.reply({"token": token}, "auth.login"))


# --- the container side ----------------------------------------------------------------

@_action("register_container")
def register_container(request: Request, body: dict, now: float) -> dict:
    claims = _caller(request, now)
    info = wire.container_info(body, url_required=False)
    containers.register(claims.account_id, info, wire.timeout(body), _ip(request), now)
    return {}


@_action("unregister_container")
def unregister_container(request: Request, body: dict, now: float) -> dict:
    claims = _caller(request, now)
    containers.unregister(claims.account_id, wire.container_id(body))
    return {}


@_action("container_status_report")
def container_status_report(request: Request, body: dict, now: float) -> dict:
    claims = clearml_keys.verify(_bearer(request), now)  # the revocation check is in the report's own read
    info, status = wire.container_info(body, url_required=True), wire.status(body)
    containers.report(claims, info, status, _ip(request), now)
    return {}


# --- the dashboard side ----------------------------------------------------------------

def _live(request: Request, now: float) -> list[dict]:
    return [containers.as_dict(c) for c in containers.live(_caller(request, now).account_id, now)]


@_action("get_endpoints")
def get_endpoints(request: Request, body: dict, now: float) -> dict:
    return {"endpoints": charts.endpoint_stats(_live(request, now))}


@_action("get_loading_instances")
def get_loading_instances(request: Request, body: dict, now: float) -> dict:
    return {"instances": charts.loading_instances(_live(request, now), now)}


@_action("get_endpoint_details")
def get_endpoint_details(request: Request, body: dict, now: float) -> dict:
    claims = _caller(request, now)
    url = wire.endpoint_url(body)
    found = [containers.as_dict(c) for c in containers.live(claims.account_id, now) if c.endpoint_url == url]
    if not found:
        raise wire.no_containers(url)
    return charts.endpoint_details(found, url)


@_action("get_endpoint_metrics_history")
def get_endpoint_metrics_history(request: Request, body: dict, now: float) -> dict:
    claims = _caller(request, now)
    url, from_date, to_date, interval, metric, instance_charts = wire.history_request(body)
    samples = containers.samples(claims.account_id, url, from_date, to_date)
    return charts.metrics_history(samples, from_date, to_date, interval, metric, instance_charts)
