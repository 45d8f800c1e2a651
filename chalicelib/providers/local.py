"""`LocalProvider`: workers as processes on this machine, for `make run`.

An "offer" is a free slot; launching starts the worker command with the instance's
environment (CONTAINER_ID, MASTER_TOKEN, REPORT_ADDR) plus WORKER_PORT. Stopping ends
the process but keeps the instance, so starting it again is quick; destroying forgets
it. State lives in a JSON file so every scheduler pass, in any process, sees the same
instances.

A process is known by its pid and its start time, both recorded at spawn: a pid whose
process started at another time is somebody else's (the system reuses pids) and is never
signalled. So the workers of a run that crashed, which keep running, are found and stopped
by the next run (`clean_up_previous_run`).
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from chalicelib.providers import Instance, LaunchSpec, Offer, ProviderError, ProviderUnavailable

DEFAULT_COMMAND = f"{shlex.quote(sys.executable)} -m examples.hello_autoscaler"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int) -> tuple[int | float, bool] | None:
    """(start time, exited) of process `pid`, None if there is none. On Linux the start time is
    field 22 of /proc/<pid>/stat, in clock ticks since boot (exact, whatever the wall clock
    does); elsewhere psutil's create_time. An exited process is a zombie not yet reaped."""
    if os.path.exists("/proc/self/stat"):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()  # after the command, which may hold spaces
            return int(fields[19]), fields[0] in ("Z", "X")  # fields[0] is field 3, the state
        except (OSError, IndexError, ValueError):
            return None
    try:
        import psutil
    except ImportError:  # no way to tell our processes from others: none is ever signalled
        return None
    try:
        process = psutil.Process(pid)
        return process.create_time(), process.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return None


def _started(pid: int) -> int | float | None:
    """When process `pid` started, None if it does not exist or has exited."""
    found = _stat(pid)
    return found[0] if found and not found[1] else None


def _alive(pid: int | None, started: int | float | None) -> bool:
    """Whether the process started as `pid` at `started` is still running. An instance recorded
    without a start time (an older state file) cannot be verified, so is never taken for ours."""
    if not pid or started is None:
        return False
    found = _stat(pid)
    if found is None or found[0] != started:
        return False  # gone, or the pid is another process's now
    if found[1]:
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it if it is our child (it is ours: the start time matched)
        except ChildProcessError:
            pass
        return False
    return True


class LocalProvider:
    def __init__(self, state_file: Path, command: str = DEFAULT_COMMAND, slots: int = 8,
                 price_per_hour: float = 1.0, log_dir: Path | None = None):
        self.state_file, self.command, self.slots, self.price = Path(state_file), command, slots, price_per_hour
        self.log_dir = Path(log_dir) if log_dir else self.state_file.parent / "workers"

    @classmethod
    def from_settings(cls, environ: Mapping[str, str] | None = None) -> LocalProvider:
        environ = os.environ if environ is None else environ
        root = Path(environ.get("LOCAL_PROVIDER_DIR") or ".devstack")
        return cls(root / "local-provider.json", environ.get("LOCAL_WORKER_COMMAND") or DEFAULT_COMMAND,
                   int(environ.get("LOCAL_SLOTS") or 8))

    def _load(self) -> dict:
        if not self.state_file.exists():
            return {"next_id": 1, "instances": {}}
        return json.loads(self.state_file.read_text())

    def _save(self, state: dict) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=1))
        temporary.replace(self.state_file)

    def _spawn(self, instance: dict) -> None:
        """Start the instance's worker, recording its pid and start time in `instance`."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"worker-{instance['id']}.log", "a")
        env = {**os.environ, **instance["env"], "WORKER_PORT": str(instance["port"]),
               "WORKER_URL": f"http://127.0.0.1:{instance['port']}"}
        try:
            process = subprocess.Popen(shlex.split(self.command), env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        except OSError as error:
            raise ProviderError(f"could not start the worker command: {error}") from error
        finally:
            log.close()
        # Read at once: until it is reaped, even a worker that exited keeps its pid and start time.
        found = _stat(process.pid)
        instance["pid"], instance["started"] = process.pid, found[0] if found else None

    def search_offers(self, search_params: str, gpu_ram: float, limit: int = 20) -> list[Offer]:
        used = {i["slot"] for i in self._load()["instances"].values()}
        free = [slot for slot in range(1, self.slots + 1) if slot not in used]
        return [Offer(slot, self.price, "local", 0.0) for slot in free[:limit]]

    def launch(self, offer_id: int, spec: LaunchSpec) -> int:
        state = self._load()
        if any(i["slot"] == offer_id for i in state["instances"].values()) or not 1 <= offer_id <= self.slots:
            raise ProviderUnavailable(f"slot {offer_id} is taken")
        instance = {"id": state["next_id"], "slot": offer_id, "label": spec.label, "env": spec.env,
                    "port": _free_port(), "intended": "running"}
        self._spawn(instance)
        state["instances"][str(instance["id"])] = instance
        state["next_id"] += 1
        self._save(state)
        return instance["id"]

    def _instance(self, state: dict, instance_id: int) -> dict:
        try:
            return state["instances"][str(instance_id)]
        except KeyError:
            raise ProviderUnavailable(f"no local instance {instance_id}") from None

    def start(self, instance_id: int) -> None:
        state = self._load()
        instance = self._instance(state, instance_id)
        if not _alive(instance.get("pid"), instance.get("started")):
            self._spawn(instance)
        instance["intended"] = "running"
        self._save(state)

    def stop(self, instance_id: int) -> None:
        state = self._load()
        instance = self._instance(state, instance_id)
        self._kill(instance)
        instance["intended"] = "stopped"
        self._save(state)

    def destroy(self, instance_id: int) -> None:
        state = self._load()
        instance = state["instances"].pop(str(instance_id), None)
        if instance:
            self._kill(instance)
            self._save(state)

    def destroy_all(self) -> None:
        """Stop and forget every instance (the local stack calls this when it exits)."""
        for instance_id in list(self._load()["instances"]):
            self.destroy(int(instance_id))

    def clean_up_previous_run(self) -> list[int]:
        """Stop the workers a previous run left running, forget its instances, and claim the
        state for this process; returns the pids it stopped.

        A run that crashed (or was killed) never destroyed its instances, and their workers keep
        running. Each is stopped, as its process group, only if its pid still names the process
        that was started (the same start time): a pid since given to another process is never
        signalled. Refuses (ProviderError) while the process that claimed the state last is
        still running: that run is using those workers."""
        try:
            state = self._load()
        except (OSError, ValueError):  # unreadable: nothing in it can be verified, so nothing is signalled
            state = {"next_id": 1, "instances": {}}
        owner = state.get("owner") or {}
        if owner.get("pid") != os.getpid() and _alive(owner.get("pid"), owner.get("started")):
            raise ProviderError(f"{self.state_file} is in use by a run that is still going (pid {owner['pid']}); "
                                "stop it, or give this one another LOCAL_PROVIDER_DIR")
        stopped = [i["pid"] for i in state["instances"].values() if self._kill(dict(i))]
        # next_id carries on, so no instance id of the previous run is ever given again.
        self._save({"next_id": state.get("next_id", 1), "instances": {},
                    "owner": {"pid": os.getpid(), "started": _started(os.getpid())}})
        return stopped

    @staticmethod
    def _kill(instance: dict, grace_s: float = 5.0) -> bool:
        """End the worker's process group: SIGTERM, then SIGKILL if it is still there after `grace_s`.
        Only a process that is verifiably the one started (pid and start time) is signalled;
        returns whether there was one."""
        pid, started = instance.pop("pid", None), instance.pop("started", None)
        if not _alive(pid, started):
            return False
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                if os.getpgid(pid) == pid:  # started in a session of its own: its children go too
                    os.killpg(pid, sig)
                else:
                    os.kill(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace_s
            while _alive(pid, started) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not _alive(pid, started):
                break
        return True

    def list_instances(self) -> list[Instance]:
        rows = []
        for instance in self._load()["instances"].values():
            if instance["intended"] == "stopped":
                state = "stopped"
            else:
                state = "running" if _alive(instance.get("pid"), instance.get("started")) else "unavailable"
            rows.append(Instance(int(instance["id"]), instance["label"], state, self.price))
        return rows
