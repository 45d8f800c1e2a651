"""The console routes for an account's ClearML credential pairs (`/api/v0/clearml/credentials/`),
on the Vast blueprint with the account key, so errors are in the Vast envelope. The secret is in
the create reply and nowhere else (core/auth/clearml_keys.py)."""
from __future__ import annotations

from chalicelib.core.auth import clearml_keys
from chalicelib.surfaces.edge import account, body
from chalicelib.surfaces.vast.routes import _route, vast_api


@_route("/api/v0/clearml/credentials", ["GET", "POST"])
def clearml_credentials() -> dict:
    principal = account(vast_api.current_request)
    if vast_api.current_request.method == "GET":
        return {"success": True, "results": [{"access_key": pair.sk, "created_at": int(pair.created_at)}
                                             for pair in clearml_keys.list_pairs(principal.account_id)]}
    body(vast_api.current_request, allow_empty=True)  # takes no fields, but junk is still a 400
    access_key, secret_key = clearml_keys.create_pair(principal.account_id)
    return {"success": True, "access_key": access_key, "secret_key": secret_key}


@_route("/api/v0/clearml/credentials/{access_key}", ["DELETE"])
def clearml_credential(access_key: str) -> dict:
    principal = account(vast_api.current_request)
    clearml_keys.revoke(principal.account_id, access_key)
    return {"success": True}
