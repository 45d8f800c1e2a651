"""The keys table: account and endpoint keys, known only by their hashes."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.core.store.base import TableMeta


class ApiKey(Model):
    """A key, known only by its SHA-256: an account's console key, an endpoint group's key, or the
    access key of a ClearML credential pair (with its secret's SHA-256)."""

    class Meta(TableMeta):
        table_kind = "API_KEYS"

    key_hash = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # "account" | "endpoint" | "clearml"
    account_id = NumberAttribute()
    endpoint_id = NumberAttribute(null=True)
    name = UnicodeAttribute(null=True)  # the account's name, on account keys
    created_at = NumberAttribute()
    secret_hash = UnicodeAttribute(null=True)  # on clearml keys: the SHA-256 of the pair's secret key
    # On endpoint keys, a copy of what /route/ reads of the endpoint (ROUTING_FIELDS), written in
    # the same transaction as the endpoint, so routing reads the key and nothing else of it.
    endpoint_name = UnicodeAttribute(null=True)
    endpoint_state = UnicodeAttribute(null=True)
    max_queue_time = NumberAttribute(null=True)
    target_queue_time = NumberAttribute(null=True)


ROUTING_FIELDS = ("endpoint_name", "endpoint_state", "max_queue_time", "target_queue_time")
