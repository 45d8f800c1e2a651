"""The ClearML wire format read into the core's terms. Looser than the schema where the real
client is: null optional fields, `input_size` as the text "None", a float `latency_ms`."""
from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from chalicelib.core import validation as v
from chalicelib.core.errors import ApiError, bad_request
from chalicelib.core.serving.charts import METRICS, MIN_INTERVAL_S
from chalicelib.core.serving.containers import ContainerInfo, Status

_TEXT = ("model_source", "model_version", "preprocess_artifact", "input_type", "input_size")
MAX_POINTS = 10_000  # buckets in one chart, as a search's histogram caps them
REFERENCE_TYPES = ("app_id", "app_instance", "model", "task", "url")
_STAT_NUMBERS = ("memory_used", "memory_free", "network_tx", "network_rx", "disk_free_home", "disk_free_temp",
                 "disk_read", "disk_write")
MAX_ID_BYTES = 1000  # a sample's key is the time and the id, within DynamoDB's 1,024 bytes
MAX_CONTAINER_BYTES = 300_000  # a container's text, within DynamoDB's 400 KB an item
_STAT_LISTS = ("cpu_usage", "gpu_usage", "gpu_memory_used", "gpu_memory_free", "cpu_temperature", "gpu_temperature")


def _text(body: dict, name: str, default: Any = v.REQUIRED, **bounds: Any) -> Any:
    return v.string(body, name, default, min_len=bounds.pop("min_len", 0), max_len=bounds.pop("max_len", 1024))


def container_info(body: dict, *, url_required: bool) -> ContainerInfo:
    info = ContainerInfo(
        container_id=container_id(body),
        endpoint_name=_text(body, "endpoint_name", min_len=1),
        model_name=_text(body, "model_name", min_len=1),
        endpoint_url=_text(body, "endpoint_url", v.REQUIRED if url_required else None, min_len=1, max_len=2048),
        **{name: _text(body, name, None) for name in _TEXT},
        reference=_reference(body),
        tags=_text_list(body, "tags"),
        system_tags=_text_list(body, "system_tags"),
    )
    # As stored: text in UTF-8, the lists as JSON with every non-ASCII character escaped (\\uXXXX).
    size = sum(len(json.dumps(value).encode()) if isinstance(value, list) else len(str(value).encode())
               for value in asdict(info).values() if value is not None)
    if size > MAX_CONTAINER_BYTES:
        raise bad_request(f"the container's fields take {size} bytes as stored, at most {MAX_CONTAINER_BYTES} "
                          "(the longest are 'reference', 'tags' and 'system_tags'; a character beyond "
                          "ASCII in them takes 6 or 12)")
    return info


def _reference(body: dict) -> list[dict] | None:
    if body.get("reference") is None:
        return None
    items = v.object_list(body, "reference", max_items=100)
    for item in items:
        v.choice(item, "type", REFERENCE_TYPES)
        _text(item, "value")
    return [{"type": item["type"], "value": item["value"]} for item in items]


def _text_list(body: dict, name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 100 or not all(isinstance(t, str) and v.is_text(t) and
                                                                    len(t) <= 256 for t in value):
        raise bad_request(f"'{name}' must be a list of strings")
    return value


def timeout(body: dict) -> int | None:
    return v.integer(body, "timeout", None, minimum=1, maximum=10**8)


def status(body: dict) -> Status:
    latency = v.number(body, "latency_ms", None)
    return Status(
        uptime_sec=v.integer(body, "uptime_sec", None),
        requests_num=v.integer(body, "requests_num", None),
        requests_min=v.number(body, "requests_min", None),
        latency_ms=math.floor(latency) if latency is not None else None,  # the reference truncates it
        machine_stats=_machine_stats(body),
    )


def _machine_stats(body: dict) -> dict | None:
    stats = body.get("machine_stats")
    if stats is None:
        return None
    if not isinstance(stats, dict):
        raise bad_request("'machine_stats' must be an object")
    kept: dict[str, Any] = {}
    for name in _STAT_NUMBERS:
        value = v.number({f"machine_stats.{name}": stats.get(name)}, f"machine_stats.{name}", None, minimum=None)
        if value is not None:
            kept[name] = value
    for name in _STAT_LISTS:
        value = stats.get(name)
        if value is None:
            continue
        if not isinstance(value, list) or len(value) > 1024 or None in value:
            raise bad_request(f"'machine_stats.{name}' must be a list of numbers")
        kept[name] = [v.number({f"machine_stats.{name}": item}, f"machine_stats.{name}", minimum=None)
                      for item in value]
    return kept


def container_id(body: dict) -> str:
    value = _text(body, "container_id", min_len=1, max_len=256)
    if len(value.encode()) > MAX_ID_BYTES:
        raise bad_request(f"'container_id' must be at most {MAX_ID_BYTES} bytes in UTF-8")
    return value


def endpoint_url(body: dict) -> str:
    return _text(body, "endpoint_url", min_len=1, max_len=2048)


def history_request(body: dict) -> tuple[str, float, float, int, str, bool]:
    """(endpoint_url, from_date, to_date, interval, metric_type, instance_charts)."""
    url = endpoint_url(body)
    from_date, to_date = v.number(body, "from_date"), v.number(body, "to_date")
    if from_date >= to_date:
        raise bad_request("'from_date' must be before 'to_date'")
    interval = v.integer(body, "interval", minimum=1)
    points = (to_date - from_date) / max(interval, MIN_INTERVAL_S)
    if points > MAX_POINTS:
        raise bad_request(f"'interval' is too small for the range: at most {MAX_POINTS} points ({points:.0f} asked)")
    metric = v.choice(body, "metric_type", tuple(METRICS), "requests")
    return url, from_date, to_date, interval, metric, v.boolean(body, "instance_charts", True)


def no_containers(url: str) -> ApiError:
    return ApiError(400, "no_containers_for_url", f"no containers for url '{url[:200]}'")
