"""Every DynamoDB table, as PynamoDB models, in one place.

Table names and the endpoint come from settings; `bind()` (called at the start of
each request and command) points the models at them and drops cached connections
when they change.
"""
from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TableError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib import settings
from chalicelib.observability import logger

# Sort key of the item that holds a stats series' running totals: after every bucket,
# so one Query from t1 upwards returns the buckets and then the totals.
TOTALS_T = 2**53
M = TypeVar("M", bound=Model)
RELIABILITY_PRIOR = 10.0  # a new worker counts as if it had served this many requests well


class _Meta:
    billing_mode = "PAY_PER_REQUEST"
    table_name = ""
    region = None
    host = None


class ApiKey(Model):
    """A key, known only by its SHA-256: an account's console key or an endpoint group's key."""

    class Meta(_Meta):
        table_kind = "API_KEYS"

    key_hash = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # "account" | "endpoint"
    account_id = NumberAttribute()
    endpoint_id = NumberAttribute(null=True)
    name = UnicodeAttribute(null=True)  # the account's name, on account keys
    created_at = NumberAttribute()
    # On endpoint keys, a copy of what /route/ reads of the endpoint (ROUTING_FIELDS), written in
    # the same transaction as the endpoint, so routing reads the key and nothing else of it.
    endpoint_name = UnicodeAttribute(null=True)
    endpoint_state = UnicodeAttribute(null=True)
    max_queue_time = NumberAttribute(null=True)
    target_queue_time = NumberAttribute(null=True)


ROUTING_FIELDS = ("endpoint_name", "endpoint_state", "max_queue_time", "target_queue_time")


class Endpoint(Model):
    """An endpoint group (Vast `endptjob`): what clients route to, with its scaling knobs."""

    class Meta(_Meta):
        table_kind = "ENDPOINTS"

    account_id = NumberAttribute(hash_key=True)
    endpoint_id = NumberAttribute(range_key=True)
    endpoint_name = UnicodeAttribute()
    endpoint_state = UnicodeAttribute(default="active")
    min_load = NumberAttribute()
    min_cold_load = NumberAttribute()
    target_util = NumberAttribute()
    cold_mult = NumberAttribute()
    cold_workers = NumberAttribute()
    max_workers = NumberAttribute()
    max_queue_time = NumberAttribute()
    target_queue_time = NumberAttribute()
    inactivity_timeout = NumberAttribute(null=True)
    key_nonce = UnicodeAttribute()  # with the server secret, derives the endpoint's api_key
    woken_at = NumberAttribute(null=True)  # when queueing last woke the scaler (see scaling.wake)
    created_at = NumberAttribute()


class LoadHour(MapAttribute):
    """One hour of the scaling policy's memory: its peak load, and its largest jump from idle."""

    start = NumberAttribute()
    peak = NumberAttribute()
    rise = NumberAttribute(default=0)


class WorkerGroup(Model):
    """A worker group (Vast `autojob`): how and where an endpoint's workers are launched."""

    class Meta(_Meta):
        table_kind = "WORKER_GROUPS"

    account_id = NumberAttribute(hash_key=True)
    group_id = NumberAttribute(range_key=True)
    endpoint_id = NumberAttribute()
    # The endpoint's knobs, where this group overrides them (null: the endpoint's value governs).
    min_load = NumberAttribute(null=True)
    min_cold_load = NumberAttribute(null=True)
    target_util = NumberAttribute(null=True)
    cold_mult = NumberAttribute(null=True)
    cold_workers = NumberAttribute(null=True)
    max_workers = NumberAttribute(null=True)
    test_workers = NumberAttribute()
    gpu_ram = NumberAttribute()
    search_params = UnicodeAttribute(default="")
    template_hash = UnicodeAttribute(null=True)
    template_id = NumberAttribute(null=True)
    launch_args = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    lease_owner = UnicodeAttribute(null=True)  # the scheduler pass acting on this group...
    lease_until = NumberAttribute(null=True)  # ...until then (a conditional write takes it)
    memory = ListAttribute(of=LoadHour, null=True)  # the policy's, written with the lease release
    generation = NumberAttribute(default=0)  # raised by each rolling update; workers launched carry it
    rolling = BooleanAttribute(default=False)  # a rolling update is replacing older generations


class WorkersByEndpoint(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-endpoint"
        projection = AllProjection()

    endpoint_id = NumberAttribute(hash_key=True)
    group_id = NumberAttribute(range_key=True)


class Worker(Model):
    """One worker process, keyed by the hash of its `mtoken` so a report costs one read.

    Rates (`cur_load`, `cur_perf`, `req_rate`) are work units or requests per second.
    `expires_at` is refreshed by every report; reads treat an expired worker as gone.
    """

    class Meta(_Meta):
        table_kind = "WORKERS"

    token_hash = UnicodeAttribute(hash_key=True)
    worker_id = NumberAttribute()
    instance_id = NumberAttribute(null=True)  # the provider's id, which reports may carry
    launch_label = UnicodeAttribute(null=True)  # set when the scaler launched it: the instance's label
    generation = NumberAttribute(default=0)  # its group's generation when it was launched
    replaces = NumberAttribute(null=True)  # the older worker a rolling update launched it to replace
    price_per_hour = NumberAttribute(default=0)
    gpu_name = UnicodeAttribute(null=True)  # as the provider's offer named it, for workers the scaler launched
    unavailable = BooleanAttribute(default=False)  # a stopped machine that can no longer start
    account_id = NumberAttribute()
    endpoint_id = NumberAttribute()
    group_id = NumberAttribute()
    status = UnicodeAttribute(default="starting")
    url = UnicodeAttribute(null=True)
    error_msg = UnicodeAttribute(null=True)
    overloaded = BooleanAttribute(default=False)
    cur_load = NumberAttribute(default=0)
    cur_load_rolling_avg = NumberAttribute(default=0)
    cur_perf = NumberAttribute(default=0)
    max_perf = NumberAttribute(default=0)
    measured_perf = NumberAttribute(default=0)
    dlperf = NumberAttribute(default=0)
    queue_load = NumberAttribute(default=0)  # work units waiting or in progress, as reported
    routed_load = NumberAttribute(default=0)  # work units routed here since the last report
    routed_count = NumberAttribute(default=0)  # requests ever routed here: the `reqnum`
    reqs_working = NumberAttribute(default=0)
    num_requests = NumberAttribute(default=0)  # cumulative, as the worker counts them since its last (re)load
    req_rate = NumberAttribute(default=0)
    ok_count = NumberAttribute(default=0)  # finished requests that succeeded, decayed (see worker_status)
    failed_count = NumberAttribute(default=0)  # ...and failed; reliability is derived from the two
    disk_usage = NumberAttribute(default=0)
    loadtime = NumberAttribute(default=0)
    restart_s = NumberAttribute(null=True)  # its last start from stopped took this long to serve (its loadtime)
    loaded_at = NumberAttribute(default=0)
    started_at = NumberAttribute()
    last_report_at = NumberAttribute(default=0)
    expires_at = TTLAttribute()
    by_endpoint = WorkersByEndpoint()

    def is_live(self, now: float) -> bool:
        return self.expires_at.timestamp() > now

    @property
    def reliability(self) -> float:
        """Its recent success rate: finished requests that succeeded, with a prior of successes."""
        ok, failed = float(self.ok_count or 0), float(self.failed_count or 0)
        return (ok + RELIABILITY_PRIOR) / (ok + failed + RELIABILITY_PRIOR)


class StatBucket(Model):
    """Sums for one stats series (`e#<endpoint>` or `g#<group>`) over one time bucket.

    Metrics are derived when read (see `stats`), so buckets merge by adding.
    The item at `t = TOTALS_T` holds the series' running totals and never expires.
    """

    class Meta(_Meta):
        table_kind = "STATS"

    series = UnicodeAttribute(hash_key=True)
    t = NumberAttribute(range_key=True)
    workers = NumberSetAttribute(null=True)  # ids of the workers that reported
    work = NumberAttribute(default=0)  # work units that arrived at workers
    capacity_s = NumberAttribute(default=0)  # sum of max_perf x seconds, loaded workers
    reqs = NumberAttribute(default=0)  # requests workers received
    ok = NumberAttribute(default=0)  # finished requests that succeeded
    failed = NumberAttribute(default=0)
    unmet_work = NumberAttribute(default=0)  # work /route/ found no worker for
    unmet_reqs = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)


class EventsByEndpoint(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-endpoint"
        projection = AllProjection()

    endpoint_id = NumberAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class Event(Model):
    """One entry of a group's log: an action a scheduler pass took (what, why, how it went), a
    worker's lifecycle change, or a rolling update's step. Kept `EVENTS_RETENTION_DAYS`."""

    class Meta(_Meta):
        table_kind = "EVENTS"

    group_id = NumberAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # see `event_key`: time first, so newest last
    endpoint_id = NumberAttribute(null=True)  # null on rows written before the endpoint index
    t = NumberAttribute()
    action = UnicodeAttribute()
    reason = UnicodeAttribute()
    outcome = UnicodeAttribute()
    worker_id = NumberAttribute(null=True)
    instance_id = NumberAttribute(null=True)
    offer_id = NumberAttribute(null=True)
    expires_at = TTLAttribute()
    by_endpoint = EventsByEndpoint()


_EVENT_SEQUENCE = itertools.count()


def event_key(t: float) -> str:
    """An event's sort key: its time, this process's sequence (the order of one pass's events),
    and random digits, so events of one instant from two processes never collide."""
    return f"{t:017.6f}#{next(_EVENT_SEQUENCE) % 10**9:09d}{secrets.token_hex(3)}"


class Counter(Model):
    """Monotonic id sequences (accounts, endpoints, groups, workers)."""

    class Meta(_Meta):
        table_kind = "META"

    name = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)


class EndpointName(Model):
    """An endpoint's name, claimed for its account: written with the endpoint, so names are unique."""

    class Meta(_Meta):
        table_kind = "META"

    name = UnicodeAttribute(hash_key=True)  # see `key`
    endpoint_id = NumberAttribute()

    @staticmethod
    def key(account_id: int, endpoint_name: str) -> str:
        return f"endpoint-name#{account_id}#{endpoint_name}"


class ServerKeys(Model):
    """The routing RSA key pair and the secret endpoint keys are derived from; created once."""

    class Meta(_Meta):
        table_kind = "META"

    name = UnicodeAttribute(hash_key=True)
    private_pem = UnicodeAttribute()
    key_secret = UnicodeAttribute()


MODELS: tuple[type[Model], ...] = (ApiKey, Endpoint, WorkerGroup, Worker, StatBucket, Event, Counter,
                                   EndpointName, ServerKeys)

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


def next_id(sequence: str) -> int:
    """The next integer of `sequence`: one atomic counter update."""
    counter = Counter(sequence)
    counter.update(actions=[Counter.value.add(1)])
    return int(counter.value)


def update_existing(item: Model, actions: list, condition: Any = None) -> bool:
    """Update `item` if it still exists (and `condition` holds); False if not.

    A plain UpdateItem on a deleted key creates a new item holding only what it sets,
    so every update of an existing row goes through here.
    """
    guard = getattr(type(item), item._hash_keyname).exists()
    try:
        item.update(actions=actions, condition=guard if condition is None else guard & condition)
        return True
    except UpdateError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise


_TRANSIENT_CODES = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                    "InternalServerError", "ServiceUnavailable", "TransactionInProgressException"}
_TRANSIENT_REASONS = {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"}


def is_transient(error: BaseException) -> bool:
    """True for a DynamoDB failure that nothing is wrong with but the moment: throttling, a
    server error, a timeout or a lost connection. Botocore has retried it already."""
    if isinstance(error, TransactWriteError):
        reasons = {r.code for r in error.cancellation_reasons or [] if r is not None}
        if reasons & _TRANSIENT_REASONS:
            return True
    cause = error.cause if isinstance(error, PynamoDBException) else error
    if isinstance(cause, BotoCoreError):
        return True  # no answer: a timeout, a refused or dropped connection
    return error_code(error) in _TRANSIENT_CODES


def error_code(error: BaseException) -> str | None:
    """DynamoDB's error code behind `error`, if DynamoDB answered at all.

    (PynamoDB's own `cause_response_code` fails when no answer came.)
    """
    cause = error.cause if isinstance(error, PynamoDBException) else error
    if isinstance(cause, ClientError):
        return (cause.response or {}).get("Error", {}).get("Code")
    return None


def missing_fields(item: Model) -> list[str]:
    """The attributes a complete row has and this one lacks (written by a stray partial update)."""
    return [name for name, attribute in item.get_attributes().items()
            if not attribute.null and getattr(item, name) is None]


def complete(items: Iterable[M]) -> list[M]:
    """The rows of `items` that are complete; the others are logged and left out."""
    kept = []
    for item in items:
        missing = missing_fields(item)
        if missing:
            logger.warning("skipping an incomplete row", table=item.Meta.table_name,
                           key=str(item._get_keys()), missing=missing)
        else:
            kept.append(item)
    return kept


def epoch(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)
