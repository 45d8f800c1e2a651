"""Every surface the generic specs run over, and the rows they take from its table.

A new surface: its envelope in tests/support/envelopes.py (if it has a new one), its table and
worlds in tests/surfaces/<name>/routes.py, and its SURFACE here.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from tests.support.surfaces import Route, Surface
from tests.surfaces.admin import routes as admin
from tests.surfaces.clearml import routes as clearml
from tests.surfaces.mlbench import routes as mlbench
from tests.surfaces.vast import routes as vast

SURFACES: tuple[Surface, ...] = (vast.SURFACE, admin.SURFACE, clearml.SURFACE, mlbench.SURFACE)


def routes(where: Callable[[Route], bool] = lambda route: True) -> list:
    """(surface, route) of every route `where` holds for, as pytest params."""
    return [pytest.param(surface, route, id=f"{surface}: {route.name}")
            for surface in SURFACES for route in surface.routes if where(route)]


def expand(rows: list, values_of: Callable[[Surface, Route], Iterable[tuple[str, tuple]]]) -> list:
    """Every row (surface, route, ...) once for each (label, values) `values_of(surface, route)`
    gives, the values after the row's own."""
    return [pytest.param(*row.values, *values, id=f"{row.id} - {label}")
            for row in rows for label, values in values_of(*row.values[:2])]


def each(rows: list, named: dict) -> list:
    """Every row with each of the `named` values."""
    return expand(rows, lambda surface, route: ((name, (value,)) for name, value in named.items()))
