"""Isolation, on every route of every surface: a credential reaches only what it was issued for.

A missing, malformed or wrong credential is a 401, whatever is wrong with it; another tenant's id
is answered exactly like an id nobody has (a 404; ClearML's "no containers for url" 400). Nothing is written by a
refused request. A surface's own cases are in its folder (tests/surfaces/vast/test_isolation.py).
"""
from __future__ import annotations

import pytest

from tests.support.surfaces import alike, shown
from tests.surfaces.registry import expand, routes

CREDENTIALS = expand(routes(lambda route: route.credential is not None),
                     lambda surface, route: ((refusal.name, (refusal,)) for refusal in route.credential.refusals()))


@pytest.mark.parametrize(("surface", "route", "refusal"), CREDENTIALS)
def test_a_missing_malformed_or_wrong_credential_is_a_401_and_changes_nothing(mine, surface, route, refusal):
    mine.rejects(route, 401, "unauthorized", route.credential.names, **mine.refused(route, refusal))


def foreign_ids(surface, route):
    """Each id the route takes, as each of `theirs`' things standing for it, with each key it accepts."""
    for ident in route.ids:
        for theirs_ref in surface.foreign[ident.ref]:
            for key in route.credential.accepts:
                yield f"{ident.field} = their {theirs_ref} with {key}", (ident, theirs_ref, key)


FOREIGN = expand(routes(), foreign_ids)


@pytest.mark.parametrize(("surface", "route", "ident", "theirs_ref", "key"), FOREIGN)
def test_another_tenants_id_is_answered_exactly_like_an_id_nobody_has(mine, theirs, surface, route, ident, theirs_ref,
                                                                    key):
    value = theirs.refs[theirs_ref]
    nobodys = value + 1000 if isinstance(value, int) else "nope"  # of the same form, unused
    for request, unused in zip(mine.naming(route, ident, value, key), mine.naming(route, ident, nobodys, key),
                               strict=True):
        not_theirs = mine.rejects(route, *ident.missing, shown(value), **request)
        missing = mine.rejects(route, *ident.missing, shown(nobodys), **unused)
        stable = surface.envelope.stable
        assert alike(stable(not_theirs), value, stable(missing), nobodys), (not_theirs, missing)

