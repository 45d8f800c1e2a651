"""The console routes for ClearML credential pairs: the account key creates, lists and revokes its
own pairs; the secret is in the create reply and nowhere else."""
from __future__ import annotations

import json
import logging

import pytest

from chalicelib.core.auth import clearml_keys
from chalicelib.core.auth.credentials import hash_secret
from tests.support.envelopes import VAST
from tests.support.surfaces import stored

PAIRS = "/api/v0/clearml/credentials/"
NOW = 1_800_000_000.0


def create(api) -> dict:
    reply = api.ok("POST", PAIRS)
    assert reply.keys() == {"success", "access_key", "secret_key"} and reply["success"] is True
    return reply


def test_a_pair_is_created_listed_and_revoked(api):
    pair = create(api)
    listed = api.ok("GET", PAIRS)
    assert listed["success"] is True
    (row,) = listed["results"]
    assert row.keys() == {"access_key", "created_at"} and row["access_key"] == pair["access_key"]
    assert clearml_keys.verify(clearml_keys.login_basic(pair["access_key"], pair["secret_key"], NOW), NOW)
    assert api.ok("DELETE", f"{PAIRS}{pair['access_key']}") == {"success": True}
    assert api.ok("GET", PAIRS)["results"] == []
    status, reply = api.call("DELETE", f"{PAIRS}{pair['access_key']}/")
    VAST.check(status, reply, 404, "not_found", pair["access_key"])


def test_the_secret_is_in_the_create_reply_only(api, caplog, capsys):
    with caplog.at_level(logging.DEBUG):
        pair = create(api)
        create(api)
        listed = api.ok("GET", PAIRS)
    assert len(listed["results"]) == 2
    for shown in (json.dumps(listed), caplog.text + capsys.readouterr().out, json.dumps(stored())):
        assert pair["secret_key"] not in shown
    assert hash_secret(pair["secret_key"]) not in json.dumps(listed)


def test_another_account_can_neither_list_nor_revoke_a_pair(api, other_api):
    pair = create(api)
    assert other_api.ok("GET", PAIRS)["results"] == []
    before = stored()
    theirs = other_api.call("DELETE", f"{PAIRS}{pair['access_key']}/")
    nobodys = other_api.call("DELETE", f"{PAIRS}NOBODYHASTHISKEY00000000000000/")
    VAST.check(*theirs, 404, "not_found", pair["access_key"])
    assert json.dumps(theirs).replace(pair["access_key"], "K") == json.dumps(nobodys).replace(
        "NOBODYHASTHISKEY00000000000000", "K")
    assert stored() == before
    assert [row["access_key"] for row in api.ok("GET", PAIRS)["results"]] == [pair["access_key"]]


@pytest.mark.parametrize(("method", "path"), [("POST", PAIRS), ("GET", PAIRS), ("DELETE", PAIRS + "{access_key}/")])
def test_an_endpoint_key_or_an_access_key_is_refused(api, method, path):
    pair = create(api)
    endpoint_key = api.endpoint("demo")["api_key"]
    before = stored()
    for key in (endpoint_key, pair["access_key"], pair["secret_key"]):
        status, reply = api.call(method, path.format(access_key=pair["access_key"]), key=key)
        VAST.check(status, reply, 401, "unauthorized", "api key")
    assert stored() == before


def test_an_access_key_is_no_api_key_anywhere_on_the_vast_api(api):
    """A ClearML access key's row is in the keys table, but it opens nothing there."""
    access_key = create(api)["access_key"]
    status, reply = api.call("GET", "/api/v0/users/current/", key=access_key)
    VAST.check(status, reply, 401, "unauthorized", "api key")
    status, reply = api.call("POST", "/get_endpoint_stats/", {"api_key": access_key, "endpoint": "demo"}, key=None)
    VAST.check(status, reply, 401, "unauthorized", "api key")
    status, reply = api.call("POST", "/route/", {"api_key": access_key, "endpoint": "demo"}, key=None)
    VAST.check(status, reply, 401, "unauthorized", "api key")
