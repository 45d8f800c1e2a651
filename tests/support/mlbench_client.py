"""Run steps through the real `mlbench-core` ApiClient, unmodified, and print what came back.

    python tests/support/mlbench_client.py URL STEPS_JSON

URL is what the client takes (`user:KEY@host:port`); each step is [method, args, kwargs] of
`ApiClient`, where a `date` or `since` given as {"datetime": "<isoformat>"} is passed as a
datetime (the client then sends `str(datetime)`, as its docstrings ask). Prints one JSON list
of [status, body] (the JSON body, or its text when it has none), one per step.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime

os.environ.pop("KUBERNETES_SERVICE_HOST", None)  # else importing the package builds an in-cluster client

from mlbench_core.api import ApiClient  # noqa: E402


def _value(value: object) -> object:
    if isinstance(value, dict) and set(value) == {"datetime"}:
        return datetime.fromisoformat(value["datetime"])
    return value


def main(url: str, steps: list) -> list:
    client = ApiClient(in_cluster=False, url=url)
    answers = []
    for method, args, kwargs in steps:
        response = getattr(client, method)(*[_value(a) for a in args],
                                           **{k: _value(v) for k, v in kwargs.items()}).result()
        try:
            body = response.json()
        except ValueError:
            body = response.text
        answers.append([response.status_code, body])
    return answers


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], json.loads(sys.argv[2]))))
