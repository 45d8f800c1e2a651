"""`GET /api/v0/users/current/`: the account as Vast shows a user (the CLI's `show user`)."""
from __future__ import annotations

from chalicelib.core.auth.credentials import hash_secret


def test_users_current_is_the_account_in_vasts_shape_without_its_key(api):
    user = api.ok("GET", "/api/v0/users/current/")
    assert user["id"] == api.account_id and user["username"] == "tester"
    assert user["host_agreement_accepted"] is False and user["credit"] == 0.0
    assert api.key not in str(user) and hash_secret(api.key) not in str(user)


def test_users_current_needs_an_account_key(api):
    endpoint = api.endpoint("a")
    assert api.call("GET", "/api/v0/users/current/", key=endpoint["api_key"])[0] == 401
    assert api.call("GET", "/api/v0/users/current/", key=None)[0] == 401
    assert api.call("GET", "/api/v0/users/current/", key="ak_wrong_key")[0] == 401
