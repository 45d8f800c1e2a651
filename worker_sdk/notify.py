"""Reports to the control plane's `/worker_status/` and `/delete_requests/`.

Same functions and fields as vast-pyworker's `notify` (seed 001): every call takes the
`data` dict holding the worker's `id` and `mtoken` and the control plane's address.
Each report is retried a few times; a report that still fails is logged, not raised,
so a worker keeps serving while the control plane is briefly unreachable.
"""
from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request

log = logging.getLogger(__name__)
ATTEMPTS = 3
TIMEOUT_S = 5.0


def send_data(data: dict, url: str, path: str, attempts: int = ATTEMPTS) -> bool:
    """POST `data` as JSON to `url` + `path`; True once the control plane accepted it."""
    target = url.split(",")[0].rstrip("/") + path
    body = json.dumps(data).encode()
    for attempt in range(attempts):
        request = urllib.request.Request(target, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S):
                return True
        except urllib.error.HTTPError as error:
            if error.code < 500 and error.code != 429:
                log.error("%s refused the report: HTTP %s", path, error.code)
                return False
        except (urllib.error.URLError, OSError) as error:
            log.warning("%s unreachable (%s), attempt %d", path, error, attempt + 1)
        time.sleep(0.5 * 2**attempt)
    return False


def worker_url() -> str | None:
    """Where clients reach this worker: WORKER_URL, else what Vast sets in every instance."""
    if os.environ.get("WORKER_URL"):
        return os.environ["WORKER_URL"]
    port = os.environ.get("WORKER_PORT")
    public_port = os.environ.get(f"VAST_TCP_PORT_{port}") if port else None
    if os.environ.get("PUBLIC_IPADDR") and public_port:
        return f"http://{os.environ['PUBLIC_IPADDR']}:{public_port}"
    return None


def loaded(data: dict, autoscaler_address: str, load_time: float, max_perf: float) -> bool:
    """The model finished loading in `load_time` s and can serve `max_perf` work units/s.

    Also says where the worker is reachable (`url`), when the environment tells.
    """
    data["loadtime"] = load_time
    data["max_perf"] = max_perf
    url = data.get("url") or worker_url()
    return send_data({**data, "url": url} if url else data, autoscaler_address, "/worker_status/")


def update(data: dict, autoscaler_address: str, cur_load: float, num_requests_recieved: int) -> bool:
    """Current load (work units/s arriving) and requests received so far (the field's spelling is Vast's)."""
    data["cur_load"] = cur_load
    data["num_requests_recieved"] = num_requests_recieved
    return send_data(data, autoscaler_address, "/worker_status/")


def error(data: dict, autoscaler_address: str, error_msg: str) -> bool:
    """Something is wrong with this worker: the scaler replaces it."""
    data["error_msg"] = error_msg
    return send_data(data, autoscaler_address, "/worker_status/")


def finished(data: dict, autoscaler_address: str, requests: list[dict]) -> bool:
    """Requests that ended: `[{request_idx, success, ...}]`; failures lower this worker's reliability."""
    body = {"worker_id": data["id"], "mtoken": data["mtoken"], "requests": requests}
    return send_data(body, autoscaler_address, "/delete_requests/")
