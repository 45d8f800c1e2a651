"""The fleet side of the local stack: the demo endpoint, the scheduler on a timer, the provider.

Chalice's local server does not run scheduled functions, so the stack calls the same pass the
scheduled Lambda runs, every SCALE_INTERVAL seconds, in a thread of its own process, and
the one-endpoint pass whenever /route/ wakes it (SCALE_WAKE_URL points here).
"""
from __future__ import annotations

import json
import os
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
    """Runs a scaling pass every `interval` seconds, and a pass over one endpoint whenever
    /route/ wakes it (POST {account_id, endpoint_id} to the wake port), until stopped; then
    cleans up local workers. One thread runs every pass, as the provider's state is a file."""

    def __init__(self, interval: float, wake_port: int | None = None):
        super().__init__(name="scale-timer", daemon=True)
        self.interval = interval
        self.provider = providers.from_settings()
        self.wakes: queue.Queue = queue.Queue()
        self._stopping = threading.Event()
        self._listener = wake_listener(wake_port, self.wakes) if wake_port else None

    def run(self) -> None:
        next_pass = time.monotonic() + self.interval
        while not self._stopping.is_set():
            endpoint, wait = None, next_pass - time.monotonic()
            if wait > 0:  # wakes are served until the schedule is due, never instead of it
                try:
                    endpoint = self.wakes.get(timeout=wait)
                except queue.Empty:
                    pass
            if self._stopping.is_set():
                break
            if endpoint is None:
                next_pass = time.monotonic() + self.interval
            try:
                scheduler.run_pass(self.provider, endpoint=endpoint)
            except Exception as error:  # a pass that fails must not end the stack
                print(f"scaling pass failed: {error}", flush=True)

    def stop(self) -> None:
        self._stopping.set()
        self.wakes.put(None)
        if self._listener is not None:
            self._listener.shutdown()
        if self.ident is not None:  # a stop signal may come between creating the timer and starting it
            self.join(timeout=60)
        if isinstance(self.provider, LocalProvider):
            self.provider.destroy_all()


def wake_listener(port: int, wakes: queue.Queue) -> ThreadingHTTPServer:
    """What the wake Lambda is on AWS: /route/ POSTs the endpoint to scale, the timer runs it."""

    class Wake(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                wakes.put((int(body["account_id"]), int(body["endpoint_id"])))
                self.send_response(202)
            except (ValueError, KeyError, TypeError):
                self.send_response(400)
            self.end_headers()

        def log_message(self, *args: object) -> None:  # quiet: the pass logs what it does
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Wake)
    threading.Thread(target=server.serve_forever, name="wake-listener", daemon=True).start()
    return server


def scale_interval() -> float:
    return float(os.environ.get("SCALE_INTERVAL") or 15)
