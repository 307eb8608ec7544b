"""`python -m starter.embedded` as a child process (`make run`), and what its tests read from /proc, shared by
tests/deploy/test_embedded.py and tests/faults/test_server_restart.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import NamedTuple, TypeVar

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter

from starter.embedded.banner import BANNER_TITLE
from tests.support.devserver import REPO, binary, free_port, free_ports, spawn

PRESIDENCY = "ccm-presidency"
START_TIMEOUT = 45.0
STOP_TIMEOUT = 30.0
T = TypeVar("T")


def children(pid: int) -> dict[int, str]:
    """The direct children of ``pid``, with their command lines."""
    found: dict[int, str] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # The command name (2nd field) may hold spaces; the fields after its closing parenthesis do not.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(proc.name)] = cmdline.strip()
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float, what: str) -> T:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: object = None
    while loop.time() < deadline:
        try:
            result = await check()
            if result is not None:
                return result
        except Exception as e:
            last = e
        await asyncio.sleep(0.25)
    pytest.fail(f"{what}: not within {timeout:.0f} s (last error: {last!r})")


class Embedded:
    """One `python -m starter.embedded`, its output collected (and drained, so the worker never blocks)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._pump = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls, state_dir: Path, port: int, ui_port: int, receiver_port: int, config: Path
    ) -> Embedded:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CCM_"))}
        options = ["--state-dir", str(state_dir), "--port", str(port), "--ui-port", str(ui_port)]
        options += ["--receiver-port", str(receiver_port), "--config", str(config)]
        # The board's default (the gRPC port + 1066) could be taken: a free one, as for the other ports.
        options += ["--board-port", str(free_port())]
        proc = await spawn(
            sys.executable,
            "-m",
            "starter.embedded",
            *options,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_banner(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while not any(BANNER_TITLE in line for line in self.lines):
            if self.proc.returncode is not None or loop.time() > deadline:
                pytest.fail(f"no banner (exit code {self.proc.returncode}); output:\n{self.output}")
            await asyncio.sleep(0.1)

    async def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            code = await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            pytest.fail(f"still running {STOP_TIMEOUT:.0f} s after SIGINT; output:\n{self.output}")
        await self._pump
        return code

    async def kill(self) -> None:
        """Cleanup after a failed test: SIGTERM, then SIGKILL (its children die with it)."""
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._pump.cancel()


class Setup(NamedTuple):
    """What `make run` is given in a test: a state folder, a copy of config/cycle.toml, free ports."""

    state_dir: Path
    config: Path
    port: int
    ui_port: int
    receiver_port: int

    async def start(self) -> Embedded:
        return await Embedded.start(self.state_dir, self.port, self.ui_port, self.receiver_port, self.config)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Embedded]:
        """Started, its banner printed; killed when done, whatever the test did with it."""
        runner = await self.start()
        try:
            await runner.wait_for_banner()
            yield runner
        finally:
            await runner.kill()


def make_run(tmp_path: Path) -> Setup:
    """The default configuration (and the register it names) copied under ``tmp_path``, its state in ``state/``."""
    binary("temporal")
    config = tmp_path / "cycle.toml"
    shutil.copy(REPO / "config" / "cycle.toml", config)
    shutil.copy(REPO / "config" / "register.csv", tmp_path / "register.csv")
    return Setup(tmp_path / "state", config, *free_ports(3))


async def connect(port: int) -> Client:
    return await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)


async def running_run_id(client: Client, workflow_id: str) -> str:
    desc = await client.get_workflow_handle(workflow_id).describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING, f"{workflow_id} is {desc.status}"
    return desc.run_id
