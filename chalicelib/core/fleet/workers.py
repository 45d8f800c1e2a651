"""Workers: their lifecycle and the reads of an endpoint's workers."""
from __future__ import annotations

from chalicelib.core.store import Worker, WorkersByEndpoint


def list_workers(endpoint_id: int, group_id: int | None = None) -> list[Worker]:
    """All worker records of an endpoint (or one of its groups), live or not: one paged Query."""
    condition = WorkersByEndpoint.group_id == group_id if group_id is not None else None
    return list(Worker.by_endpoint.query(endpoint_id, condition))
