"""A worker group's `search_params`: Vast's offer query, read as the `vastai` CLI reads it, into
the filters Vast's offer search takes (`{"gpu_ram": {"gte": 24}}`).

The language: terms `field op value`, separated by spaces. `op` is one of `>= > <= < != == =`
(spaces around it allowed) or a word between spaces (`gt gte lt lte eq neq noteq in notin nin`,
`not eq`, `not in`); `value` a word, a `"quoted text"` or a `[list,of,words]` (for `in`/`notin`).
Underscores in text are spaces (`RTX_4090`); `true`/`false`, `None`/`null` and numbers are
read as such; `field=any` (or `?`, `*`) drops the field. A JSON object is taken as the filters.
"""
from __future__ import annotations

import json
import re
from typing import Any

_TERM = re.compile(r"""\s*(?P<field>[A-Za-z0-9_]+)
    (?P<op>\s*(?:>=|<=|!=|==|>|<|=)\s*|\s+(?:not\s+eq|not\s+in|noteq|notin|nin|neq|eq|gte|gt|lte|lt|in)\s+)
    (?P<value>\[[^\]]*\]|"[^"]*"|[^\s\["=<>!][^\s\["]*)""", re.VERBOSE)
_OPS = {">=": "gte", ">": "gt", "gte": "gte", "gt": "gt", "<=": "lte", "<": "lt", "lte": "lte", "lt": "lt",
        "!=": "neq", "neq": "neq", "noteq": "neq", "not eq": "neq", "==": "eq", "=": "eq", "eq": "eq",
        "in": "in", "notin": "notin", "nin": "notin", "not in": "notin"}
WILDCARDS = ("any", "?", "*")


def parse(query: str) -> dict[str, dict[str, Any]]:
    """The filters `query` says; ValueError naming what cannot be read."""
    text = (query or "").strip()
    if text.startswith("{"):
        try:
            filters = json.loads(text)
        except ValueError:
            raise ValueError("a search that starts with '{' must be a JSON object") from None
        if not isinstance(filters, dict) or not all(isinstance(k, str) for k in filters):
            raise ValueError("a search that starts with '{' must be a JSON object")
        return {k: (v if isinstance(v, dict) else {"eq": v}) for k, v in filters.items()}
    filters: dict[str, dict[str, Any]] = {}
    at = 0
    while at < len(text):
        term = _TERM.match(text, at)
        if term is None or (term.end() < len(text) and not text[term.end()].isspace()):
            rest = text[at:].split()[0]
            raise ValueError(f"cannot read search term '{rest}': write field op value, e.g. gpu_ram>=24")
        at = term.end()
        field, op, raw = term["field"], " ".join(term["op"].split()), term["value"]
        name = _OPS[op]
        if raw in WILDCARDS:
            if name != "eq":
                raise ValueError(f"'{field}': a wildcard only goes with '='")
            filters.pop(field, None)
            continue
        if name in ("in", "notin"):
            value: Any = [_value(item) for item in raw.strip("[]").split(",") if item.strip()]
            if not value:
                raise ValueError(f"'{field} {op}' needs a list of values, e.g. [RTX_4090,RTX_3090]")
        else:
            value = _value(raw)
        filters.setdefault(field, {})[name] = value
    return filters


def _value(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith('"'):
        return raw.strip('"')
    if raw in ("true", "True", "false", "False"):
        return raw.lower() == "true"
    if raw in ("None", "null"):
        return None
    try:
        return float(raw) if any(c in raw for c in ".eE") else int(raw)
    except ValueError:
        return raw.replace("_", " ")
