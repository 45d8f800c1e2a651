"""Seed 001's hello-autoscaler backend on worker_sdk: `POST /increment`, `GET /value`.

It reads what the scaler hands every instance (CONTAINER_ID, MASTER_TOKEN, REPORT_ADDR,
WORKER_PORT), "loads a model" (LOAD_SECONDS), benchmarks itself to learn its max_perf,
reports loaded, then reports its load every UPDATE_INTERVAL seconds. Its "GPU" serves
one request at a time, WORK_SECONDS per work unit. Requests must carry the auth_data
that /route/ signed, as the Vast SDK client sends them, unless UNSECURED=true.

    python -m examples.hello_autoscaler
"""
from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from worker_sdk import notify
from worker_sdk.signing import fetch_public_key, is_routed


class Backend:
    def __init__(self, container_id: int, master_token: str, control_server_url: str, *,
                 load_seconds: float, work_seconds: float, update_interval: float, unsecured: bool):
        t1 = time.time()
        self.id, self.master_token, self.control_server_url = container_id, master_token, control_server_url
        self.work_seconds, self.update_interval = work_seconds, update_interval
        self.public_key = None if unsecured else fetch_public_key(control_server_url)
        self.count = 0
        self.num_requests_recieved = 0
        self.interval_work = 0.0
        self.done: list[dict] = []
        self.gpu = threading.Lock()
        self.lock = threading.Lock()
        time.sleep(load_seconds)  # loading the model
        max_perf = self.benchmark()
        t2 = time.time()
        data = {"id": self.id, "mtoken": self.master_token}
        notify.loaded(data=data, autoscaler_address=self.control_server_url, load_time=t2 - t1, max_perf=max_perf)
        threading.Thread(target=self.send_data_loop, daemon=True).start()

    def work(self, units: float) -> None:
        with self.gpu:
            time.sleep(units * self.work_seconds)

    def benchmark(self, runs: int = 5) -> float:
        """Work units per second this worker serves: its max_perf."""
        start = time.perf_counter()
        for _ in range(runs):
            self.work(1.0)
        return runs / (time.perf_counter() - start)

    def send_data_loop(self) -> None:
        while True:
            time.sleep(self.update_interval)
            with self.lock:
                cur_load, self.interval_work = self.interval_work / self.update_interval, 0.0
                received, done, self.done = self.num_requests_recieved, self.done, []
            data = {"id": self.id, "mtoken": self.master_token}
            notify.update(data, self.control_server_url, cur_load, received)
            if done:
                notify.finished(data, self.control_server_url, done)

    def track_request(self, units: float) -> None:
        with self.lock:
            self.num_requests_recieved += 1
            self.interval_work += units

    def finish(self, request_idx: int | None, success: bool) -> None:
        if request_idx:
            with self.lock:
                self.done.append({"request_idx": request_idx, "success": success, "status": "done"})


def make_handler(backend: Backend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def reply(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/value":
                return self.reply(404, {"error": "not found"})
            self.reply(200, {"value": backend.count})

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/increment":
                return self.reply(404, {"error": "not found"})
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            except ValueError:
                return self.reply(400, {"error": "body is not JSON"})
            auth = body.get("auth_data") if isinstance(body, dict) else None
            if backend.public_key is not None and not (isinstance(auth, dict) and is_routed(auth, backend.public_key)):
                return self.reply(401, {"error": "not routed by the control plane"})
            payload = body.get("payload", body) if isinstance(body, dict) else {}
            auth = auth or {}
            units = float(auth.get("cost") or 1.0)
            backend.track_request(units)
            if not isinstance(payload, dict) or not isinstance(payload.get("amount"), (int, float)):
                backend.finish(auth.get("request_idx"), False)
                return self.reply(400, {"error": "'amount' is required"})
            backend.work(units)
            with backend.lock:
                backend.count += payload["amount"]
            backend.finish(auth.get("request_idx"), True)
            self.reply(200, "Incremented")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def main() -> None:
    env = os.environ
    backend = Backend(int(env["CONTAINER_ID"]), env["MASTER_TOKEN"], env["REPORT_ADDR"],
                      load_seconds=float(env.get("LOAD_SECONDS", 2)), work_seconds=float(env.get("WORK_SECONDS", 0.05)),
                      update_interval=float(env.get("UPDATE_INTERVAL", 10)),
                      unsecured=env.get("UNSECURED", "false").lower() == "true")
    server = ThreadingHTTPServer(("0.0.0.0", int(env.get("WORKER_PORT", 5000))), make_handler(backend))
    server.serve_forever()


if __name__ == "__main__":
    main()
