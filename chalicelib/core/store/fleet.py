"""The fleet's tables: endpoints, worker groups, workers."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.store.base import TableMeta

RELIABILITY_PRIOR = 10.0  # a new worker counts as if it had served this many requests well


class Endpoint(Model):
    """An endpoint group (Vast `endptjob`): what clients route to, with its scaling knobs."""

    class Meta(TableMeta):
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
    """One hour of the scaling policy's memory: its peak load, its largest jump from idle, and
    its largest rise within a lead time."""

    start = NumberAttribute()
    peak = NumberAttribute()
    rise = NumberAttribute(default=0)
    surge = NumberAttribute(null=True)  # none on rows written before it was kept: read as the peak


class LoadJump(MapAttribute):
    """A jump of a group's load, noted by the scaling policy: its onset, the load before and after,
    and when the load first fell back below its middle."""

    at = NumberAttribute()
    base = NumberAttribute()
    level = NumberAttribute()
    end = NumberAttribute(null=True)  # none: not yet, or noted before ends were


class NotedLoad(MapAttribute):
    """The load one pass of the scaling policy saw (the latest reports'), and when."""

    t = NumberAttribute()
    load = NumberAttribute()


class WorkerGroup(Model):
    """A worker group (Vast `autojob`): how and where an endpoint's workers are launched."""

    class Meta(TableMeta):
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
    perf_hint = NumberAttribute(null=True)  # what its owner says one worker serves, until one has benchmarked
    search_params = UnicodeAttribute(default="")
    template_hash = UnicodeAttribute(null=True)
    template_id = NumberAttribute(null=True)
    launch_args = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    lease_owner = UnicodeAttribute(null=True)  # the scheduler pass acting on this group...
    lease_until = NumberAttribute(null=True)  # ...until then (a conditional write takes it)
    memory = ListAttribute(of=LoadHour, null=True)  # the policy's, written with the lease release
    jumps = ListAttribute(of=LoadJump, null=True)  # the policy's recent load jumps, written with it
    noted_load = ListAttribute(of=NotedLoad, null=True)  # the load its recent passes saw (the load's noise), too
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

    class Meta(TableMeta):
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
    status = UnicodeAttribute(default="registered")  # the lifecycle: core.fleet.workers.Status
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
    routed_requests = NumberAttribute(default=0)  # requests routed here since the last report
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
    withdrawn_at = NumberAttribute(null=True)  # when a pass took it out of routing to stop it (STOPPING)
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
