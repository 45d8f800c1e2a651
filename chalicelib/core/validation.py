"""Parsing request bodies at the edge: every failure is a 400 that names the field."""
from __future__ import annotations

import json
import math
import sys
import unicodedata
from typing import Any

from chalicelib.core.errors import bad_request

# Formatting characters that hide or reorder what a name shows (bidi controls, zero-width spaces);
# the zero-width joiner emoji are built with is not among them.
_INVISIBLE = frozenset("\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff")
REQUIRED = object()  # the default that makes a field mandatory
LARGEST = 1e15  # beyond any real knob, and within what DynamoDB numbers hold exactly
SMALLEST = 1e-100  # non-zero numbers nearer zero than this are refused (DynamoDB holds none below 1e-130)


def json_object(raw: bytes | None, *, allow_empty: bool = False) -> dict:
    """The request body as a JSON object."""
    if not raw or not raw.strip():
        if allow_empty:
            return {}
        raise bad_request("request body must be a JSON object")
    try:
        body = json.loads(raw, parse_int=_integer)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise bad_request("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    return body


def _integer(digits: str) -> int:
    """A JSON integer, if Python reads it: not one of more than sys.get_int_max_str_digits() digits."""
    most, count = sys.get_int_max_str_digits(), len(digits.lstrip("-"))
    if most and count > most:  # 0: no limit
        raise bad_request(f"request body holds an integer of {count:,} digits: at most {most:,} are read")
    return int(digits)


def number(
    body: dict,
    name: str,
    default: Any = REQUIRED,
    *,
    minimum: float | None = 0,
    maximum: float | None = LARGEST,
    integer: bool = False,
    exclusive_minimum: bool = False,
) -> Any:
    """A finite number (bools and numeric strings refused), within bounds."""
    value = body.get(name, REQUIRED)
    if value is REQUIRED or value is None:
        if default is REQUIRED:
            raise bad_request(f"'{name}' is required")
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_request(f"'{name}' must be a finite number")
    if isinstance(value, int) and abs(value) > LARGEST:
        raise bad_request(f"'{name}' must be at most {LARGEST:g}")
    if not math.isfinite(value):
        raise bad_request(f"'{name}' must be a finite number")
    if 0 < abs(value) < SMALLEST:
        raise bad_request(f"'{name}' must be 0 or at least {SMALLEST:g} in size")
    if integer:
        if value != int(value):
            raise bad_request(f"'{name}' must be an integer")
        value = int(value)
    if minimum is not None and (value < minimum or (exclusive_minimum and value == minimum)):
        relation = "greater than" if exclusive_minimum else "at least"
        raise bad_request(f"'{name}' must be {relation} {minimum:g}")
    if maximum is not None and value > maximum:
        raise bad_request(f"'{name}' must be at most {maximum:g}")
    return value


def integer(body: dict, name: str, default: Any = REQUIRED, **bounds: Any) -> Any:
    return number(body, name, default, integer=True, **bounds)


def string(body: dict, name: str, default: Any = REQUIRED, *, max_len: int = 256, min_len: int = 0) -> Any:
    value = body.get(name, REQUIRED)
    if value is REQUIRED or value is None:
        if default is REQUIRED:
            raise bad_request(f"'{name}' is required")
        return default
    if not isinstance(value, str) or not is_text(value):
        raise bad_request(f"'{name}' must be a string of valid Unicode text")
    if not min_len <= len(value) <= max_len:
        raise bad_request(f"'{name}' must be {min_len} to {max_len} characters long")
    return value


def label(body: dict, name: str, default: Any = REQUIRED, *, max_len: int = 128) -> Any:
    """A name people read (an account's, an endpoint's): 1 to `max_len` characters, no control
    character, no whitespace at either end."""
    value = string(body, name, default, min_len=1, max_len=max_len)
    if value is None or value is default:
        return value
    return readable(name, value)


def readable(name: str, value: str) -> str:
    """`value`, if it is a name people read: no control character, no whitespace at either end."""
    if value.strip() != value:
        raise bad_request(f"'{name}' must not start or end with whitespace")
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _INVISIBLE for c in value):
        raise bad_request(f"'{name}' must not hold control characters (tabs, newlines, NUL, line "
                          "separators, direction overrides, zero-width spaces)")
    return value


def is_text(value: str) -> bool:
    """False for strings JSON allows but UTF-8 cannot encode (lone surrogates like "\\ud800")."""
    try:
        value.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def boolean(body: dict, name: str, default: Any = REQUIRED) -> Any:
    value = body.get(name, REQUIRED)
    if value is REQUIRED or value is None:
        if default is REQUIRED:
            raise bad_request(f"'{name}' is required")
        return default
    if not isinstance(value, bool):
        raise bad_request(f"'{name}' must be true or false")
    return value


def choice(body: dict, name: str, options: tuple[str, ...], default: Any = REQUIRED) -> Any:
    value = string(body, name, default)
    if value is not default and value not in options:
        raise bad_request(f"'{name}' must be one of: {', '.join(options)}")
    return value


def object_list(body: dict, name: str, *, max_items: int = 1000) -> list[dict]:
    value = body.get(name, REQUIRED)
    if value is REQUIRED or value is None:
        raise bad_request(f"'{name}' is required")
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise bad_request(f"'{name}' must be a list of objects")
    if len(value) > max_items:
        raise bad_request(f"'{name}' may hold at most {max_items} items")
    return value


def query_integer(params: dict | None, name: str, default: int, **bounds: Any) -> int:
    """An integer from the query string (which carries only text)."""
    raw = (params or {}).get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise bad_request(f"'{name}' must be a whole number")
    if len(raw.lstrip("0")) > 15:
        raise bad_request(f"'{name}' must be a whole number of at most 15 digits")
    return integer({name: int(raw)}, name, **bounds)


def path_id(raw: str, name: str = "id") -> int:
    """An integer id from a URL path segment."""
    if not (raw.isascii() and raw.isdigit()) or len(raw.lstrip("0")) > 16 or int(raw) > LARGEST:
        raise bad_request(f"'{name}' in the path must be a whole number from 0 to {LARGEST:g}")
    return int(raw)
