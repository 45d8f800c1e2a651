"""The fleet side of the local stack: the demo endpoint, the scheduler on a timer, the provider.

Chalice's local server does not run scheduled functions, so the stack calls the same pass the
scheduled Lambda runs, every SCALE_INTERVAL seconds, in a thread of its own process, and
the one-endpoint pass whenever /route/ wakes it (SCALE_WAKE_URL points here).

The pass's JSON logs and metrics go to `logs/scaler.log` in the state dir; the terminal gets
one short line per decision and per error (`pass_lines`), unless something else owns it.
"""
from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Mapping
from contextlib import nullcontext, redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO

import requests

from chalicelib import providers
from chalicelib.core.observability import logger
from chalicelib.core.store import Endpoint, Event
from chalicelib.providers.local import LocalProvider
from chalicelib.scaling import scheduler
from devstack.stack import SCALER_LOG, Stack, human_line, say

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


def decision_text(endpoint: str, decision: Event) -> str:
    """`demo/group 1: launch -> ok (why)`: the endpoint's name, the group, what was done, how it went, why."""
    return f"{endpoint}/group {decision.group_id}: {decision.action} -> {decision.outcome} ({decision.reason})"


def pass_lines(report: scheduler.PassReport, names: Mapping[int, str], now: float | None = None) -> list[str]:
    """The terminal's lines for a pass: one per decision (at its time; a group left as it is,
    action "pass", is none), one per group the pass failed on and one if the pass itself
    failed (at `now`). An endpoint is shown by its name in `names`, else by its id."""
    lines = []
    if report.error:
        lines.append(human_line("scaler", f"error: {report.error}", now))
    for outcome in report.outcomes:
        if outcome.error:
            lines.append(human_line("scaler", f"error: group {outcome.group_id}: {outcome.error}", now))
        for d in outcome.decisions:
            if d.action != "pass":
                endpoint = names.get(int(d.endpoint_id or 0)) or f"endpoint {d.endpoint_id}"
                lines.append(human_line("scaler", decision_text(endpoint, d), d.t))
    return lines


class ScaleTimer(threading.Thread):
    """Runs a scaling pass every `interval` seconds, and a pass over one endpoint whenever
    /route/ wakes it (POST {account_id, endpoint_id} to the wake port), until stopped; then
    cleans up local workers. One thread runs every pass, as the provider's state is a file.

    With a `log_dir`, this process's JSON logs and the pass's metrics are appended to its
    scaler.log; with a `terminal`, each pass's decisions and errors are written there
    (`pass_lines`), whole, even while a pass has stdout redirected to the log."""

    def __init__(self, interval: float, wake_port: int | None = None, log_dir: Path | None = None,
                 terminal: TextIO | None = None):
        super().__init__(name="scale-timer", daemon=True)
        self.interval = interval
        self.provider = providers.from_settings()
        self.wakes: queue.Queue = queue.Queue()
        self.terminal = terminal
        self.names: dict[int, str] = {}  # endpoint id -> name, for the terminal's lines
        self.log: TextIO | None = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            self.log = open(log_dir / SCALER_LOG, "a", buffering=1)  # noqa: SIM115 - open while the process runs
            logger.registered_handler.setStream(self.log)
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
                with redirect_stdout(self.log) if self.log is not None else nullcontext():  # its metrics
                    report = scheduler.run_pass(self.provider, endpoint=endpoint)
            except Exception as error:  # a pass that fails must not end the stack
                logger.exception("scaling pass failed")
                self._say([human_line("scaler", f"error: scaling pass failed: {type(error).__name__}: {error}")])
                continue
            self._say(pass_lines(report, self._names(report)))

    def _say(self, lines: list[str]) -> None:
        for line in lines if self.terminal is not None else []:
            say(self.terminal, line)

    def _names(self, report: scheduler.PassReport) -> Mapping[int, str]:
        """The names of the endpoints the pass decided on (read again when one is new)."""
        if self.terminal is not None and any(int(d.endpoint_id or 0) not in self.names
                                             for o in report.outcomes for d in o.decisions if d.action != "pass"):
            try:
                self.names.update({int(e.endpoint_id): e.endpoint_name for e in Endpoint.scan()})
            except Exception:  # noqa: BLE001 - the lines show the id instead
                logger.warning("could not read the endpoints' names")
        return self.names

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
