"""What the benchmarks share: the dev server as `make run` starts it, bounded waits, and the table they print."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from runtime import logsetup
from starter.embedded.devserver import HOST, NAMESPACE, missing_search_attributes, server_args

BIN = Path(sys.executable).parent
SERVER_READY_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 20.0
# Events in one run: the server suggests continue-as-new at the first, fails the run at the second.
SUGGESTED_EVENTS = 4096
MAX_EVENTS = 51_200

T = TypeVar("T")


class BenchError(Exception):
    """A benchmark could not finish; ``str()`` says what was awaited and what was seen instead."""


_T0 = time.perf_counter()


def progress(line: str) -> None:
    """A line on stderr with the seconds since start: a long benchmark shows it is alive, and where it is."""
    print(f"[{time.perf_counter() - _T0:6.1f} s] {line}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


async def wait_for(
    what: str,
    check: Callable[[], Awaitable[bool]],
    timeout: float,
    interval: float,
    seen: Callable[[], Awaitable[str]] | None = None,
) -> float:
    """Polls ``check`` every ``interval`` s until it holds; returns the time it did (perf_counter).

    Raises BenchError naming ``what`` (and what ``seen`` reports) once ``timeout`` s have passed.
    """
    deadline = time.perf_counter() + timeout
    while True:
        if await check():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            detail = f"; {await seen()}" if seen is not None else ""
            raise BenchError(f"gave up after {timeout:g} s waiting for {what}{detail}")
        await asyncio.sleep(interval)


async def bounded(limit: int, jobs: Iterable[Awaitable[T]]) -> list[T]:
    """Awaits ``jobs`` with at most ``limit`` in flight, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[T]) -> T:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(j) for j in jobs)))


class DevServer:
    """The dev server as a child process, persisting to ``<directory>/bench.db``; ``start()`` then ``stop()``."""

    def __init__(self, directory: Path, wal: bool = True) -> None:
        self.directory = directory
        self.wal = wal
        self.port = free_port()
        self.log = directory / "server.log"
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def command(self) -> list[str]:
        """`temporal server start-dev` as `make run` starts it (starter/embedded/devserver.py), headless;
        ``wal=False``: SQLite's default journal instead, the baseline of bench/embedded_server.py."""
        return server_args(self.directory / "bench.db", self.port, wal=self.wal)

    async def start(self) -> Client:
        """Starts the server; returns a client (pydantic converter) once our search attributes are there."""
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command(), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
            )
        deadline = time.perf_counter() + SERVER_READY_TIMEOUT
        last_error = "no attempt yet"
        while time.perf_counter() < deadline:
            if self.proc.returncode is not None:
                raise BenchError(f"the dev server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                client = await Client.connect(
                    self.address, namespace=NAMESPACE, data_converter=pydantic_data_converter
                )
                missing = await missing_search_attributes(client)
                if not missing:
                    return client
                last_error = f"search attributes not registered yet: {missing}"
            except Exception as e:  # not listening yet, or the namespace not ready
                last_error = f"{type(e).__name__}: {e}"
            await asyncio.sleep(0.2)
        await self.stop()
        raise BenchError(
            f"the dev server on {self.address} was not ready within {SERVER_READY_TIMEOUT:g} s "
            f"({last_error}):\n{self.log_tail()}"
        )

    async def stop(self) -> None:
        await stop_child(self.proc)

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system), from /proc; 0 where there is none."""
        return 0.0 if self.proc is None else cpu_seconds(self.proc.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def db_size(self) -> int:
        """Bytes of the SQLite file and its WAL."""
        total = 0
        for name in ("bench.db", "bench.db-wal"):
            with contextlib.suppress(OSError):
                total += (self.directory / name).stat().st_size
        return total


async def stop_child(proc: asyncio.subprocess.Process | None) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within SERVER_STOP_TIMEOUT s; nothing if it never ran or ended."""
    if proc is None or proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), SERVER_STOP_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time process ``pid`` has used so far (user + system), from /proc; 0 where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ReceiverProcess:
    """`python -m starter.receiver` as a child process: conference services are another organisation's server, so
    the receiver's threads do not share the worker's interpreter (and its GIL) while a benchmark's clock runs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def start(self) -> ReceiverProcess:
        log = self.directory.parent / f"{self.directory.name}.log"
        with log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "starter.receiver",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        deadline = time.perf_counter() + SERVER_READY_TIMEOUT
        while time.perf_counter() < deadline:
            if self.proc.returncode is not None:
                raise BenchError(
                    f"the receiver exited with {self.proc.returncode}: {log.read_text()[-2000:]}"
                )
            try:
                _, writer = await asyncio.open_connection(HOST, self.port)
                writer.close()
                await writer.wait_closed()
                return self
            except OSError:
                await asyncio.sleep(0.05)
        await self.stop()
        raise BenchError(f"the receiver on {self.url} did not listen within {SERVER_READY_TIMEOUT:g} s")

    async def stop(self) -> None:
        await stop_child(self.proc)

    def cpu_seconds(self) -> float:
        return 0.0 if self.proc is None else cpu_seconds(self.proc.pid)


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, its baseline (medians over repeats, in ``unit``) and the target.

    The target is a ratio ``figure / baseline`` to stay within (``target``; at least it when ``at_least``), or a
    bound on the figure itself (``limit``, in ``unit``), or both.
    """

    name: str
    figure: float
    baseline: float
    target: float | None = None
    runs: int = 1
    unit: str = "s"
    at_least: bool = False  # the ratio should reach ``target`` (a throughput), not stay within it
    limit: float | None = None  # the figure should stay below this, whatever the baseline
    digits: int = 2
    # Each run's own ratio (its figure / its baseline): the row's ratio is their median, shown with their spread.
    ratios: tuple[float, ...] = ()

    @property
    def ratio(self) -> float:
        if self.ratios:
            return median(self.ratios)
        return self.figure / self.baseline if self.baseline > 0 else float("inf")

    def ratio_text(self) -> str:
        spread = f" ({min(self.ratios):.2f}-{max(self.ratios):.2f})" if len(self.ratios) > 1 else ""
        return f"{self.ratio:.2f}x{spread}"

    @property
    def met(self) -> bool | None:
        if self.target is None and self.limit is None:
            return None
        ok = True
        if self.target is not None:
            ok = self.ratio >= self.target if self.at_least else self.ratio <= self.target
        if self.limit is not None:
            ok = ok and self.figure < self.limit
        return ok

    @property
    def verdict(self) -> str:
        met = self.met
        return "" if met is None else ("ok" if met else "MISSED")

    def target_text(self) -> str:
        parts = []
        if self.target is not None:
            parts.append(f"{'>=' if self.at_least else '<='} {self.target:g}x")
        if self.limit is not None:
            parts.append(f"< {self.limit:g} {self.unit}".rstrip())
        return ", ".join(parts) or "-"

    def value(self, v: float) -> str:
        return f"{v:,.{self.digits}f} {self.unit}".rstrip()

    @classmethod
    def paired(cls, name: str, figures: Sequence[float], baselines: Sequence[float], **kw: Any) -> Row:
        """The row of runs that each measured a figure with its own baseline: medians, and each run's ratio."""
        return cls(
            name,
            median(figures),
            median(baselines),
            ratios=ratios(figures, baselines),
            runs=len(figures),
            **kw,
        )


@dataclass
class Report:
    """What one benchmark hands back: its table rows and the lines that explain them."""

    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


@dataclass
class Paired:
    """One trial's seconds, the figure's and the baseline's: a round takes one of each."""

    figure: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)

    async def take(self, i: int, figure: Awaitable[float], baseline: Awaitable[float]) -> None:
        """Round ``i``: which goes first alternates with ``i``, so neither always follows the other."""
        if i % 2:
            self.figure.append(await figure)
            self.baseline.append(await baseline)
        else:
            self.baseline.append(await baseline)
            self.figure.append(await figure)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def ratios(figures: Sequence[float], baselines: Sequence[float]) -> tuple[float, ...]:
    """Each run's figure over the baseline measured with it."""
    return tuple(f / b if b > 0 else float("inf") for f, b in zip(figures, baselines, strict=True))


def spread(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    """The median of ``values`` and their range, for the details: ``1.10 (1.05-1.20, 3 runs)``."""
    lo, hi = min(values), max(values)
    return f"{fmt.format(median(values))} ({fmt.format(lo)}-{fmt.format(hi)}, {len(values)} runs)"


def table(rows: Sequence[Row]) -> str:
    head = ("benchmark", "figure", "baseline", "ratio (min-max)", "target", "", "runs")
    body = [
        (
            r.name,
            r.value(r.figure),
            r.value(r.baseline),
            r.ratio_text(),
            r.target_text(),
            r.verdict,
            str(r.runs),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (head, *body)) for i in range(len(head))]

    def fmt(line: Sequence[str]) -> str:
        cells = [line[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True))]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(head), rule, *(fmt(line) for line in body)])


def machine() -> str:
    cpus = os.cpu_count() or 0
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    return f"{cpus} CPUs{mem}, Python {sys.version.split()[0]}"


def finish(code: int) -> NoReturn:
    """Leaves at once after flushing: the SDK's client may crash while the interpreter shuts down (sdk-python#300)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def rss_bytes(pid: int | str = "self") -> int:
    """Resident memory of a process (VmRSS in /proc/<pid>/status), in bytes; 0 where there is none."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) by the nearest-rank method: a value that was measured."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
    return float(ordered[int(rank) - 1])


async def event_runs(client: Client, wid: str, run_id: str | None) -> list[list[HistoryEvent]]:
    """The events of every run of ``wid`` from ``run_id`` (None: its first run) on, through continue-as-new.

    Works on the time-skipping server too, which has no visibility to list runs with.
    """
    if run_id is None:
        # The latest run; walk back to the first through the first event's continued run id.
        events = list((await client.get_workflow_handle(wid).fetch_history()).events)
        runs = [events]
        while events and (
            prev := events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        ):
            events = list((await client.get_workflow_handle(wid, run_id=prev).fetch_history()).events)
            runs.insert(0, events)
        return runs
    runs = []
    while run_id:
        events = list((await client.get_workflow_handle(wid, run_id=run_id).fetch_history()).events)
        runs.append(events)
        last = events[-1] if events else None
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last is not None
            and last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
            else None
        )
    return runs


def run_alone(make: Callable[[], Coroutine[Any, Any, Report]]) -> NoReturn:
    """One benchmark run on its own (``python -m bench.<name>``): its table and details, then exit."""
    logsetup.configure(level=logging.WARNING)  # the activities' lines would drown the table
    try:
        report = asyncio.run(make())
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        finish(1)
    print(table(report.rows))
    print()
    print("\n".join(report.details))
    finish(0)


def arguments(name: str, doc: str | None) -> argparse.ArgumentParser:
    """The command line of ``python -m bench.<name>``: its docstring's first paragraph, and ``--repeat``."""
    p = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=(doc or "").split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=1, help="run each measurement N times, report the median")
    return p
