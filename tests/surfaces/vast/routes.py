"""Every route of the Vast surface, and the worlds its specs run against.

`world` is a small fleet (an endpoint "demo", a worker group, a ready worker, a ClearML
credential pair); `mine` and `theirs` are two accounts with two of each (both have a "demo";
the other endpoints are "side" and "private").
"""
from __future__ import annotations

from tests.support.envelopes import VAST
from tests.support.surfaces import BEARER, UNKNOWN, Credential, Id, Route, Surface, World

RANGE = {"metric_name": "curload", "t1": 0, "t2": 60}  # the timeseries form of the stats calls

ACCOUNT_KEY = Credential("account key", BEARER, ("api_key",), "api key",
                         wrong={"an unknown key": "ak_not-a-real-key", "an endpoint key": "<endpoint_key>"})
# The SDK's way: the key in the body (the CLI's Bearer where the body has none).
ANY_KEY_IN_BODY = Credential("api_key", "api_key", ("api_key", "endpoint_key"), "api key",
                             wrong={"an unknown key": "ak_not-a-real-key"})
ACCOUNT_KEY_IN_BODY = Credential("account api_key", "api_key", ("api_key",), "api key",
                                 wrong={"an unknown key": "ak_not-a-real-key", "an endpoint key": "<endpoint_key>"})
ENDPOINT_KEY_IN_BODY = Credential("endpoint api_key", "api_key", ("endpoint_key",), "api key",
                                  wrong={"an unknown key": "ek_not-a-real-key"})


def worker_token(id_field: str) -> Credential:
    """A worker speaks with its id and mtoken: the id is part of the credential."""
    return Credential("mtoken", "mtoken", ("mtoken",), "mtoken",
                      wrong={"a wrong mtoken": "wt_not-a-token", "an account key": "<api_key>",
                             "an endpoint key": "<endpoint_key>"},
                      wrong_changes={"an unknown worker id": {id_field: UNKNOWN}})


ENDPOINT_IN_PATH = Id("endpoint", "path", "endpoint_id")
GROUP_IN_PATH = Id("group", "path", "group_id")
# The stats calls name their endpoint by `id` or by name (`endpoint`), a group by `id`.
ENDPOINT_BY_ID = Id("endpoint", "id", "id", instead_of=("endpoint",))
ENDPOINT_BY_NAME = Id("endpoint_name", "endpoint", "endpoint", unknown="nope", instead_of=("id",))
GROUP_BY_ID = Id("group", "id", "id")
# A group's endpoint, by id or by name.
GROUP_ENDPOINT = Id("endpoint", "endpoint_id", "endpoint_id", instead_of=("endpoint_name",))
GROUP_ENDPOINT_NAME = Id("endpoint_name", "endpoint_name", "endpoint_name", unknown="nope", instead_of=("endpoint_id",))

ENDPOINT_WRITES = ({"min_load": 7}, {"endpoint_name": "stolen"})
GROUP_WRITES = ({"max_workers": 1}, {"endpoint_name": "demo"})


def _console(name: str, method: str, path: str, body: dict | None = None, ids: tuple[Id, ...] = (), **more) -> Route:
    return Route(name, method, path, body, ACCOUNT_KEY, ids, **more)


def _stats(name: str, path: str, body: dict, ids: tuple[Id, ...]) -> Route:
    return Route(name, "POST", path, {"api_key": "<api_key>", **body}, ANY_KEY_IN_BODY, ids)


def _group_routes(base: str, alias: str = "") -> list[Route]:
    """The worker group routes under `base` (Vast renamed autojobs to workergroups; the CLI's
    spelling, without the trailing slash, is kept for the alias)."""
    slash = "" if alias else "/"
    return [
        _console(f"list groups{alias}", "GET", f"{base}{slash}"),
        _console(f"create group{alias}", "POST", f"{base}{slash}", {"endpoint_id": "<endpoint>"},
                 (GROUP_ENDPOINT, GROUP_ENDPOINT_NAME)),
        _console(f"read group{alias}", "GET", f"{base}/{{group}}{slash}", ids=(GROUP_IN_PATH,)),
        _console(f"update group{alias}", "PUT", f"{base}/{{group}}{slash}", {},
                 (GROUP_IN_PATH, GROUP_ENDPOINT, GROUP_ENDPOINT_NAME), writes=GROUP_WRITES),
        _console(f"delete group{alias}", "DELETE", f"{base}/{{group}}{slash}", ids=(GROUP_IN_PATH,)),
        _console(f"register worker{alias}", "POST", f"{base}/{{group}}/workers{slash}", {}, (GROUP_IN_PATH,),
                 empty_body=True),
        _console(f"decisions{alias}", "GET", f"{base}/{{group}}/decisions{slash}", ids=(GROUP_IN_PATH,)),
    ]


ROUTES = (
    _console("current user", "GET", "/api/v0/users/current/"),
    _console("list clearml credentials", "GET", "/api/v0/clearml/credentials/"),
    _console("create clearml credentials", "POST", "/api/v0/clearml/credentials/", {}, empty_body=True),
    # An access key is not a numeric id: its isolation is in test_credentials.py.
    _console("revoke clearml credentials", "DELETE", "/api/v0/clearml/credentials/{access_key}/"),
    _console("list endpoints", "GET", "/api/v0/endptjobs/"),
    _console("create endpoint", "POST", "/api/v0/endptjobs/", {"endpoint_name": "fresh"}),
    _console("read endpoint", "GET", "/api/v0/endptjobs/{endpoint}/", ids=(ENDPOINT_IN_PATH,)),
    _console("update endpoint", "PUT", "/api/v0/endptjobs/{endpoint}/", {}, (ENDPOINT_IN_PATH,),
             writes=ENDPOINT_WRITES),
    _console("delete endpoint", "DELETE", "/api/v0/endptjobs/{endpoint}/", ids=(ENDPOINT_IN_PATH,)),
    _console("endpoint history", "GET", "/api/v0/endptjobs/{endpoint}/history/", ids=(ENDPOINT_IN_PATH,)),
    _console("endpoint decisions", "GET", "/api/v0/endptjobs/{endpoint}/decisions/", ids=(ENDPOINT_IN_PATH,)),
    _console("fleet", "GET", "/api/v0/fleet/"),
    _console("serving", "GET", "/api/v0/serving/"),
    _console("serving history", "GET", "/api/v0/serving/history/?url=http%3A%2F%2Fm%2Fserve"),
    *_group_routes("/api/v0/autojobs"),
    *_group_routes("/api/v0/workergroups", " (workergroups)"),
    Route("worker status", "POST", "/worker_status/", {"id": "<worker>", "mtoken": "<mtoken>"}, worker_token("id"),
          writes=({"cur_load": 1.0},)),
    Route("delete requests", "POST", "/delete_requests/",
          {"worker_id": "<worker>", "mtoken": "<mtoken>", "requests": []}, worker_token("worker_id"),
          writes=({"requests": [{"success": False}]},)),
    Route("route", "POST", "/route/", {"endpoint": "demo", "api_key": "<endpoint_key>"}, ENDPOINT_KEY_IN_BODY,
          (ENDPOINT_BY_NAME,)),
    Route("pubkey", "GET", "/pubkey/"),
    _stats("endpoint stats", "/get_endpoint_stats/", {"endpoint": "demo"}, (ENDPOINT_BY_ID, ENDPOINT_BY_NAME)),
    _stats("endpoint timeseries", "/get_endpoint_stats/", {"endpoint": "demo", **RANGE},
           (ENDPOINT_BY_ID, ENDPOINT_BY_NAME)),
    _stats("group stats", "/get_autogroup_stats/", {"id": "<group>"}, (GROUP_BY_ID,)),
    _stats("group timeseries", "/get_autogroup_stats/", {"id": "<group>", **RANGE}, (GROUP_BY_ID,)),
    _stats("endpoint workers", "/get_endpoint_workers/", {"endpoint": "demo"}, (ENDPOINT_BY_ID, ENDPOINT_BY_NAME)),
    _stats("group workers", "/get_autogroup_workers/", {"id": "<group>"}, (GROUP_BY_ID,)),
    _stats("endpoint logs", "/get_endpoint_logs/", {"id": "<endpoint>"}, (ENDPOINT_BY_ID, ENDPOINT_BY_NAME)),
    _stats("group logs", "/get_autogroup_logs/", {"id": "<group>"}, (GROUP_BY_ID,)),
    Route("update workers", "POST", "/update_workers/", {"api_key": "<api_key>", "workergroup_id": "<group>"},
          ACCOUNT_KEY_IN_BODY, (Id("group", "workergroup_id", "workergroup_id"),)),
)


class Fleet(World):
    """An account with an endpoint "demo", a worker group and a ready worker in it, and a ClearML pair."""

    def __init__(self, api, endpoint: dict, group: dict, worker: dict):
        super().__init__(SURFACE, api, {
            "endpoint": endpoint["id"], "group": group["id"], "worker": worker["id"], "mtoken": worker["mtoken"],
            "api_key": api.key, "endpoint_key": endpoint["api_key"], "endpoint_name": endpoint["endpoint_name"],
            "access_key": api.ok("POST", "/api/v0/clearml/credentials/")["access_key"],
        })
        self.endpoint, self.group, self.worker = endpoint, group, worker

    def worker_rows(self, *endpoints: dict) -> dict[int, dict]:
        """The live workers of the endpoints (this world's by default), by id, as the API lists them."""
        rows = {}
        for endpoint in endpoints or (self.endpoint,):
            body = {"api_key": self.api.key, "id": endpoint["id"]}
            rows.update({row["id"]: row for row in self.api.ok("POST", "/get_endpoint_workers/", body, key=None)})
        return rows

    def worker_row(self) -> dict:
        return self.worker_rows()[self.worker["id"]]

    def shown(self) -> dict[int, dict]:
        return self.worker_rows()


class Tenant(Fleet):
    """A fleet and another of everything beside it, in the same account."""

    def __init__(self, api, endpoint, other_endpoint, group, other_group, worker, other_worker):
        super().__init__(api, endpoint, group, worker)
        self.other_endpoint, self.other_group, self.other_worker = other_endpoint, other_group, other_worker
        self.refs.update(other_endpoint=other_endpoint["id"], other_group=other_group["id"],
                         other_worker=other_worker["id"], other_endpoint_name=other_endpoint["endpoint_name"])

    def shown(self) -> dict[int, dict]:
        return self.worker_rows(self.endpoint, self.other_endpoint)


def fleet(api) -> Fleet:
    endpoint = api.endpoint("demo")
    group = api.group(endpoint)
    return Fleet(api, endpoint, group, api.ready_worker(group))


def tenant(api, other_name: str) -> Tenant:
    endpoint, other_endpoint = api.endpoint("demo"), api.endpoint(other_name)
    group, other_group = api.group(endpoint), api.group(other_endpoint)
    worker = api.ready_worker(group, url="http://10.0.0.1:5000", max_perf=10.0)
    other_worker = api.ready_worker(other_group, url="http://10.0.0.2:5000", max_perf=20.0)
    return Tenant(api, endpoint, other_endpoint, group, other_group, worker, other_worker)


SURFACE = Surface(
    "vast", VAST, ROUTES,
    world=lambda request: fleet(request.getfixturevalue("api")),
    mine=lambda request: tenant(request.getfixturevalue("api"), "side"),
    theirs=lambda request: tenant(request.getfixturevalue("other_api"), "private"),
    # Their "demo" is left out: by name, "demo" is the caller's own.
    foreign={"endpoint": ("endpoint", "other_endpoint"), "group": ("group", "other_group"),
             "endpoint_name": ("other_endpoint_name",)},
)
