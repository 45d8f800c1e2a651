"""Shared fixtures: an in-process DynamoDB (moto), the tables, the app, an account."""
from __future__ import annotations

import collections
import hmac
import json
import os
import threading
import time
from pathlib import Path

import botocore.handlers
import pytest

ROOT = Path(__file__).resolve().parents[1]
_LOCAL_STAGE = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["local"]

# Fake credentials before anything creates a boto session: nothing here reaches AWS.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "GpuControlPlaneTests",
})
os.environ.pop("DYNAMODB_ENDPOINT", None)
os.environ.update(_LOCAL_STAGE["environment_variables"])

# Every DynamoDB API call is counted, whichever client makes it (botocore event hook,
# installed before any session exists so every client inherits it).
DYNAMODB_CALLS: collections.Counter = collections.Counter()


DYNAMODB_REQUESTS: list[tuple[str, dict]] | None = None  # (operation, parameters), while a test records


def _count_call(model, **_):
    DYNAMODB_CALLS[model.name] += 1


def _record_request(model, params, **_):
    if DYNAMODB_REQUESTS is not None:
        DYNAMODB_REQUESTS.append((model.name, params))


botocore.handlers.BUILTIN_HANDLERS.append(("before-call.dynamodb", _count_call))
botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build.dynamodb", _record_request))

from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.core.botocore_stubber import BotocoreStubber  # noqa: E402

from tests.support.faults import FAULTS  # noqa: E402

# DynamoDB applies each request atomically (a condition is checked and the write made as one);
# moto's in-process backend does not lock, so concurrent tests would see it lose updates that
# DynamoDB never loses. One request at a time makes the stand-in behave as the real thing.
_MOTO_LOCK = threading.RLock()
_moto_call = BotocoreStubber.__call__


def _one_request_at_a_time(self, event_name, request, **kwargs):
    if "dynamodb" in request.url and (refused := FAULTS(request)) is not None:
        return refused  # a transient failure (the `faults` fixture): the database never saw it
    with _MOTO_LOCK:
        return _moto_call(self, event_name, request, **kwargs)


BotocoreStubber.__call__ = _one_request_at_a_time

from app import app  # noqa: E402
from chalicelib.core import store  # noqa: E402
from chalicelib.core.auth import clearml_keys, server_keys  # noqa: E402
from chalicelib.core.auth.accounts import create_account  # noqa: E402
from devstack.api_server import Gateway  # noqa: E402


@pytest.fixture(scope="session")
def server_keys_item():
    """One RSA key pair for the whole run: generating one per test would dominate its time."""
    return server_keys.generate()


@pytest.fixture
def aws(server_keys_item):
    """A fresh in-process DynamoDB with every table created.

    Connections are kept across tests (moto intercepts every client made after it was
    imported); making new ones would reload botocore's service models each time.
    """
    with mock_aws():
        server_keys._cache.clear()
        clearml_keys._checked.clear()
        store.create_tables()
        server_keys_item.save()
        yield


@pytest.fixture
def client(aws):
    """Chalice's test client, through the gateway `make run` serves: `/{proxy+}` matches paths of
    any depth (as on API Gateway, where `/v2.31/serving.<action>` reaches the app)."""
    with Client(app, stage_name="local") as test_client:
        test_client.http._local_gateway = Gateway(app, test_client.http._config)
        yield test_client


@pytest.fixture
def dynamodb_calls():
    """The DynamoDB calls made since the fixture (or its last `.clear()`), by operation."""
    DYNAMODB_CALLS.clear()
    return DYNAMODB_CALLS


@pytest.fixture
def dynamodb_requests():
    """The DynamoDB requests issued during the test, with their parameters: to assert on the
    operations themselves (an ADD, a condition), which moto's own locking cannot show."""
    global DYNAMODB_REQUESTS
    DYNAMODB_REQUESTS = []
    yield DYNAMODB_REQUESTS
    DYNAMODB_REQUESTS = None


def updates_of(requests: list[tuple[str, dict]]) -> list[dict]:
    """Every single-item update issued, whether alone or inside a transaction."""
    found = [params for operation, params in requests if operation == "UpdateItem"]
    for operation, params in requests:
        if operation == "TransactWriteItems":
            found += [item["Update"] for item in params["TransactItems"] if "Update" in item]
    return found


class Api:
    """A small client for specs: JSON in and out, with the account key by default."""

    content_type = "application/json"  # what every request says its body is

    def __init__(self, client, key: str, account_id: int = 0):
        self.client, self.key, self.account_id = client, key, account_id

    def saying(self, content_type: str) -> Api:
        """The same client, its requests saying their body is `content_type`."""
        other = Api(self.client, self.key, self.account_id)
        other.content_type = content_type
        return other

    def call(self, method: str, path: str, body=None, key: str | None = "default", raw: bytes | None = None):
        headers = {"Content-Type": self.content_type}
        key = self.key if key == "default" else key
        if key:
            headers["Authorization"] = f"Bearer {key}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=headers, body=payload)
        return response.status_code, (response.json_body if response.body else None)

    def ok(self, method: str, path: str, body=None, **kwargs):
        status, reply = self.call(method, path, body, **kwargs)
        assert status == 200, (status, reply)
        return reply

    def endpoint(self, name: str = "demo", **knobs) -> dict:
        ident = self.ok("POST", "/api/v0/endptjobs/", {"endpoint_name": name, **knobs})["result"]
        return self.ok("GET", f"/api/v0/endptjobs/{ident}/")["result"]

    def group(self, endpoint: dict, **knobs) -> dict:
        ident = self.ok("POST", "/api/v0/autojobs/", {"endpoint_id": endpoint["id"], **knobs})["id"]
        return self.ok("GET", f"/api/v0/autojobs/{ident}/")["result"]

    def worker(self, group: dict, **body) -> dict:
        return self.ok("POST", f"/api/v0/autojobs/{group['id']}/workers/", body)

    def report(self, worker: dict, **fields):
        body = {"id": worker["id"], "mtoken": worker["mtoken"], **fields}
        return self.call("POST", "/worker_status/", body, key=None)

    def ready_worker(self, group: dict, url: str = "http://10.0.0.1:5000", max_perf: float = 10.0) -> dict:
        worker = self.worker(group)
        status, _ = self.report(worker, loadtime=3.0, max_perf=max_perf, url=url)
        assert status == 200
        return worker


@pytest.fixture
def api(client):
    account_id, key = create_account("tester")
    return Api(client, key, account_id)


@pytest.fixture
def other_api(client):
    account_id, key = create_account("someone else")
    return Api(client, key, account_id)


@pytest.fixture
def compared(monkeypatch) -> list[tuple]:
    """Every hmac.compare_digest call during the test, as (a, b)."""
    calls, real = [], hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls


@pytest.fixture
def faults():
    """Make a share of DynamoDB requests fail transiently: `faults.start(0.1)`; off after the test."""
    yield FAULTS
    FAULTS.stop()


@pytest.fixture
def fake(aws):
    """The fake Vast API, on loopback (tests/support/fake_vast.py)."""
    from tests.support.fake_vast import FakeVast

    server = FakeVast()
    server.url = server.start()
    yield server
    server.stop()


@pytest.fixture
def now():
    return time.time()


E2E = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list) -> None:
    """Everything under tests/e2e/ runs the stack or a real client as processes: marked `e2e`,
    so `pytest -m "not e2e"` runs the fast specs alone."""
    for item in items:
        if E2E in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)
