"""The MLBench dashboard API at `/api/`: pods, metrics and benchmark runs, for the real
`mlbench-core` client. Every path answers with and without its trailing slash (both reach the
same route), never redirected.

The caller is an account key, as `Authorization: Bearer <key>` or as HTTP Basic with the key
as the password (the real client sends no headers but carries `user:KEY@host` in its url).
"""
from __future__ import annotations

import base64
import time

from chalice import Blueprint, Response

from chalicelib.core.auth.credentials import authenticate
from chalicelib.core.bench import metrics, pods, runs
from chalicelib.core.errors import ApiError, unauthorized
from chalicelib.surfaces.edge import answering_errors, bearer_key, bearer_token
from chalicelib.surfaces.mlbench import wire
from chalicelib.surfaces.mlbench.envelope import error_body

mlbench_api = Blueprint(__name__)
CHALLENGE = {"WWW-Authenticate": 'Basic realm="mlbench", charset="UTF-8"'}


def _answering(view):
    """Errors in the envelope; a 401 also says how to authenticate, unless the caller sent a
    Bearer key (a browser would ask its user for a password the page never needs)."""
    wrapped = answering_errors(error_body)(view)

    def with_challenge(*args, **kwargs):
        response = wrapped(*args, **kwargs)
        bearer = bearer_token(mlbench_api.current_request) is not None
        if isinstance(response, Response) and response.status_code == 401 and not bearer:
            response.headers = {**(response.headers or {}), **CHALLENGE}
        return response
    with_challenge.__name__ = view.__name__
    with_challenge.__doc__ = view.__doc__
    return with_challenge


def _account() -> int:
    """The account of the key in the request: a Bearer key, or HTTP Basic's password."""
    request = mlbench_api.current_request
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    key = bearer_key(request)
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
            raise unauthorized("malformed HTTP Basic credentials") from None
    if not key:
        raise ApiError(401, "unauthorized", "an account api key is needed: Authorization: Bearer <key>, "
                                            "or the key as the password of the url (http://user:KEY@host/)")
    return authenticate(key, allow_endpoint_keys=False).account_id


def _fields() -> dict:
    return wire.body(mlbench_api.current_request)


# --- pods -------------------------------------------------------------------------------------

@mlbench_api.route("/api/pods", methods=["GET"])
@_answering
def get_pods() -> list:
    return pods.list_pods(_account())


# --- metrics ----------------------------------------------------------------------------------

@mlbench_api.route("/api/metrics", methods=["GET"])
@_answering
def get_all_metrics() -> dict:
    return metrics.read_all(_account())


@mlbench_api.route("/api/metrics", methods=["POST"], content_types=wire.CONTENT_TYPES)
@_answering
def post_metric() -> Response:
    account_id, now = _account(), time.time()
    owner, posted = wire.metric(_fields(), now)
    metrics.post(account_id, owner, posted, now)
    return Response(wire.posted_reply(owner, posted), status_code=201)


@mlbench_api.route("/api/metrics/{key}", methods=["GET"])
@_answering
def get_metrics(key: str) -> dict | Response:
    account_id, query = _account(), mlbench_api.current_request.query_params
    owner, filters = wire.metrics_query(key, query)
    read = metrics.read(account_id, owner, filters)
    if wire.wants_zip(query):
        name = runs.get(account_id, int(owner.name)).name if owner.kind == "run" else str(owner.name)
        return wire.metrics_zip(name, read)
    if read and owner.kind == "run" and not runs.exists(account_id, int(owner.name)):
        return {}  # the metrics a delete cut short left behind, as read_all leaves them out
    return read


# --- runs -------------------------------------------------------------------------------------

@mlbench_api.route("/api/runs", methods=["GET"])
@_answering
def get_runs() -> list:
    return [runs.as_dict(run) for run in runs.list_runs(_account())]


@mlbench_api.route("/api/runs", methods=["POST"], content_types=wire.CONTENT_TYPES)
@_answering
def post_run() -> Response:
    account_id = _account()
    run = runs.create(account_id, wire.run_spec(_fields()))
    return Response(runs.as_dict(run), status_code=201)


@mlbench_api.route("/api/runs/{run_id}", methods=["GET"])
@_answering
def get_run(run_id: str) -> dict:
    account_id = _account()
    return runs.as_dict(runs.get(account_id, wire.run_id(run_id)))


@mlbench_api.route("/api/runs/{run_id}", methods=["PATCH"], content_types=wire.CONTENT_TYPES)
@_answering
def patch_run(run_id: str) -> dict:
    account_id = _account()
    ident = wire.run_id(run_id)
    return runs.as_dict(runs.end(account_id, ident, wire.end_state(_fields())))


@mlbench_api.route("/api/runs/{run_id}", methods=["DELETE"])
@_answering
def delete_run(run_id: str) -> Response:
    account_id = _account()
    runs.delete(account_id, wire.run_id(run_id))
    return Response(body="", status_code=204)
