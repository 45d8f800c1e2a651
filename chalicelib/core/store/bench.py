"""The bench table (MLBench's dashboard API): each account's benchmark runs and the metrics
posted for its runs and pods, in one partition per account keyed (pk, sk).

    pk "<account>#bench"   sk "run#<id>"                          a Run
    pk "<account>#bench"   sk "active"                            ActiveRun: the run that blocks a new one
    pk "<account>#bench"   sk "metric#pod#<pod>#<date>#<nonce>"   a Metric of a pod (TTL: the retention)
    pk "<account>#bench"   sk "metric#run#<id>#<date>#<nonce>"    a Metric of a run (kept with the run)

Dates in keys are `%Y-%m-%dT%H:%M:%S.%fZ` (UTC), which sort as time does, so one Query reads
one pod's or run's metrics since any date. Run ids come from the META counter "bench-run".
DynamoDB deletes expired items up to 48 h late: reads filter on `expires_at` themselves.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from chalicelib.core.store.base import TableMeta


def bench_pk(account_id: int) -> str:
    return f"{account_id}#bench"


def run_sk(run_id: int) -> str:
    return f"run#{run_id:012d}"


def metrics_prefix(kind: str, owner: str | int) -> str:
    """The sort-key prefix of one pod's ("pod", its name) or one run's ("run", its id) metrics."""
    return f"metric#{kind}#{owner:012d}#" if kind == "run" else f"metric#{kind}#{owner}#"


class Run(Model):
    """A benchmark run: its state and what it was started with."""

    class Meta(TableMeta):
        table_kind = "BENCH"

    pk = UnicodeAttribute(hash_key=True)  # bench_pk
    sk = UnicodeAttribute(range_key=True)  # run_sk
    run_id = NumberAttribute()
    name = UnicodeAttribute()
    state = UnicodeAttribute()  # core.bench.runs.State
    created_at = UnicodeAttribute()  # the API's date format
    finished_at = UnicodeAttribute(null=True)
    num_workers = NumberAttribute(default=1)
    job_id = UnicodeAttribute()  # a uuid
    job_metadata = JSONAttribute(default=dict)


class ActiveRun(Model):
    """The account's run that is initialized or started: a new one is refused while it is."""

    class Meta(TableMeta):
        table_kind = "BENCH"

    pk = UnicodeAttribute(hash_key=True)  # bench_pk
    sk = UnicodeAttribute(range_key=True, default="active")
    run_id = NumberAttribute()


class Metric(Model):
    """One metric value posted for a pod or a run."""

    class Meta(TableMeta):
        table_kind = "BENCH"

    pk = UnicodeAttribute(hash_key=True)  # bench_pk
    sk = UnicodeAttribute(range_key=True)  # metrics_prefix + "<date>#<nonce>"
    kind = UnicodeAttribute()  # "pod" or "run"
    owner = UnicodeAttribute()  # the pod's name, or the run's id as text
    name = UnicodeAttribute()
    date = UnicodeAttribute()
    value = UnicodeAttribute()  # a numeric string, as posted
    cumulative = BooleanAttribute(default=False)
    metadata = UnicodeAttribute(default="")
    expires_at = TTLAttribute(null=True)  # pods' only
