"""The smallest worker: serves POST /increment, reports itself loaded and its load to REPORT_ADDR.

Speaks seed 001's notify fields; what LocalProvider tests launch.
"""
import json
import os
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPORT = os.environ["REPORT_ADDR"].split(",")[0].rstrip("/") + "/worker_status/"
IDENTITY = {"id": int(os.environ["CONTAINER_ID"]), "mtoken": os.environ["MASTER_TOKEN"]}
served = 0


def report(**fields):
    body = json.dumps({**IDENTITY, **fields}).encode()
    request = urllib.request.Request(REPORT, body, {"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).read()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global served
        served += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


port = int(os.environ["WORKER_PORT"])
server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
report(loadtime=0.5, max_perf=10.0, url=f"http://127.0.0.1:{port}")
while True:
    time.sleep(2)
    report(cur_load=0.0, num_requests_recieved=served)
