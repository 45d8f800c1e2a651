"""Drive the serving API with the real `clearml` package, as its own code does, and print what it
got back as JSON (one object on the last line of stdout).

    CLEARML_API_HOST=... CLEARML_API_ACCESS_KEY=... CLEARML_API_SECRET_KEY=... python clearml_session.py STEPS

STEPS is a JSON list of [kind, action, body]: kind "raw" sends through `Session.send_request`
(unversioned, as `EndpointTelemetry` registers and reports), kind "typed" through `Session.send`
with a typed request at /v2.31/ (as the SDK's services are sent). Each result is
[HTTP status or meta.result_code, the reply's data, meta.result_msg].
"""
from __future__ import annotations

import json
import sys

from clearml.backend_api.session import Request, Response, Session


class ServingRequest(Request):
    _service = "serving"
    _version = "2.31"
    _schema = {"type": "object", "additionalProperties": True}

    def __init__(self, **fields):
        super().__init__(_allow_extra_fields_=True, **fields)


class ServingResponse(Response):
    _service = "serving"
    _version = "2.31"
    _schema = {"type": "object", "additionalProperties": True}


response_mapping: dict = {}


def typed(action: str) -> type[ServingRequest]:
    request = type(f"{action}_request", (ServingRequest,), {"_action": action})
    response = type(f"{action}_response", (ServingResponse,), {"_action": action})
    response_mapping[request] = response
    return request


def main(steps: list) -> list:
    session = Session()  # logs in with the access and secret key from the environment
    results = []
    for kind, action, body in steps:
        if kind == "raw":
            reply = session.send_request("serving", action, json=body)
            data = reply.json() if reply.headers.get("content-type", "").startswith("application/json") else {}
            results.append([reply.status_code, data.get("data"), (data.get("meta") or {}).get("result_msg")])
        else:
            result = session.send(typed(action)(**body))
            results.append([result.meta.result_code, result.response_data, result.meta.result_msg])
    return results


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
