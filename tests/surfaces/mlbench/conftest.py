"""The MLBench surface's own specs run against its worlds (tests/surfaces/mlbench/routes.py)."""
from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest

from tests.surfaces.mlbench.routes import SURFACE

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def surface():
    return SURFACE


@pytest.fixture
def bench(world):
    """The MLBench world: a finished run "done" with loss metrics, a started run "busy", a pod's cpu metrics."""
    return world


def form(api, method: str, path: str, fields: dict, basic: bool = False):
    """A form post, as the real client sends one (every field a string), with the key as Bearer
    or as HTTP Basic's password."""
    token = base64.b64encode(f"user:{api.key}".encode()).decode()
    auth = f"Basic {token}" if basic else f"Bearer {api.key}"
    response = getattr(api.client.http, method.lower())(
        path, headers={"Content-Type": FORM, "Authorization": auth}, body=urlencode(fields))
    return response.status_code, (response.json_body if response.body else None)
