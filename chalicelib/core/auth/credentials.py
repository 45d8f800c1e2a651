"""API keys and worker tokens: generated here, stored only as SHA-256 hashes.

Keys are 256-bit random strings, so an unsalted hash is enough to make a stolen table
useless. Lookups go by hash; the final comparison is `hmac.compare_digest`.
Endpoint keys must be listed back to their owner (clients read `api_key` from the
endpoint row), so they are derived from the server secret and a stored nonce instead
of being stored.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from chalicelib.core.auth import server_keys
from chalicelib.core.errors import unauthorized
from chalicelib.core.store import ApiKey, Endpoint
from chalicelib.core.validation import is_text


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def matches(value: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(value), stored_hash)


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def endpoint_key(endpoint_id: int, nonce: str) -> str:
    """The api_key of an endpoint group: HMAC(server secret, id and nonce)."""
    digest = hmac.new(server_keys.current().key_secret, f"endpoint:{endpoint_id}:{nonce}".encode(), "sha256")
    return "ek_" + base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def new_endpoint_key(account_id: int, endpoint_id: int, routing: dict) -> tuple[str, ApiKey]:
    """A fresh key for an endpoint: (nonce to store on the endpoint, its ApiKey row holding `routing`)."""
    nonce = secrets.token_hex(8)
    row = ApiKey(
        hash_secret(endpoint_key(endpoint_id, nonce)),
        kind="endpoint",
        account_id=account_id,
        endpoint_id=endpoint_id,
        created_at=int(time.time()),
        **routing,
    )
    return nonce, row


@dataclass(frozen=True)
class Principal:
    """Who a key speaks for: an account, or one endpoint group of an account."""

    account_id: int
    endpoint_id: int | None = None

    def may_see(self, endpoint_id: int) -> bool:
        return self.endpoint_id is None or self.endpoint_id == endpoint_id


API_KEY_KINDS = ("account", "endpoint")  # the keys the Vast API takes; a ClearML access key is not one


def key_row(api_key: object) -> ApiKey:
    """The stored row of `api_key` (one GetItem), or 401; a missing key is a 401 too, and so is a
    ClearML access key (half of a pair, good only with its secret on auth.login)."""
    if not api_key or not isinstance(api_key, str) or len(api_key) > 512 or not is_text(api_key):
        raise unauthorized()
    digest = hash_secret(api_key)
    try:
        row = ApiKey.get(digest, consistent_read=True)
    except ApiKey.DoesNotExist:
        raise unauthorized() from None
    if not hmac.compare_digest(row.key_hash, digest) or row.kind not in API_KEY_KINDS:
        raise unauthorized()
    return row


def authenticate(api_key: object, *, allow_endpoint_keys: bool) -> Principal:
    """The principal behind `api_key` (one GetItem), or 401."""
    row = key_row(api_key)
    if row.kind == "endpoint":
        if not allow_endpoint_keys:
            raise unauthorized("this call needs an account api key, not an endpoint key")
        return Principal(int(row.account_id), int(row.endpoint_id))
    return Principal(int(row.account_id))


def endpoint_api_key(endpoint: Endpoint) -> str:
    return endpoint_key(int(endpoint.endpoint_id), endpoint.key_nonce)
