"""How fast does the local receiver answer? Its round trip against a bare `http.server`, in the same run.

Every activity that posts to conference services or the webhook waits for the receiver's answer, and the
time-skipping server cannot skip time while an activity runs: a slow answer is paid once per simulated reminder or
job (issue 16 found 44 ms each, from Nagle's algorithm on a keep-alive connection). Each trial starts both servers
afresh in this process (each in its own thread, on 127.0.0.1) and sends them ``--requests`` requests, one at a time
and alternating which goes first, through one `httpx.AsyncClient` as `ConferenceServices` uses it (keep-alive):

- figure: the receiver (`starter/receiver.py`), ``POST /translation-jobs`` with a job's JSON body and a new
  Idempotency-Key each time (it stores each job as a file, as `make run` does);
- baseline: `http.server.ThreadingHTTPServer` with a handler left at its defaults (HTTP/1.0: a connection per
  request), reading the same body and answering 201 with a small JSON body.

The row is the median round trip of each; its ratio the median of the trials' ratios. Issue 16 asks for 1.5x.

    .venv/bin/python -m bench.receiver [--repeat N] [--requests 300]
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from bench.common import (
    Paired,
    Report,
    Row,
    arguments,
    machine,
    median,
    percentile,
    progress,
    run_alone,
    spread,
)
from starter.receiver import HOST, Receiver

TARGET = 1.5  # issue 16: within 1.5x a bare http.server
WARMUP = 20
JOB = {
    "symbol": "CCM/MSP/2027/3",
    "language": "fr",
    "title": "Draft final report",
    "pages": 12,
    "amount": 2160,
    "meeting": "14MSP",
}


@dataclass(frozen=True)
class Options:
    repeat: int = 1
    requests: int = 300


class _Bare(BaseHTTPRequestHandler):
    """A handler as `http.server` gives it: HTTP/1.0, Nagle on, the answer written in two parts."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        data = b'{"reference": "BARE-1"}'
        self.send_response(HTTPStatus.CREATED)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


class BareServer:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer((HOST, 0), _Bare)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}"

    def __enter__(self) -> BareServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


async def post(client: httpx.AsyncClient, url: str, key: str) -> float:
    body = json.dumps(JOB)
    t0 = time.perf_counter()
    r = await client.post(
        f"{url}/translation-jobs",
        content=body,
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )
    secs = time.perf_counter() - t0
    r.raise_for_status()
    return secs


async def trial(opts: Options, n: int) -> Paired:
    t = Paired()  # a round: a request to each
    with (
        tempfile.TemporaryDirectory(prefix="ccm-bench-") as tmp,
        Receiver(Path(tmp), log=None) as receiver,
        BareServer() as bare,
    ):
        async with httpx.AsyncClient(headers={"Accept": "application/json"}) as client:
            for i in range(WARMUP):
                await post(client, receiver.url, f"warmup-{n}-{i}")
                await post(client, bare.url, f"warmup-{n}-{i}")
            progress(f"receiver: trial {n + 1}: {opts.requests} requests to each")
            for i in range(opts.requests):
                key = f"bench-{n}-{i}"
                await t.take(i, post(client, receiver.url, key), post(client, bare.url, key))
    return t


async def measure(opts: Options) -> Report:
    trials = [await trial(opts, n) for n in range(opts.repeat)]
    fig = [1000 * median(t.figure) for t in trials]
    base = [1000 * median(t.baseline) for t in trials]
    row = Row.paired(
        "receiver round trip (POST /translation-jobs) / bare http.server",
        fig,
        base,
        target=TARGET,
        unit="ms",
        digits=2,
    )
    details = [
        "receiver round trip, in this process, one httpx.AsyncClient with keep-alive",
        f"  figure   starter/receiver.py, POST /translation-jobs, a new Idempotency-Key each (stored as a file): "
        f"median {spread(fig)} ms",
        f"  baseline http.server at its defaults (HTTP/1.0, a connection per request), the same POST answered 201: "
        f"median {spread(base)} ms",
    ]
    for n, t in enumerate(trials, start=1):
        details.append(
            f"  trial {n}: receiver p50 {1000 * median(t.figure):.2f} ms, p99 {1000 * percentile(t.figure, 99):.2f}; "
            f"bare p50 {1000 * median(t.baseline):.2f} ms, p99 {1000 * percentile(t.baseline, 99):.2f} "
            f"({opts.requests} each)"
        )
    details += [f"  ratio    {row.ratio_text()}; target <= {TARGET:g}x (issue 16)", f"  machine: {machine()}"]
    return Report(rows=[row], details=details)


def main(argv: Sequence[str] | None = None) -> None:
    p = arguments("receiver", __doc__)
    p.add_argument("--requests", type=int, default=300, help="requests to each server per trial")
    a = p.parse_args(argv)
    if a.repeat < 1 or a.requests < 1:
        p.error("--repeat and --requests must be at least 1")
    run_alone(lambda: measure(Options(repeat=a.repeat, requests=a.requests)))


if __name__ == "__main__":
    main()
