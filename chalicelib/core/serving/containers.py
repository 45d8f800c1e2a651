"""ClearML serving containers of an account: registered, reporting, and gone when their
timeout passes without a call (reads filter on expiry: DynamoDB's TTL deletes late).

A status report costs two DynamoDB requests: one TransactGet (the caller's credential, to
refuse a revoked one, and the container) and one transaction (the container and its sample).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

from pynamodb.transactions import TransactGet, TransactWrite

from chalicelib.core import settings
from chalicelib.core.auth import clearml_keys
from chalicelib.core.auth.clearml_keys import TokenClaims
from chalicelib.core.errors import unauthorized
from chalicelib.core.serving import charts
from chalicelib.core.store import ApiKey, Container, Sample, connection, epoch
from chalicelib.core.store.serving import containers_pk, sample_sk, samples_pk


@dataclass(frozen=True)
class ContainerInfo:
    """What a container says of itself on register and on every report."""

    container_id: str
    endpoint_name: str
    model_name: str
    endpoint_url: str | None = None
    model_source: str | None = None
    model_version: str | None = None
    preprocess_artifact: str | None = None
    input_type: str | None = None
    input_size: str | None = None
    reference: list[dict] | None = None
    tags: list[str] | None = None
    system_tags: list[str] | None = None


@dataclass(frozen=True)
class Status:
    """A status report's numbers: cumulative requests, the rate, latency and machine stats."""

    uptime_sec: int | None = None
    requests_num: int | None = None
    requests_min: float | None = None
    latency_ms: int | None = None
    machine_stats: dict[str, Any] | None = None


def _item(account_id: int, info: ContainerInfo, timeout: float, register_time: float, now: float,
          ip: str | None) -> Container:
    fields = {k: v for k, v in asdict(info).items() if k != "container_id"}
    return Container(containers_pk(account_id), info.container_id, timeout=timeout, register_time=register_time,
                     last_activity=now, ip=ip, expires_at=epoch(math.ceil(now + timeout)), **fields)


def register(account_id: int, info: ContainerInfo, timeout: float | None = None, ip: str | None = None,
             now: float | None = None) -> None:
    """Register (or register again) a container: it lives `timeout` seconds past its last call."""
    now = time.time() if now is None else now
    timeout = settings.container_timeout_s() if timeout is None else timeout
    _item(account_id, info, timeout, now, now, ip).save()


def unregister(account_id: int, container_id: str) -> None:
    """Forget the container; one that is unknown (or another account's) is a no-op."""
    Container(containers_pk(account_id), container_id).delete()


def report(claims: TokenClaims, info: ContainerInfo, status: Status, ip: str | None = None,
           now: float | None = None) -> None:
    """Record a status report of the caller's account (`info.endpoint_url` is known by now).
    An unknown or expired container is registered with the default timeout; a live one keeps
    its timeout and register time. A token whose credential was revoked is a 401."""
    now = time.time() if now is None else now
    account_id = claims.account_id
    with TransactGet(connection=connection()) as tx:
        row = tx.get(ApiKey, clearml_keys.credential_row(claims).key_hash)
        found = tx.get(Container, containers_pk(account_id), info.container_id)
    if not clearml_keys.is_current(_resolved(row, ApiKey), claims):
        raise unauthorized("this token's credential was revoked")
    current = _resolved(found, Container)
    alive = current is not None and current.is_live(now)
    timeout = float(current.timeout) if alive else settings.container_timeout_s()
    item = _item(account_id, info, timeout, float(current.register_time) if alive else now, now,
                 ip if ip is not None or not alive else current.ip)
    stats = status.machine_stats or {}
    item.uptime_sec, item.requests_num = status.uptime_sec, status.requests_num
    item.requests_min, item.latency_ms, item.last_report = status.requests_min, status.latency_ms, now
    item.cpu_count, item.gpu_count = len(stats.get("cpu_usage") or []), len(stats.get("gpu_usage") or [])
    sample = Sample(samples_pk(account_id, info.endpoint_url), sample_sk(now, info.container_id),
                    container_id=info.container_id, t=now, requests_num=status.requests_num,
                    requests_min=status.requests_min, latency_ms=status.latency_ms,
                    machine_stats=status.machine_stats,
                    expires_at=epoch(now + settings.serving_samples_retention_s()))
    with TransactWrite(connection=connection()) as write:
        write.save(item)
        write.save(sample)


def _resolved(future: Any, model: type) -> Any:
    try:
        return future.get()
    except model.DoesNotExist:
        return None


def live(account_id: int, now: float | None = None) -> list[Container]:
    """The account's containers whose timeout has not passed: one paged Query."""
    now = time.time() if now is None else now
    return [c for c in Container.query(containers_pk(account_id)) if c.is_live(now)]


def samples(account_id: int, endpoint_url: str, t1: float, t2: float) -> list[charts.Sample]:
    """An endpoint's samples from t1 to t2, as `charts` reads them: one paged Query."""
    span = Sample.sk.between(sample_sk(t1, ""), sample_sk(t2, "~"))
    return [charts.Sample(r.container_id, float(r.t), r.requests_num, r.requests_min, r.latency_ms, r.machine_stats)
            for r in Sample.query(samples_pk(account_id, endpoint_url), span)]


def as_dict(container: Container) -> dict[str, Any]:
    """A container as the aggregation in `charts` reads it."""
    return {
        "id": container.container_id, "register_time": float(container.register_time),
        "last_update": float(container.last_activity),
        **{name: getattr(container, name) for name in (
            "endpoint_name", "endpoint_url", "model_name", "model_source", "model_version", "preprocess_artifact",
            "input_type", "input_size", "reference", "uptime_sec", "requests_num", "requests_min", "latency_ms",
            "cpu_count", "gpu_count")},
    }
