"""`msp codec-server`: Temporal's codec-server endpoints, so authorised operators read encrypted payloads in clear.

``POST /encode`` and ``POST /decode`` take and give ``{"payloads": [...]}``, the protobuf JSON form of
``temporal.api.common.v1.Payloads`` (metadata values and data in base64), as the Web UI and ``temporal --codec-endpoint``
send them. The Web UI calls it from the browser, so the server answers CORS preflights for the UI's origins. With
``--token``, every POST must carry ``Authorization: Bearer <token>``, checked before any of the body is read. Only
the Host names given (loopback by default, ``--allow-host`` for others) are served, the body is capped at
``MAX_BODY`` (413 beyond), a malformed Content-Length gets 400, and a stalled client is dropped after
``READ_TIMEOUT``; nothing a client sends prints a traceback. The keys are the worker's: ``CCM_CODEC_KEYS`` or
``CCM_CODEC_KEYS_FILE``. The standard library serves it; no payload is logged.
"""

from __future__ import annotations

import hmac
import json
import re
import sys
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

import typer
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from runtime.codec import CodecError, CodecKeyError, CodecKeys, EncryptionCodec, load_keys

DEFAULT_UI_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")
# The Host headers served unless --allow-host adds others: a page of another site whose name an attacker points at
# 127.0.0.1 (DNS rebinding) sends its own name, and is refused.
DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "::1")
ALLOW_HEADERS = "content-type,x-namespace,authorization"
# Temporal caps a payload at 2 MB by default (2.7 MB in base64); the UI sends a few at a time.
MAX_BODY = 8 * 1024 * 1024
# A client that stops sending (a stalled upload, a header never finished) frees its thread after this long.
READ_TIMEOUT = 30.0
_LENGTH_RE = re.compile(r"[0-9]{1,15}")


def host_name(header: str) -> str:
    """The name in a Host header, without its port: ``Example.org:8888`` -> ``example.org``, ``[::1]:88`` -> ``::1``."""
    h = header.strip().lower()
    if h.startswith("["):
        h = h[1 : h.find("]")] if "]" in h else h
    elif h.count(":") == 1:
        h = h.partition(":")[0]
    return h.rstrip(".")


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def build_server(
    codec: EncryptionCodec,
    host: str = "127.0.0.1",
    port: int = 8888,
    ui_origins: Sequence[str] = DEFAULT_UI_ORIGINS,
    token: str | None = None,
    allowed_hosts: Sequence[str] = DEFAULT_ALLOWED_HOSTS,
) -> ThreadingHTTPServer:
    """The codec server, bound but not yet serving (call ``serve_forever``); port 0 picks a free port."""
    origins = frozenset(o.rstrip("/") for o in ui_origins)
    hosts = frozenset(host_name(h) for h in allowed_hosts)
    routes: dict[str, Callable[[Sequence[Payload]], list[Payload]]] = {
        "/encode": codec.encode_payloads,
        "/decode": codec.decode_payloads,
    }

    class Handler(BaseHTTPRequestHandler):
        server_version = "ccm-codec-server"
        protocol_version = "HTTP/1.1"
        timeout = READ_TIMEOUT
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
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _error(
            self, status: HTTPStatus, message: str, challenge: bool = False, unread: bool = False
        ) -> None:
            """``unread``: the request's body was not read, so the connection cannot carry another request."""
            if unread:
                self.close_connection = True
            self._reply(status, json.dumps({"error": message}).encode(), challenge=challenge)

        def _host_allowed(self, unread: bool = False) -> bool:
            given = self.headers.get("Host")
            if given is None:
                self._error(HTTPStatus.BAD_REQUEST, "no Host header", unread=unread)
                return False
            name = host_name(given)
            if name not in hosts:
                self._error(
                    HTTPStatus.FORBIDDEN,
                    f"Host {name!r} is not served (served: {', '.join(sorted(hosts))}); "
                    "msp codec-server --allow-host NAME adds one",
                    unread=unread,
                )
                return False
            return True

        def _length(self) -> int | None:
            """The body's length when it may be read; otherwise the request is answered and None returned."""
            if self.headers.get("Transfer-Encoding") is not None:
                self._error(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length", unread=True)
                return None
            given = {v.strip() for v in self.headers.get_all("Content-Length") or []}
            if not given:
                return 0
            text = given.pop()
            if given or not _LENGTH_RE.fullmatch(text):
                shown = _printable(text)[:40]
                self._error(
                    HTTPStatus.BAD_REQUEST,
                    f"Content-Length must be one whole number of bytes, not {shown!r}",
                    unread=True,
                )
                return None
            length = int(text)
            if length > MAX_BODY:
                self._error(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"body of {length} bytes is over the limit of {MAX_BODY}",
                    unread=True,
                )
                return None
            return length

        def do_OPTIONS(self) -> None:  # noqa: N802 (http.server's naming)
            if self._host_allowed(unread=True):
                self._reply(HTTPStatus.NO_CONTENT)

        def do_GET(self) -> None:  # noqa: N802
            if self._host_allowed(unread=True):
                self._error(HTTPStatus.METHOD_NOT_ALLOWED, "POST /encode or /decode")

        def do_POST(self) -> None:  # noqa: N802
            # Who may ask and what they send are settled from the headers alone, before any of the body is read.
            if not self._host_allowed(unread=True):
                return
            if token is not None:
                given = self.headers.get("Authorization") or ""
                if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                    self._error(
                        HTTPStatus.UNAUTHORIZED,
                        "missing or wrong Authorization: Bearer token",
                        challenge=True,
                        unread=True,
                    )
                    return
            route = routes.get(self.path.split("?", 1)[0].rstrip("/"))
            if route is None:
                self._error(HTTPStatus.NOT_FOUND, "POST /encode or /decode", unread=True)
                return
            length = self._length()
            if length is None:
                return
            body = self.rfile.read(length)
            if len(body) < length:
                self.close_connection = True  # the client hung up mid-body: nobody to answer
                return
            try:
                payloads = json_format.Parse(body or b"{}", Payloads())
            except Exception as e:  # ParseError, but also bad UTF-8 or JSON nested past the recursion limit
                reason = _printable(str(e).splitlines()[0] if str(e) else type(e).__name__)[:300]
                self._error(
                    HTTPStatus.BAD_REQUEST, f'expected {{"payloads": [...]}} (protobuf JSON): {reason}'
                )
                return
            try:
                result = Payloads(payloads=route(payloads.payloads))
            except CodecError as e:
                self._error(HTTPStatus.BAD_REQUEST, str(e))
                return
            self._reply(HTTPStatus.OK, json_format.MessageToJson(result).encode())

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            sys.stderr.write(f"{self.address_string()} {_printable(format % args)}\n")

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            """One line, never a traceback (a client that stalled past READ_TIMEOUT, or hung up)."""
            e = sys.exc_info()[1]
            sys.stderr.write(
                f"{client_address[0]} request abandoned: {type(e).__name__}: {_printable(str(e))}\n"
            )

    return Server((host, port), Handler)


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
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            help="A name browsers reach it by, served besides the loopback names (repeatable): any other Host "
            "header is refused, against DNS rebinding.",
            show_default=", ".join(DEFAULT_ALLOWED_HOSTS),
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
    allowed = (*DEFAULT_ALLOWED_HOSTS, *(allow_host or ()))
    try:
        server = build_server(EncryptionCodec(keys), host, port, origins, token or None, allowed)
    except OSError as e:
        typer.echo(f"cannot listen on {host}:{port}: {e.strerror or e}", err=True)
        raise typer.Exit(2) from None
    bound_host, bound_port = server.server_address[:2]
    typer.echo(
        f"codec server on http://{bound_host!s}:{bound_port} (keys {', '.join(keys.ids)}; {keys.active} encrypts), "
        f"for {', '.join(origins)}; Host {', '.join(allowed)}{'; token required' if token else ''}. "
        "Ctrl-C stops it.",
        err=True,
    )
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
