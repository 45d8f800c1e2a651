"""The admin surface's own specs run against its world (tests/surfaces/admin/routes.py)."""
from __future__ import annotations

import pytest

from tests.surfaces.admin.routes import SURFACE


@pytest.fixture
def surface():
    return SURFACE
