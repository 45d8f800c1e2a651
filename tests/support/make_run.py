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

    def start(self, background: bool = False) -> MakeRun:
        """`background`: as a script's `make run &` starts it, with SIGINT ignored (bash does that
        to the background jobs of a non-interactive shell)."""
        ignore_sigint = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if background else None
        self.process = subprocess.Popen([sys.executable, "-m", "devstack"], cwd=ROOT, env=self.env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=ignore_sigint)
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

    def processes(self) -> list[psutil.Process]:
        """Every process it started and their children (workers included)."""
        return psutil.Process(self.process.pid).children(recursive=True)

    def wait_for_a_worker(self, timeout_s: float = 60) -> psutil.Process:
        """A worker the scaler launched (the demo group's test worker comes with the first pass)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for process in self.processes():
                try:
                    if "examples.hello_autoscaler" in " ".join(process.cmdline()):
                        return process
                except psutil.NoSuchProcess:
                    pass
            time.sleep(0.2)
        raise TimeoutError(f"no worker started within {timeout_s:.0f} s:\n" + "".join(self.output))

    def stop(self, sig: int = signal.SIGINT) -> list[int]:
        """Send `sig` as a user would (Ctrl-C, a closed terminal); the pids still running after it exits."""
        children = self.processes()
        self.process.send_signal(sig)
        try:
            assert self.process.wait(timeout=60) == 0
        finally:
            if self.process.poll() is None:  # it did not stop: the test fails, and leaves nothing behind
                self.process.kill()
                for child in children:
                    try:
                        child.kill()
                    except psutil.NoSuchProcess:
                        pass
        time.sleep(0.5)
        return [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]

    def close(self) -> None:
        """After a failed test: still stop it the way users do."""
        if self.process is not None and self.process.poll() is None:
            self.stop()
