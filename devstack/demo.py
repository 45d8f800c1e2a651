"""`make demo`: load in waves through /route/, and a live summary of the fleet.

The load generator is a client like any other: it asks /route/ where to send each
request and posts it, signed, to that worker's /increment. With no worker ready it
gets no url, which the control plane counts as unmet demand, and the fleet grows.
"""
from __future__ import annotations

import math
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

WAVE_S = 300.0  # one wave: rise, hold, fall, rest


def wave(t: float, peak: float) -> float:
    """Work units/s wanted at `t` seconds into the demo: a half-sine burst, then quiet."""
    phase = (t % WAVE_S) / WAVE_S
    return peak * math.sin(math.pi * phase / 0.6) if phase < 0.6 else 0.0


class LoadGenerator(threading.Thread):
    def __init__(self, url: str, endpoint: dict, peak: float = 60.0):
        super().__init__(name="load", daemon=True)
        self.url, self.endpoint, self.peak = url, endpoint, peak
        self.counts: Counter = Counter()
        self.rate = 0.0
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=32)

    def send(self) -> None:
        route = {"endpoint": self.endpoint["endpoint_name"], "api_key": self.endpoint["api_key"], "cost": 1}
        try:
            reply = requests.post(f"{self.url}/route/", json=route, timeout=10).json()
            if "url" not in reply:
                self.counts["no worker ready"] += 1
                return
            served = requests.post(f"{reply['url']}/increment", json={"auth_data": reply, "payload": {"amount": 1}},
                                   timeout=30)
            self.counts["served" if served.ok else f"HTTP {served.status_code}"] += 1
        except requests.RequestException:
            self.counts["failed"] += 1

    def run(self) -> None:
        started = time.monotonic()
        owed = 0.0
        while not self._stopping.wait(0.1):
            self.rate = wave(time.monotonic() - started, self.peak)
            owed += self.rate * 0.1
            while owed >= 1:
                owed -= 1
                self._pool.submit(self.send)

    def stop(self) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


def summary(url: str, key: str, endpoint: dict, load: LoadGenerator | None) -> str:
    """The fleet as the public API shows it."""
    body = {"id": endpoint["id"], "api_key": endpoint["api_key"]}
    workers = requests.post(f"{url}/get_endpoint_workers/", json=body, timeout=10).json()
    stats = requests.post(f"{url}/get_endpoint_stats/", json=body, timeout=10).json()
    auth = {"Authorization": f"Bearer {key}"}
    groups = requests.get(f"{url}/api/v0/autojobs/", headers=auth, timeout=10).json()["results"]
    decisions = []
    for group in groups:
        if group["endpoint_id"] == endpoint["id"]:
            decisions += requests.get(f"{url}/api/v0/autojobs/{group['id']}/decisions/?limit=6", headers=auth,
                                      timeout=10).json()["results"]
    states = Counter(w["status"] for w in workers)
    lines = [
        f"fleet of endpoint '{endpoint['endpoint_name']}'   {time.strftime('%H:%M:%S')}",
        "workers   " + ("  ".join(f"{s}: {n}" for s, n in sorted(states.items())) or "none"),
        f"load      {stats['curload']:6.1f} units/s arriving   capacity {stats['capacity']:6.1f} units/s   "
        f"requests served {stats['totreqs']:.0f}",
    ]
    if load is not None:
        lines.append(f"generator {load.rate:6.1f} units/s wanted      "
                     + "  ".join(f"{k}: {v}" for k, v in sorted(load.counts.items())))
    lines.append("last decisions:")
    for d in sorted(decisions, key=lambda d: -d["t"])[:6]:
        lines.append(f"  {time.strftime('%H:%M:%S', time.localtime(d['t']))} {d['action']:8} {d['outcome'][:18]:18} "
                     f"{d['reason'][:70]}")
    return "\n".join(lines)


def show(text: str) -> None:
    """Redraw the summary in place (cursor home, clear below), on the real terminal: a pass
    redirects sys.stdout to the scaler's log while it runs."""
    sys.__stdout__.write("\x1b[H\x1b[J" + text + "\n")
    sys.__stdout__.flush()
