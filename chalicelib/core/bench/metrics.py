"""Metrics posted for a run or a pod of an account, and read back filtered and summarized.

Posting one is one request: a pod's is a PutItem (a pod the account does not list yet is
fine: benchmark processes may start before they are seen); a run's is one transaction that
also checks the run exists. Reading one pod's or run's is one paged Query from `since` (a key
condition), whatever else is stored; the rest of the filters are arithmetic.
"""
from __future__ import annotations

import math
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core import settings
from chalicelib.core.errors import not_found
from chalicelib.core.store import Metric, Run, condition_failed, connection, epoch
from chalicelib.core.store.bench import bench_pk, metrics_prefix, run_sk

EPOCH = "1970-01-01T00:00:00.000000Z"


@dataclass(frozen=True)
class Owner:
    """Whose metric: a pod (by name) or a run (by id)."""

    kind: str  # "pod" or "run"
    name: str | int

    def prefix(self) -> str:
        return metrics_prefix(self.kind, self.name)


@dataclass(frozen=True)
class Posted:
    """One metric value as posted: `date` in the API's format, `value` a numeric string."""

    name: str
    date: str
    value: str
    cumulative: bool = False
    metadata: str = ""


@dataclass(frozen=True)
class Filters:
    """A metrics read: from `since` (the API's format), one metric `name` or all, averaged into at
    most `summarize` points each, then the last `last_n` of each."""

    since: str = EPOCH
    name: str | None = None
    summarize: int | None = None
    last_n: int | None = None


def post(account_id: int, owner: Owner, metric: Posted, now: float | None = None) -> Metric:
    """Store the metric; 404 if it is for a run the account does not have."""
    now = time.time() if now is None else now
    row = Metric(bench_pk(account_id), f"{owner.prefix()}{metric.date}#{secrets.token_hex(4)}", kind=owner.kind,
                 owner=str(owner.name), name=metric.name, date=metric.date, value=metric.value,
                 cumulative=metric.cumulative, metadata=metric.metadata)
    if owner.kind == "pod":
        row.expires_at = epoch(now + settings.pod_metrics_retention_s())
        row.save()
        return row
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.condition_check(Run, bench_pk(account_id), run_sk(int(owner.name)), condition=Run.pk.exists())
            tx.save(row)
    except TransactWriteError as error:
        if condition_failed(error):
            raise not_found(f"run {owner.name}") from None
        raise
    return row


def read(account_id: int, owner: Owner, filters: Filters, now: float | None = None) -> dict[str, list[dict]]:
    """The owner's metrics by name, each list by date as `{date, value, cumulative}`: one paged Query."""
    now = time.time() if now is None else now
    prefix = owner.prefix()
    condition = Metric.sk.between(f"{prefix}{filters.since}", f"{prefix}~")
    rows = Metric.query(bench_pk(account_id), condition, consistent_read=True,
                        filter_condition=(Metric.name == filters.name) if filters.name is not None else None)
    by_name: dict[str, list[Metric]] = defaultdict(list)
    for row in rows:
        if _live(row, now):
            by_name[row.name].append(row)
    answer = {}
    for name, points in by_name.items():
        entries = [{"date": p.date, "value": p.value, "cumulative": bool(p.cumulative)} for p in _by_date(points)]
        if filters.summarize is not None and len(entries) > filters.summarize:  # as the reference: fewer stay as posted
            entries = summarize(entries, filters.summarize)
        if filters.last_n is not None:
            entries = entries[-filters.last_n:] if filters.last_n > 0 else []
        answer[name] = entries
    return answer


def summarize(entries: list[dict], most: int) -> list[dict]:
    """Average `entries` into at most `most` points: buckets of ceil(count / most) points, each
    dated by its first point; a partial last bucket is dropped."""
    if not entries:
        return []
    size = math.ceil(len(entries) / most)
    buckets = [entries[i:i + size] for i in range(0, len(entries) - size + 1, size)]
    return [{"date": b[0]["date"], "value": repr(sum(float(e["value"]) for e in b) / len(b)),
             "cumulative": b[0]["cumulative"]} for b in buckets]


def read_all(account_id: int, now: float | None = None) -> dict[str, dict[str, dict[str, list[dict]]]]:
    """Every metric of the account as `{"pod_metrics": {pod: {name: [..]}}, "run_metrics": {run
    id: {name: [..]}}}`, each list by date: two paged Queries (the runs, to leave out the metrics
    of a run whose deletion was cut short)."""
    now = time.time() if now is None else now
    runs = {str(int(r.run_id)) for r in Run.query(bench_pk(account_id), Run.sk.startswith("run#"),
                                                   consistent_read=True, attributes_to_get=["run_id"])}
    grouped: dict[str, dict[str, dict[str, list[Metric]]]] = {"pod_metrics": {}, "run_metrics": {}}
    for row in Metric.query(bench_pk(account_id), Metric.sk.startswith("metric#"), consistent_read=True):
        if not _live(row, now) or (row.kind == "run" and row.owner not in runs):
            continue
        grouped[f"{row.kind}_metrics"].setdefault(row.owner, {}).setdefault(row.name, []).append(row)
    return {group: {owner: {name: [as_dict(p) for p in _by_date(points)] for name, points in names.items()}
                    for owner, names in owners.items()}
            for group, owners in grouped.items()}


def as_dict(row: Metric) -> dict[str, Any]:
    return {"name": row.name, "date": row.date, "value": row.value, "cumulative": bool(row.cumulative),
            "metadata": row.metadata or ""}


def _by_date(points: list[Metric]) -> list[Metric]:
    return sorted(points, key=lambda p: p.sk)  # the date, then the nonce


def _live(row: Metric, now: float) -> bool:
    return row.expires_at is None or row.expires_at.timestamp() > now

