"""A scriptable stand-in for conference services on 127.0.0.1, for tests: each path answers by a script.

A step is an error status to answer, or (``ACCEPT``) the request accepted as conference services do: 201 and a new
reference for a new Idempotency-Key, 200 and the same reference for a known one, so one key makes one job. A step
may first wait (an answer slower than the caller's timeout). Every request is recorded with its key and body.

Kept apart from the test module that defines a workflow: the workflow sandbox will not let a module subclass
``http.server`` classes, so this module is imported through ``workflow.unsafe.imports_passed_through()``.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TRANSLATIONS = "/translation-jobs"
BOOKINGS = "/interpretation-bookings"


@dataclass(frozen=True)
class Step:
    """One answer: ``status`` as is, or (``None``) accept the request: 201 for a new key, 200 for a known one."""

    status: int | None = None
    delay: float = 0.0
    body: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


ACCEPT = Step()


@dataclass(frozen=True)
class Seen:
    path: str
    key: str | None
    body: Any


@dataclass
class Services:
    """What the scriptable server was told to do and what it saw (shared with its handler threads)."""

    scripts: dict[str, list[Step]] = field(default_factory=dict)
    # A step for every request with this Idempotency-Key, before the path's script: requests sent side by side
    # arrive in no fixed order.
    by_key: dict[str, Step] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    jobs: dict[tuple[str, str], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set at teardown: a delayed answer stops waiting, so no thread outlives its test.
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    # The client ports requests came from: one per connection the caller opened.
    peers: set[int] = field(default_factory=set)

    def script(self, path: str, *steps: Step) -> None:
        self.scripts[path] = list(steps)

    def keys(self, path: str) -> list[str | None]:
        return [s.key for s in self.seen if s.path == path]

    def answer(self, path: str, key: str | None, body: Any) -> tuple[Step, int, dict[str, Any]]:
        with self.lock:
            self.seen.append(Seen(path, key, body))
            steps = self.scripts.get(path)
            step = self.by_key.get(key) if key else None
            if step is None:
                step = steps.pop(0) if steps else ACCEPT
        if step.delay:
            self.release.wait(step.delay)
        if step.status is not None:
            return step, step.status, {"error": f"scripted {step.status}"}
        assert key, "the activity sent no Idempotency-Key"
        with self.lock:
            reference = self.jobs.get((path, key))
            if reference is not None:
                return step, 200, {"reference": reference}
            reference = self.jobs[(path, key)] = f"REF-{len(self.jobs) + 1}"
            return step, 201, {"reference": reference}


class _Handler(BaseHTTPRequestHandler):
    services: Services  # set on a subclass per server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.services.peers.add(self.client_address[1])
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        step, status, payload = self.services.answer(
            self.path, self.headers.get("Idempotency-Key"), json.loads(raw)
        )
        data = (step.body if step.body is not None else json.dumps(payload)).encode()
        try:
            self.send_response(status)
            for name, value in step.headers:
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting: what a slow service sees too


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each answer waits for a delayed acknowledgement (Nagle)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a burst of new connections, none dropped


@contextlib.contextmanager
def serve(keep_alive: bool = False) -> Iterator[Services]:
    """The stand-in; ``keep_alive``: HTTP/1.1, a connection serving request after request."""
    state = Services()
    handler = type("Handler", (_KeepAliveHandler if keep_alive else _Handler,), {"services": state})
    server = _Server(("127.0.0.1", 0), handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join()
