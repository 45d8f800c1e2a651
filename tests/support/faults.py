"""Transient DynamoDB failures on demand: throttling, a server error, a dropped connection.

Consulted in place of moto (tests/conftest.py), it answers a share of the DynamoDB
requests the way DynamoDB answers when it refuses one: nothing applied, so botocore's own
retries and the app's handling are what is tested.
"""
from __future__ import annotations

import json
import random
import threading
from collections import Counter

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


class Faults:
    """While `rate` > 0, that share of DynamoDB requests fails transiently (seeded, so runs repeat)."""

    KINDS = ("throttled", "server error", "connection closed")

    def __init__(self) -> None:
        self.rate = 0.0
        self.random = random.Random(0)
        self.injected: Counter = Counter()
        self._lock = threading.Lock()

    def start(self, rate: float, seed: int = 0) -> None:
        self.random.seed(seed)
        self.injected.clear()
        self.rate = rate

    def stop(self) -> None:
        self.rate = 0.0

    def __call__(self, request):
        if not self.rate:
            return None
        with self._lock:
            if self.random.random() >= self.rate:
                return None
            kind = self.random.choice(self.KINDS)
            self.injected[kind] += 1
        if kind == "connection closed":
            raise ConnectionClosedError(endpoint_url=request.url)
        status, code = (400, "ThrottlingException") if kind == "throttled" else (500, "InternalServerError")
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": kind}).encode()
        return AWSResponse(request.url, status, {"x-amzn-ErrorType": code}, _Raw(body))


FAULTS = Faults()
