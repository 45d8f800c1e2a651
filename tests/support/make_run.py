"""`make run` (python -m devstack) as a user runs it, for the end-to-end tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from devstack.stack import ROOT, free_port

READY = "Ctrl-C stops everything"


class MakeRun:
    def __init__(self, state_dir: Path, **env: str):
        self.port = free_port()
        self.env = {**os.environ, "PORT": str(self.port), "LOCAL_PROVIDER_DIR": str(state_dir), **env}
        for name in ("DYNAMODB_ENDPOINT", "PROVIDER", "PUBLIC_URL"):
            if name not in env:
                self.env.pop(name, None)
        self.url = f"http://127.0.0.1:{self.port}"
        self.banner = ""
        self.output: list[str] = []  # what it printed after the banner
        self.process: subprocess.Popen | None = None

    def start(self) -> MakeRun:
        self.process = subprocess.Popen([sys.executable, "-m", "devstack"], cwd=ROOT, env=self.env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines = []
        for line in self.process.stdout:
            lines.append(line)
            if line.startswith(READY):
                self.banner = "".join(lines)
                # Keep reading what the stack prints: a full pipe would block its processes.
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise RuntimeError("the stack exited before it was ready:\n" + "".join(lines))

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def stop(self, sig: int = signal.SIGINT) -> list[int]:
        """Send `sig` as a user would (Ctrl-C, a closed terminal); the pids still running after it exits."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        self.process.send_signal(sig)
        try:
            assert self.process.wait(timeout=60) == 0
        finally:
            if self.process.poll() is None:
                self.process.kill()
        time.sleep(0.5)
        return [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]

    def close(self) -> None:
        """After a failed test: still stop it the way users do."""
        if self.process is not None and self.process.poll() is None:
            self.stop()
