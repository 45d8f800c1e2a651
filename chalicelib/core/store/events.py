"""The events table: each group's log, also indexed by endpoint."""
from __future__ import annotations

import itertools
import secrets

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.store.base import TableMeta


class EventsByEndpoint(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-endpoint"
        projection = AllProjection()

    endpoint_id = NumberAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class Event(Model):
    """One entry of a group's log: an action a scheduler pass took (what, why, how it went), a
    worker's lifecycle change, or a rolling update's step. Kept `EVENTS_RETENTION_DAYS`."""

    class Meta(TableMeta):
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
