"""The admin surface's own cases: what an account request must hold, the API off without
ADMIN_TOKEN_HASH, the token compared in constant time. Bodies that are not JSON objects and
wrong or missing tokens are in tests/surfaces/test_bad_input.py and test_isolation.py."""
from __future__ import annotations

import pytest

from chalicelib.core.auth.credentials import hash_secret
from tests.support.envelopes import ADMIN
from tests.support.surfaces import DROP, stored
from tests.surfaces.admin.routes import ADMIN_TOKEN


@pytest.mark.parametrize("changes", [
    pytest.param({"name": DROP}, id="name missing"),
    pytest.param({"name": None}, id="name null"),
    pytest.param({"name": 5}, id="name a number"),
    pytest.param({"name": ""}, id="name empty"),
    pytest.param({"name": "x" * 129}, id="name too long"),
    pytest.param({"name": "   "}, id="name only spaces"),
    pytest.param({"name": " padded"}, id="name with a leading space"),
    pytest.param({"name": "a\nb"}, id="name with a newline"),
    pytest.param({"name": "a\x00b"}, id="name with a NUL"),
    pytest.param({"name": "a\u2028b"}, id="name with a line separator"),
    pytest.param({"name": "evil\u202egpj.exe"}, id="name with a direction override"),
    pytest.param({"name": "a\u200bb"}, id="name with a zero-width space"),
])
def test_a_bad_account_name_is_a_400_naming_it_and_creates_no_account(world, changes):
    world.rejects("create account", names="'name'", changes=changes)


@pytest.mark.parametrize("setting", [None, ""], ids=["unset", "empty"])
def test_the_admin_api_is_off_with_a_403_while_admin_token_hash_is_not_set(api, monkeypatch, setting):
    if setting is None:
        monkeypatch.delenv("ADMIN_TOKEN_HASH", raising=False)
    else:
        monkeypatch.setenv("ADMIN_TOKEN_HASH", setting)
    before = stored()
    for token in (ADMIN_TOKEN, None, api.key):
        status, reply = api.call("POST", "/admin/accounts/", {"name": "intruder"}, key=token)
        ADMIN.check(status, reply, 403, "admin_disabled", "ADMIN_TOKEN_HASH")
    assert stored() == before


def test_the_admin_token_hash_may_be_given_in_capitals_with_a_newline(world, monkeypatch):
    monkeypatch.setenv("ADMIN_TOKEN_HASH", hash_secret(ADMIN_TOKEN).upper() + "\n")
    status, reply = world.api.call("POST", "/admin/accounts/", {"name": "by capitals"}, key=ADMIN_TOKEN)
    assert status == 200 and reply["name"] == "by capitals", reply


def test_the_admin_token_is_never_taken_from_the_query_string(world):
    before = stored()
    status, reply = world.api.call("POST", f"/admin/accounts/?api_key={ADMIN_TOKEN}", {"name": "by url"}, key=None)
    ADMIN.check(status, reply, 401, "unauthorized", "admin token")
    assert stored() == before


def test_the_admin_token_is_compared_in_constant_time(world, compared):
    world.api.call("POST", "/admin/accounts/", {"name": "x"}, key="not-the-token")
    assert (hash_secret("not-the-token"), hash_secret(ADMIN_TOKEN)) in compared
