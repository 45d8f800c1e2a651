"""The stats table: summed buckets per series."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, NumberSetAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.core.store.base import TableMeta

# Sort key of the item that holds a stats series' running totals: after every bucket,
# so one Query from t1 upwards returns the buckets and then the totals.
TOTALS_T = 2**53


class StatBucket(Model):
    """Sums for one stats series (`e#<endpoint>` or `g#<group>`) over one time bucket.

    Metrics are derived when read (see `stats`), so buckets merge by adding.
    The item at `t = TOTALS_T` holds the series' running totals and never expires.
    """

    class Meta(TableMeta):
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
