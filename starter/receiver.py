"""A local stand-in for conference services (UNOG) and the notification webhook: receives translation jobs,
interpretation bookings and notifications.

`make run` starts one in-process, so the worker's conference-services and notification activities have somewhere
to send to and an operator can read what was sent. Standard library only.

    POST /translation-jobs           JSON body, header Idempotency-Key   -> 201 {"reference": "UNOG-T-000001", ...}
    POST /interpretation-bookings    JSON body, header Idempotency-Key   -> 201 {"reference": "UNOG-I-000001", ...}
    POST /notifications              JSON body, header Idempotency-Key   -> 201 {"reference": "UNOG-N-000001", ...}
    POST /travel-bookings            JSON body, header Idempotency-Key   -> 201 {"reference": "UNOG-B-000001", ...} | 422
    POST /translation-jobs/cancel    header Idempotency-Key of the job   -> 200 {"status": "cancelled", ...} | 409
    POST /translation-jobs/complete  header Idempotency-Key of the job   -> 200 {"status": "completed", ...} | 404 | 409
    POST /mail, GET /mail            the ISU's invoices as PDF files (starter/mailbox.py)
    GET  /health                                                         -> 200 {"status": "ok"}

The same Idempotency-Key again answers 200 with the same reference and ``"duplicate": true`` and stores nothing
new. Each accepted request is one file, ``<dir>/<kind>/<key, made file-safe>.json``, holding the reference, the key,
when it came, the body as sent and, for a translation job, its ``status``: ``received``, ``completed`` or
``cancelled``. Those files are the whole state: a receiver started again on the same directory knows every key and
continues the numbering. Malformed JSON or a missing key: 400; another path: 404.

Cancelling a translation job (the document it belongs to was withdrawn) names the job by the key it was sent with.
A job not yet completed is cancelled (200, ``"status": "cancelled"``); a completed one cannot be (409, ``"status":
"completed"``: too late, its money is spent); cancelling again answers the same. A key never received is cancelled
too (200, ``"reference": null``) and remembered, so a job arriving later with that key (a submission still on its
way) is refused with 409 rather than accepted: whatever the order in which they arrive, a cancelled key has no job.
``complete`` stands for conference services finishing a job (here, a test or an operator says so).

Every connection gets ``read_timeout`` seconds per read: a client stalling mid-request is dropped.

    python -m starter.receiver [--port 7299] [--dir .temporal/receiver]

It binds 127.0.0.1 only: it is a development tool, without authentication.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from starter.mailbox import MailError, accept_mail, listing
from starter.receiver_store import (
    CANCEL,
    CANCELLED,
    COMPLETE,
    COMPLETED,
    MAIL,
    TRANSLATIONS,
)

# Named here too, where the worker's setup and the tests have always found them.
from starter.receiver_store import KINDS as KINDS
from starter.receiver_store import NOTIFICATIONS as NOTIFICATIONS
from starter.receiver_store import Store as Store
from starter.receiver_store import safe_name as safe_name
from starter.travel import refusal

HOST = "127.0.0.1"
DEFAULT_PORT = 7299
MAX_BODY = 1_000_000
MAX_KEY = 200
# Longer than httpx's keep-alive expiry (5 s), so the client, not the receiver, closes an idle pooled connection
# (no request is ever sent on a connection the receiver is closing), and short enough that a stalled client is gone
# in seconds.
READ_TIMEOUT = 10.0

Log = Callable[[str], None]
T = TypeVar("T")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: Store, log: Log, read_timeout: float) -> None:
        self.store = store
        self.log = log
        self.read_timeout = read_timeout
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "ccm-receiver/1"
    protocol_version = "HTTP/1.1"
    # Keep-alive with headers and body written apart: without this, each answer waits ~40 ms for the client's
    # delayed acknowledgement of the headers (Nagle).
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        # A read that waits longer raises TimeoutError, which the base class answers by closing the connection.
        self.connection.settimeout(self.server.read_timeout)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # one line per accepted request is logged below; the access log would only repeat it

    def _answer(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._answer(status, {"error": message})

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == f"/{MAIL}":
            self._answer(HTTPStatus.OK, listing(self.server.store.root))
        elif path == "/health":
            self._answer(HTTPStatus.OK, {"status": "ok"})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such resource: GET {self.path}")

    def do_POST(self) -> None:
        kind = self.path.split("?", 1)[0].strip("/")
        length_text = self.headers.get("Content-Length")
        try:
            length = int(length_text) if length_text is not None else -1
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._error(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required")
            return
        if length > MAX_BODY:
            self.close_connection = True
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is over {MAX_BODY} bytes")
            return
        raw = self.rfile.read(length)
        action = kind.removeprefix(f"{TRANSLATIONS}/") if kind.startswith(f"{TRANSLATIONS}/") else None
        if kind not in KINDS and action not in (CANCEL, COMPLETE):
            self._error(HTTPStatus.NOT_FOUND, f"no such resource: POST {self.path}")
            return
        key = (self.headers.get("Idempotency-Key") or "").strip()
        if not key or len(key) > MAX_KEY:
            self._error(
                HTTPStatus.BAD_REQUEST, f"an Idempotency-Key header of 1-{MAX_KEY} characters is required"
            )
            return
        try:
            # A cancel or complete needs no body; a reason may come in one.
            body = json.loads(raw or b"{}") if action else json.loads(raw)
        except ValueError as e:
            self._error(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {e}")
            return
        if not isinstance(body, dict):
            self._error(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
            return
        if action:
            self._change(key, action, str(body.get("reason") or "")[:MAX_KEY])
            return
        if refused := refusal(kind, body):  # the stand-in travel agent's refusal (starter/travel.py)
            self.server.log(f"receiver: {kind} refused: {refused} (Idempotency-Key {key})")
            self._error(HTTPStatus.UNPROCESSABLE_ENTITY, refused)
            return
        store = self.server.store
        mail = kind == MAIL
        if (
            accepted := self._stored(
                lambda: accept_mail(store, key, body) if mail else store.accept(kind, key, body)
            )
        ) is None:
            return
        record, new = accepted
        if record.get("status") == CANCELLED:
            self.server.log(f"receiver: {kind} refused: Idempotency-Key {key} was cancelled")
            self._answer(
                HTTPStatus.CONFLICT,
                {
                    "status": CANCELLED,
                    "reference": record["reference"],
                    "idempotency_key": key,
                    "error": f"the job with this Idempotency-Key was cancelled at {record['cancelled_at']}; "
                    "a cancelled key is not accepted again",
                },
            )
            return
        answer: dict[str, Any] = {
            "reference": record["reference"],
            "duplicate": not new,
            "idempotency_key": key,
            "received_at": record["received_at"],
        }
        if not new and record.get("body") != body:
            answer["note"] = "this key came before with another body; the first request stands"
        self.server.log(
            f"receiver: {kind} {record['reference']} {'stored' if new else 'already stored'} "
            f"(Idempotency-Key {key}){'; ' + answer['note'] if 'note' in answer else ''}"
        )
        self._answer(HTTPStatus.CREATED if new else HTTPStatus.OK, answer)

    def _stored(self, call: Callable[[], T]) -> T | None:
        """What the store answers; None when it could not store the request (answered 500)."""
        try:
            return call()
        except MailError as e:
            self._error(HTTPStatus.BAD_REQUEST, str(e))
            return None
        except (OSError, ValueError) as e:
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"could not store the request: {e}")
            return None

    def _change(self, key: str, action: str, reason: str) -> None:
        if (changing := self._stored(lambda: self.server.store.change(key, action, reason))) is None:
            return
        record, changed = changing
        if record is None:
            self._error(HTTPStatus.NOT_FOUND, "no translation job was received with this Idempotency-Key")
            return
        status, reference = record["status"], record["reference"]
        answer: dict[str, Any] = {
            "status": status,
            "reference": reference,
            "idempotency_key": key,
            "duplicate": not changed,
        }
        done = CANCELLED if action == CANCEL else COMPLETED
        if status != done:
            answer["error"] = (
                f"translation job {reference} was {status} at {record[f'{status}_at']}: "
                f"it can no longer be {done}"
            )
        self.server.log(
            f"receiver: {action} {TRANSLATIONS} {reference or '(none received)'}: "
            f"{status}{'' if changed else ' before'} (Idempotency-Key {key})"
        )
        self._answer(HTTPStatus.OK if status == done else HTTPStatus.CONFLICT, answer)


class Receiver:
    """The receiver in a background thread of this process: ``start()``, then ``stop()`` (or ``with``)."""

    def __init__(
        self,
        directory: Path,
        port: int = 0,
        host: str = HOST,
        log: Log | None = _stderr,
        *,
        read_timeout: float = READ_TIMEOUT,
        store: Store | None = None,
    ) -> None:
        self.directory = directory
        self.store = store or Store(directory)
        # Binds at once, so a port in use fails here (OSError) rather than in the thread.
        self._server = _Server((host, port), self.store, log or (lambda line: None), read_timeout)
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Receiver:
        self._thread = threading.Thread(target=self.serve_forever, name="ccm-receiver", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serves in this thread until interrupted (the standalone command)."""
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m starter.receiver", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on {HOST} (default {DEFAULT_PORT})")
    p.add_argument("--dir", default=".temporal/receiver", help="where requests are stored (default: that)")
    args = p.parse_args(argv)
    directory = Path(args.dir).expanduser().resolve()
    try:
        receiver = Receiver(directory, args.port)
    except OSError as e:
        sys.exit(f"error: cannot listen on {HOST}:{args.port}: {e.strerror or e}")
    _stderr(f"conference services receiver on {receiver.url}, storing under {directory} (Ctrl-C stops)")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
        _stderr("stopped")


if __name__ == "__main__":
    main()
