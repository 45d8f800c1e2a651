"""devstack.api_server: Chalice's local server as `chalice local` builds it, with a backlog for
bursts and an answer for every request it reads, over a small app of its own; and the same
environment for the app as `chalice local --stage`."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler

import pytest
import requests
from chalice import Chalice, Response
from chalice.config import Config

from devstack import api_server
from devstack.stack import BIN, ROOT, free_port, wait_for

tiny = Chalice(app_name="tiny")


@tiny.route("/")
def root() -> dict:
    return {"route": "/"}


@tiny.route("/things/{thing}")
def thing(thing: str) -> dict:
    return {"route": "/things/{thing}", "thing": thing}


@tiny.route("/unwritable")
def unwritable() -> Response:
    return Response(body={}, headers={"X-Name": "ключ"})  # not latin-1: http.server cannot send it


@tiny.route("/{proxy+}", methods=["GET", "POST"])
def anything() -> dict:
    return {"route": "/{proxy+}", "proxy": tiny.current_request.uri_params["proxy+"]}


@pytest.fixture(scope="module")
def address():
    dev = api_server.local_server(tiny, Config.create(), "127.0.0.1", 0)
    threading.Thread(target=dev.server.serve_forever, daemon=True).start()
    yield dev.server.server_address
    dev.server.shutdown()
    dev.server.server_close()


def exchange(address, request: bytes) -> tuple[int, bytes]:
    """Send raw bytes, read until the server closes; (status, body). A dropped connection fails."""
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 "), f"no HTTP reply: {reply!r}"
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"Traceback" not in reply
    return int(head.split(b" ", 2)[1]), body


def test_a_greedy_route_matches_paths_of_any_depth_as_on_api_gateway(address):
    url = f"http://{address[0]}:{address[1]}"
    assert requests.get(f"{url}/a/b/c", timeout=10).json() == {"route": "/{proxy+}", "proxy": "a/b/c"}
    assert requests.get(f"{url}/a", timeout=10).json() == {"route": "/{proxy+}", "proxy": "a"}
    assert requests.get(f"{url}/things/5", timeout=10).json() == {"route": "/things/{thing}", "thing": "5"}
    assert requests.get(f"{url}/things/5/more?x=1", timeout=10).json() == {"route": "/{proxy+}",
                                                                           "proxy": "things/5/more"}
    assert requests.get(f"{url}/", timeout=10).json() == {"route": "/"}


@pytest.mark.parametrize("key", ["ключ".encode(), "clé".encode("latin-1")], ids=["utf-8", "latin-1"])
@pytest.mark.parametrize("target", ["/", "/things/5", "/a/b/c", "*"])
def test_a_non_ascii_authorization_header_is_answered(address, key, target):
    # chalice's answer to a request no route matches did `auth_header.encode('ascii')`: this
    # raised, and the connection was dropped without a reply.
    status, body = exchange(address, b"GET " + target.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                            b"Authorization: Bearer " + key + b"\r\n\r\n")
    assert status == (404 if target == "*" else 200)
    assert key not in body


def test_a_request_no_route_matches_is_a_404_that_repeats_no_header(address):
    status, body = exchange(address, b"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                            b"Authorization: Bearer secret-0123\r\n\r\n")
    assert status == 404 and json.loads(body) == {"message": "no such call: GET *"}  # a path nobody owns
    assert b"secret-0123" not in body


@pytest.mark.parametrize("length", [b"abc", b"-1", b""])
def test_a_malformed_content_length_is_a_400(address, length):
    status, body = exchange(address, b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n{}")
    assert status == 400 and json.loads(body)["error"] == "invalid_args"


def test_a_reply_that_cannot_be_written_is_a_500_without_a_traceback(address):
    status, body = exchange(address, b"GET /unwritable HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 500 and json.loads(body)["error"] == "internal"
    assert exchange(address, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0] == 200


def test_connections_wait_in_the_backlog_while_none_is_accepted():
    # socketserver listens with a backlog of 5: the 7th handshake of a burst is dropped by the
    # kernel until the server catches up (clients see a second's delay, or a reset).
    server = api_server.Server(("127.0.0.1", 0), BaseHTTPRequestHandler)  # never serves: nothing is accepted
    connections = []
    try:
        for _ in range(100):
            connections.append(socket.create_connection(server.server_address, timeout=10))
    finally:
        for connection in connections:
            connection.close()
        server.server_close()
    assert api_server.Server.daemon_threads


def test_the_app_gets_the_environment_chalice_local_gives_it(tmp_path):
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({
        "version": "2.0", "app_name": "envcheck",
        "environment_variables": {"GLOBAL_ONLY": "global", "BOTH": "global"},
        "stages": {"s": {"environment_variables": {"BOTH": "stage", "SET_OUTSIDE": "stage"}}},
    }))
    (tmp_path / "app.py").write_text(
        "import os\nfrom chalice import Chalice\napp = Chalice(app_name='envcheck')\n\n\n"
        "@app.route('/env')\ndef env():\n    return dict(os.environ)\n")
    env = {**os.environ, "SET_OUTSIDE": "outside", "ONLY_OUTSIDE": "outside"}
    environments = []
    for command in ([str(BIN / "chalice"), "--project-dir", str(tmp_path), "local", "--no-autoreload"],
                    [sys.executable, "-m", "devstack.api_server", "--project-dir", str(tmp_path)]):
        port = free_port()
        server = subprocess.Popen([*command, "--stage", "s", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for(f"http://127.0.0.1:{port}/env", 30, server)
            environments.append(requests.get(f"http://127.0.0.1:{port}/env", timeout=10).json())
        finally:
            server.terminate()
            server.wait(timeout=10)
    chalice_local, ours = environments
    assert ours == chalice_local
    assert (ours["GLOBAL_ONLY"], ours["BOTH"], ours["SET_OUTSIDE"], ours["ONLY_OUTSIDE"]) == (
        "global", "stage", "stage", "outside")
