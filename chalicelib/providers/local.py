"""`LocalProvider`: workers as processes on this machine, for `make run`.

An "offer" is a free slot; launching starts the worker command with the instance's
environment (CONTAINER_ID, MASTER_TOKEN, REPORT_ADDR) plus WORKER_PORT. Stopping ends
the process but keeps the instance, so starting it again is quick; destroying forgets
it. State lives in a JSON file so every scheduler pass, in any process, sees the same
instances.
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
from pathlib import Path

from chalicelib.providers import Instance, LaunchSpec, Offer, ProviderError, ProviderUnavailable

DEFAULT_COMMAND = f"{shlex.quote(sys.executable)} -m examples.hello_autoscaler"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it is our child and has exited
        if finished:
            return False
    except ChildProcessError:
        pass  # not our child: ask the kernel
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class LocalProvider:
    def __init__(self, state_file: Path, command: str = DEFAULT_COMMAND, slots: int = 8,
                 price_per_hour: float = 1.0, log_dir: Path | None = None):
        self.state_file, self.command, self.slots, self.price = Path(state_file), command, slots, price_per_hour
        self.log_dir = Path(log_dir) if log_dir else self.state_file.parent / "workers"

    @classmethod
    def from_settings(cls) -> LocalProvider:
        root = Path(os.environ.get("LOCAL_PROVIDER_DIR") or ".devstack")
        return cls(root / "local-provider.json", os.environ.get("LOCAL_WORKER_COMMAND") or DEFAULT_COMMAND,
                   int(os.environ.get("LOCAL_SLOTS") or 8))

    def _load(self) -> dict:
        if not self.state_file.exists():
            return {"next_id": 1, "instances": {}}
        return json.loads(self.state_file.read_text())

    def _save(self, state: dict) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=1))
        temporary.replace(self.state_file)

    def _spawn(self, instance: dict) -> int:
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
        return process.pid

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
        instance["pid"] = self._spawn(instance)
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
        if not _alive(instance.get("pid")):
            instance["pid"] = self._spawn(instance)
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

    @staticmethod
    def _kill(instance: dict, grace_s: float = 5.0) -> None:
        """End the worker's process group: SIGTERM, then SIGKILL if it is still there after `grace_s`."""
        pid = instance.pop("pid", None)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not _alive(pid):
                return
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + grace_s
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)

    def list_instances(self) -> list[Instance]:
        rows = []
        for instance in self._load()["instances"].values():
            if instance["intended"] == "stopped":
                state = "stopped"
            else:
                state = "running" if _alive(instance.get("pid")) else "unavailable"
            rows.append(Instance(int(instance["id"]), instance["label"], state, self.price))
        return rows
