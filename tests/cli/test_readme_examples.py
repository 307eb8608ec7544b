"""The README's `msp` examples, run as written against a real dev server on today's clock.

The commands come from the README itself (its ```sh blocks, in order), so a README edited into something that does
not run fails here. `msp` runs in this process (typer's CliRunner, in a thread: each command runs its own event
loop), the worker as a process, and the local receiver in a thread, as `make run` has them; the configuration is
the default `config/cycle.toml`, as the tour says. A few lines of docs/commands.md that once failed on today's date
run the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from runtime.connect import TASK_QUEUE
from starter.cli import app
from starter.receiver import Receiver
from tests.support.devserver import GENEVA, REPO, Run, Server, WorkerProcess, eventually, process_env

README = REPO / "README.md"
COMMANDS = REPO / "docs" / "commands.md"

# The examples the README says are refused, with the exit code and the words it quotes.
REFUSED = {"msp decide set-dates --start 2027-09-20 --place Lausanne": (1, "must name the host")}
# Run only once what comes before has had its moment (the README says "a moment later"): tried again for a while.
LATER = ("msp docs delivered",)
# Where the README has the reader copy the id the command before printed.
PRINTED = "<the id it printed>"
# `make run` and `make test` start things, and `msp board` serves until stopped (tests/cli/test_board_browser.py
# serves it); every other line of a fenced block runs here.
NOT_RUN = ("make ", "msp board ")


def sh_lines(text: str) -> list[str]:
    """The command lines of the ```sh blocks, in order, as written (continued lines joined; comment lines and blank
    ones left out)."""
    lines: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            if shlex.split(line, comments=True):
                lines.append(line.strip())
    return lines


def readme_steps() -> list[str]:
    return [line for line in sh_lines(README.read_text(encoding="utf-8")) if not line.startswith(NOT_RUN)]


def commands_doc_line(prefix: str) -> list[str]:
    """One example of docs/commands.md, by the words it begins with, without its optional `[...]` parts."""
    for line in sh_lines(COMMANDS.read_text(encoding="utf-8")):
        if line.startswith(prefix):
            return shlex.split(re.sub(r"\[[^\]]*\]", " ", line), comments=True)
    raise AssertionError(f"docs/commands.md has no example beginning {prefix!r}")


@dataclass
class Tour:
    """`msp` aimed at this module's server, the worker and the receiver; ``tmp`` stands for the README's /tmp."""

    env: dict[str, str]
    tmp: Path
    runner: CliRunner

    def _invoke(self, words: list[str]) -> Run:
        saved = dict(os.environ)
        # Only this tour's connection settings, none inherited from the shell running the tests.
        unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("TEMPORAL_", "CCM_"))}
        try:
            result = self.runner.invoke(app, words, env={**unset, **self.env})
        finally:
            os.environ.clear()
            os.environ.update(saved)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"msp {shlex.join(words)} raised {result.exception!r}\n{result.output}")
        return Run(tuple(words), result.exit_code, result.stdout, result.stderr)

    async def msp(self, *words: str) -> Run:
        return await asyncio.to_thread(self._invoke, list(words))

    async def line(self, line: str, previous: Run | None) -> Run:
        """One line as the README writes it: `msp ...` here; a shell line (writing a file) through the shell."""
        line = line.replace("/tmp/", f"{self.tmp}/").replace(PRINTED, "{printed}")
        words = shlex.split(line, comments=True)
        if "{printed}" in words:
            printed = re.search(r"cli-[0-9a-f]{12}", previous.out if previous else "")
            assert printed, previous
            words = [printed.group() if w == "{printed}" else w for w in words]
        if words[0] == "msp" and ">" in words:
            # `msp ... > file`: the output kept where the README's shell would put it (the tour's folder).
            at = words.index(">")
            run = await self.msp(*words[1:at])
            (self.tmp / words[at + 1]).write_text(run.out, encoding="utf-8")
            return run
        if words[0] != "msp":
            done = await asyncio.to_thread(
                subprocess.run, ["bash", "-c", line], cwd=REPO, capture_output=True, text=True, timeout=30
            )
            return Run(tuple(words), done.returncode, done.stdout, done.stderr)
        return await self.msp(*words[1:])


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    with Receiver(tmp_path_factory.mktemp("receiver"), log=None) as r:
        yield r


@contextlib.asynccontextmanager
async def touring(server: Server, receiver: Receiver, tmp_path: Path, code: str) -> AsyncIterator[Tour]:
    """The default configuration, under convention ``code`` (a copy of it for another code than "ccm": the server
    is the module's, and the README's tour takes the default code)."""
    # In this process `msp` starts workflows on the task queue it read at import; the worker polls that one.
    env = process_env(server.address, TASK_QUEUE, convention=code)
    if code != "ccm":
        config = REPO / "config"
        text = (config / "cycle.toml").read_text(encoding="utf-8")
        (tmp_path / "cycle.toml").write_text(
            text.replace('code = "ccm"', f'code = "{code}"', 1), encoding="utf-8"
        )
        (tmp_path / "register.csv").write_bytes((config / "register.csv").read_bytes())
        env["CCM_CONFIG"] = str(tmp_path / "cycle.toml")
    env["CCM_CONFERENCE_SERVICES_URL"] = receiver.url
    worker_env = {**env, "CCM_WEBHOOK_URL": f"{receiver.url}/notifications"}
    worker = await WorkerProcess(worker_env, tmp_path / "worker.log").start(server.client)
    try:
        t = Tour(env, tmp_path, CliRunner())
        started = await t.msp("cycle", "start")  # what `make run` does before the tour
        assert started.code == 0, started
        yield t
    finally:
        await worker.stop()


@pytest.fixture
async def tour(server: Server, receiver: Receiver, tmp_path: Path) -> AsyncIterator[Tour]:
    async with touring(server, receiver, tmp_path, "ccm") as t:
        yield t


@pytest.fixture
async def doc_tour(server: Server, receiver: Receiver, tmp_path: Path) -> AsyncIterator[Tour]:
    async with touring(server, receiver, tmp_path, "doc") as t:
        yield t


def test_the_readme_has_its_examples():
    steps = readme_steps()
    assert len(steps) >= 15, steps
    for refused in REFUSED:
        assert any(s.startswith(refused) for s in steps), f"the README no longer has {refused!r}"


async def test_every_readme_example_runs_as_written(tour: Tour):
    previous: Run | None = None
    for line in readme_steps():
        expected = next((v for k, v in REFUSED.items() if line.startswith(k)), (0, ""))

        async def ran(
            line: str = line, expected: tuple[int, str] = expected, previous: Run | None = previous
        ) -> Run:
            run = await tour.line(line, previous)
            assert (run.code, expected[1] in run.out + run.err) == (expected[0], True), f"{line}\n{run}"
            assert "Traceback" not in run.err, run
            return run

        if line.startswith(LATER):
            done: list[Run] = []

            async def once_ready(ran: Callable[[], Awaitable[Run]] = ran, done: list[Run] = done) -> None:
                done.append(await ran())

            await eventually(once_ready, seconds=30)
            previous = done[-1]
        else:
            previous = await ran()
    # `msp calendar > ccm.ics` left a calendar a calendar program reads: the meeting's days among its events.
    calendar = Calendar.from_ical((tour.tmp / "ccm.ics").read_bytes())
    assert any("day 1" in str(e.get("SUMMARY")).lower() for e in calendar.walk("VEVENT")), calendar.to_ical()


async def test_the_commands_page_examples_that_once_failed_today(doc_tour: Tour):
    """docs/commands.md's payment after the example assessment, a request submitted today, a report received
    today, a silence procedure and a break after it ended."""
    tour = doc_tour
    for prefix in ("msp funds estimate", "msp funds assess --file config/shares-example.csv"):
        run = await tour.msp(*commands_doc_line(prefix)[1:])
        assert run.code == 0, run
    pay = await tour.msp(*commands_doc_line("msp funds pay --state Austria --amount 5000 ")[1:])
    assert pay.code == 0, pay
    submit = await tour.msp(*commands_doc_line("msp extensions submit")[1:])
    assert submit.code == 0, submit
    received_line = commands_doc_line("msp reports received")
    runs: list[Run] = []

    async def art7_started() -> None:
        # The register starts the Article 7 workflows by an activity, a moment after `msp cycle start` has answered.
        runs.append(await tour.msp(*received_line[1:]))
        assert "no Article 7 workflow" not in runs[-1].err, runs[-1]

    await eventually(art7_started, seconds=30)
    received = runs[-1]
    year = int(received_line[received_line.index("--year") + 1])
    if datetime.now(GENEVA).date() < date(year, 1, 1):
        # The report covers the year before: the example runs from 1 January on, as the page says; until then it
        # is refused for that reason, and for no other.
        assert received.code == 1 and "before that year ended" in received.out + received.err, received
    else:
        assert received.code == 0, received
    start = await tour.msp(*commands_doc_line("msp silence start")[1:])
    assert start.code == 0, start
    broken = commands_doc_line("msp silence break")[1:]
    assert (await tour.msp(*broken)).code == 0
    # Refused (exit 1), whether the procedure has ended by then or is ending: no other State can break it.
    again = await tour.msp(*broken[:3], "--state", "Chile", "--reason", "too late")
    assert again.code == 1 and broken[2] in again.err, again


@pytest.mark.parametrize(("address", "code"), [("localhost", 2), ("127.0.0.1:1", 3)])
async def test_a_bad_temporal_address_exits_as_the_commands_page_says(address: str, code: int):
    table = COMMANDS.read_text(encoding="utf-8")
    assert f"| {code} | " in table
    run = await Tour({**process_env(address, TASK_QUEUE)}, Path("/nonexistent"), CliRunner()).msp("status")
    assert run.code == code, run
    assert address in run.err and len(run.err.strip().splitlines()) == 1, run
