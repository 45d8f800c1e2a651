"""The words a surface's route table is written in, and the world its specs run against.

A surface (tests/surfaces/<name>/routes.py) lists every route it serves: method, path, a valid
body, the credential it takes and the ids it takes. The generic specs in tests/surfaces/
(test_bad_input.py, test_isolation.py) run over every row of every table in
tests/surfaces/registry.py, each against a World the surface builds: an Api to call through,
and the names ("refs") its placeholders are filled from.

Placeholders: `{ref}` in a path, `"<ref>"` as a value in a body (anywhere, lists and dicts too).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core import store
from tests.support.envelopes import Envelope

DROP = object()  # in changes to a body: remove the field
UNKNOWN = 999_999  # an id nobody has
BEARER = "Authorization: Bearer"  # a credential sent in the header (or as `?api_key=`), not in the body
DEFAULT = object()


@dataclass(frozen=True)
class Refusal:
    """One way a credential is wrong: a value sent in its place (a "<ref>" is the world's), or other
    changes to the body (`changes`), or the value in the query string instead (`query`)."""

    name: str
    value: Any = None
    changes: dict | None = None
    query: bool = False


@dataclass(frozen=True)
class Credential:
    """What a route takes to know the caller: sent `at` a body field, or as BEARER.

    `accepts` are the refs of the world that hold a valid one (the first is what the route's valid
    body and calls use); `names` is what a 401's message names; `wrong` are the values of the right
    form that are still refused (another kind of key, say), `wrong_changes` other refused changes to
    the body (an unknown worker id beside a worker's token)."""

    name: str
    at: str
    accepts: tuple[str, ...]
    names: str
    wrong: dict[str, Any] = field(default_factory=dict)
    wrong_changes: dict[str, dict] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return self.accepts[0]

    def refusals(self) -> list[Refusal]:
        """Missing, malformed and wrong, each a 401 like any other."""
        if self.at == BEARER:
            found = [Refusal("missing", None), Refusal("empty", ""), Refusal("too long", "x" * 600)]
            found += [Refusal(name, value) for name, value in self.wrong.items()]
            found += [Refusal(f"{name} as ?api_key=", value, query=True) for name, value in self.wrong.items()]
            return found
        found = [Refusal("missing", DROP), Refusal("null", None), Refusal("empty", ""), Refusal("a number", 5),
                 Refusal("a list", [f"<{self.ref}>"]), Refusal("too long", "x" * 513),
                 Refusal("not unicode", "x\ud800")]
        found += [Refusal(name, value) for name, value in self.wrong.items()]
        return found + [Refusal(name, changes=changes) for name, changes in self.wrong_changes.items()]


@dataclass(frozen=True)
class Id:
    """An id a route takes: `at` "path" (the `{ref}` placeholder) or a body field; `field` is the
    name an error about it gives; `unknown` one nobody has; `instead_of`, body fields it replaces
    (another way of naming the same thing); `missing`, the (status, code) an id nobody has gets,
    and so another tenant's."""

    ref: str
    at: str
    field: str
    unknown: Any = UNKNOWN
    instead_of: tuple[str, ...] = ()
    missing: tuple[int, str] = (404, "not_found")

    def changes(self, value: Any) -> dict:
        return {} if self.at == "path" else {self.at: value, **{name: DROP for name in self.instead_of}}


def shown(value: Any) -> str:
    """How an error message names an id or a name."""
    return f"'{value}'" if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Route:
    """One route of a surface.

    `path` is spelled as clients send it (with or without its trailing slash); `body` a valid body,
    None where the route reads none; `empty_body`, whether an empty body is as good as {}; `writes`,
    changes to the valid body under which the call writes, so that a refusal that stored nothing
    shows something (refusal specs try each); `answers`, fields a valid call's reply has;
    `alike`, other methods the path answers exactly as `method` (the surface's own specs show it),
    so the generic specs run once; `status`, what a valid call is answered (MLBench's 201 and 204)."""

    name: str
    method: str
    path: str
    body: dict | None = None
    credential: Credential | None = None
    ids: tuple[Id, ...] = ()
    empty_body: bool = False
    writes: tuple[dict, ...] = ({},)
    answers: dict | None = None
    alike: tuple[str, ...] = ()
    status: int = 200

    @property
    def methods(self) -> tuple[str, ...]:
        return (self.method, *self.alike)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def template(self) -> str:
        """The path without its query and trailing slash, its placeholders as `{}`: the same for every
        spelling of one path."""
        return re.sub(r"\{[^}]*\}", "{}", self.path.split("?")[0].rstrip("/")) or "/"


@dataclass(frozen=True)
class Surface:
    """A surface's table and how to build its worlds (each a function of pytest's `request`).

    `world`: a caller with one of everything every route needs (the bad-input specs);
    `mine` and `theirs`: two tenants (the isolation specs), `mine` built first;
    `foreign`: for each ref an id takes, the refs of `theirs` to try in its place (a name `mine`
    also has is not foreign: it names mine)."""

    name: str
    envelope: Envelope
    routes: tuple[Route, ...]
    world: Callable[[Any], World]
    mine: Callable[[Any], World]
    theirs: Callable[[Any], World] | None = None
    foreign: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name

    def route(self, name: str) -> Route:
        return next(route for route in self.routes if route.name == name)


class World:
    """One tenant's things on a surface: the Api to call through and the refs placeholders take."""

    def __init__(self, surface: Surface, api, refs: dict):
        self.surface, self.api, self.refs = surface, api, refs

    def route(self, route: Route | str) -> Route:
        return route if isinstance(route, Route) else self.surface.route(route)

    def fill(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
            return self.refs[value[1:-1]]
        if isinstance(value, dict):
            return {k: self.fill(item) for k, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        return value

    def path(self, route: Route | str, slash: str | None = None, **refs) -> str:
        """The route's path, filled in (`refs` in place of the world's); `slash` "" or "/" to spell it so."""
        path = self.route(route).path.format(**{**self.refs, **refs})
        return path if slash is None else path.rstrip("/") + slash

    def spellings(self, route: Route | str, **refs) -> list[str]:
        """The route's path with and without its trailing slash."""
        return [self.path(route, slash, **refs) for slash in ("", "/")]

    def body(self, route: Route | str, changes: dict | None = None) -> dict | None:
        base = self.route(route).body
        if base is None and not changes:
            return None
        body = {**(base or {}), **(changes or {})}
        return self.fill({k: item for k, item in body.items() if item is not DROP})

    def key(self, route: Route | str) -> str | None:
        """The route's valid key as `Authorization: Bearer`, where it takes one there."""
        credential = self.route(route).credential
        return self.refs[credential.ref] if credential and credential.at == BEARER else None

    def send(self, route: Route | str, changes: dict | None = None, *, raw: bytes | None = None,
             slash: str | None = None, path: str | None = None, key: Any = DEFAULT, api=None):
        """The route's valid request, with `changes` to its body (or the `raw` body instead), its
        key unless `key` says otherwise (None: no `Authorization`)."""
        route = self.route(route)
        if raw is None and (body := self.body(route, changes)) is not None:
            raw = json.dumps(body).encode()  # NaN and Infinity as the bare tokens a sloppy client sends
        key = self.key(route) if key is DEFAULT else key
        return (api or self.api).call(route.method, path or self.path(route, slash), raw=raw, key=key)

    def rejects(self, route: Route | str, status: int = 400, code: str | None = "invalid_args",
                names: str | tuple[str, ...] = (), changes: dict | None = None, **send) -> Any:
        """The request (as `send` takes it) is answered `status` in the surface's envelope, with
        `code`, naming each of `names`, and changes nothing: its reply."""
        before = self.snapshot()
        status_, reply = self.send(route, changes, **send)
        self.surface.envelope.check(status_, reply, status, code, names)
        assert self.snapshot() == before
        return reply

    def with_key(self, route: Route | str, ref: str) -> tuple[dict, str | None]:
        """(changes to the body, Bearer key) that send the world's `ref` as the route's credential."""
        credential = self.route(route).credential
        return ({}, self.refs[ref]) if credential.at == BEARER else ({credential.at: self.refs[ref]}, None)

    def refused(self, route: Route | str, refusal: Refusal) -> dict:
        """The route's request (as `send` takes it, with the route's first writes), its credential
        refused as `refusal` says."""
        route = self.route(route)
        credential, writes = route.credential, route.writes[0]
        if refusal.changes is not None:
            return {"changes": {**writes, **refusal.changes}}
        if credential.at != BEARER:
            return {"changes": {**writes, credential.at: refusal.value}}
        if refusal.query:
            return {"changes": writes, "path": f"{self.path(route)}?api_key={self.fill(refusal.value)}", "key": None}
        return {"changes": writes, "key": self.fill(refusal.value)}

    def naming(self, route: Route | str, ident: Id, value: Any, key: str) -> list[dict]:
        """The requests of `route` (as `send` takes them) naming `value` as `ident`, with the world's
        `key`: for an id in the path, on both spellings of the path and with each of the route's
        writes; for one in the body, the valid body naming `value` in its place."""
        route = self.route(route)
        in_body, bearer = self.with_key(route, key)
        if ident.at == "path":
            return [{"path": path, "changes": {**writes, **in_body}, "key": bearer}
                    for path in self.spellings(route, **{ident.ref: value}) for writes in route.writes]
        return [{"changes": {**ident.changes(value), **in_body}, "key": bearer}]

    def shown(self) -> Any:
        """What the surface shows of the world (beyond the store), to show a refusal changed nothing."""
        return None

    def snapshot(self) -> tuple[dict, Any]:
        return stored(), self.shown()


def stored() -> dict:
    """Every item the app keeps (the id counters aside), to show a rejected request wrote nothing."""
    found = {}
    for table in sorted({model.Meta.table_name for model in store.MODELS}):
        items, start = [], None
        while True:
            page = store.connection().scan(table, exclusive_start_key=start)
            items += [item for item in page["Items"] if set(item) != {"name", "value"}]  # not a counter
            if not (start := page.get("LastEvaluatedKey")):
                break
        found[table] = sorted(json.dumps(item, sort_keys=True) for item in items)
    return found


def alike(reply: Any, value: Any, other: Any, other_value: Any) -> bool:
    """Whether two replies are the same but for the id (or name) each names."""
    def mask(item: Any, value: Any) -> Any:
        if isinstance(item, dict):
            return {k: mask(v, value) for k, v in item.items()}
        if isinstance(item, list):
            return [mask(v, value) for v in item]
        if isinstance(item, str):
            return re.sub(rf"(?<!\d){re.escape(str(value))}(?!\d)", "<id>", item)
        return item
    return mask(reply, value) == mask(other, other_value)
