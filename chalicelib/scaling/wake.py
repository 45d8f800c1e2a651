"""Waking the scaler the moment work queues, instead of at the next scheduled pass.

Cold workers start in seconds, but the schedule runs once a minute: when /route/ finds
that a request would wait more than a tenth of the endpoint's `target_queue_time` (or
finds no worker at all), it asks for a pass over that endpoint's groups at once, as
Knative's activator pokes its autoscaler. A conditional write on the endpoint keeps it
to one wake per `WAKE_INTERVAL_S` across every API instance; the pass itself runs
elsewhere (an asynchronous Lambda invocation on AWS, the local stack's scaler over HTTP),
so the request that noticed is not slowed by it.
"""
from __future__ import annotations

import json
from typing import Any

import boto3
import requests

from chalicelib.core import settings
from chalicelib.core.observability import logger, metrics
from chalicelib.core.store import Endpoint, update_existing

_last_wake: dict[int, float] = {}  # per API instance, saves the conditional write while it would fail


def wake(endpoint: Any, now: float) -> bool:
    """Ask for a pass over the endpoint's groups, at most once per interval. True if asked."""
    endpoint_id, interval = int(endpoint.endpoint_id), settings.wake_interval_s()
    if now - _last_wake.get(endpoint_id, float("-inf")) < interval:
        return False
    _last_wake[endpoint_id] = now
    row = Endpoint(int(endpoint.account_id), endpoint_id)  # `endpoint` may be the routing copy on its key
    try:
        if not update_existing(row, [Endpoint.woken_at.set(now)],
                               Endpoint.woken_at.does_not_exist() | (Endpoint.woken_at <= now - interval)):
            return False  # another instance woke it within the interval (or it was deleted)
    except Exception as error:  # noqa: BLE001 - a failed wake must not fail the request; the schedule still runs
        logger.warning("could not claim the wake", endpoint_id=endpoint_id, error=type(error).__name__)
        return False
    payload = {"account_id": int(endpoint.account_id), "endpoint_id": endpoint_id}
    try:
        if settings.scale_function():
            boto3.client("lambda", region_name=settings.region()).invoke(
                FunctionName=settings.scale_function(), InvocationType="Event", Payload=json.dumps(payload))
        elif settings.wake_url():
            requests.post(settings.wake_url(), json=payload, timeout=2).raise_for_status()
        else:
            return False  # nothing to wake: the scheduled pass will see the queue
    except Exception as error:  # noqa: BLE001 - a failed wake must not fail the request; the schedule still runs
        logger.warning("could not wake the scaler", endpoint_id=endpoint_id, error=str(error))
        return False
    metrics.add_metric(name="ScalerWakes", unit="Count", value=1)
    return True
