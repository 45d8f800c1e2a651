"""The worlds of the surface a spec runs against: `surface` is a parameter of the generic specs
(tests/surfaces/registry.py), a fixture of each surface's own folder."""
from __future__ import annotations

import pytest

from chalicelib.core.auth.credentials import hash_secret
from tests.support.surfaces import World
from tests.surfaces.admin.routes import ADMIN_TOKEN


@pytest.fixture
def world(surface, request) -> World:
    """A caller with one of everything (the bad-input specs)."""
    return surface.world(request)


@pytest.fixture
def mine(surface, request) -> World:
    """The caller of the isolation specs."""
    return surface.mine(request)


@pytest.fixture
def theirs(surface, request, mine) -> World:
    """Another tenant, made after `mine`."""
    return surface.theirs(request)


@pytest.fixture
def admin_on(monkeypatch):
    """The admin API on: the stage's ADMIN_TOKEN_HASH is that of ADMIN_TOKEN."""
    monkeypatch.setenv("ADMIN_TOKEN_HASH", hash_secret(ADMIN_TOKEN))
