"""The MLBench surface's routes, and its worlds: an account with a finished run "done" with
metrics, a started run "busy" (only one run is active per account) and a pod's metrics.

The account key goes as Bearer (HTTP Basic with the key as password is the real client's way:
test_runs.py). Run ids come from one counter for every account, so another account's run ids
are foreign, and answered like ids nobody has (404 `not_found`). A pod name is not an id: a pod
nobody lists may still have metrics (test_metrics.py holds pod metrics apart by account).
"""
from __future__ import annotations

from tests.support.envelopes import MLBENCH
from tests.support.surfaces import BEARER, Credential, Id, Route, Surface, World

POD = "bench-pod-0"
ACCOUNT_KEY = Credential("account key", BEARER, ("api_key",), "api key",
                         wrong={"an unknown key": "ak_not-a-real-key", "an endpoint key": "<endpoint_key>"})
RUN_IN_PATH = Id("run", "path", "run_id")
STARTED_IN_PATH = Id("started", "path", "run_id")
RUN_IN_BODY = Id("run", "run_id", "run_id", instead_of=("pod_name",))
METRIC = {"name": "loss", "value": "0.5", "date": "2018-08-03T09:21:44.331823Z", "cumulative": False,
          "metadata": ""}


def _route(name: str, method: str, path: str, body: dict | None = None, ids: tuple[Id, ...] = (), **more) -> Route:
    return Route(name, method, path, body, ACCOUNT_KEY, ids, **more)


ROUTES = (
    _route("pods", "GET", "/api/pods/"),
    _route("all metrics", "GET", "/api/metrics/"),
    _route("post run metric", "POST", "/api/metrics/", {**METRIC, "run_id": "<run>"}, (RUN_IN_BODY,), status=201,
           answers={"run_id": "<run>", "name": "loss"}),
    _route("post pod metric", "POST", "/api/metrics/", {**METRIC, "pod_name": POD}, status=201,
           answers={"pod_name": POD, "name": "loss"}),
    _route("pod metrics", "GET", "/api/metrics/{pod}/"),
    _route("list runs", "GET", "/api/runs/"),
    _route("create run", "POST", "/api/runs/", {"name": "fresh"}, status=201,
           answers={"name": "fresh", "state": "started"}),
    _route("read run", "GET", "/api/runs/{run}/", ids=(RUN_IN_PATH,), answers={"id": "<run>", "state": "finished"}),
    _route("end run", "PATCH", "/api/runs/{started}/", {"state": "finished"}, (STARTED_IN_PATH,),
           answers={"id": "<started>", "state": "finished"}),
    _route("delete run", "DELETE", "/api/runs/{run}/", ids=(RUN_IN_PATH,), status=204),
)


def ok(api, method: str, path: str, body=None, status: int = 200, **kwargs):
    """The reply of a call that must answer `status`."""
    got, reply = api.call(method, path, body, **kwargs)
    assert got == status, (got, reply)
    return reply


def _under_test(request) -> str | None:
    """The name of the route a generic spec is running (None in a surface's own specs)."""
    callspec = getattr(request.node, "callspec", None)
    route = callspec.params.get("route") if callspec else None
    return getattr(route, "name", None)


def bench(request, api_fixture: str = "api", pod: str = POD) -> World:
    """An account with a finished run "done" (two loss points), a started run "busy", two
    cpu points of `pod`. For the generic specs' valid "create run", "busy" is finished too (a
    new run is a 409 while one is started)."""
    api = request.getfixturevalue(api_fixture)
    endpoint = api.endpoint("demo")
    done = ok(api, "POST", "/api/runs/", {"name": "done"}, 201)["id"]
    for i, value in enumerate(("0.9", "0.7")):
        ok(api, "POST", "/api/metrics/",
                      {"run_id": done, "name": "loss", "value": value, "date": f"2018-08-03T09:21:4{i}.000000Z"}, 201)
    ok(api, "PATCH", f"/api/runs/{done}/", {"state": "finished"}, 200)
    busy = ok(api, "POST", "/api/runs/", {"name": "busy"}, 201)["id"]
    for i, value in enumerate(("12.5", "40")):
        ok(api, "POST", "/api/metrics/",
                      {"pod_name": pod, "name": "cpu", "value": value, "date": f"2099-01-01T00:00:0{i}.000000Z"}, 201)
    if _under_test(request) == "create run":
        ok(api, "PATCH", f"/api/runs/{busy}/", {"state": "finished"}, 200)
    return World(SURFACE, api, {"api_key": api.key, "endpoint_key": endpoint["api_key"], "run": done,
                                "started": busy, "pod": pod})


def other_bench(request) -> World:
    """Another account, with runs of its own (their ids are foreign) and the same pod name."""
    return bench(request, "other_api")


SURFACE = Surface("mlbench", MLBENCH, ROUTES, world=bench, mine=bench, theirs=other_bench,
                  foreign={"run": ("run", "started"), "started": ("started", "run")})
