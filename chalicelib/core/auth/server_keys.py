"""The server's own secrets: the RSA key that signs routes and the secret endpoint keys derive from.

Created once per deployment (a conditional put, so racing Lambdas agree on one pair),
stored in the META table, cached per process. The private key never leaves the server.
"""
from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from functools import cached_property

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pynamodb.exceptions import PutError

from chalicelib.core.store import ServerKeys, bind

_ITEM = "server-keys"
_cache: dict[str, Keys] = {}


@dataclass(frozen=True)
class Keys:
    private_pem: str
    key_secret: bytes

    @cached_property
    def _private(self) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    @cached_property
    def public_pem(self) -> str:
        return self._private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign_url(self, url: str) -> str:
        """The signature workers verify: RSA PKCS#1 v1.5 / SHA-256 over the JSON of {"url": url}."""
        message = json.dumps({"url": url}, indent=4, sort_keys=True).encode()
        return base64.b64encode(self._private.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def current() -> Keys:
    """The deployment's keys, creating them on first use."""
    bind()
    table = ServerKeys.Meta.table_name
    if table not in _cache:
        _cache[table] = _load_or_create()
    return _cache[table]


def generate() -> ServerKeys:
    """A new item: a 2048-bit RSA key and a 256-bit secret."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return ServerKeys(_ITEM, private_pem=pem, key_secret=base64.b64encode(secrets.token_bytes(32)).decode())


def _load_or_create() -> Keys:
    try:
        item = ServerKeys.get(_ITEM, consistent_read=True)
    except ServerKeys.DoesNotExist:
        item = generate()
        try:
            item.save(condition=ServerKeys.name.does_not_exist())
        except PutError:  # another process created them first: use theirs
            item = ServerKeys.get(_ITEM, consistent_read=True)
    return Keys(item.private_pem, base64.b64decode(item.key_secret))
