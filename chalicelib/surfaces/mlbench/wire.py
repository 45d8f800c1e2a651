"""MLBench's wire format: JSON or form bodies (the real client posts forms, every field a
string), its two date spellings, numbers as numbers or numeric strings, and the query of a
metrics read. Everything wrong is a 400 naming the field."""
from __future__ import annotations

import hashlib
import io
import json
import math
import re
import zipfile
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from chalice import Response
from chalice.app import Request

from chalicelib.core.bench.metrics import EPOCH, Filters, Owner, Posted
from chalicelib.core.bench.runs import ENDED, RunSpec, State, format_date
from chalicelib.core.errors import bad_request
from chalicelib.core.validation import is_text, json_object, readable

FORM = "application/x-www-form-urlencoded"
FORMATS = ("json", "zip")
CONTENT_TYPES = ["application/json", FORM, "text/plain"]
LARGEST_INT = 10**12
LARGEST_NUMBER = 1e300
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_POD = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?")
_FLAGS = {"true": True, "false": False, "1": True, "0": False}
_JOB_TEXT = ("image_name", "custom_image_name", "custom_image_command", "backend", "custom_backend")
_JOB_FLAGS = ("gpu_enabled", "light_target", "run_all_nodes")
_JOB_NUMBERS = ("num_cpus", "max_bandwidth")


def body(request: Request) -> dict[str, Any]:
    """The body as a dict: a form (by its content type) or a JSON object."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        return json_object(request.raw_body)
    try:
        text = (request.raw_body or b"").decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise bad_request("request body is not a valid form (application/x-www-form-urlencoded, UTF-8)") from None
    # The client form-encodes a metadata dict as its keys, one field each: the last is kept, as
    # the reference (Django) keeps it; any other field given twice is refused.
    repeated = sorted(name for name, values in fields.items() if len(values) > 1 and name != "metadata")
    if repeated:
        raise bad_request(f"'{repeated[0]}' is given more than once")
    return {name: values[-1] for name, values in fields.items()}


# --- values -----------------------------------------------------------------------------------

def text(fields: dict, name: str, *, required: bool = False, max_len: int = 256, min_len: int = 0) -> str | None:
    value = fields.get(name)
    if value is None:
        if required:
            raise bad_request(f"'{name}' is required")
        return None
    if not isinstance(value, str):
        raise bad_request(f"'{name}' must be a string")
    if not is_text(value) or "\x00" in value:
        raise bad_request(f"'{name}' must be text without NUL characters or unpaired surrogates")
    if not min_len <= len(value) <= max_len:
        raise bad_request(f"'{name}' must be {min_len} to {max_len} characters long")
    return value


def date(value: object, name: str) -> str:
    """A date as the seed (`2018-08-03T09:21:44.331823Z`) or `str(datetime)` spells it, naive
    read as UTC, in the API's format."""
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        raise bad_request(f"'{name}' must be a date like 2018-08-03T09:21:44.331823Z or 2018-08-03 09:21:44.331823")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"'{name}' is not a date on the calendar: {value.strip()}") from None
    try:
        return format_date(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    except OverflowError:
        raise bad_request(f"'{name}' is out of range: in UTC, it must fall in years 1 to 9999") from None


def numeric(value: object, name: str) -> str:
    """A number, or a string that spells one in ASCII digits, of at most LARGEST_NUMBER in size:
    as a numeric string."""
    if isinstance(value, bool) or value is None:
        raise bad_request(f"'{name}' must be a number or a numeric string")
    if isinstance(value, float) and not math.isfinite(value):
        raise bad_request(f"'{name}' must be a finite number")
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value, spelled = float(value), value.strip()  # a string of digits too long for a float is inf
    elif isinstance(value, (int, float)):
        spelled = str(value)
    else:
        raise bad_request(f"'{name}' must be a number or a numeric string")
    if abs(value) > LARGEST_NUMBER:  # exact for an int of any size
        raise bad_request(f"'{name}' must be at most {LARGEST_NUMBER:g} in size")
    return spelled


def flag(value: object, name: str, default: bool = False) -> bool:
    """true/false, as JSON or as a form spells them (`True`, `false`, `1`, `0`)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    raise bad_request(f"'{name}' must be true or false")


def positive_int(value: object, name: str, *, most: int = LARGEST_INT) -> int:
    """A whole number from 1 to `most`, as a number or its digits."""
    if isinstance(value, str) and re.fullmatch(r"\s*\+?[0-9]{1,15}\s*", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise bad_request(f"'{name}' must be a whole number from 1 to {most}")
    return value


def pod_name(value: object, name: str = "pod_name") -> str:
    if not isinstance(value, str) or not _POD.fullmatch(value):
        raise bad_request(f"'{name}' must be a pod name: 1 to 253 letters, digits, '.', '_' or '-'")
    return value


# --- requests ---------------------------------------------------------------------------------

def metric(fields: dict, now: float) -> tuple[Owner, Posted]:
    """A posted metric: for `pod_name` xor `run_id`."""
    has_pod, has_run = fields.get("pod_name") not in (None, ""), fields.get("run_id") not in (None, "")
    if has_pod == has_run:
        raise bad_request("give exactly one of 'pod_name' and 'run_id'" + (", not both" if has_pod else ""))
    owner = (Owner("pod", pod_name(fields["pod_name"])) if has_pod
             else Owner("run", positive_int(fields["run_id"], "run_id")))
    metadata = fields.get("metadata")
    if isinstance(metadata, (dict, list)):
        metadata = json.dumps(metadata)
    posted = Posted(
        name=text(fields, "name", required=True, min_len=1, max_len=256) or "",
        date=date(fields["date"], "date") if fields.get("date") not in (None, "") else format_date(now),
        value=numeric(fields.get("value"), "value"),
        cumulative=flag(fields.get("cumulative"), "cumulative"),
        metadata=text({"metadata": metadata}, "metadata", max_len=10_000) or "",
    )
    return owner, posted


def posted_reply(owner: Owner, posted: Posted) -> dict:
    who = {"pod_name": owner.name} if owner.kind == "pod" else {"run_id": owner.name}
    return {**who, "name": posted.name, "date": posted.date, "value": posted.value,
            "cumulative": posted.cumulative, "metadata": posted.metadata}


def metrics_query(key: str, query: dict | None) -> tuple[Owner, Filters]:
    """`GET /api/metrics/<key>/`: whose (`metric_type` pod, the default, or run) and the filters."""
    query = query or {}
    if query.get("format") not in (None, "", *FORMATS):
        raise bad_request(f"'format' must be one of: {', '.join(FORMATS)}")
    kind = query.get("metric_type") or "pod"
    if kind not in ("pod", "run"):
        raise bad_request("'metric_type' must be one of: pod, run")
    owner = Owner("run", run_id(key)) if kind == "run" else Owner("pod", pod_name(key))
    since = date(query["since"], "since") if query.get("since") not in (None, "") else EPOCH
    name = text(query, "metric_filter", min_len=1, max_len=256)
    summarize = positive_int(query["summarize"], "summarize", most=100_000) if "summarize" in query else None
    last_n = positive_int(query["last_n"], "last_n", most=100_000) if "last_n" in query else None
    return owner, Filters(since, name, summarize, last_n)


def wants_zip(query: dict | None) -> bool:
    """`format=zip`: the metrics as the real CLI's `mlbench download` saves them."""
    return (query or {}).get("format") == "zip"


def metrics_zip(name: str, read: dict[str, list[dict]]) -> Response:
    """The metrics read for `name` (a run's name or a pod's) as the reference dashboard zips
    them: one `result_<metric>.json` each, as an attachment `metrics_<name>.zip`."""
    buffer, taken = io.BytesIO(), set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for metric, entries in read.items():
            file = _file_name(metric, taken)
            taken.add(file)
            archive.writestr(f"result_{file}.json", json.dumps(entries))
    return Response(buffer.getvalue(), status_code=200, headers={
        "Content-Type": "application/zip",
        "Content-Disposition": f'attachment; filename="metrics_{_file_name(name)}.zip"'})


def _file_name(text: str, taken: Collection[str] = ()) -> str:
    """`text` as a file name: as it is when safe and short, else its safe characters with a
    hash of it, so two names never share a file."""
    safe = re.sub(r"[^A-Za-z0-9._@ -]", "_", text)[:100]
    if safe == text and text and text not in taken:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return next(f"{safe[:80]}_{digest[:n]}" for n in range(8, 65) if f"{safe[:80]}_{digest[:n]}" not in taken)


def run_spec(fields: dict) -> RunSpec:
    """`POST /api/runs/`: a name, and what the real client sends for its job (kept in `job_metadata`)."""
    name = readable("name", text(fields, "name", required=True, min_len=1, max_len=128) or "")
    num_workers = positive_int(fields["num_workers"], "num_workers", most=1024) if "num_workers" in fields else 1
    job: dict[str, Any] = {}
    for field in _JOB_TEXT:
        if (value := text(fields, field, max_len=2048)) is not None:
            job[field] = value
    for field in _JOB_FLAGS:
        if field in fields:
            job[field] = flag(fields[field], field)
    for field in _JOB_NUMBERS:
        if field in fields:
            value = float(numeric(fields[field], field))
            if value < 0:  # the real CLI sends --num-cpus less one: 1 CPU is 0
                raise bad_request(f"'{field}' must not be negative")
            job[field] = value
    return RunSpec(name, num_workers, job)


def end_state(fields: dict) -> State:
    """`PATCH /api/runs/<id>/`: the state a client ends a run with."""
    value = text(fields, "state", required=True, max_len=32) or ""
    if value.lower() not in ENDED:
        raise bad_request(f"'state' must be one of: {', '.join(ENDED)}")
    return State(value.lower())


def run_id(value: str) -> int:
    """A run id in a path: its digits only (no sign, no spaces, ASCII), as the other surfaces read ids."""
    if not re.fullmatch(r"[1-9][0-9]{0,14}", value):
        raise bad_request(f"'run_id' must be a whole number from 1 to {LARGEST_INT}")
    return positive_int(value, "run_id")
