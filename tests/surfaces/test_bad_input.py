"""Malformed requests, on every route of every surface: a 4xx in the surface's envelope, never a
500, never a write.

Each case starts from the surface's `world` (one of everything its routes need), sends one bad
request and checks the status, the error in the envelope and that nothing stored or shown changed.
A surface's field-by-field cases are in its own folder (tests/surfaces/vast/test_bad_input.py).
"""
from __future__ import annotations

import pytest

from tests.support.surfaces import Route, shown
from tests.surfaces.registry import SURFACES, each, expand, routes

TAKES_A_BODY = routes(lambda route: route.body is not None)
NEEDS_A_BODY = routes(lambda route: route.body is not None and not route.empty_body)
NEEDS_NO_BODY = routes(lambda route: route.empty_body)
PATH_IDS = expand(routes(), lambda surface, route: ((i.field, (i,)) for i in route.ids if i.at == "path"))
IDS = expand(routes(), lambda surface, route: ((f"{i.field} with {key}", (i, key))
                                               for i in route.ids for key in route.credential.accepts))


# --- the valid requests work, on both spellings of every path -----------------------------

@pytest.mark.parametrize("slash", ["", "/"], ids=["no slash", "slash"])
@pytest.mark.parametrize(("surface", "route"), routes())
def test_every_route_answers_with_and_without_its_trailing_slash(world, surface, route, slash):
    status, reply = world.send(route, slash=slash)
    assert status == route.status, reply
    if route.answers:
        assert reply.items() >= world.fill(route.answers).items(), reply


# --- bodies that are not a JSON object ----------------------------------------------------

NOT_AN_OBJECT = {
    "not JSON": b"endpoint_name=demo",
    "truncated JSON": b'{"endpoint_name": "demo"',
    "not UTF-8": b"\xff\xfe{}",
    "a list": b'[{"endpoint_name": "demo"}]',
    "a string": b'"demo"',
    "a number": b"42",
    "null": b"null",
}


@pytest.mark.parametrize(("surface", "route", "raw"), each(TAKES_A_BODY, NOT_AN_OBJECT))
def test_a_body_that_is_not_a_json_object_is_a_400(world, surface, route, raw):
    world.rejects(route, raw=raw, names="JSON")


@pytest.mark.parametrize(("surface", "route"), NEEDS_A_BODY)
def test_an_empty_body_is_a_400(world, surface, route):
    world.rejects(route, raw=b"", names="JSON object")


@pytest.mark.parametrize(("surface", "route"), NEEDS_NO_BODY)
def test_an_empty_body_is_read_as_an_empty_object_where_a_route_allows_one(world, surface, route):
    empty, braces = world.send(route, raw=b""), world.send(route, raw=b"{}")
    assert empty[0] == braces[0], (empty, braces)  # the answer {} gets: a 200, or the 400 of a missing field
    if empty[0] != 200:
        assert surface.envelope.read(*empty).message == surface.envelope.read(*braces).message


@pytest.mark.parametrize(("surface", "route"), TAKES_A_BODY)
def test_deeply_nested_json_is_a_400_not_a_500(world, surface, route):
    world.rejects(route, raw=b"[" * 100_000 + b"]" * 100_000, names="JSON")


@pytest.mark.parametrize(("surface", "route"), TAKES_A_BODY)
def test_an_integer_too_long_for_python_to_read_is_a_400_that_says_so(world, surface, route):
    world.rejects(route, raw=b'{"x": ' + b"9" * 5000 + b"}", names="5,000 digits")


# --- what the gateway refuses, in the envelope of the surface that owns the path ------------

@pytest.mark.parametrize(("surface", "route"), routes())
def test_an_unsupported_content_type_is_a_415_in_the_surfaces_envelope(world, surface, route):
    world.rejects(route, api=world.api.saying("application/xml"), status=415, code=None, names="application/xml")


METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def paths() -> list:
    """(surface, a route of each of its paths, the methods no route of that path takes)."""
    found = []
    for surface in SURFACES:
        by_path: dict[str, list[Route]] = {}
        for route in surface.routes:
            by_path.setdefault(route.template, []).append(route)
        for same_path in by_path.values():
            taken = {method for route in same_path for method in route.methods}
            found.append(pytest.param(surface, same_path[0], [m for m in METHODS if m not in taken],
                                      id=f"{surface}: {same_path[0].path}"))
    return found


@pytest.mark.parametrize(("surface", "route", "methods"), paths())
def test_a_method_the_path_does_not_take_is_a_405_in_the_surfaces_envelope(world, surface, route, methods):
    before = world.snapshot()
    for method in methods:
        status, reply = world.api.call(method, world.path(route), {}, key=world.key(route))
        surface.envelope.check(status, reply, 405, names=method)
    assert world.snapshot() == before


# --- ids ------------------------------------------------------------------------------------

MALFORMED_IDS = {"abc": "abc", "-1": "-1", "1.5": "1.5", "1e3": "1e3", "0x1": "0x1", "+1": "+1", "9" * 16: "9" * 16,
                 "superscript two": "\u00b2", "fullwidth one": "\uff11"}


@pytest.mark.parametrize(("surface", "route", "ident", "value"), each(PATH_IDS, MALFORMED_IDS))
def test_a_path_id_that_is_not_a_positive_integer_is_a_400_naming_it(world, surface, route, ident, value):
    for path in world.spellings(route, **{ident.ref: value}):
        world.rejects(route, names=f"'{ident.field}'", path=path)


@pytest.mark.parametrize(("surface", "route", "ident", "key"), IDS)
def test_an_unknown_id_is_a_404_naming_it(world, surface, route, ident, key):
    """(Or what the surface answers for an id nobody has: ClearML's 400 "no containers for url".)"""
    for request in world.naming(route, ident, ident.unknown, key):
        world.rejects(route, *ident.missing, shown(ident.unknown), **request)
