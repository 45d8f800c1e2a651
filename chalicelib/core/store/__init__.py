"""Every DynamoDB table, as PynamoDB models, by table family: keys, fleet (endpoints, groups,
workers), stats, events, meta, serving (ClearML containers), bench (MLBench runs and metrics).

Table names and the endpoint come from settings; `bind()` (called at the start of
each request and command) points the models at them and drops cached connections
when they change.
"""
from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.exceptions import TableError
from pynamodb.models import Model

from chalicelib.core import settings
from chalicelib.core.store.base import (
    complete,
    condition_failed,
    epoch,
    error_code,
    is_too_large,
    is_transient,
    missing_fields,
    update_existing,
)
from chalicelib.core.store.bench import ActiveRun, Metric, Run
from chalicelib.core.store.events import Event, EventsByEndpoint, event_key
from chalicelib.core.store.fleet import (
    RELIABILITY_PRIOR,
    Endpoint,
    LoadHour,
    LoadJump,
    NotedLoad,
    Worker,
    WorkerGroup,
    WorkersByEndpoint,
)
from chalicelib.core.store.keys import ROUTING_FIELDS, ApiKey
from chalicelib.core.store.meta import Counter, EndpointName, ServerKeys, next_id
from chalicelib.core.store.serving import ClearmlCredential, Container, Sample
from chalicelib.core.store.stats import TOTALS_T, StatBucket

__all__ = [
    "ActiveRun", "ApiKey", "ClearmlCredential", "Container", "Counter", "Endpoint", "EndpointName", "Event",
    "EventsByEndpoint", "LoadHour", "LoadJump", "Metric", "NotedLoad", "RELIABILITY_PRIOR", "ROUTING_FIELDS", "Run",
    "Sample", "ServerKeys", "StatBucket", "TOTALS_T", "Worker", "WorkerGroup", "WorkersByEndpoint", "bind", "complete",
    "condition_failed", "connection", "create_tables", "epoch", "error_code", "event_key", "is_too_large",
    "is_transient", "missing_fields", "next_id", "update_existing",
]

MODELS: tuple[type[Model], ...] = (ApiKey, Endpoint, WorkerGroup, Worker, StatBucket, Event, Counter, EndpointName,
                                   ServerKeys, Container, Sample, ClearmlCredential, Run, ActiveRun, Metric)

_connection: Connection | None = None


def bind() -> None:
    """Point every model at the tables and endpoint the current settings name."""
    global _connection
    host, region = settings.dynamodb_endpoint(), settings.region()
    for model in MODELS:
        meta = model.Meta
        name = settings.table_name(meta.table_kind)
        if (meta.table_name, meta.host, meta.region) != (name, host, region):
            meta.table_name, meta.host, meta.region = name, host, region
            model._connection = None
    if _connection is None or (_connection.host, _connection.region) != (host, region):
        _connection = Connection(region=region, host=host)


def connection() -> Connection:
    """The low-level connection transactions go through."""
    bind()
    assert _connection is not None
    return _connection


def create_tables() -> None:
    """Create every table that does not exist yet (local runs and tests; AWS uses infra/)."""
    bind()
    for model in MODELS:
        try:
            if not model.exists():
                model.create_table(wait=True)
        except TableError:
            if not model.exists():  # lost a race with a model sharing the table
                raise
