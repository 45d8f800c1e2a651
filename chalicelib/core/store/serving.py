"""The serving table (ClearML's registry): each account's containers, their status-report
samples, and its ClearML credentials, in one table keyed (pk, sk).

    pk "<account>#containers"            sk container id        a Container (TTL: last activity + timeout)
    pk "<account>#samples#<url hash>"    sk "<t>#<container>"   a Sample (TTL: the retention)
    pk "<account>#credentials"           sk access key          a ClearmlCredential listing row

One Query reads every container of an account, or one endpoint's samples over any range.
DynamoDB deletes expired items up to 48 h late: reads filter on `expires_at` themselves.
"""
from __future__ import annotations

import hashlib

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from chalicelib.core.store.base import TableMeta


def containers_pk(account_id: int) -> str:
    return f"{account_id}#containers"


def samples_pk(account_id: int, endpoint_url: str) -> str:
    return f"{account_id}#samples#{hashlib.sha256(endpoint_url.encode()).hexdigest()[:32]}"


def credentials_pk(account_id: int) -> str:
    return f"{account_id}#credentials"


def sample_sk(t: float, container_id: str) -> str:
    """The time, clamped to 0..1e10 s (year 2286) so its fixed width keeps text order time order."""
    return f"{min(max(t, 0.0), 9_999_999_999.999999):017.6f}#{container_id}"


class Container(Model):
    """A registered serving container, as it last registered or reported."""

    class Meta(TableMeta):
        table_kind = "SERVING"

    pk = UnicodeAttribute(hash_key=True)  # containers_pk
    sk = UnicodeAttribute(range_key=True)  # the container id
    endpoint_name = UnicodeAttribute()
    model_name = UnicodeAttribute()
    endpoint_url = UnicodeAttribute(null=True)  # none yet: a loading instance
    model_source = UnicodeAttribute(null=True)
    model_version = UnicodeAttribute(null=True)
    preprocess_artifact = UnicodeAttribute(null=True)
    input_type = UnicodeAttribute(null=True)
    input_size = UnicodeAttribute(null=True)
    reference = JSONAttribute(null=True)  # [{type, value}]
    tags = JSONAttribute(null=True)
    system_tags = JSONAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    timeout = NumberAttribute()
    register_time = NumberAttribute()
    last_activity = NumberAttribute()
    # from its last status report
    uptime_sec = NumberAttribute(null=True)
    requests_num = NumberAttribute(null=True)
    requests_min = NumberAttribute(null=True)
    latency_ms = NumberAttribute(null=True)
    cpu_count = NumberAttribute(null=True)
    gpu_count = NumberAttribute(null=True)
    last_report = NumberAttribute(null=True)
    expires_at = TTLAttribute()

    @property
    def container_id(self) -> str:
        return self.sk

    def is_live(self, now: float) -> bool:
        """Its timeout has not passed since its last register or report (`expires_at`, DynamoDB's
        TTL, holds whole seconds: it is for the deletion)."""
        return float(self.last_activity) + float(self.timeout) > now


class Sample(Model):
    """One status report's numbers: its request counts and latency, and the machine's stats."""

    class Meta(TableMeta):
        table_kind = "SERVING"

    pk = UnicodeAttribute(hash_key=True)  # samples_pk
    sk = UnicodeAttribute(range_key=True)  # sample_sk
    container_id = UnicodeAttribute()
    t = NumberAttribute()
    requests_num = NumberAttribute(null=True)
    requests_min = NumberAttribute(null=True)
    latency_ms = NumberAttribute(null=True)
    machine_stats = JSONAttribute(null=True)  # as reported: MB, MB/s, % and per-core/GPU lists
    expires_at = TTLAttribute()


class ClearmlCredential(Model):
    """An account's ClearML credential pair as its owner lists it (the secret only as a hash)."""

    class Meta(TableMeta):
        table_kind = "SERVING"

    pk = UnicodeAttribute(hash_key=True)  # credentials_pk
    sk = UnicodeAttribute(range_key=True)  # the access key
    secret_hash = UnicodeAttribute()
    created_at = NumberAttribute()
