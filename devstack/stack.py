"""Start and stop the local stack's processes: moto server (DynamoDB) and the API
(`devstack.api_server`: `chalice local`'s server, made to stand up to bursts and junk headers).

The environment it gives them (and the scheduler it runs, see `devstack.fleet`) makes a
fleet change within a minute instead of ten: short stats buckets and scale-down delay,
quick-loading example workers. Anything already set in the environment wins.

The terminal is for people: the API's JSON logs and access lines go to `logs/api.log` under
the state dir (LOCAL_PROVIDER_DIR), and only its errors come to the terminal, one short line
each (`follow_api_log`).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STATE_DIR = ROOT / ".devstack"
API_LOG, SCALER_LOG = "api.log", "scaler.log"  # under Stack.log_dir
FAILED_OUTSIDE = "request failed outside the app"  # what devstack.api_server logs when it answers 500 itself
_TERMINAL = threading.Lock()  # the API's follower and the scaler share the terminal
QUICK_FLEET = {
    "STATS_BUCKET_S": "10",
    "WORKER_TIMEOUT_S": "30",
    "PREDICTION_WINDOW_S": "60",
    "LEAD_TIME_S": "20",
    "POOL_MEMORY_S": "900",  # the cold pool remembers a quarter of an hour, not a day
    "POOL_KEEP_S": "300",
    "RESTART_S": "5",  # local workers start again in a few seconds (until they report it)
    "LOADING_DEADLINE_S": "120",
    "UPDATE_INTERVAL": "3",  # the example worker's report interval
    "LOAD_SECONDS": "3",  # the example worker's "model load"
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stage_environment(stage: str = "local") -> dict[str, str]:
    """The environment Chalice gives the app for `stage` (global variables, then the stage's)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def shown(path: Path) -> str:
    """`path` as a person reads it: relative to the working directory when it is under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def human_line(source: str, text: str, t: float | None = None) -> str:
    """`HH:MM:SS  source  text`: the one form of every line the stack prints after its banner."""
    return f"{time.strftime('%H:%M:%S', time.localtime(t))}  {source:<7} {text}"


def say(terminal: TextIO, line: str) -> None:
    """Write one line to the terminal, whole, whichever thread writes."""
    with _TERMINAL:
        terminal.write(line + "\n")
        terminal.flush()


def api_error(line: str) -> str | None:
    """What a line of api.log says went wrong, in a few words, or None. Errors are: a JSON log
    line at level ERROR or CRITICAL (its message, and the exception's name), one with a status
    of 500 or more (method, route and status), and the server's "request failed outside the
    app". Nothing else is (access lines repeat these, tracebacks follow them), and nothing of a
    request's body, headers or key is ever in the answer."""
    if FAILED_OUTSIDE in line:
        return f"{FAILED_OUTSIDE}: it answered 500"
    try:
        entry = json.loads(line) if line.startswith("{") else None
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    status = entry.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and status >= 500:
        return f"{entry.get('method', '?')} {entry.get('path', '?')} answered {status}"
    if str(entry.get("level", "")).upper() in ("ERROR", "CRITICAL"):
        name = entry.get("exception_name")
        return str(entry.get("message", ""))[:200] + (f" ({name})" if name else "")
    return None


def follow(path: Path, start: int, emit: Callable[[str], None], stopping: threading.Event,
           poll_s: float = 0.5) -> None:
    """Call `emit` with each whole line appended to `path` from byte `start` on, until `stopping`."""
    with open(path, "rb") as log:
        log.seek(start)
        pending = b""
        while not stopping.is_set():
            pending += log.readline()
            if pending.endswith(b"\n"):
                emit(pending.decode(errors="replace").rstrip("\r\n"))
                pending = b""
            else:  # at the end of the file, maybe mid-line: wait for more
                stopping.wait(poll_s)


def wait_for(url: str, timeout_s: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before {url} answered")
        try:
            with urlopen(url, timeout=2):
                return
        except (URLError, OSError):
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s")


@dataclass
class Stack:
    """The running stack: where it is, the local account's key, the processes it owns."""

    port: int = 8000
    dynamodb_endpoint: str | None = None
    api_key: str | None = None
    clearml_access_key: str | None = None  # the local account's ClearML pair (given, or made here)
    clearml_secret_key: str | None = None
    quiet: bool = False  # the terminal is not ours (the demo's live summary): no API error lines on it
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    wake_port: int = field(default_factory=lambda: free_port())  # the scaler listens here for /route/'s wakes
    processes: list[subprocess.Popen] = field(default_factory=list)
    api_log_start: int = 0  # where this run's lines begin in api.log (it is appended to)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_dir(self) -> Path:
        """Where the logs go: `logs/` in the state dir, so a run with its own (a test) has its own."""
        return Path(self.env["LOCAL_PROVIDER_DIR"]) / "logs"

    @property
    def env(self) -> dict[str, str]:
        """The environment of the API process and of anything that talks to its tables."""
        from chalicelib.core.auth.credentials import hash_secret

        return {
            **QUICK_FLEET,
            **os.environ,
            "PROVIDER": os.environ.get("PROVIDER", "local"),
            # the policy starts cold workers ahead of a recurring jump knowing when its next pass comes
            "PASS_INTERVAL_S": os.environ.get("PASS_INTERVAL_S") or os.environ.get("SCALE_INTERVAL") or "15",
            "LOCAL_PROVIDER_DIR": os.environ.get("LOCAL_PROVIDER_DIR") or str(STATE_DIR),
            "PUBLIC_URL": os.environ.get("PUBLIC_URL", self.url),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            **stage_environment("local"),
            "DYNAMODB_ENDPOINT": self.dynamodb_endpoint or "",
            "SCALE_WAKE_URL": f"http://127.0.0.1:{self.wake_port}/wake",
            "ADMIN_TOKEN_HASH": hash_secret(self.admin_token),
        }

    def _spawn(self, *args: str, log: str | None = None) -> subprocess.Popen:
        """Start a process of the stack: its stdout and stderr appended to `log` in log_dir, or dropped."""
        if log is None:
            output = subprocess.DEVNULL
        else:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / log, "ab")
        try:
            process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=output,
                                       stderr=output if log is None else subprocess.STDOUT, start_new_session=True)
        finally:
            if log is not None:
                output.close()
        self.processes.append(process)
        return process

    def follow_api_log(self, terminal: TextIO | None = None) -> None:
        """Print one short line to `terminal` (this one by default) for each error the API logs
        from now until the stack stops, naming the log that says more (nothing when quiet)."""
        if self.quiet:
            return
        terminal, path = terminal or sys.stdout, self.log_dir / API_LOG
        where = shown(path)

        def emit(line: str) -> None:
            if (error := api_error(line)) is not None:
                say(terminal, human_line("api", f"error: {error} ({where})"))

        threading.Thread(target=follow, args=(path, self.api_log_start, emit, self._stopping), name="api-log",
                         daemon=True).start()

    def start(self) -> Stack:
        try:
            if not self.dynamodb_endpoint:
                port = free_port()
                self.dynamodb_endpoint = f"http://127.0.0.1:{port}"
                moto = self._spawn(str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port))
                wait_for(f"{self.dynamodb_endpoint}/moto-api/", 30, moto)
            self._provision()
            api_log = self.log_dir / API_LOG
            self.api_log_start = api_log.stat().st_size if api_log.exists() else 0
            api = self._spawn(sys.executable, "-m", "devstack.api_server", "--stage", "local", "--host", "127.0.0.1",
                              "--port", str(self.port), log=API_LOG)
            wait_for(f"{self.url}/pubkey/", 60, api)
        except BaseException:
            self.stop()
            raise
        return self

    def _provision(self) -> None:
        """Create the tables and the local account (with `api_key` if one was given) and its
        ClearML credential pair (exactly the one given, if it was)."""
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            from chalicelib.core import store
            from chalicelib.core.auth import clearml_keys
            from chalicelib.core.auth.accounts import create_account

            store.create_tables()
            account_id, self.api_key = create_account("local", self.api_key)
            self.clearml_access_key, self.clearml_secret_key = clearml_keys.create_pair(
                account_id, self.clearml_access_key, self.clearml_secret_key)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def stop(self) -> None:
        """Stop every process this stack started, and their children."""
        self._stopping.set()
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
