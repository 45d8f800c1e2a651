"""The fleet side of the local stack: the demo endpoint, the scheduler on a timer, the provider.

`chalice local` does not run scheduled functions, so the stack calls the same pass the
scheduled Lambda runs, every SCALE_INTERVAL seconds, in a thread of its own process.
"""
from __future__ import annotations

import os
import threading

import requests

from chalicelib import providers
from chalicelib.providers.local import LocalProvider
from chalicelib.scaling import scheduler
from devstack.stack import Stack

DEMO_ENDPOINT = {"endpoint_name": "demo", "max_queue_time": 10.0}
DEMO_GROUP = {"min_load": 0, "target_util": 0.8, "cold_mult": 1.5, "cold_workers": 1, "test_workers": 1,
              "max_workers": 6}


def create_demo(stack: Stack) -> dict:
    """The demo endpoint and its worker group (returns the endpoint's row, with its api_key)."""
    auth = {"Authorization": f"Bearer {stack.api_key}"}
    reply = requests.post(f"{stack.url}/api/v0/endptjobs/", json=DEMO_ENDPOINT, headers=auth, timeout=10)
    reply.raise_for_status()
    endpoint_id = reply.json()["result"]
    requests.post(f"{stack.url}/api/v0/autojobs/", json={"endpoint_id": endpoint_id, **DEMO_GROUP}, headers=auth,
                  timeout=10).raise_for_status()
    return requests.get(f"{stack.url}/api/v0/endptjobs/{endpoint_id}/", headers=auth, timeout=10).json()["result"]


class ScaleTimer(threading.Thread):
    """Runs a scaling pass every `interval` seconds until stopped; then cleans up local workers."""

    def __init__(self, interval: float):
        super().__init__(name="scale-timer", daemon=True)
        self.interval = interval
        self.provider = providers.from_settings()
        self.last = None
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.last = scheduler.run_pass(self.provider)
            except Exception as error:  # a pass that fails must not end the stack
                print(f"scaling pass failed: {error}", flush=True)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=60)
        if isinstance(self.provider, LocalProvider):
            self.provider.destroy_all()


def scale_interval() -> float:
    return float(os.environ.get("SCALE_INTERVAL") or 15)
