"""`msp codec-server`: Temporal's codec-server endpoints, so authorised operators read encrypted payloads in clear.

``POST /encode`` and ``POST /decode`` take and give ``{"payloads": [...]}``, the protobuf JSON form of
``temporal.api.common.v1.Payloads`` (metadata values and data in base64), as the Web UI and ``temporal --codec-endpoint``
send them. The Web UI calls it from the browser, so the server answers CORS preflights for the UI's origins. With
``--token``, every POST must carry ``Authorization: Bearer <token>``. The keys are the worker's: ``CCM_CODEC_KEYS`` or
``CCM_CODEC_KEYS_FILE``. The standard library serves it; no payload is logged.
"""

from __future__ import annotations

import hmac
import json
import sys
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated

import typer
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from starter.codec import CodecError, CodecKeyError, CodecKeys, EncryptionCodec, load_keys

DEFAULT_UI_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")
ALLOW_HEADERS = "content-type,x-namespace,authorization"
# Temporal caps a payload at 2 MB by default; the UI sends a few at a time.
MAX_BODY = 64 * 1024 * 1024


def build_server(
    codec: EncryptionCodec,
    host: str = "127.0.0.1",
    port: int = 8888,
    ui_origins: Sequence[str] = DEFAULT_UI_ORIGINS,
    token: str | None = None,
) -> ThreadingHTTPServer:
    """The codec server, bound but not yet serving (call ``serve_forever``); port 0 picks a free port."""
    origins = frozenset(o.rstrip("/") for o in ui_origins)
    routes: dict[str, Callable[[Sequence[Payload]], list[Payload]]] = {
        "/encode": codec.encode_payloads,
        "/decode": codec.decode_payloads,
    }

    class Handler(BaseHTTPRequestHandler):
        server_version = "ccm-codec-server"
        protocol_version = "HTTP/1.1"
        # Keep-alive, headers and body written apart: without it each answer waits ~40 ms for an ACK (Nagle).
        disable_nagle_algorithm = True

        def _cors(self) -> None:
            origin = (self.headers.get("Origin") or "").rstrip("/")
            if origin in origins:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", ALLOW_HEADERS)
                self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Vary", "Origin")

        def _reply(self, status: HTTPStatus, body: bytes = b"", challenge: bool = False) -> None:
            self.send_response(status)
            self._cors()
            if challenge:
                self.send_header("WWW-Authenticate", 'Bearer realm="ccm-codec-server"')
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _error(self, status: HTTPStatus, message: str, challenge: bool = False) -> None:
            self._reply(status, json.dumps({"error": message}).encode(), challenge=challenge)

        def do_OPTIONS(self) -> None:  # noqa: N802 (http.server's naming)
            self._reply(HTTPStatus.NO_CONTENT)

        def do_GET(self) -> None:  # noqa: N802
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, "POST /encode or /decode")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.close_connection = True
                self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BODY} bytes")
                return
            body = self.rfile.read(length)
            if token is not None:
                given = self.headers.get("Authorization") or ""
                if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                    self._error(
                        HTTPStatus.UNAUTHORIZED,
                        "missing or wrong Authorization: Bearer token",
                        challenge=True,
                    )
                    return
            route = routes.get(self.path.split("?", 1)[0].rstrip("/"))
            if route is None:
                self._error(HTTPStatus.NOT_FOUND, "POST /encode or /decode")
                return
            try:
                payloads = json_format.Parse(body or b"{}", Payloads())
            except json_format.ParseError as e:
                self._error(HTTPStatus.BAD_REQUEST, f'expected {{"payloads": [...]}} (protobuf JSON): {e}')
                return
            try:
                result = Payloads(payloads=route(payloads.payloads))
            except CodecError as e:
                self._error(HTTPStatus.BAD_REQUEST, str(e))
                return
            self._reply(HTTPStatus.OK, json_format.MessageToJson(result).encode())

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return ThreadingHTTPServer((host, port), Handler)


def codec_server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8888,
    ui_origin: Annotated[
        list[str] | None,
        typer.Option(
            help="Origin of the Web UI allowed to call it (repeatable).",
            show_default=", ".join(DEFAULT_UI_ORIGINS),
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="CCM_CODEC_SERVER_TOKEN", help="Require Authorization: Bearer TOKEN on every request."
        ),
    ] = None,
) -> None:
    """Serve the codec-server endpoints (POST /encode, /decode) with the worker's keys, for the Web UI and
    `temporal --codec-endpoint`."""
    try:
        keys: CodecKeys | None = load_keys()
    except CodecKeyError as e:
        typer.echo(f"the payload codec keys are invalid: {e}", err=True)
        raise typer.Exit(2) from None
    if keys is None:
        typer.echo("no keys: set CCM_CODEC_KEYS or CCM_CODEC_KEYS_FILE, as for the worker", err=True)
        raise typer.Exit(2)
    origins = tuple(ui_origin) if ui_origin else DEFAULT_UI_ORIGINS
    try:
        server = build_server(EncryptionCodec(keys), host, port, origins, token or None)
    except OSError as e:
        typer.echo(f"cannot listen on {host}:{port}: {e.strerror or e}", err=True)
        raise typer.Exit(2) from None
    bound_host, bound_port = server.server_address[:2]
    typer.echo(
        f"codec server on http://{bound_host!s}:{bound_port} (keys {', '.join(keys.ids)}; {keys.active} encrypts), "
        f"for {', '.join(origins)}{'; token required' if token else ''}. Ctrl-C stops it.",
        err=True,
    )
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
