"""Supervising the processes of `make run`: one runner per state directory, children that die with it, a stop that
waits and then kills, and plain words for how a process ended."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from starter.embedded.devserver import HOST


class Fatal(Exception):
    """Something that stops everything; ``str()`` is what the person at the terminal reads."""


class Stopped(Exception):
    """A person asked to stop (Ctrl-C, SIGTERM, SIGHUP)."""


class ServerDied(Fatal):
    """The server ended without being asked to; ``str()`` says how, from its exit status."""


def say(line: str = "") -> None:
    print(line, flush=True)


def shown(path: Path) -> str:
    """A path as a person would type it from where `make run` was started."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def die_with_parent() -> Callable[[], None] | None:
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


def check_port_free(port: int, what: str) -> None:
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


def lock_state_dir(state_dir: Path) -> IO[str]:
    """One runner per state directory: two servers on one SQLite file would corrupt it."""
    f = (state_dir / "embedded.lock").open("a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "?"
        f.close()
        raise Fatal(
            f"{state_dir} is in use by another `make run` (pid {holder}); stop it, or use another STATE_DIR"
        ) from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


def checkpoint_wal(db: Path) -> None:
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


def last_error(log: Path, offset: int) -> str:
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


def ended(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else (f"{minutes} min {secs} s" if minutes else f"{secs} s")


async def end(proc: asyncio.subprocess.Process, name: str, timeout: float, hurry: asyncio.Event) -> None:
    """SIGTERM, then SIGKILL to its process group if it has not stopped within ``timeout`` s (at once once
    ``hurry`` is set: a second Ctrl-C)."""
    if proc.returncode is not None:
        await proc.wait()
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    waiting = asyncio.ensure_future(proc.wait())
    hurrying = asyncio.ensure_future(hurry.wait())
    done, _ = await asyncio.wait([waiting, hurrying], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    hurrying.cancel()
    if waiting not in done:
        if not hurry.is_set():
            say(f"the {name} did not stop within {timeout:.0f} s: killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await waiting
