"""The meta table: id counters, claimed endpoint names, the server's keys."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.core.store.base import TableMeta


class Counter(Model):
    """Monotonic id sequences (accounts, endpoints, groups, workers)."""

    class Meta(TableMeta):
        table_kind = "META"

    name = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)


class EndpointName(Model):
    """An endpoint's name, claimed for its account: written with the endpoint, so names are unique."""

    class Meta(TableMeta):
        table_kind = "META"

    name = UnicodeAttribute(hash_key=True)  # see `key`
    endpoint_id = NumberAttribute()

    @staticmethod
    def key(account_id: int, endpoint_name: str) -> str:
        return f"endpoint-name#{account_id}#{endpoint_name}"


class ServerKeys(Model):
    """The routing RSA key pair and the secret endpoint keys are derived from; created once."""

    class Meta(TableMeta):
        table_kind = "META"

    name = UnicodeAttribute(hash_key=True)
    private_pem = UnicodeAttribute()
    key_secret = UnicodeAttribute()


def next_id(sequence: str) -> int:
    """The next integer of `sequence`: one atomic counter update."""
    counter = Counter(sequence)
    counter.update(actions=[Counter.value.add(1)])
    return int(counter.value)
