"""Checking that a request was routed by the control plane.

`/route/` signs `{"url": <worker url>}` with the control plane's RSA key; the client
forwards that signature in `auth_data`. A worker fetches the public key once, from
`/pubkey/`, and accepts only requests whose signature verifies.
"""
from __future__ import annotations

import base64
import binascii
import json
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def fetch_public_key(autoscaler_address: str, timeout_s: float = 10.0) -> rsa.RSAPublicKey:
    url = autoscaler_address.split(",")[0].rstrip("/") + "/pubkey/"
    with urllib.request.urlopen(url, timeout=timeout_s) as reply:
        key = serialization.load_pem_public_key(reply.read())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the control plane's /pubkey/ is not an RSA key")
    return key


def is_routed(auth_data: dict, public_key: rsa.RSAPublicKey) -> bool:
    """True if `auth_data` carries a valid signature of its `url`."""
    try:
        message = json.dumps({"url": auth_data["url"]}, indent=4, sort_keys=True).encode()
        public_key.verify(base64.b64decode(auth_data["signature"]), message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (KeyError, TypeError, ValueError, binascii.Error, InvalidSignature):
        return False
