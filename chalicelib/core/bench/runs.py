"""Benchmark runs of an account: one at a time is active (initialized or started); it ends
when a client sets it finished or failed, or deletes it. Nothing here executes a job, so a
new run is started at once.

Creating a run is three requests (is one active, the id, then one transaction that claims the
account's `ActiveRun` and writes the run); ending one is a read and one transaction.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import ApiError, conflict, not_found
from chalicelib.core.store import ActiveRun, Metric, Run, complete, condition_failed, connection, next_id
from chalicelib.core.store.bench import bench_pk, metrics_prefix, run_sk

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class State(StrEnum):
    INITIALIZED = "initialized"
    STARTED = "started"
    FAILED = "failed"
    FINISHED = "finished"


ACTIVE = (State.INITIALIZED, State.STARTED)
ENDED = (State.FINISHED, State.FAILED)


def format_date(moment: datetime | float) -> str:
    """The API's date: UTC, `%Y-%m-%dT%H:%M:%S.%fZ`, a four-digit year and six-digit fraction
    (so dates sort as text). OverflowError for a moment outside years 1 to 9999 in UTC."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, tz=UTC)
    moment = moment.astimezone(UTC)
    return f"{moment.year:04d}{moment.strftime(DATE_FORMAT[2:])}"


@dataclass(frozen=True)
class RunSpec:
    """What a run is started with: its name, and the job's settings as the client gave them."""

    name: str
    num_workers: int = 1
    job: dict[str, Any] = field(default_factory=dict)


def create(account_id: int, spec: RunSpec, now: float | None = None) -> Run:
    """A new started run; 409 while another run of the account is active."""
    now = time.time() if now is None else now
    try:
        ActiveRun.get(bench_pk(account_id), "active", consistent_read=True, attributes_to_get=["pk"])
        raise _busy()  # before taking an id, so a refused create leaves no gap
    except ActiveRun.DoesNotExist:
        pass
    run_id = next_id("bench-run")
    run = Run(bench_pk(account_id), run_sk(run_id), run_id=run_id, name=spec.name, state=State.STARTED,
              created_at=format_date(now), num_workers=spec.num_workers, job_id=str(uuid.uuid4()),
              job_metadata=dict(spec.job))
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(ActiveRun(bench_pk(account_id), run_id=run_id), condition=ActiveRun.pk.does_not_exist())
            tx.save(run, condition=Run.pk.does_not_exist())
    except TransactWriteError as error:
        if condition_failed(error):
            raise _busy() from None
        raise
    return run


def _busy() -> ApiError:
    return conflict("a run is already active: finish or delete it before starting another")


def list_runs(account_id: int) -> list[Run]:
    """The account's runs, oldest first: one Query."""
    return complete(Run.query(bench_pk(account_id), Run.sk.startswith("run#"), consistent_read=True))


def get(account_id: int, run_id: int) -> Run:
    """The account's run; 404 if it has none of that id."""
    try:
        return Run.get(bench_pk(account_id), run_sk(run_id), consistent_read=True)
    except Run.DoesNotExist:
        raise not_found(f"run {run_id}") from None


def exists(account_id: int, run_id: int) -> bool:
    """Whether the account has a run of that id: one consistent GetItem."""
    try:
        Run.get(bench_pk(account_id), run_sk(run_id), consistent_read=True, attributes_to_get=["run_id"])
    except Run.DoesNotExist:
        return False
    return True


def end(account_id: int, run_id: int, state: State, now: float | None = None) -> Run:
    """Set an active run finished or failed (kept, with `finished_at`): one read, one transaction.
    404 if there is no such run, 409 if it has ended already."""
    now = time.time() if now is None else now
    run = get(account_id, run_id)
    if run.state in ENDED:
        raise conflict(f"run {run_id} has ended already ({run.state})")
    finished_at = format_date(now)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(run, [Run.state.set(state), Run.finished_at.set(finished_at)],
                      condition=Run.state.is_in(*ACTIVE))
            tx.delete(ActiveRun(bench_pk(account_id)), condition=ActiveRun.run_id == run_id)
    except TransactWriteError as error:
        if condition_failed(error):
            raise conflict(f"run {run_id} has ended already") from None
        raise
    run.state, run.finished_at = state, finished_at
    return run


def delete(account_id: int, run_id: int) -> None:
    """End the run and remove it with its metrics; 404 if there is no such run.

    The run goes first (no metric is posted for it after that), then its metrics: a delete cut
    short between the two is finished by the next one, which finds no run (ids are never reused)."""
    try:
        run = get(account_id, run_id)
    except ApiError:
        _delete_metrics(account_id, run_id)
        raise
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.delete(run, condition=Run.pk.exists())
            if run.state in ACTIVE:
                tx.delete(ActiveRun(bench_pk(account_id)), condition=ActiveRun.run_id == run_id)
    except TransactWriteError as error:
        if condition_failed(error):
            raise not_found(f"run {run_id}") from None
        raise
    _delete_metrics(account_id, run_id)


def _delete_metrics(account_id: int, run_id: int) -> None:
    """Remove a run's metrics: one Query, and a BatchWriteItem per 25 found."""
    prefix = metrics_prefix("run", run_id)
    with Metric.batch_write() as batch:
        for metric in Metric.query(bench_pk(account_id), Metric.sk.startswith(prefix), attributes_to_get=["pk", "sk"]):
            batch.delete(metric)


def as_dict(run: Run) -> dict[str, Any]:
    return {"id": int(run.run_id), "name": run.name, "created_at": run.created_at, "finished_at": run.finished_at,
            "state": run.state, "num_workers": int(run.num_workers), "job_id": run.job_id,
            "job_metadata": run.job_metadata or {}}

