"""The Vast surface's own specs run against its worlds (tests/surfaces/vast/routes.py)."""
from __future__ import annotations

import pytest

from tests.surfaces.vast.routes import SURFACE


@pytest.fixture
def surface():
    return SURFACE


@pytest.fixture
def fleet(world):
    """The Vast world: an endpoint "demo", a worker group, a ready worker."""
    return world


@pytest.fixture
def endpoint(api):
    """An endpoint "llm" of the test account (a spec file may define its own)."""
    return api.endpoint("llm")


@pytest.fixture
def group(api, endpoint):
    """A worker group of `endpoint`."""
    return api.group(endpoint)
