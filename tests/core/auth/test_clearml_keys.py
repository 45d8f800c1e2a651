"""ClearML credentials: pairs stored only hashed, a login that reads one item and compares in
constant time, and tokens nobody but this server can mint, alter or keep using after revocation."""
from __future__ import annotations

import base64
import hmac
import json
import re

import pytest

from chalicelib.core.auth import clearml_keys, server_keys
from chalicelib.core.auth.credentials import hash_secret
from chalicelib.core.errors import ApiError
from chalicelib.core.store import ApiKey, ClearmlCredential
from tests.support.surfaces import stored

NOW = 1_800_000_000.0
PINNED = ("LOCALACCESSKEY0123456789", "local-secret-key-0123456789-abcdefghij")


def refused(call, *args, status: int = 401, says: str = "") -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args)
    assert caught.value.status == status, caught.value.message
    assert says in caught.value.message, caught.value.message
    return caught.value


def b64(value: dict | bytes) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


@pytest.fixture
def pair(aws):
    return clearml_keys.create_pair(7)


# --- pairs --------------------------------------------------------------------------------------

def test_a_new_pair_looks_like_clearmls_and_is_stored_only_hashed(pair):
    access_key, secret_key = pair
    assert re.fullmatch(r"[A-Z0-9]{24,}", access_key)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", secret_key)
    row = ApiKey.get(hash_secret(access_key))
    assert (row.kind, int(row.account_id), row.secret_hash) == ("clearml", 7, hash_secret(secret_key))
    (listed,) = clearml_keys.list_pairs(7)
    assert (listed.sk, listed.secret_hash) == (access_key, hash_secret(secret_key))
    everything = json.dumps(stored())
    assert secret_key not in everything and hash_secret(secret_key) in everything


def test_a_pair_is_written_in_one_transaction(aws, dynamodb_calls):
    clearml_keys.create_pair(7)
    assert dict(dynamodb_calls) == {"TransactWriteItems": 1}


def test_each_new_pair_is_different(aws):
    assert len({clearml_keys.create_pair(7) for _ in range(5)}) == 5


def test_a_given_pair_is_kept_exactly_and_logs_in(aws):
    assert clearml_keys.create_pair(7, *PINNED) == PINNED
    assert clearml_keys.verify(clearml_keys.login_basic(*PINNED, NOW), NOW).account_id == 7


def test_a_given_access_key_that_is_taken_is_a_409_and_writes_nothing(aws):
    clearml_keys.create_pair(7, *PINNED)
    before = stored()
    refused(clearml_keys.create_pair, 8, PINNED[0], "another-secret-key-0123456789-abcdefgh", status=409,
            says="already in use")
    assert stored() == before
    assert clearml_keys.list_pairs(8) == []


@pytest.mark.parametrize(("access_key", "secret_key", "names"), [
    ("SHORT", PINNED[1], "access_key"),
    ("A" * 129, PINNED[1], "access_key"),
    ("HAS:COLON0123456789ABCDEF", PINNED[1], "access_key"),
    (PINNED[0], "too-short", "secret_key"),
    (PINNED[0], "has a space in it 0123456789abcdefghij", "secret_key"),
    (PINNED[0], None, "secret_key"),
    (None, PINNED[1], "access_key"),
])
def test_a_given_pair_of_the_wrong_form_is_a_400_naming_it(aws, access_key, secret_key, names):
    refused(clearml_keys.create_pair, 7, access_key, secret_key, status=400, says=names)
    assert clearml_keys.list_pairs(7) == []


def test_listing_is_one_query_of_the_accounts_own_pairs(aws, dynamodb_calls):
    mine = {clearml_keys.create_pair(7)[0] for _ in range(3)}
    clearml_keys.create_pair(8)
    dynamodb_calls.clear()
    assert {pair.sk for pair in clearml_keys.list_pairs(7)} == mine
    assert dict(dynamodb_calls) == {"Query": 1}


def test_revoking_deletes_both_rows_in_one_transaction(pair, dynamodb_calls):
    dynamodb_calls.clear()
    clearml_keys.revoke(7, pair[0])
    assert dict(dynamodb_calls) == {"TransactWriteItems": 1}
    assert clearml_keys.list_pairs(7) == []
    assert ApiKey.count(hash_secret(pair[0])) == 0
    refused(clearml_keys.revoke, 7, pair[0], status=404, says=f"'{pair[0]}'")


def test_another_account_cannot_revoke_a_pair_and_is_told_what_an_unknown_key_gets(pair):
    before = stored()
    theirs = refused(clearml_keys.revoke, 8, pair[0], status=404)
    unknown = refused(clearml_keys.revoke, 8, "NOBODYHASTHISKEY00000000000000", status=404)
    assert theirs.message.replace(pair[0], "K") == unknown.message.replace("NOBODYHASTHISKEY00000000000000", "K")
    assert stored() == before


def test_an_account_key_cannot_be_revoked_as_a_pair(aws):
    ApiKey(hash_secret("ak_console-key"), kind="account", account_id=7, created_at=1).save()
    ClearmlCredential("7#credentials", "ak_console-key", secret_hash="x", created_at=1).save()  # a forged listing
    refused(clearml_keys.revoke, 7, "ak_console-key", status=404)
    assert ApiKey.get(hash_secret("ak_console-key")).kind == "account"


# --- logging in ---------------------------------------------------------------------------------

def test_the_right_pair_logs_in_with_one_read_and_a_constant_time_compare(pair, dynamodb_calls, compared):
    server_keys.current()  # cached per process from then on
    dynamodb_calls.clear()
    token = clearml_keys.login_basic(*pair, NOW)
    assert dict(dynamodb_calls) == {"GetItem": 1}
    assert (hash_secret(pair[1]), hash_secret(pair[1])) in compared
    assert clearml_keys.verify(token, NOW) == clearml_keys.TokenClaims(7, pair[0], int(NOW) + 86400)


@pytest.mark.parametrize("wrong", ["a wrong secret", "an unknown access key", "a revoked pair", "an account key",
                                   "not strings", "empty"])
def test_anything_wrong_on_login_is_a_401(pair, compared, wrong):
    access_key, secret_key = pair
    if wrong == "a wrong secret":
        secret_key = secret_key[:-1] + ("A" if secret_key[-1] != "A" else "B")
    elif wrong == "an unknown access key":
        access_key = "NOBODYHASTHISKEY00000000000000"
    elif wrong == "a revoked pair":
        clearml_keys.revoke(7, access_key)
    elif wrong == "an account key":
        ApiKey(hash_secret("ak_console-key"), kind="account", account_id=7, created_at=1).save()
        access_key = "ak_console-key"
    elif wrong == "not strings":
        access_key, secret_key = 5, ["x"]
    else:
        access_key = secret_key = ""
    refused(clearml_keys.login_basic, access_key, secret_key, NOW, says="invalid access key or secret key")
    if wrong in ("an unknown access key", "a revoked pair", "a wrong secret"):
        assert compared  # an unknown key costs the same compare as a wrong secret


def test_login_takes_the_authorization_header_basic_or_bearer(pair):
    basic = "Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()
    token = clearml_keys.login(basic, NOW)
    assert clearml_keys.verify(token, NOW).access_key == pair[0]
    later = clearml_keys.login(f"Bearer {token}", NOW + 60)
    assert clearml_keys.verify(later, NOW + 60).exp == int(NOW) + 60 + 86400


def test_a_token_lives_the_lifetime_the_client_asks_for_up_to_a_day(pair):
    basic = "Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()
    assert clearml_keys.verify(clearml_keys.login(basic, NOW, 300), NOW).exp == int(NOW) + 300
    token = clearml_keys.login(basic, NOW, 30 * 86400)
    assert clearml_keys.verify(token, NOW).exp == int(NOW) + 86400
    assert clearml_keys.verify(clearml_keys.login(f"Bearer {token}", NOW, 600), NOW).exp == int(NOW) + 600


@pytest.mark.parametrize(("header", "says"), [
    (None, "missing credentials"), ("", "missing credentials"), ("Digest abc", "unsupported"),
    ("Basic !!!", "malformed"), ("Basic " + base64.b64encode(b"no-colon").decode(), "':'"),
    ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "malformed"), ("Bearer nope", "malformed"),
    ("Basic \u00e9\u00e9", "malformed"),
])
def test_a_login_header_of_the_wrong_form_is_a_401(aws, header, says):
    refused(clearml_keys.login, header, NOW, says=says)


# --- tokens -------------------------------------------------------------------------------------

def test_a_token_holds_what_the_clearml_client_reads(pair):
    header, claims, _ = parts(clearml_keys.login_basic(*pair, NOW))
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims == {
        "exp": int(NOW) + 86400, "iat": int(NOW), "api_version": "2.31", "server_version": clearml_keys.SERVER_VERSION,
        "feature_set": "basic", "env": "server", "identity": {"company": "7", "user": pair[0], "role": "user"},
        "account_id": 7, "access_key": pair[0],
    }


def test_a_token_is_signed_with_a_key_derived_from_the_server_secret(pair):
    token = clearml_keys.login_basic(*pair, NOW)
    signed, _, signature = token.rpartition(".")
    key = hmac.new(server_keys.current().key_secret, b"clearml-jwt", "sha256").digest()
    assert signature == b64(hmac.new(key, signed.encode(), "sha256").digest())


def forged(token: str, header: dict | None = None, claims: dict | None = None, signature: str | None = None) -> str:
    old_header, old_claims, old_signature = parts(token)
    return ".".join((b64(header if header is not None else old_header), b64({**old_claims, **(claims or {})}),
                     old_signature if signature is None else signature))


def test_verifying_compares_signatures_in_constant_time(pair, compared):
    token = clearml_keys.login_basic(*pair, NOW)
    compared.clear()
    clearml_keys.verify(token, NOW)
    assert any(a == token.rsplit(".", 1)[1] for a, _ in compared)


@pytest.mark.parametrize(("change", "says"), [
    ("another account in the payload", "bad token signature"),
    ("a later expiry in the payload", "bad token signature"),
    ("another signing key", "bad token signature"),
    ("alg none, no signature", "algorithm"),
    ("alg none, its signature kept", "algorithm"),
    ("alg HS512", "algorithm"),
    ("alg RS256", "algorithm"),
    ("no alg", "algorithm"),
    ("an extra header field", "header"),
    ("expired", "expired"),
    ("expired this very second", "expired"),
])
def test_a_token_we_did_not_sign_as_it_is_or_that_expired_is_a_401(pair, change, says):
    token = clearml_keys.login_basic(*pair, NOW)
    now = NOW
    if change == "another account in the payload":
        token = forged(token, claims={"account_id": 8, "identity": {"company": "8"}})
    elif change == "a later expiry in the payload":
        token = forged(token, claims={"exp": int(NOW) + 10 * 86400})
    elif change == "another signing key":
        signed = token.rpartition(".")[0]
        token = f"{signed}.{b64(hmac.new(b'not-our-key', signed.encode(), 'sha256').digest())}"
    elif change == "alg none, no signature":
        token = forged(token, header={"alg": "none", "typ": "JWT"}, signature="")
    elif change == "alg none, its signature kept":
        token = forged(token, header={"alg": "none", "typ": "JWT"})
    elif change.startswith("alg "):
        token = forged(token, header={"alg": change[4:], "typ": "JWT"})
    elif change == "no alg":
        token = forged(token, header={"typ": "JWT"})
    elif change == "an extra header field":
        token = forged(token, header={"alg": "HS256", "typ": "JWT", "kid": "x"})
    elif change == "expired":
        now = NOW + 86400 + 1
    else:
        now = NOW + 86400
    refused(clearml_keys.verify, token, now, says=says)


@pytest.mark.parametrize(("token", "says"), [
    (None, "missing"), ("", "missing"), (5, "malformed"), (["a.b.c"], "malformed"), ("x" * 5000, "malformed"),
    ("abc", "malformed"), ("a.b", "malformed"), ("a.b.c.d", "malformed"), ("a..c", "malformed"),
    ("a b.c.d", "malformed"), (f"{b64(b'not json')}.{b64({})}.sig", "malformed"),
    (f"{b64([1, 2])}.{b64({})}.sig", "malformed"), ("e30=.e30=.sig", "malformed"),
    ("\u00e9.\u00e9.\u00e9", "malformed"),
])
def test_garbage_is_a_401_naming_the_problem(aws, token, says):
    refused(clearml_keys.verify, token, NOW, says=says)


def test_a_signed_payload_that_is_not_ours_is_malformed_not_a_500(aws):
    signed = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64({'exp': 'soon'})}"
    token = f"{signed}.{clearml_keys._signature(signed)}"
    refused(clearml_keys.verify, token, NOW, says="malformed")


def test_verifying_reads_nothing_but_the_server_secret(pair, dynamodb_calls):
    token = clearml_keys.login_basic(*pair, NOW)
    dynamodb_calls.clear()
    clearml_keys.verify(token, NOW)
    assert sum(dynamodb_calls.values()) == 0


def test_refreshing_a_valid_token_gives_a_fresh_one(pair, dynamodb_calls):
    token = clearml_keys.login_basic(*pair, NOW)
    dynamodb_calls.clear()
    fresh = clearml_keys.refresh(token, NOW + 3600)
    assert dict(dynamodb_calls) == {"GetItem": 1}
    assert clearml_keys.verify(fresh, NOW + 3600).exp == int(NOW) + 3600 + 86400


def test_a_revoked_or_expired_token_is_not_refreshed(pair):
    token = clearml_keys.login_basic(*pair, NOW)
    refused(clearml_keys.refresh, token, NOW + 86400, says="expired")
    clearml_keys.revoke(7, pair[0])
    refused(clearml_keys.refresh, token, NOW, says="credential revoked")


def test_authenticate_checks_the_credential_still_exists(pair, dynamodb_calls):
    token = clearml_keys.login_basic(*pair, NOW)
    dynamodb_calls.clear()
    assert clearml_keys.authenticate(token, NOW).account_id == 7
    assert dict(dynamodb_calls) == {"GetItem": 1}
    clearml_keys.revoke(7, pair[0])
    refused(clearml_keys.authenticate, token, NOW, says="credential revoked")


def test_a_credential_found_current_is_trusted_for_the_recheck_interval(pair, dynamodb_calls, monkeypatch):
    monkeypatch.setenv("CLEARML_CREDENTIAL_RECHECK_S", "30")
    token = clearml_keys.login_basic(*pair, NOW)
    clearml_keys.authenticate(token, NOW)
    dynamodb_calls.clear()
    clearml_keys.authenticate(token, NOW + 29)
    assert sum(dynamodb_calls.values()) == 0
    clearml_keys.authenticate(token, NOW + 30)
    assert dict(dynamodb_calls) == {"GetItem": 1}


def test_a_pair_revoked_by_another_process_stops_working_within_the_recheck_interval(pair, monkeypatch):
    monkeypatch.setenv("CLEARML_CREDENTIAL_RECHECK_S", "30")
    token = clearml_keys.login_basic(*pair, NOW)
    clearml_keys.authenticate(token, NOW)
    ApiKey(hash_secret(pair[0])).delete()  # what revoke() does, seen from a process that did not run it
    ClearmlCredential("7#credentials", pair[0]).delete()
    assert clearml_keys.authenticate(token, NOW + 10).account_id == 7
    refused(clearml_keys.authenticate, token, NOW + 30, says="credential revoked")
    refused(clearml_keys.authenticate, token, NOW + 31, says="credential revoked")  # not trusted again


def test_revoking_in_this_process_stops_its_tokens_at_once(pair, monkeypatch):
    monkeypatch.setenv("CLEARML_CREDENTIAL_RECHECK_S", "3600")
    token = clearml_keys.login_basic(*pair, NOW)
    clearml_keys.authenticate(token, NOW)
    clearml_keys.revoke(7, pair[0])
    refused(clearml_keys.authenticate, token, NOW + 1, says="credential revoked")


def test_a_recheck_interval_of_zero_reads_the_credential_on_every_call(pair, dynamodb_calls, monkeypatch):
    monkeypatch.setenv("CLEARML_CREDENTIAL_RECHECK_S", "0")
    token = clearml_keys.login_basic(*pair, NOW)
    dynamodb_calls.clear()
    for _ in range(3):
        clearml_keys.authenticate(token, NOW)
    assert dict(dynamodb_calls) == {"GetItem": 3}


def test_is_current_wants_the_same_clearml_credential_of_the_same_account(pair):
    claims = clearml_keys.verify(clearml_keys.login_basic(*pair, NOW), NOW)
    row = clearml_keys.credential_row(claims)
    assert row.key_hash == hash_secret(pair[0])
    assert clearml_keys.is_current(ApiKey.get(row.key_hash), claims)
    assert not clearml_keys.is_current(None, claims)
    other = clearml_keys.TokenClaims(8, pair[0], claims.exp)
    assert not clearml_keys.is_current(ApiKey.get(row.key_hash), other)
    account_key = ApiKey(hash_secret(pair[0]), kind="account", account_id=7, created_at=1)
    assert not clearml_keys.is_current(account_key, claims)
    assert not clearml_keys.is_current(ApiKey(hash_secret("other"), kind="clearml", account_id=7, created_at=1), claims)
