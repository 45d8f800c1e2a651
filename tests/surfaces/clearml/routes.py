"""The ClearML surface's routes, and its worlds: an account with a ClearML token, a container
serving at "<url>" and one still loading. Every action reads a request with no body as {}."""
from __future__ import annotations

import base64
import time

from chalicelib.core.auth import clearml_keys
from chalicelib.core.auth.credentials import hash_secret
from chalicelib.core.store import bind
from tests.support.envelopes import CLEARML
from tests.support.surfaces import BEARER, Credential, Id, Route, Surface, World

URL = "http://10.0.0.7:8080/serve/llm"
THEIR_URL = "http://10.0.0.8:8080/serve/chat"
TOKEN = Credential("token", BEARER, ("token",), "token", wrong={
    "an account key": "<api_key>", "a token signed by someone else": "<forged>", "an expired token": "<expired>",
    "the secret key": "<secret_key>", "the token's hash": "<token_hash>"})
# An endpoint url nobody serves (or another account's) is a 400 "no containers for url" (subcode
# 1052, test_serving.py) for its details; its history is empty charts, as the reference answers.
# A container id is not: unregistering one nobody has is a no-op.
URL_IN_BODY = Id("url", "endpoint_url", "endpoint_url", unknown="http://10.9.9.9:1/nobody", missing=(400, None))
CONTAINER = {"container_id": "c-serving", "endpoint_name": "llm", "model_name": "llama"}

# (name, path, a valid body)
_CALLS = (
    ("login", "/auth.login", None),
    ("register", "/serving.register_container", {**CONTAINER, "container_id": "c-new"}),
    ("unregister", "/serving.unregister_container", {"container_id": "c-serving"}),
    ("report", "/serving.container_status_report",
     {**CONTAINER, "endpoint_url": "<url>", "requests_num": 5, "latency_ms": 10.5,
      "machine_stats": {"cpu_usage": [12.0], "memory_used": 100}}),
    ("endpoints", "/serving.get_endpoints", {}),
    ("loading", "/serving.get_loading_instances", {}),
    ("details", "/serving.get_endpoint_details", {"endpoint_url": "<url>"}),
    ("history", "/serving.get_endpoint_metrics_history",
     {"endpoint_url": "<url>", "from_date": 0, "to_date": 4e9, "interval": 10**8}),
)
# Every call answers GET (the client's default) as POST (test_serving.py shows it for each);
# auth.login with a bearer token refreshes it. The dashboard side is also asked at /v2.31/, as
# the client's typed requests are sent (through the catch-all route).
_VERSIONED = tuple((f"{name}@2.31", "/v2.31" + path, body) for name, path, body in _CALLS
                   if name in ("endpoints", "loading", "details", "history"))
ROUTES = tuple(Route(name, "POST", path, body, TOKEN, empty_body=True, alike=("GET", "PUT"),
                     ids=(URL_IN_BODY,) if name.startswith("details") else ())
               for name, path, body in _CALLS + _VERSIONED)


def clearml_world(request, api_fixture: str = "api", url: str = URL) -> World:
    """An account with a ClearML pair and its token, a container serving at `url`, one loading."""
    api = request.getfixturevalue(api_fixture)
    bind()
    access, secret = clearml_keys.create_pair(api.account_id)
    basic = base64.b64encode(f"{access}:{secret}".encode()).decode()
    reply = api.client.http.post("/auth.login", headers={"Authorization": f"Basic {basic}"}).json_body
    token = reply["data"]["token"]
    forged = token.rsplit(".", 1)[0] + "." + base64.urlsafe_b64encode(b"x" * 32).decode().rstrip("=")
    expired = clearml_keys.issue(api.account_id, access, time.time() - 2 * 86400)
    for action, body in (("register_container", {**CONTAINER, "container_id": "c-loading"}),
                         ("container_status_report", {**CONTAINER, "endpoint_url": url, "requests_num": 1})):
        status, _ = api.call("POST", f"/serving.{action}", body, key=token)
        assert status == 200
    refs = {"token": token, "url": url, "api_key": api.key, "forged": forged, "expired": expired,
            "secret_key": secret, "token_hash": hash_secret(token), "access_key": access}
    return World(SURFACE, api, refs)


def other_world(request) -> World:
    """Another account, serving at a url of its own (test_serving.py tries the same url in both)."""
    return clearml_world(request, "other_api", THEIR_URL)


SURFACE = Surface("clearml", CLEARML, ROUTES, world=clearml_world, mine=clearml_world, theirs=other_world,
                  foreign={"url": ("url",)})
