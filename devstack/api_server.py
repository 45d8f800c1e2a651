"""The local stack's API: Chalice's own local dev server, as `chalice local` builds it, made to
stand up to what clients send.

    python -m devstack.api_server --port 8000 --stage local

The app, its stage configuration and environment are loaded exactly as `chalice local --stage
STAGE --no-autoreload` loads them (the stage's environment variables, merged over the global
ones, override the process's own; AWS_CHALICE_CLI_MODE is set), and requests go through the
same LocalGateway. What differs:

- the listen backlog is 128, not socketserver's 5: a burst of new connections (20 clients
  connecting at once) waits to be accepted instead of overflowing the queue, which made the
  kernel drop their handshakes and some clients see a reset about a second later;
- a greedy route (`/{proxy+}`) matches paths of any depth, as on API Gateway; chalice's
  matcher only matched it for one path segment, so `/no/such/path` missed the app's own 404;
- a request no route matches is a JSON 404 that repeats none of its headers; chalice's answer
  echoed the Authorization header into the body, encoding it as ASCII: a non-ASCII key raised
  UnicodeEncodeError in `LocalGateway.handle_request` and the connection was dropped unanswered;
- a malformed Content-Length is a 400, not a ValueError that drops the connection; and whatever
  else fails outside the app (whose own errors Chalice already turns into replies) is answered
  with a 500 that carries no traceback (that goes to the server's log);
- the access line leaves out what query parameters named like secrets hold (`?api_key=`).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import traceback
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from chalice import Chalice, local
from chalice.cli.factory import CLIFactory
from chalice.compat import parse_qs, urlparse
from chalice.config import Config
from chalice.deploy.validate import validate_routes

from chalicelib.core.errors import no_such_call
from chalicelib.surfaces.owners import error_body_for

ROOT = Path(__file__).resolve().parents[1]
BACKLOG = 128


def error_body(code: str, msg: str) -> bytes:
    """The API's error envelope (README, "The API")."""
    return json.dumps({"success": False, "error": code, "msg": msg}, separators=(",", ":")).encode()


class BadRequest(local.LocalGatewayException):
    CODE = 400

    def __init__(self, msg: str):
        super().__init__({"Content-Type": "application/json"}, error_body("invalid_args", msg))


class NoRoute(local.LocalGatewayException):
    CODE = 404

    def __init__(self, method: str, path: str):
        """The app's own 404 for the path, in its surface's envelope; no header repeated (they may hold keys)."""
        body = error_body_for(path)(no_such_call(method, path))
        super().__init__({"Content-Type": "application/json"}, json.dumps(body, separators=(",", ":")).encode())


class RouteMatcher(local.RouteMatcher):
    """Chalice's matcher, then API Gateway's greedy variables: `/{proxy+}` matches one or more
    segments (`/a/b/c` gives proxy+ = "a/b/c"). Whatever chalice matches is matched as before."""

    def match_route(self, url: str) -> local.MatchResult:
        try:
            return super().match_route(url)
        except ValueError:
            pass
        parsed = urlparse(url)
        path = parsed.path
        if path != "/" and path.endswith("/"):
            path = path[:-1]
        parts = path.split("/")
        greedy = [r for r in self.route_urls if r.endswith("+}") and r.rsplit("/", 1)[-1].startswith("{")]
        for route_url in sorted(greedy, key=lambda r: -r.count("/")):  # the longest prefix first
            route_parts = route_url.split("/")
            prefix, rest = parts[:len(route_parts) - 1], "/".join(parts[len(route_parts) - 1:])
            if len(prefix) < len(route_parts) - 1 or not rest:  # too short, or nothing for the variable
                continue
            captured = {}
            for given, wanted in zip(prefix, route_parts[:-1], strict=True):
                if wanted.startswith("{") and wanted.endswith("}"):
                    captured[wanted[1:-1]] = given
                elif given != wanted:
                    break
            else:
                captured[route_parts[-1][1:-1]] = rest
                return local.MatchResult(route_url, captured, parse_qs(parsed.query, keep_blank_values=True))
        raise ValueError(f"No matching route found for: {url}")


class Gateway(local.LocalGateway):
    def __init__(self, app_object, config) -> None:
        super().__init__(app_object, config)
        self.event_converter = local.LambdaEventConverter(RouteMatcher(list(app_object.routes)),
                                                          app_object.api.binary_types)

    def _generate_lambda_event(self, method, path, headers, body):
        # Raised here, LocalGateway.handle_request never reaches its no-route answer (the one
        # that did `auth_header.encode('ascii')`); _generic_handle sends this one instead.
        try:
            return super()._generate_lambda_event(method, path, headers, body)
        except ValueError:
            raise NoRoute(method, path.split("?", 1)[0]) from None


_SECRET_PARAM = re.compile(r"([?&][^=&\s]*(?:key|token|secret|password)[^=&\s]*)=[^&\s]*", re.IGNORECASE)


class Handler(local.ChaliceRequestHandler):
    """ChaliceRequestHandler over `Gateway`, answering every request it reads."""

    def __init__(self, request, client_address, server, app_object, config) -> None:
        self.local_gateway = Gateway(app_object, config)
        self._headers_sent = False
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def _parse_payload(self):
        try:
            length = int(self.headers.get("content-length", "0"))
            if length < 0:
                raise ValueError(length)
        except ValueError:
            raise BadRequest("Content-Length is not a number of bytes") from None
        body = self.rfile.read(length) if length > 0 else None
        return dict(self.headers), body

    def log_request(self, code="-", size="-") -> None:
        """The access line, with what a query parameter named like a secret holds left out
        (the vastai CLI sends its key as `?api_key=`)."""
        line = _SECRET_PARAM.sub(r"\1=[redacted]", self.requestline)
        self.log_message('"%s" %s %s', line, getattr(code, "value", code), size)

    def end_headers(self) -> None:
        self._headers_sent = True
        super().end_headers()

    def _generic_handle(self) -> None:
        try:
            super()._generic_handle()
        except local.LocalGatewayException as error:  # raised by _parse_payload, before chalice's try
            self.close_connection = True  # what is left of the request cannot be read reliably
            self._send_error_response(error)
        except Exception:
            self.close_connection = True
            self.log_error("request failed outside the app:\n%s", traceback.format_exc())
            if not self._headers_sent:
                self._headers_buffer = []
                self._send_http_response(500, {"Content-Type": "application/json"}, error_body(
                    "internal", "the local server failed on this request; its log says why"))

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle


class Server(local.ThreadedHTTPServer):
    request_queue_size = BACKLOG  # listen(); socketserver's default is 5
    daemon_threads = True  # a client holding a connection open never keeps the process alive


def local_server(app_obj: Chalice, config: Config, host: str, port: int) -> local.LocalDevServer:
    """chalice.local.create_local_server, over `Server` and `Handler`."""
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app_obj.__class__)
    app_obj.__class__ = local.CustomLocalChalice
    return local.LocalDevServer(app_obj, config, host, port, handler_cls=Handler, server_cls=Server)


def create_server(stage: str, host: str, port: int, project_dir: Path = ROOT) -> local.LocalDevServer:
    """What `chalice local` builds (chalice.cli.create_local_server): the project's app and the
    stage's config. Loading the app puts the stage's environment variables into os.environ,
    over what was there, as chalice does."""
    factory = CLIFactory(str(project_dir), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    app_obj = config.chalice_app
    validate_routes(app_obj.routes)
    return local_server(app_obj, config, host, port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.api_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local", help="the Chalice stage whose configuration the app gets")
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    # As the chalice CLI does before `local` runs: mark CLI mode, work in the project, log to stdout.
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"
    os.chdir(args.project_dir)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    server = create_server(args.stage, args.host, args.port, args.project_dir.resolve())
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
