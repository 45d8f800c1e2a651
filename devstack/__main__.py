"""`make run`: the whole system on this machine.

    python -m devstack            the API, the scheduler on a timer, the demo endpoint
    python -m devstack --demo     ... and load in waves, with a live summary of the fleet

PORT               where the API listens (default 8000)
LOCAL_API_KEY      the local account's key (default: a new one, printed)
LOCAL_CLEARML_ACCESS_KEY, LOCAL_CLEARML_SECRET_KEY
                   the local account's ClearML credential pair (default: a new one, printed)
DYNAMODB_ENDPOINT  use this DynamoDB (DynamoDB Local, LocalStack, AWS) instead of an embedded one
PROVIDER           local (default: workers are processes here) or vast (with VAST_API_URL, VAST_API_KEY)
SCALE_INTERVAL     seconds between scaling passes (default 15)
DEMO_ENDPOINT=0    do not create the demo endpoint and worker group
Ctrl-C (SIGINT), SIGTERM and SIGHUP stop everything it started, workers included, however
it was started (a background job of a script starts with SIGINT ignored: it is handled anyway).
The workers a previous run left running (it crashed, or was killed) are stopped first.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from chalicelib.core import settings
from chalicelib.providers import ProviderError
from chalicelib.providers.local import LocalProvider
from devstack.stack import API_LOG, SCALER_LOG, Stack, shown

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """A stop signal arrived (a BaseException, like KeyboardInterrupt: no `except Exception` keeps it)."""


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP all stop the stack. Handlers are installed explicitly, since
    Python raises KeyboardInterrupt only if SIGINT was not ignored when it started, and a
    script's background job (`python -m devstack &`) starts with it ignored. The first signal
    raises Stopped in the main thread, wherever it is; after it, or once `shield()` says the
    stack is stopping anyway, signals do nothing, so the cleanup always runs to its end."""

    def __init__(self) -> None:
        self.stopping = False
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        if not self.stopping:
            self.stopping = True
            raise Stopped(signum)

    def shield(self) -> None:
        self.stopping = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", action="store_true", help="drive load in waves and show the fleet live")
    args = parser.parse_args(argv)
    try:
        settings.check()
    except settings.SettingError as error:
        print(error, file=sys.stderr)
        return 2
    signals = StopSignals()  # before anything starts: every process started inherits no ignored SIGINT
    stack = Stack(
        port=int(os.environ.get("PORT") or 8000),
        dynamodb_endpoint=os.environ.get("DYNAMODB_ENDPOINT") or None,
        api_key=os.environ.get("LOCAL_API_KEY") or None,
        clearml_access_key=os.environ.get("LOCAL_CLEARML_ACCESS_KEY") or None,
        clearml_secret_key=os.environ.get("LOCAL_CLEARML_SECRET_KEY") or None,
        quiet=args.demo,
    )
    try:
        if stack.env["PROVIDER"] == "local":
            try:
                left = LocalProvider.from_settings(stack.env).clean_up_previous_run()
            except ProviderError as error:
                print(error, file=sys.stderr)
                return 1
            if left:
                print(f"stopped {len(left)} worker(s) a previous run left running (pids {left})", flush=True)
        print(f"starting DynamoDB and the API on {stack.url} ...", flush=True)
        with stack:
            os.environ.update(stack.env)  # the scheduler and the provider run in this process
            from devstack.demo import LoadGenerator, show, summary
            from devstack.fleet import ScaleTimer, create_demo, scale_interval

            timer = load = None
            try:
                demo = create_demo(stack) if os.environ.get("DEMO_ENDPOINT", "1") != "0" else None
                # Its JSON logs and metrics go to scaler.log; its decisions to the terminal, unless the demo owns it.
                timer = ScaleTimer(scale_interval(), stack.wake_port, stack.log_dir, None if args.demo else sys.stdout)
                print(
                    f"\nready: {stack.url}\n"
                    f"  dashboard:       {stack.url}/dashboard/  (sign in with the account api key)\n"
                    f"  DynamoDB:        {stack.dynamodb_endpoint}\n"
                    f"  account api key: {stack.api_key}\n"
                    f"  admin token:     {stack.admin_token}\n"
                    f"  ClearML:         CLEARML_API_HOST={stack.url} CLEARML_API_ACCESS_KEY={stack.clearml_access_key}"
                    f" CLEARML_API_SECRET_KEY={stack.clearml_secret_key}\n"
                    f"  MLBench:         ApiClient(in_cluster=False,"
                    f" url=\"local:{stack.api_key}@{stack.url.split('://', 1)[1]}\")\n"
                    + (f"  demo endpoint:   '{demo['endpoint_name']}' (id {demo['id']}), api_key {demo['api_key']}\n"
                       if demo else "")
                    + f"  scaling:         {os.environ['PROVIDER']} provider, a pass every {timer.interval:g} s"
                    " and at once when work queues\n"
                    f"  logs:            {shown(stack.log_dir)}/{API_LOG}, {SCALER_LOG}\n"
                    "Ctrl-C stops everything.\n",
                    flush=True,
                )
                stack.follow_api_log()  # the human lines start after the banner
                timer.start()
                if args.demo and demo:
                    load = LoadGenerator(stack.url, demo)
                    load.start()
                while all(p.poll() is None for p in stack.processes):
                    if load is not None:
                        show(summary(stack.url, stack.api_key, demo, load))
                    time.sleep(2 if load is not None else 0.5)
                print("a process of the stack exited; stopping the rest", file=sys.stderr)
                return 1
            finally:  # workers first, while the API they report to is still up
                signals.shield()
                if load is not None:
                    load.stop()
                if timer is not None:
                    timer.stop()
    except Stopped:
        return 0
    finally:
        signals.shield()
        print("stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
