"""The operator's API: creating accounts, guarded by the stage's admin token."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.core import settings
from chalicelib.core import validation as v
from chalicelib.core.auth.accounts import create_account
from chalicelib.core.auth.credentials import matches
from chalicelib.core.errors import forbidden, unauthorized
from chalicelib.core.validation import is_text
from chalicelib.surfaces.admin.envelope import error_body
from chalicelib.surfaces.edge import CONTENT_TYPES, answering_errors, bearer_token, body

admin_api = Blueprint(__name__)


def _require_admin() -> None:
    expected = settings.admin_token_hash()
    if not expected:
        raise forbidden("admin_disabled", "the admin API is off: ADMIN_TOKEN_HASH is not set for this stage")
    token = bearer_token(admin_api.current_request)  # never from the query string: URLs get logged
    if not token or not is_text(token) or not matches(token, expected):
        raise unauthorized("missing or invalid admin token")


@admin_api.route("/admin/accounts", methods=["POST"], content_types=CONTENT_TYPES)
@answering_errors(error_body)
def post_account() -> dict:
    _require_admin()
    request = body(admin_api.current_request)
    name = v.label(request, "name")
    account_id, key = create_account(name)
    return {"success": True, "id": account_id, "name": name, "api_key": key}
