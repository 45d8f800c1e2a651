"""`make run`: the API on http://127.0.0.1:${PORT:-8000} over an embedded DynamoDB.

PORT            where the API listens (default 8000)
LOCAL_API_KEY   the local account's key (default: a new one, printed)
DYNAMODB_ENDPOINT  use this DynamoDB instead of starting an embedded one
Ctrl-C stops everything it started.
"""
from __future__ import annotations

import os
import signal
import sys
import time

from devstack.stack import Stack


def main() -> int:
    stack = Stack(
        port=int(os.environ.get("PORT") or 8000),
        dynamodb_endpoint=os.environ.get("DYNAMODB_ENDPOINT") or None,
        api_key=os.environ.get("LOCAL_API_KEY") or None,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"starting DynamoDB and the API on {stack.url} ...", flush=True)
    try:
        with stack:
            print(
                f"\nready: {stack.url}\n"
                f"  DynamoDB:        {stack.dynamodb_endpoint}\n"
                f"  account api key: {stack.api_key}\n"
                f"  admin token:     {stack.admin_token}\n"
                "Ctrl-C stops everything.\n",
                flush=True,
            )
            while all(p.poll() is None for p in stack.processes):
                time.sleep(0.5)
            print("a process of the stack exited; stopping the rest", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 0
    finally:
        print("stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
