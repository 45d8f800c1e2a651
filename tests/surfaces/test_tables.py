"""The specs' envelopes and route tables stay the app's own: every surface the app has is in
tests/surfaces/registry.py, with an envelope that reads its errors and a row for every route
it serves, so a new surface or route cannot go untested by the generic specs."""
from __future__ import annotations

import re

import pytest

from app import app
from chalicelib.core.errors import ApiError
from chalicelib.surfaces import owners
from chalicelib.surfaces.clearml import routes as clearml_routes
from tests.support.envelopes import ENVELOPES, PLAIN, Error
from tests.surfaces.registry import SURFACES

APP_SURFACES = {module.__name__.split(".")[-2]: module for module in owners.ENVELOPES}
ERROR = ApiError(418, "teapot", "short and stout")


def test_every_surface_of_the_app_has_a_table_and_an_envelope():
    assert set(APP_SURFACES) == {surface.name for surface in SURFACES} == set(ENVELOPES)
    for surface in SURFACES:
        assert surface.envelope is ENVELOPES[surface.name], surface


@pytest.mark.parametrize("name", APP_SURFACES)
def test_each_envelope_reads_the_errors_of_its_surface(name):
    body = APP_SURFACES[name].error_body(ERROR)
    code = "teapot" if ENVELOPES[name].carries_codes else None  # ClearML's are numeric subcodes
    assert ENVELOPES[name].read(ERROR.status, body) == Error(code, "short and stout")


def test_the_plain_envelope_reads_the_errors_of_a_path_nobody_owns():
    assert PLAIN.read(ERROR.status, owners.plain_error_body(ERROR)) == Error(None, "short and stout")


@pytest.mark.parametrize("name", APP_SURFACES)
def test_no_envelope_reads_another_shape(name):
    for body in ({"message": "x"}, {"success": False, "error": "teapot"}, {"success": True, "error": "t", "msg": "x"},
                 {**APP_SURFACES[name].error_body(ERROR), "extra": 1}, None, []):
        with pytest.raises(AssertionError):
            ENVELOPES[name].read(ERROR.status, body)
    with pytest.raises(AssertionError):
        PLAIN.read(ERROR.status, APP_SURFACES[name].error_body(ERROR))


def served(name: str) -> set[tuple[str, str]]:
    """(method, path template) of every route the app serves on the surface `name`."""
    module = APP_SURFACES[name]
    return {(method, re.sub(r"\{[^}]*\}", "{}", path)) for path, methods in app.routes.items()
            if "{proxy+}" not in path and owners.error_body_for(path) is module.error_body for method in methods}


def through_the_catch_all(path: str) -> bool:
    """A ClearML versioned call (`/v2.31/serving.<action>`): answered by `clearml.routes.dispatch`."""
    matched = clearml_routes.VERSIONED.match(path)
    return bool(matched and matched.group(3) in clearml_routes.ACTIONS)


@pytest.mark.parametrize("surface", SURFACES, ids=str)
def test_each_table_has_a_row_for_every_route_its_surface_serves_and_no_other(surface):
    rows = [(method, route.template) for route in surface.routes for method in route.methods]
    assert {row for row in rows if not through_the_catch_all(row[1])} == served(surface.name)
    assert len({route.name for route in surface.routes}) == len(surface.routes)
