"""Running the real thing on the dev server: the worker and `msp` as subprocesses, as an operator runs them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from starter.embedded.devserver import start_local, worker_polls

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MSP = BIN / "msp"
# Every `msp` and worker start is bounded, so a hang fails the test instead of the whole run.
STEP_TIMEOUT = 60.0
GENEVA = ZoneInfo("Europe/Zurich")


def binary(name: str) -> str:
    """A program the dev dependencies install next to the interpreter (the servers, `msp`)."""
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make test`, which installs the project's dev dependencies")
    return str(path)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _slice(low: int, high: int) -> tuple[int, int]:
    """This pytest-xdist worker's own part of [low, high) (the whole of it without xdist), so that two workers of
    one run never hand out the same port, whatever their process ids."""
    try:
        index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
        count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    except ValueError:
        return low, high
    size = (high - low) // max(1, count)
    return low + index * size, low + (index + 1) * size


# Ports are handed out below the kernel's ephemeral range, walking from a place that depends on the process id: a
# port from bind(0) could be taken, between our check and our use, by any outgoing connection or by a dev server
# elsewhere on the machine picking its internal ports. That happened when a test restarted a server on its ports.
_LOW, _HIGH = _slice(10000, _ephemeral_low())
_next = [_LOW + (os.getpid() * 7919) % max(1, _HIGH - _LOW)]


def free_ports(n: int) -> list[int]:
    if _HIGH - _LOW < 1000:
        return [_bound_port() for _ in range(n)]
    ports: list[int] = []
    for _ in range(_HIGH - _LOW):
        port = _next[0]
        _next[0] = _LOW + (port + 1 - _LOW) % (_HIGH - _LOW)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == n:
            return ports
    raise RuntimeError("no free port below the ephemeral range")


def free_port() -> int:
    return free_ports(1)[0]


def _bound_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_env(address: str, task_queue: str, convention: str | None = None) -> dict[str, str]:
    """The environment of a child process: only our connection settings, none inherited from the shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CCM_"))}
    env.update(TEMPORAL_ADDRESS=address, TEMPORAL_NAMESPACE="default", CCM_TASK_QUEUE=task_queue)
    if convention is not None:
        env["CCM_CONVENTION"] = convention
    return env


@dataclass(frozen=True)
class Run:
    """What one `msp` invocation did."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"msp {' '.join(self.args)} -> {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"

    def json(self) -> Any:
        return json.loads(self.out)


async def spawn(*args: str, env: dict[str, str], stdout: Any, stderr: Any) -> asyncio.subprocess.Process:
    """A program started from the repository's root, as an operator would, reading nothing."""
    return await asyncio.create_subprocess_exec(
        *args, env=env, cwd=REPO, stdin=asyncio.subprocess.DEVNULL, stdout=stdout, stderr=stderr
    )


async def msp(env: dict[str, str], *args: str) -> Run:
    proc = await spawn(
        str(MSP), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), STEP_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"msp {' '.join(args)} did not finish within {STEP_TIMEOUT} s") from None
    assert proc.returncode is not None
    return Run(args, proc.returncode, out.decode(), err.decode())


class WorkerProcess:
    """`python worker.py` in its own process, so it can be killed like a real one."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def task_queue(self) -> str:
        return self.env["CCM_TASK_QUEUE"]

    async def start(self, client: Client) -> WorkerProcess:
        assert self.proc is None or self.proc.returncode is not None
        with self.log.open("ab") as log:
            self.proc = await spawn(
                sys.executable, str(REPO / "worker.py"), env=self.env, stdout=log, stderr=log
            )
        await self._polling(client, self.proc)
        return self

    async def _polling(self, client: Client, proc: asyncio.subprocess.Process) -> None:
        """Waits until this very process polls its task queue (a killed one may still be listed a while)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STEP_TIMEOUT
        while loop.time() < deadline:
            if proc.returncode is not None:
                raise AssertionError(f"the worker exited with {proc.returncode}:\n{self.log.read_text()}")
            if await worker_polls(client, self.task_queue, proc.pid):
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"the worker did not poll {self.task_queue}:\n{self.log.read_text()}")

    async def kill(self) -> None:
        """SIGKILL: no graceful shutdown, as when a machine dies."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()


def config_text(code: str, today: date, extra: str = "") -> str:
    """A cycle whose meeting begins 30 days from today, the term having begun 60 days ago; ``extra`` TOML
    (say, ``[[reviews]]``) is appended."""
    start = meeting_start(today)
    return _cycle_toml(
        code,
        today,
        'name = "Convention on Cluster Munitions"\n',
        today - timedelta(days=60),
        f'start = {start}\nend = {start + timedelta(days=3)}\nplace = "Geneva"\nformat = "in_person"\n',
        extra,
    )


def sitting_today(code: str, today: date, extra: str = "") -> str:
    """A cycle whose meeting sits today and tomorrow, all day long, the term having begun 300 days ago; ``extra``
    TOML is appended."""
    return _cycle_toml(
        code,
        today,
        "\n[defaults]\nday_start_hour = 0\nday_end_hour = 24\n",
        today - timedelta(days=300),
        f"start = {today}\nend = {today + timedelta(days=1)}\n",
        extra,
    )


def _cycle_toml(code: str, today: date, more: str, began: date, part: str, extra: str) -> str:
    """Austria presiding, Chile designated, the 14MSP in one part (``part``: its keys)."""
    return f"""\
[convention]
code = "{code}"
{more}
[presidency]
term_began_on = {began}
president = {{ state = "Austria", representative = "Ambassador A. Example" }}
designates = [{{ state = "Chile", representative = "Ambassador B. Example" }}]
last_msp_number = 13
last_review_conference = {{ number = 3, year = {today.year - 1} }}

[meeting]
number = 14
kind = "MSP"

[[meeting.parts]]
{part}{extra}"""


def hosting_toml(meeting: str, on: date) -> str:
    """The review of the hosting agreement, due at ``meeting`` (on its first day, ``on``)."""
    return f"""
[[reviews]]
subject = "hosting-agreement"
title = "the agreement hosting the ISU at the GICHD"
mandate = {{ decided_by = "2nd Review Conference", reference = "CCM/CONF/2021/6, para 7" }}
due = {{ kind = "at_meeting", meeting = "{meeting}", on = {on} }}
"""


def meeting_start(today: date) -> date:
    return today + timedelta(days=30)


def one_line_error(run: Run, code: int = 1) -> str:
    """The one line `msp` wrote on stderr, having ended with ``code`` and accepted nothing."""
    assert run.code == code, run
    assert "Traceback" not in run.err, run
    assert "accepted" not in run.out, run
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run
    return lines[0]


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing ``needle``."""
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


async def failed_workflow_tasks(client: Client, workflow_id: str) -> list[str]:
    """Failed workflow tasks anywhere in the workflow's current run: a stuck workflow still looks Running."""
    failures = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failures.append(event.workflow_task_failed_event_attributes.failure.message)
    return failures


async def eventually(check: Callable[[], Awaitable[None]], seconds: float = 10.0) -> None:
    """Retries an assertion about state that other workflows bring about by signal, within a bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        try:
            await check()
            return
        except AssertionError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)


@dataclass
class Server:
    """The dev server one test module shares, and the address its subprocesses are given."""

    env: WorkflowEnvironment
    address: str

    @property
    def client(self) -> Client:
        return self.env.client


@contextlib.asynccontextmanager
async def dev_server(ui_port: int | None = None) -> AsyncIterator[Server]:
    """A dev server set up as `make run` sets up its own (starter/embedded/devserver.py), in memory; with its Web
    UI on ``ui_port``."""
    port = free_port()
    env = await start_local(port, ui_port=ui_port)
    try:
        yield Server(env, f"127.0.0.1:{port}")
    finally:
        await env.shutdown()


@dataclass
class MspCycle:
    """One convention's cycle on the shared dev server: its config file, its worker process, `msp` aimed at it."""

    server: Server
    code: str
    env: dict[str, str]
    config: Path
    worker: WorkerProcess
    today: date

    @property
    def client(self) -> Client:
        return self.server.client

    async def msp(self, *args: str) -> Run:
        return await msp(self.env, *args)

    async def ok(self, *args: str) -> Run:
        run = await self.msp(*args)
        assert run.code == 0, run
        assert "Traceback" not in run.err, run
        return run

    async def shown(self, *args: str) -> dict[str, Any]:
        """The one JSON object ``msp <args> --json`` printed."""
        out = (await self.ok(*args, "--json")).json()
        assert isinstance(out, dict), out
        return out

    async def no_failed_tasks(self, *workflow_ids: str) -> None:
        for wid in workflow_ids:
            assert await failed_workflow_tasks(self.client, wid) == [], wid


C = TypeVar("C", bound=MspCycle)


@contextlib.asynccontextmanager
async def worker_cycle(
    server: Server,
    tmp_path: Path,
    make: Callable[..., C],
    config: Callable[[str, date], str] | None = None,
    config_in_env: bool = False,
    worker_env: dict[str, str] | None = None,
    **fields: Any,
) -> AsyncIterator[C]:
    """A new convention (its own code and task queue) with its worker process: ``make(server, code, env, config,
    worker, today, **fields)``. ``config(code, today)``: the text of its configuration file (none written without
    it); ``config_in_env``: `msp` finds it through CCM_CONFIG; ``worker_env``: more settings, for the worker only."""
    code = f"t{uuid.uuid4().hex[:10]}"
    env = process_env(server.address, f"tq-{code}", convention=code)
    today = datetime.now(GENEVA).date()
    path = tmp_path / "cycle.toml"
    if config_in_env:
        env["CCM_CONFIG"] = str(path)
    if config is not None:
        path.write_text(config(code, today))
    worker = await WorkerProcess({**env, **(worker_env or {})}, tmp_path / "worker.log").start(server.client)
    try:
        yield make(server, code, env, path, worker, today, **fields)
    finally:
        await worker.stop()
