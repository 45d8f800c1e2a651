"""What every table shares: its settings-driven Meta, and the helpers for writing and reading
rows safely (conditional updates, transient failures, incomplete rows)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.models import Model

from chalicelib.core.observability import logger

M = TypeVar("M", bound=Model)


class TableMeta:
    """Every table: on-demand, its name and endpoint set by `bind()` from the settings."""

    billing_mode = "PAY_PER_REQUEST"
    table_name = ""
    region = None
    host = None


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


def condition_failed(error: TransactWriteError) -> bool:
    """Whether a transaction was cancelled because one of its conditions did not hold."""
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or [])


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


def is_too_large(error: BaseException) -> bool:
    """True when DynamoDB refused a write for its size: an item over 400 KB, a key over its bytes."""
    cause = error.cause if isinstance(error, PynamoDBException) else error
    if not isinstance(cause, ClientError) or error_code(error) != "ValidationException":
        return False
    message = str((cause.response or {}).get("Error", {}).get("Message", "")).lower()
    return "size" in message and ("exceeded" in message or "exceeds" in message)


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
