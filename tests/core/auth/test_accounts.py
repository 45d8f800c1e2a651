"""Accounts: created by the operator (admin API or CLI); keys shown once, stored as hashes, never logged."""
from __future__ import annotations

import logging

from chalicelib.core.auth import accounts
from chalicelib.core.auth.credentials import hash_secret
from chalicelib.core.store import ApiKey


def test_the_admin_api_creates_an_account_whose_key_works(client, api, monkeypatch):
    monkeypatch.setenv("ADMIN_TOKEN_HASH", hash_secret("operator-secret"))
    reply = api.ok("POST", "/admin/accounts/", {"name": "acme"}, key="operator-secret")
    assert reply["success"] and reply["name"] == "acme" and reply["api_key"].startswith("ak_")
    assert api.ok("GET", "/api/v0/endptjobs/", key=reply["api_key"])["results"] == []


def test_keys_are_stored_only_as_hashes(api):
    endpoint = api.endpoint("a")
    stored = [str(row.attribute_values) for row in ApiKey.scan()]
    assert len(stored) == 2  # the account's key and the endpoint's
    assert not any(api.key in row or endpoint["api_key"] in row for row in stored)
    assert any(hash_secret(api.key) in row for row in stored)


def test_keys_never_reach_the_logs(api, caplog, capsys):
    with caplog.at_level(logging.DEBUG):
        endpoint = api.endpoint("a")
        api.call("POST", "/route/", {"endpoint": "a", "api_key": endpoint["api_key"]}, key=None)
        api.call("GET", "/api/v0/endptjobs/", key="ak_wrong_key_for_the_logs")
    logged = caplog.text + capsys.readouterr().out
    assert "request" in logged
    for secret in (api.key, endpoint["api_key"], "ak_wrong_key_for_the_logs"):
        assert secret not in logged


def test_the_cli_creates_an_account_and_can_pin_its_key(aws, capsys):
    assert accounts.main(["create", "--name", "ops", "--key", "pinned-local-key-123"]) == 0
    assert "pinned-local-key-123" in capsys.readouterr().out
    assert ApiKey.get(hash_secret("pinned-local-key-123")).name == "ops"
