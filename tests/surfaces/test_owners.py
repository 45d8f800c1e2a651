"""Errors are answered in the envelope of the surface that owns the path, Chalice's own 4xx too."""
from __future__ import annotations

import pytest

from chalicelib.core.errors import no_such_call
from chalicelib.surfaces.owners import error_body_for
from tests.support.envelopes import PLAIN


@pytest.mark.parametrize("path, envelope", [
    ("/api/v0/endptjobs/", "vast"), ("/route/", "vast"), ("/get_endpoint_logs", "vast"), ("/admin/accounts", "admin"),
    ("/api/pods/", "mlbench"), ("/api/runs/7/x", "mlbench"),
    ("/", "none"), ("/routee", "none"), ("/api/podsx/", "none"), ("/api/", "none"), ("/administrator", "none"),
])
def test_a_path_is_owned_by_its_leading_segments(path, envelope):
    body = error_body_for(path)(no_such_call("GET", path))
    if envelope == "none":
        assert body == {"message": f"no such call: GET {path}"}
    elif envelope == "mlbench":
        assert body == {"message": f"no such call: GET {path}", "code": "not_found"}
    else:
        assert body == {"success": False, "error": "not_found", "msg": f"no such call: GET {path}"}


def test_chalices_own_405_and_415_come_in_the_owning_surfaces_envelope(api, client):
    status, reply = api.call("PATCH", "/api/v0/endptjobs/")
    assert status == 405 and reply["success"] is False and reply["error"] and reply["msg"]
    response = client.http.post("/admin/accounts/", headers={"Content-Type": "application/xml"}, body="<a/>")
    assert response.status_code == 415 and set(response.json_body) == {"success", "error", "msg"}


@pytest.mark.parametrize("path", ["/dashboards", "/routee", "/administrator", "/nothing/"])
def test_a_path_nobody_owns_is_answered_a_plain_404_naming_it(api, path):
    """(Chalice's test client routes `/{proxy+}` for one segment only: deeper paths are e2e's.)"""
    for method in ("GET", "POST", "DELETE"):
        status, reply = api.call(method, path, {})
        PLAIN.check(status, reply, 404, names=f"no such call: {method} {path.rstrip('/') or '/'}")
