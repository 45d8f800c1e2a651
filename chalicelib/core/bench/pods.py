"""An account's pods, as MLBench lists them: each live worker of its endpoints and each live
ClearML container, as `{name, labels, phase, ip}` (all strings, `labels` a dict's repr).

A pod's name is `<endpoint>-worker-<id>` or `<endpoint>-container-<id>`, each part as given
when it is a pod name's (letters, digits, '.', '_', '-', alphanumeric at both ends, at most
100 long) and holds neither `-worker-` nor `-container-`, else its letters and digits with a
hash of it (`my-model-1f0c2a9b` for `my model`): every listed name is one the metrics calls
take, and no two pods share one.

One Query for the endpoints, one per endpoint for its workers, one for the containers.
"""
from __future__ import annotations

import hashlib
import re
import time
from urllib.parse import urlsplit

from chalicelib.core.fleet.endpoints import list_endpoints
from chalicelib.core.fleet.workers import Status, list_workers
from chalicelib.core.serving import containers
from chalicelib.core.store import Container, Endpoint, Worker

PHASES = {
    Status.REGISTERED: "Pending", Status.LAUNCHING: "Pending", Status.LOADING: "Pending", Status.STARTING: "Pending",
    Status.RUNNING: "Running", Status.IDLE: "Running", Status.STOPPING: "Running",
    Status.STOPPED: "Succeeded", Status.ERROR: "Failed",
}
_PART = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")


def list_pods(account_id: int, now: float | None = None) -> list[dict[str, str]]:
    """The account's pods: its endpoints' workers by endpoint and id, then its containers by id."""
    now = time.time() if now is None else now
    pods = []
    for endpoint in sorted(list_endpoints(account_id), key=lambda e: int(e.endpoint_id)):
        workers = [w for w in list_workers(int(endpoint.endpoint_id)) if w.is_live(now)]
        pods += [worker_pod(endpoint, w) for w in sorted(workers, key=lambda w: int(w.worker_id))]
    live = containers.live(account_id, now)
    return pods + [container_pod(c) for c in sorted(live, key=lambda c: c.container_id)]


def worker_pod(endpoint: Endpoint, worker: Worker) -> dict[str, str]:
    labels = {"app": "gpucp", "component": "worker", "endpoint": endpoint.endpoint_name,
              "group": str(int(worker.group_id))}
    return {"name": f"{_part(endpoint.endpoint_name)}-worker-{int(worker.worker_id)}", "labels": repr(labels),
            "phase": PHASES.get(worker.status, "Unknown"), "ip": _host(worker.url)}


def container_pod(container: Container) -> dict[str, str]:
    labels = {"app": "clearml-serving", "component": "container", "endpoint": container.endpoint_name,
              "model": container.model_name}
    return {"name": f"{_part(container.endpoint_name)}-container-{_part(container.container_id)}",
            "labels": repr(labels),
            "phase": "Running" if container.endpoint_url else "Pending",
            "ip": _host(container.endpoint_url) or container.ip or ""}


def _part(text: str) -> str:
    """`text` as a part of a pod name (see the module's docstring)."""
    if _PART.fullmatch(text) and "-worker-" not in text and "-container-" not in text:
        return text
    words = "-".join(re.findall(r"[A-Za-z0-9]+", text))[:60].strip("-")
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{words}-{digest}" if words else digest


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        return ""
