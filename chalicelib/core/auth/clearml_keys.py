"""ClearML credentials: an account's (access key, secret key) pairs and the JWTs `auth.login` answers.

A pair is two rows written in one transaction: the access key's `ApiKey` (kind "clearml", found by
the access key's hash, holding the secret's hash: what a login reads, one GetItem) and a
`ClearmlCredential` listing row under the account (what its owner lists, one Query). The secret is
returned once by `create_pair` and stored only as its SHA-256.

Tokens are compact JWTs (HS256) with the claims the real `clearml` client decodes (`exp`,
`api_version`, `server_version`, `feature_set`, `identity`), signed with a key derived from the
server secret (server_keys), so they are kept like the RSA routing key. `verify` checks a token
with no I/O beyond that secret; `is_current` says whether its credential still exists (the
revocation check, for a caller that reads the row itself), `authenticate` does both, reading the
row at most once per `settings.clearml_recheck_s()` per process (as API Gateway caches an
authorizer's answer): a pair revoked here stops working at once, elsewhere within that long.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import string
import time
from dataclasses import dataclass

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core import settings
from chalicelib.core.auth import server_keys
from chalicelib.core.auth.credentials import hash_secret, matches
from chalicelib.core.errors import bad_request, conflict, not_found, unauthorized
from chalicelib.core.store import ApiKey, ClearmlCredential, complete, condition_failed, connection
from chalicelib.core.store.serving import credentials_pk

KIND = "clearml"
API_VERSION = "2.31"
SERVER_VERSION = "1.0.0"
TOKEN_LIFETIME_S = 24 * 3600

ACCESS_KEY_LENGTH = 30  # generated: uppercase letters and digits, like ClearML's own
SECRET_KEY_BYTES = 36  # generated: 48 url-safe characters
# A given (pinned) pair: no ':' in the access key (HTTP Basic splits at the first one), no spaces.
_ACCESS_KEY = re.compile(r"[A-Za-z0-9_-]{16,128}")
_SECRET_KEY = re.compile(r"[\x21-\x7e]{32,256}")

_HEADER = {"alg": "HS256", "typ": "JWT"}
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_MAX_TOKEN = 4096
_NO_SUCH_SECRET = hash_secret("")  # compared against when the access key is unknown, in the same time
_CHECKS_KEPT = 4096
_checked: dict[tuple[str, int, str], float] = {}  # (keys table, account, access key) -> when found current


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says: whose credential it was issued to, and until when."""

    account_id: int
    access_key: str
    exp: int


# --- pairs ------------------------------------------------------------------------------------

def create_pair(account_id: int, access_key: str | None = None,
                secret_key: str | None = None) -> tuple[str, str]:
    """A new pair for the account, or exactly the given one (local runs pin it): (access key,
    secret key). The secret is shown to the caller once and stored only as a hash. 409 if the
    access key is taken."""
    if (access_key is None) != (secret_key is None):
        raise bad_request("give both 'access_key' and 'secret_key', or neither")
    if access_key is None or secret_key is None:
        access_key = "".join(secrets.choice(string.ascii_uppercase + string.digits)
                             for _ in range(ACCESS_KEY_LENGTH))
        secret_key = secrets.token_urlsafe(SECRET_KEY_BYTES)
    else:
        if not isinstance(access_key, str) or not _ACCESS_KEY.fullmatch(access_key):
            raise bad_request("'access_key' must be 16 to 128 letters, digits, '_' or '-'")
        if not isinstance(secret_key, str) or not _SECRET_KEY.fullmatch(secret_key):
            raise bad_request("'secret_key' must be 32 to 256 printable ASCII characters, no spaces")
    now, secret_hash = int(time.time()), hash_secret(secret_key)
    key = ApiKey(hash_secret(access_key), kind=KIND, account_id=account_id, created_at=now, secret_hash=secret_hash)
    listed = ClearmlCredential(credentials_pk(account_id), access_key, secret_hash=secret_hash, created_at=now)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(key, condition=ApiKey.key_hash.does_not_exist())
            tx.save(listed)
    except TransactWriteError as error:
        if condition_failed(error):
            raise conflict("that access key is already in use") from None
        raise
    return access_key, secret_key


def list_pairs(account_id: int) -> list[ClearmlCredential]:
    """The account's pairs (one Query), by access key."""
    return complete(ClearmlCredential.query(credentials_pk(account_id), consistent_read=True))


def revoke(account_id: int, access_key: str) -> None:
    """Delete one of the account's pairs (one transaction); 404 if the account has no such pair.
    Its tokens stop working at once (`is_current`)."""
    if not isinstance(access_key, str) or not 0 < len(access_key) <= 512:
        raise not_found("access key")
    shown = access_key if len(access_key) <= 128 else access_key[:128] + "..."
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.delete(ClearmlCredential(credentials_pk(account_id), access_key),
                      condition=ClearmlCredential.pk.exists())
            tx.delete(ApiKey(hash_secret(access_key)),
                      condition=(ApiKey.kind == KIND) & (ApiKey.account_id == account_id))
    except TransactWriteError as error:
        if condition_failed(error):
            raise not_found(f"access key '{shown}'") from None
        raise
    finally:
        _checked.pop(_check_key(account_id, access_key), None)


# --- logging in -------------------------------------------------------------------------------

def login(authorization: object, now: float, lifetime_s: int | None = None) -> str:
    """A token for an `auth.login` call's `Authorization` header: HTTP Basic access:secret, or a
    valid Bearer token (refreshed), valid `lifetime_s` (at most TOKEN_LIFETIME_S, the default);
    401 otherwise."""
    if not isinstance(authorization, str) or not authorization.strip():
        raise unauthorized("missing credentials: log in with HTTP Basic access_key:secret_key or a Bearer token")
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return refresh(value.strip(), now, lifetime_s)
    if scheme.lower() != "basic":
        raise unauthorized("unsupported authorization scheme: use HTTP Basic access_key:secret_key or Bearer")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
        raise unauthorized("malformed HTTP Basic credentials") from None
    access_key, colon, secret_key = decoded.partition(":")
    if not colon:
        raise unauthorized("malformed HTTP Basic credentials: no ':' between access key and secret key")
    return login_basic(access_key, secret_key, now, lifetime_s)


def login_basic(access_key: object, secret_key: object, now: float, lifetime_s: int | None = None) -> str:
    """A fresh token for a right (access key, secret key) pair (one GetItem); 401 for anything wrong."""
    wrong = unauthorized("invalid access key or secret key")
    if not (isinstance(access_key, str) and isinstance(secret_key, str)):
        raise wrong
    if not (0 < len(access_key) <= 512 and 0 < len(secret_key) <= 512):
        raise wrong
    try:
        row = ApiKey.get(hash_secret(access_key), consistent_read=True)
    except ApiKey.DoesNotExist:
        row = None
    stored = row.secret_hash if row is not None and row.kind == KIND else None
    if not matches(secret_key, stored or _NO_SUCH_SECRET) or not stored or row is None:
        raise wrong  # an unknown access key costs the same compare as a wrong secret
    return issue(int(row.account_id), access_key, now, lifetime_s)


def refresh(token: object, now: float, lifetime_s: int | None = None) -> str:
    """A fresh token for a valid token whose credential still exists (one GetItem)."""
    claims = authenticate(token, now)
    return issue(claims.account_id, claims.access_key, now, lifetime_s)


# --- tokens -----------------------------------------------------------------------------------

def issue(account_id: int, access_key: str, now: float, lifetime_s: int | None = None) -> str:
    """A signed token for the credential, valid `lifetime_s` from `now` (at most, and by default,
    TOKEN_LIFETIME_S)."""
    iat = int(now)
    claims = {
        "exp": iat + min(lifetime_s or TOKEN_LIFETIME_S, TOKEN_LIFETIME_S), "iat": iat,
        "api_version": API_VERSION, "server_version": SERVER_VERSION,
        "feature_set": "basic", "env": "server",
        "identity": {"company": str(account_id), "user": access_key, "role": "user"},
        "account_id": int(account_id), "access_key": access_key,
    }
    signed = f"{_encode(_HEADER)}.{_encode(claims)}"
    return f"{signed}.{_signature(signed)}"


def verify(token: object, now: float) -> TokenClaims:
    """The claims of a well-formed HS256 token we signed that has not expired; 401 naming what is
    wrong otherwise (missing, malformed, its algorithm, a bad signature, expired). No I/O but the
    server secret."""
    if token is None or token == "":
        raise unauthorized("missing token")
    if not isinstance(token, str) or len(token) > _MAX_TOKEN:
        raise unauthorized("malformed token")
    parts = token.split(".")
    if len(parts) != 3 or not all(_SEGMENT.fullmatch(part) for part in parts[:2]):
        raise unauthorized("malformed token: not a compact JWT")
    header = _decode(parts[0])
    if not isinstance(header, dict):
        raise unauthorized("malformed token: its header is not a JSON object")
    if header.get("alg") != "HS256":
        raise unauthorized("unsupported token algorithm: only HS256 tokens signed by this server are accepted")
    if header != _HEADER:
        raise unauthorized("malformed token: unexpected header")
    if not _SEGMENT.fullmatch(parts[2]):
        raise unauthorized("malformed token: no signature")
    if not hmac.compare_digest(parts[2], _signature(f"{parts[0]}.{parts[1]}")):
        raise unauthorized("bad token signature")
    claims = _decode(parts[1])
    if not isinstance(claims, dict):
        raise unauthorized("malformed token: its payload is not a JSON object")
    exp, account_id, access_key = claims.get("exp"), claims.get("account_id"), claims.get("access_key")
    if not (_is_int(exp) and _is_int(account_id) and isinstance(access_key, str) and access_key):
        raise unauthorized("malformed token: it lacks exp, account_id or access_key")
    if now >= exp:
        raise unauthorized("token expired")
    return TokenClaims(account_id, access_key, exp)


def credential_row(claims: TokenClaims) -> ApiKey:
    """The `ApiKey` of the token's credential, keyed (by `key_hash`) for a GetItem or a TransactGet."""
    return ApiKey(hash_secret(claims.access_key))


def is_current(row: ApiKey | None, claims: TokenClaims) -> bool:
    """Whether the credential a token was issued to still exists (the row as read by the caller:
    None when it is gone), so the token was not revoked."""
    return (row is not None and row.kind == KIND and int(row.account_id) == claims.account_id
            and hmac.compare_digest(row.key_hash, hash_secret(claims.access_key)))


def authenticate(token: object, now: float) -> TokenClaims:
    """The claims of a valid token whose credential was not revoked; 401 otherwise. The credential's
    row is read (one GetItem) unless this process found it current less than
    `settings.clearml_recheck_s()` ago."""
    claims = verify(token, now)
    key = _check_key(claims.account_id, claims.access_key)
    checked = _checked.get(key)
    if checked is not None and 0 <= now - checked < settings.clearml_recheck_s():
        return claims
    _checked.pop(key, None)
    try:
        row = ApiKey.get(credential_row(claims).key_hash, consistent_read=True)
    except ApiKey.DoesNotExist:
        row = None
    if not is_current(row, claims):
        raise unauthorized("credential revoked")
    if len(_checked) >= _CHECKS_KEPT:
        _checked.clear()
    _checked[key] = now
    return claims


def _check_key(account_id: int, access_key: str) -> tuple[str, int, str]:
    return settings.table_name(ApiKey.Meta.table_kind), int(account_id), access_key


def _jwt_key() -> bytes:
    return hmac.new(server_keys.current().key_secret, b"clearml-jwt", hashlib.sha256).digest()


def _signature(signed: str) -> str:
    return _b64(hmac.new(_jwt_key(), signed.encode(), hashlib.sha256).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _encode(value: dict) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _decode(segment: str) -> object:
    """The JSON a base64url segment holds; 401 if it holds none."""
    try:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise unauthorized("malformed token: a part is not base64url JSON") from None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
