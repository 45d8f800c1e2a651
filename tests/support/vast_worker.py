"""A GPU worker built on the real `vastai` SDK's worker library, unmodified.

Run as its own process with the environment Vast gives an instance (CONTAINER_ID,
MASTER_TOKEN, REPORT_ADDR, WORKER_PORT, PUBLIC_IPADDR, VAST_TCP_PORT_<port>) plus
MODEL_PORT and MODEL_LOG. The "model" is a small HTTP server that echoes its input; it
writes "MODEL READY" to its log once listening, which is how pyworker learns it loaded.
"""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from vastai.serverless.server.worker import (
    BenchmarkConfig,
    HandlerConfig,
    LogActionConfig,
    Worker,
    WorkerConfig,
)


class Model(BaseHTTPRequestHandler):
    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        body = json.dumps({"echo": payload, "worker": os.environ["CONTAINER_ID"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["MODEL_PORT"])), Model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(os.environ["MODEL_LOG"], "a") as log:
        log.write("MODEL READY\n")
    Worker(WorkerConfig(
        model_server_url="http://127.0.0.1",
        model_server_port=int(os.environ["MODEL_PORT"]),
        model_log_file=os.environ["MODEL_LOG"],
        handlers=[HandlerConfig(
            route="/generate",
            allow_parallel_requests=True,
            benchmark_config=BenchmarkConfig(dataset=[{"prompt": "benchmark"}], runs=2, concurrency=2),
            workload_calculator=lambda payload: 10.0,
        )],
        log_action_config=LogActionConfig(on_load=["MODEL READY"]),
    )).run()


if __name__ == "__main__":
    main()
