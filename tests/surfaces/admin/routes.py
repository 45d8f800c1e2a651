"""The admin surface's one route, and its world: an account, with the admin API on."""
from __future__ import annotations

from chalicelib.core.auth.credentials import hash_secret
from tests.support.envelopes import ADMIN
from tests.support.surfaces import BEARER, Credential, Route, Surface, World

ADMIN_TOKEN = "operator-secret-for-tests"

ADMIN_CREDENTIAL = Credential("admin token", BEARER, ("admin_token",), "admin token", wrong={
    "a wrong token": "wrong-token", "an account key": "<api_key>", "the hash itself": hash_secret(ADMIN_TOKEN),
    "the token and more": ADMIN_TOKEN + "x"})

ROUTES = (
    Route("create account", "POST", "/admin/accounts/", {"name": "ops"}, ADMIN_CREDENTIAL, answers={"name": "ops"}),
)


def admin_world(request) -> World:
    """The `api` account, with the admin API on (`admin_on`: unset, the API is off)."""
    request.getfixturevalue("admin_on")
    api = request.getfixturevalue("api")
    return World(SURFACE, api, {"admin_token": ADMIN_TOKEN, "api_key": api.key})


SURFACE = Surface("admin", ADMIN, ROUTES, world=admin_world, mine=admin_world)
