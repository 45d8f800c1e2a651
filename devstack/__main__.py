"""`make run`: the whole system on this machine.

    python -m devstack            the API, the scheduler on a timer, the demo endpoint
    python -m devstack --demo     ... and load in waves, with a live summary of the fleet

PORT               where the API listens (default 8000)
LOCAL_API_KEY      the local account's key (default: a new one, printed)
DYNAMODB_ENDPOINT  use this DynamoDB (DynamoDB Local, LocalStack, AWS) instead of an embedded one
PROVIDER           local (default: workers are processes here) or vast (with VAST_API_URL, VAST_API_KEY)
SCALE_INTERVAL     seconds between scaling passes (default 15)
DEMO_ENDPOINT=0    do not create the demo endpoint and worker group
Ctrl-C stops everything it started, workers included.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from devstack.stack import STATE_DIR, Stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", action="store_true", help="drive load in waves and show the fleet live")
    args = parser.parse_args(argv)
    (STATE_DIR / "local-provider.json").unlink(missing_ok=True)  # a previous run's instances are gone
    stack = Stack(
        port=int(os.environ.get("PORT") or 8000),
        dynamodb_endpoint=os.environ.get("DYNAMODB_ENDPOINT") or None,
        api_key=os.environ.get("LOCAL_API_KEY") or None,
        quiet=args.demo,
    )
    for sig in (signal.SIGTERM, signal.SIGHUP):  # a closed terminal cleans up like Ctrl-C
        signal.signal(sig, lambda *_: sys.exit(0))
    print(f"starting DynamoDB and the API on {stack.url} ...", flush=True)
    try:
        with stack:
            os.environ.update(stack.env)  # the scheduler and the provider run in this process
            if args.demo:  # the live summary owns the terminal: no JSON logs or metrics on it
                os.environ.update(POWERTOOLS_METRICS_DISABLED="true", POWERTOOLS_LOG_LEVEL="WARNING")
            from devstack.demo import LoadGenerator, show, summary
            from devstack.fleet import ScaleTimer, create_demo, scale_interval

            demo = create_demo(stack) if os.environ.get("DEMO_ENDPOINT", "1") != "0" else None
            timer, load = ScaleTimer(scale_interval(), stack.wake_port), None
            timer.start()
            print(
                f"\nready: {stack.url}\n"
                f"  DynamoDB:        {stack.dynamodb_endpoint}\n"
                f"  account api key: {stack.api_key}\n"
                f"  admin token:     {stack.admin_token}\n"
                + (f"  demo endpoint:   '{demo['endpoint_name']}' (id {demo['id']}), api_key {demo['api_key']}\n"
                   if demo else "")
                + f"  scaling:         {os.environ['PROVIDER']} provider, a pass every {timer.interval:g} s"
                " and at once when work queues\n"
                "Ctrl-C stops everything.\n",
                flush=True,
            )
            try:
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
                if load is not None:
                    load.stop()
                timer.stop()
    except KeyboardInterrupt:
        return 0
    finally:
        print("stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
