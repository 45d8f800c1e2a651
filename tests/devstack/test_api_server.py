"""The local API server's access line: what a query parameter named like a secret holds is left out."""
from __future__ import annotations

import pytest

from devstack.api_server import Handler


@pytest.mark.parametrize(("line", "logged"), [
    ("GET /api/runs/?api_key=ak_secret HTTP/1.1", "GET /api/runs/?api_key=[redacted] HTTP/1.1"),
    ("GET /x?a=1&API_KEY=ak_secret&b=2 HTTP/1.1", "GET /x?a=1&API_KEY=[redacted]&b=2 HTTP/1.1"),
    ("POST /auth.login?token=t0k&secret_key=s HTTP/1.1",
     "POST /auth.login?token=[redacted]&secret_key=[redacted] HTTP/1.1"),
    ("GET /api/v0/endptjobs/?owner=me HTTP/1.1", "GET /api/v0/endptjobs/?owner=me HTTP/1.1"),
])
def test_the_access_line_leaves_out_secrets_in_the_query(line, logged):
    handler = Handler.__new__(Handler)
    handler.requestline, lines = line, []
    handler.log_message = lambda fmt, *args: lines.append(fmt % args)
    handler.log_request(200, 17)
    assert lines == [f'"{logged}" 200 17']
    assert "secret" not in lines[0].replace("secret_key", "") and "t0k" not in lines[0]
