"""A fake Vast.ai REST API on loopback, for testing VastProvider and the scheduler over real HTTP.

It keeps offers and instances in memory and misbehaves on purpose: a share of calls
fail with 5xx, 429 or a timeout (some timeouts only after the work was done), launches
sometimes end in error, instances take time to boot, and a stopped machine's GPU can
be rented by someone else meanwhile.
"""
from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class FakeInstance:
    id: int
    offer_id: int
    label: str
    env: dict
    price: float
    created: float
    intended: str = "running"
    failed: bool = False
    unavailable: bool = False


@dataclass
class FakeVast:
    api_key: str = "vast-test-key"
    failure_rate: float = 0.0  # share of calls that fail (5xx, 429 or timeout)
    launch_failure_rate: float = 0.0
    boot_s: float = 0.0
    timeout_s: float = 0.3  # how long a "timeout" holds the reply: longer than the client waits
    seed: int = 7
    offers: list[dict] = field(default_factory=list)
    instances: dict[int, FakeInstance] = field(default_factory=dict)
    fail_next: list[str] = field(default_factory=list)  # forced failures for the next calls, in order
    calls: list[str] = field(default_factory=list)
    launches: int = 0

    def __post_init__(self):
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self._next_id = 5000
        if not self.offers:
            self.offers = [{"id": 100 + i, "dph_total": round(1.0 + 0.1 * i, 2), "gpu_name": "RTX 4090",
                            "gpu_ram": 24.0, "dlperf": 50.0} for i in range(40)]

    # --- what tests use -------------------------------------------------------------
    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                fake._serve(self)

            do_GET = do_PUT = do_POST = do_DELETE = _handle

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def live(self) -> list[FakeInstance]:
        return list(self.instances.values())

    def take_gpu(self, instance_id: int) -> None:
        """Someone else rents the machine of a stopped instance."""
        self.instances[instance_id].unavailable = True

    # --- the API ------------------------------------------------------------------
    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        url = urlparse(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length) or b"{}") if length else {}
        with self._lock:
            self.calls.append(f"{request.command} {url.path}")
            roll = self._random.random()
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._reply(request, 401, {"success": False, "error": "auth_error", "msg": "bad key"})
        late_timeout = False
        with self._lock:
            forced = self.fail_next.pop(0) if self.fail_next else None
        if forced or roll < self.failure_rate:
            kind = forced or self._random.choice(["500", "503", "429", "timeout", "late-timeout"])
            if kind == "timeout":
                time.sleep(self.timeout_s)
                return self._reply(request, 504, {"success": False})
            if kind == "late-timeout":
                late_timeout = True  # do the work, then never answer in time
            else:
                return self._reply(request, int(kind), {"success": False, "error": "try again"})
        with self._lock:
            status, reply = self._route(request.command, url.path, parse_qs(url.query), body)
        if late_timeout:
            time.sleep(self.timeout_s)
        self._reply(request, status, reply)

    @staticmethod
    def _reply(request, status: int, reply: dict) -> None:
        data = json.dumps(reply).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, method: str, path: str, query: dict, body: dict) -> tuple[int, dict]:
        parts = [p for p in path.split("/") if p]
        if method == "POST" and parts == ["api", "v0", "bundles"]:
            rented = {i.offer_id for i in self.instances.values()}
            offers = [o for o in self.offers if o["id"] not in rented and o["gpu_ram"] >= body["gpu_ram"]["gte"]]
            return 200, {"offers": offers[: body.get("limit", 20)]}
        if method == "PUT" and parts[:3] == ["api", "v0", "asks"]:
            offer_id = int(parts[3])
            offer = next((o for o in self.offers if o["id"] == offer_id), None)
            if offer is None or offer_id in {i.offer_id for i in self.instances.values()}:
                return 400, {"success": False, "error": "no_such_ask", "msg": "offer is gone"}
            self._next_id += 1
            self.launches += 1
            self.instances[self._next_id] = FakeInstance(
                self._next_id, offer_id, body.get("label", ""), body.get("env", {}), offer["dph_total"],
                time.monotonic(), failed=self._random.random() < self.launch_failure_rate)
            return 200, {"success": True, "new_contract": self._next_id}
        if parts[:3] in (["api", "v0", "instances"], ["api", "v1", "instances"]) and len(parts) == 4:
            instance = self.instances.get(int(parts[3]))
            if instance is None:
                return 404, {"success": False, "error": "not_found"}
            if method == "DELETE":
                del self.instances[instance.id]
                return 200, {"success": True}
            if method == "PUT":
                if body.get("state") == "running" and instance.unavailable:
                    return 400, {"success": False, "error": "resources_unavailable", "msg": "GPU is rented"}
                instance.intended = body.get("state", instance.intended)
                return 200, {"success": True}
        if method == "GET" and parts == ["api", "v1", "instances"]:
            rows = sorted(self.instances.values(), key=lambda i: i.id)
            after = int(query.get("after_token", ["0"])[0])
            page = [i for i in rows if i.id > after][: int(query.get("limit", ["25"])[0])]
            next_token = str(page[-1].id) if page and page[-1].id != rows[-1].id else None
            return 200, {"instances": [self._row(i) for i in page], "next_token": next_token}
        return 404, {"success": False, "error": "no_route", "msg": f"{method} {path}"}

    def _row(self, instance: FakeInstance) -> dict:
        booted = time.monotonic() - instance.created >= self.boot_s
        actual = "exited" if instance.failed else ("running" if booted else "loading")
        if instance.intended == "stopped":
            actual = "exited"
        return {"id": instance.id, "label": instance.label, "actual_status": actual,
                "intended_status": instance.intended, "cur_state": actual, "dph_total": instance.price,
                "public_ipaddr": "127.0.0.1", "ports": {}}
