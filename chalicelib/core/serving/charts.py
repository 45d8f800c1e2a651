"""The serving registry's numbers, pure: metric-history charts over status-report samples, and the
endpoint, details and loading-instance listings over live containers (plain dicts, no I/O).

Rules are the reference server's (clearml-server `apiserver/bll/serving`, see
shared/reference/clearml-serving.md); where it is silent the choice is stated where it is made.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

MIN_INTERVAL_S = 40
MAX_INSTANCES = 10  # instances charted, the busiest: Elasticsearch's terms aggregation size in the reference
MB_PER_GB = 1024


@dataclass(frozen=True)
class Sample:
    """One status report of one container: cumulative requests, the rate, the latency, and the
    machine stats as reported (MB, MB/s, %; per-core and per-GPU lists)."""

    container_id: str
    t: float  # epoch s
    requests_num: int | None = None
    requests_min: float | None = None
    latency_ms: float | None = None
    machine_stats: dict[str, Any] | None = None


def _number(value: Any) -> float | None:
    """A finite number as a float; None for anything else (missing, null, text, bool, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal) or not math.isfinite(value):
        return None
    return float(value)


def _numbers(value: Any) -> list[float] | None:
    """A list of finite numbers as floats, or None when `value` is not one."""
    if not isinstance(value, list):
        return None
    found = [_number(v) for v in value]
    return [v for v in found if v is not None] if None not in found else None


def _mb(value: Any) -> float | None:
    """A stat in MB: a number, or a per-GPU list summed."""
    values = _numbers(value)
    return sum(values) if values is not None else _number(value)


def _stat(name: str) -> Callable[[Sample], float | None]:
    return lambda s: _number((s.machine_stats or {}).get(name))


def _count(name: str) -> Callable[[Sample], float | None]:
    """The length of a per-core/per-GPU list; 0 when the stats leave the list out (no GPUs)."""
    return lambda s: None if s.machine_stats is None else float(len(_numbers(s.machine_stats.get(name)) or []))


def _mean_of(name: str) -> Callable[[Sample], float | None]:
    def read(s: Sample) -> float | None:
        values = _numbers((s.machine_stats or {}).get(name))
        return sum(values) / len(values) if values else None
    return read


def _gb(*names: str) -> Callable[[Sample], float | None]:
    """The sum of the named MB stats, in GB; None when one of them is missing."""
    def read(s: Sample) -> float | None:
        total = 0.0
        for name in names:
            value = _mb((s.machine_stats or {}).get(name))
            if value is None:
                return None
            total += value
        return total / MB_PER_GB
    return read


@dataclass(frozen=True)
class Metric:
    """A chart: its title, how one sample's value is read (None: no value), how an instance's
    samples in a bucket combine ("max" or "mean"), and how instances combine ("sum" or "mean")."""

    title: str
    read: Callable[[Sample], float | None]
    per_bucket: str
    over_instances: str


METRICS: dict[str, Metric] = {
    "requests": Metric("Number of Requests", lambda s: _number(s.requests_num), "max", "sum"),
    "requests_min": Metric("Requests per Minute", lambda s: _number(s.requests_min), "mean", "sum"),
    "latency_ms": Metric("Average Latency (ms)", lambda s: _number(s.latency_ms), "mean", "mean"),
    "cpu_count": Metric("CPU Count", _count("cpu_usage"), "mean", "sum"),
    "gpu_count": Metric("GPU Count", _count("gpu_usage"), "mean", "sum"),
    "cpu_util": Metric("Average CPU Load (%)", _mean_of("cpu_usage"), "mean", "mean"),
    "gpu_util": Metric("Average GPU Utilization (%)", _mean_of("gpu_usage"), "mean", "mean"),
    "ram_total": Metric("RAM Total (GB)", _gb("memory_used", "memory_free"), "mean", "sum"),
    "ram_used": Metric("RAM Used (GB)", _gb("memory_used"), "mean", "sum"),
    "ram_free": Metric("RAM Free (GB)", _gb("memory_free"), "mean", "sum"),
    "gpu_ram_total": Metric("GPU RAM Total (GB)", _gb("gpu_memory_used", "gpu_memory_free"), "mean", "sum"),
    "gpu_ram_used": Metric("GPU RAM Used (GB)", _gb("gpu_memory_used"), "mean", "sum"),
    "gpu_ram_free": Metric("GPU RAM Free (GB)", _gb("gpu_memory_free"), "mean", "sum"),
    "network_rx": Metric("Network Throughput RX (MBps)", _stat("network_rx"), "mean", "sum"),
    "network_tx": Metric("Network Throughput TX (MBps)", _stat("network_tx"), "mean", "sum"),
}


def _combine(values: list[float], how: str) -> float:
    if how == "max":
        return max(values)
    return sum(values) / len(values) if how == "mean" else sum(values)


def metrics_history(samples: list[Sample], from_date: float, to_date: float, interval: int, metric_type: str,
                    instance_charts: bool = True, most: int | None = MAX_INSTANCES) -> dict[str, Any]:
    """The `data` of get_endpoint_metrics_history (the caller has validated the arguments).

    Buckets of max(interval, 40) s start at from_date; a last bucket ending after to_date is dropped,
    and a bucket holds the samples with start <= t < end. Per instance per bucket: max of `requests`
    (cumulative), mean of the rest, 0 where it has no value. The total per bucket is the sum or mean
    over the instances that have a value there (0 if none has); it is taken before rounding. Values
    to 2 decimals. Instances: the `most` containers with the most samples in the buckets (as the
    reference's terms aggregation picks them; the total is over them alone; None: all), sorted by id,
    each titled by its id; with instance_charts false `instances` is empty (totals only). No
    sample at all (in from_date..to_date): no dates, as the reference answers.
    """
    metric = METRICS[metric_type]
    step = max(int(interval), MIN_INTERVAL_S)
    nbuckets = max(int((to_date - from_date) // step), 0)
    if not samples:
        return {"computed_interval": step, "total": {"title": metric.title, "dates": [], "values": []},
                "instances": {}}
    placed = [(s, math.floor((s.t - from_date) / step)) for s in samples]
    placed = [(s, i) for s, i in placed if 0 <= i < nbuckets]
    counts = Counter(s.container_id for s, _ in placed)
    kept = {cid for cid, _ in sorted(counts.items(), key=lambda c: (-c[1], c[0]))[:most]}
    per_instance: dict[str, list[list[float]]] = {}
    for sample, index in placed:
        if sample.container_id not in kept:
            continue
        buckets = per_instance.setdefault(sample.container_id, [[] for _ in range(nbuckets)])
        value = metric.read(sample)
        if value is not None:
            buckets[index].append(value)
    dates = [int(from_date + i * step) for i in range(nbuckets)]
    combined = {cid: [_combine(b, metric.per_bucket) if b else None for b in buckets]
                for cid, buckets in sorted(per_instance.items())}
    totals = []
    for i in range(nbuckets):
        present = [values[i] for values in combined.values() if values[i] is not None]
        totals.append(_combine(present, metric.over_instances) if present else 0.0)

    def series(title: str, values: Iterable[float | None]) -> dict[str, Any]:
        return {"title": title, "dates": list(dates), "values": [round(v or 0.0, 2) for v in values]}

    return {"computed_interval": step, "total": series(metric.title, totals),
            "instances": {cid: series(cid, values) for cid, values in combined.items()} if instance_charts else {}}


def iso_utc(t: float | None) -> str | None:
    """An epoch time as clearml-server writes a date-time: ISO 8601 in UTC, to the millisecond."""
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


def _by_id(containers: Iterable[dict]) -> list[dict]:
    return sorted(containers, key=lambda c: str(c["id"]))


def _int(value: Any) -> int | None:
    """Truncated to an int, as the reference stores uptime and latency; None stays None."""
    number = _number(value)
    return None if number is None else int(number)


def _present(values: Iterable[Any]) -> list[float]:
    return [v for v in map(_number, values) if v is not None]


def _mean(values: Iterable[Any]) -> float | None:
    present = _present(values)
    return sum(present) / len(present) if present else None


def _max(values: Iterable[Any]) -> float | None:
    return max(_present(values), default=None)


MODEL_FIELDS = ("model_source", "model_version", "preprocess_artifact", "input_type", "input_size")


def _model_info(first: dict) -> dict[str, Any]:
    return {"endpoint": first.get("endpoint_name"), "model": first.get("model_name"), "url": first.get("endpoint_url"),
            **{name: first.get(name) for name in MODEL_FIELDS}}


def _by_url(containers: Iterable[dict]) -> dict[str, list[dict]]:
    """Containers with an endpoint_url, grouped by it: urls sorted, each group by container id."""
    groups: dict[str, list[dict]] = {}
    for container in _by_id(containers):
        if container.get("endpoint_url"):
            groups.setdefault(container["endpoint_url"], []).append(container)
    return dict(sorted(groups.items()))


def endpoint_stats(containers: list[dict]) -> list[dict]:
    """get_endpoints' `endpoints`: live containers grouped by endpoint_url (none: not listed), by url.

    Per url: endpoint and model of the first container (by id), instances (count), uptime_sec (max),
    requests (sum of requests_num), requests_min (mean, 2 decimals), latency_ms (mean of the
    truncated latencies, rounded to an int), last_update (max). Sums, means and maxima skip
    containers without the field; with none at all the value is None (requests: 0).
    """
    endpoints = []
    for url, group in _by_url(containers).items():
        rate = _mean(c.get("requests_min") for c in group)
        latency = _mean(_int(c.get("latency_ms")) for c in group)
        endpoints.append({
            "endpoint": group[0].get("endpoint_name"), "model": group[0].get("model_name"), "url": url,
            "instances": len(group), "uptime_sec": _int(_max(c.get("uptime_sec") for c in group)),
            "requests": int(sum(_present(c.get("requests_num") for c in group))),
            "requests_min": None if rate is None else round(rate, 2),
            "latency_ms": None if latency is None else round(latency),
            "last_update": iso_utc(_max(c.get("last_update") for c in group)),
        })
    return endpoints


def endpoint_details(containers: list[dict], url: str) -> dict[str, Any]:
    """get_endpoint_details: the first container's (by id) model fields, max uptime_sec, max
    last_update, and instances (by id) with their own numbers; cpu_count and gpu_count are the
    lengths of the reported lists, 0 when a container reported none. LookupError when no live
    container has `url`."""
    group = _by_url(containers).get(url)
    if not group:
        raise LookupError(f"no containers for url {url}")
    instances = [{
        "id": c["id"], "uptime_sec": _int(c.get("uptime_sec")), "requests": _int(c.get("requests_num")),
        "requests_min": _number(c.get("requests_min")), "latency_ms": _int(c.get("latency_ms")),
        "last_update": iso_utc(_number(c.get("last_update"))), "reference": c.get("reference") or [],
        "cpu_count": _int(c.get("cpu_count")) or 0, "gpu_count": _int(c.get("gpu_count")) or 0,
    } for c in group]
    return {**_model_info(group[0]), "uptime_sec": _int(_max(c.get("uptime_sec") for c in group)),
            "last_update": iso_utc(_max(c.get("last_update") for c in group)), "instances": instances}


def loading_instances(containers: list[dict], now: float) -> list[dict]:
    """get_loading_instances' `instances`: the containers without endpoint_url, by id, each with its
    model fields, uptime_sec, age_sec (now - register_time, truncated, never below 0) and last_update."""
    instances = []
    for c in _by_id(containers):
        if c.get("endpoint_url"):
            continue
        registered = _number(c.get("register_time"))
        instances.append({"id": c["id"], **_model_info(c), "uptime_sec": _int(c.get("uptime_sec")),
                          "age_sec": None if registered is None else max(int(now - registered), 0),
                          "last_update": iso_utc(_number(c.get("last_update")))})
    return instances
