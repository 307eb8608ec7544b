"""`msp silence` and `msp reports` end to end on the real dev server: the worker and `msp` run as subprocesses.

One dev server for the module; each test has its own convention code (so its own workflow ids), task queue and
worker process. Everything runs in real time: a silence procedure's deadline is minutes ahead (it is broken long
before), and an Art. 7 report is due on the next 30 April.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowExecutionStatus

from domain.ids import report_id, silence_id
from domain.reports import ReportsInput, deadline, first_year
from tests.support.devserver import (
    MspCycle,
    Run,
    Server,
    config_text,
    eventually,
    free_port,
    msp,
    one_line_error,
    process_env,
    worker_cycle,
)
from workflows.reports import Article7Workflow

NAMES = ["Austria", "Chile", "Iraq", "Lebanon", "Lao People's Democratic Republic", "Mexico", "Switzerland"]
GENEVA = ZoneInfo("Europe/Zurich")


def states_toml(article7: list[str]) -> str:
    quoted = ", ".join(f'"{n}"' for n in NAMES)
    chased = ", ".join(f'"{n}"' for n in article7)
    return f"\n[states_parties]\nnames = [{quoted}]\narticle7 = [{chased}]\n"


@dataclass
class Cycle(MspCycle):
    def write_config(self, article7: list[str]) -> None:
        self.config.write_text(config_text(self.code, self.today, states_toml(article7)))

    async def start(self) -> Run:
        return await self.ok("cycle", "start", "--config", str(self.config))

    async def reports(self, *flags: str) -> list[dict[str, Any]]:
        out = (await self.ok("reports", "list", "--json", *flags)).json()
        assert out["convention"] == self.code
        rows = out["reports"]
        assert isinstance(rows, list)
        return rows

    async def received(self, *args: str) -> Run:
        return await self.msp("reports", "received", "--config", str(self.config), *args)

    async def silence(self, procedure: str) -> dict[str, Any]:
        return await self.shown("silence", "status", procedure)


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[Cycle]:
    async with worker_cycle(server, tmp_path, Cycle) as c:
        yield c


async def test_cycle_start_starts_article7_workflows_and_receipts_are_recorded_once(cycle: Cycle):
    watched = first_year(cycle.today)
    missed = watched - 1
    # A report a year late: May 1 of the missed year has passed whatever today is.
    late_on = deadline(missed) + timedelta(days=1)
    assert late_on <= cycle.today
    cycle.write_config(["Chile", "Lebanon", "Lao People's Democratic Republic"])
    # Lebanon's workflow runs already, with last year's report outstanding (as a run a year on would have it).
    await cycle.client.start_workflow(
        Article7Workflow.run,
        ReportsInput(convention=cycle.code, state="Lebanon", year=watched, outstanding=[missed]),
        id=report_id(cycle.code, "Lebanon"),
        task_queue=cycle.worker.task_queue,
    )

    first = await cycle.start()
    for state in ("Chile", "Lao People's Democratic Republic"):
        wid = report_id(cycle.code, state)
        assert f"started {wid}: Article 7 reports of {state}, next due {deadline(watched)}" in first.out, (
            first
        )
    assert "Article 7 reports of Lebanon: already running" in first.out, first
    again = await cycle.start()
    assert "Article 7 reports of Chile: already running" in again.out, again

    async def listed() -> None:
        rows = {r["state"]: r for r in await cycle.reports()}
        assert sorted(rows) == ["Chile", "Lao People's Democratic Republic", "Lebanon"], rows
        assert rows["Chile"]["status"] == "pending" and rows["Chile"]["due"] == str(deadline(watched)), rows
        assert rows["Chile"]["execution_status"] == "running", rows
        assert rows["Lebanon"]["status"] == "overdue" and rows["Lebanon"]["outstanding"] == [missed], rows

    await eventually(listed)
    text = (await cycle.ok("reports", "list")).out.splitlines()
    assert text[1].split() == ["STATE", "DUE", "STATUS", "OUTSTANDING", "LAST", "RECEIVED", "ATTENTION"], text
    lebanon = next(line for line in text if line.startswith("Lebanon"))
    assert "OVERDUE" in lebanon and f"due {deadline(missed)}" in lebanon, text
    assert [r["state"] for r in await cycle.reports("--overdue")] == ["Lebanon"]

    # The late report comes in: recorded (late), and the same receipt sent again applies once.
    args = (
        "--state",
        "lebanon",
        "--year",
        str(missed),
        "--on",
        str(late_on),
        "--ref",
        "CCM/ART7/LBN",
        "--id",
        "r-1",
    )
    run = await cycle.received(*args)
    assert run.code == 0, run
    assert run.out.splitlines()[0] == "decision r-1", run
    assert f"accepted: Article 7 report of Lebanon due {deadline(missed)}" in run.out, run
    assert f"received on {late_on} (CCM/ART7/LBN), late" in run.out, run
    run = await cycle.received(*args)
    assert run.code == 0 and "(already applied)" in run.out, run

    rows = {r["state"]: r for r in await cycle.reports()}
    assert rows["Lebanon"]["status"] == "pending" and rows["Lebanon"]["outstanding"] == [], rows
    assert rows["Lebanon"]["last_received"] == {
        "year": missed,
        "received_on": str(late_on),
        "reference": "CCM/ART7/LBN",
        "late": True,
    }, rows
    assert await cycle.reports("--overdue") == []

    # A report dated tomorrow is refused by the workflow, with the rule.
    tomorrow = cycle.today + timedelta(days=1)
    bad = await cycle.received(
        "--state", "Chile", "--year", str(watched), "--on", str(tomorrow), "--ref", "x"
    )
    assert one_line_error(bad, 1).startswith("rejected: A report cannot be received in the future"), bad
    # A State whose reports are not chased: bad input, with a suggestion; nothing is sent.
    bad = await cycle.received("--state", "Chiel", "--year", str(watched), "--ref", "x")
    err = one_line_error(bad, 2)
    assert err.startswith("--state: 'Chiel' is not in states_parties.article7") and "'Chile'" in err, bad
    bad = await cycle.received("--state", "Mexico", "--year", str(watched), "--ref", "x")
    assert one_line_error(bad, 2).startswith("--state: 'Mexico' is not in states_parties.article7"), bad
    await cycle.no_failed_tasks(*(report_id(cycle.code, s) for s in ("Chile", "Lebanon")))


def in_minutes(minutes: int) -> str:
    at = datetime.now(GENEVA) + timedelta(minutes=minutes)
    return f"{at:%Y-%m-%d %H:%M}"


async def test_a_silence_procedure_broken_by_a_listed_state_is_not_adopted(cycle: Cycle):
    cycle.write_config([])
    await cycle.start()
    procedure = "budget-2027"
    wid = silence_id(cycle.code, procedure)
    start = (
        "silence",
        "start",
        "--procedure",
        procedure,
        "--proposal",
        "To adopt the revised budget of the ISU",
        "--ref",
        "President's letter of 2 March",
        "--deadline",
        in_minutes(3),
        "--config",
        str(cycle.config),
    )
    run = await cycle.ok(*start)
    assert run.out.splitlines()[0] == (
        f"started {wid}: circulated by the President (Austria) (President's letter of 2 March)"
    ), run
    assert f"one of the {len(NAMES)} States Parties" in run.out, run
    again = await cycle.msp(*start)
    assert one_line_error(again, 1).startswith(
        f"rejected: the silence procedure {procedure} is already open"
    ), again

    state = await cycle.silence(procedure)
    assert state["status"] == "open" and state["initiator"] == "the President (Austria)", state
    assert state["states_parties"] == NAMES, state

    # A State not listed cannot break silence: refused with the rule, nothing changes.
    bad = await cycle.msp("silence", "break", procedure, "--state", "Atlantis", "--reason", "not consulted")
    assert one_line_error(bad, 1) == "rejected: 'Atlantis' is not a State Party of this procedure.", bad
    bad = await cycle.msp("silence", "break", procedure, "--state", "Mexica", "--reason", "not consulted")
    assert one_line_error(bad, 1).endswith("did you mean 'Mexico'?"), bad
    state = await cycle.silence(procedure)
    assert state["status"] == "open" and state["broken_by"] is None and state["decisions"]["records"] == [], (
        state
    )

    run = await cycle.ok(
        "silence",
        "break",
        procedure,
        "--state",
        "mexico",
        "--reason",
        "needs discussion in plenary",
        "--id",
        "b-1",
    )
    assert run.out.splitlines() == [
        "decision b-1",
        f"accepted: Mexico broke silence on the silence procedure {procedure}: not adopted",
    ], run

    handle = cycle.client.get_workflow_handle(wid)

    async def ended() -> None:
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    await eventually(ended)
    state = await cycle.silence(procedure)
    assert state["status"] == "not_adopted", state
    assert state["broken_by"] == "Mexico" and state["reason"] == "needs discussion in plenary", state
    text = (await cycle.ok("silence", "status", procedure)).out
    assert "not adopted: silence was broken" in text, text
    assert "Broken by       Mexico on " in text and "needs discussion in plenary" in text, text
    assert "the President (Austria)" in text and "To adopt the revised budget of the ISU" in text, text

    # The same letter sent again is recognised; another State can no longer break silence: the outcome, exit 1.
    run = await cycle.ok(
        "silence",
        "break",
        procedure,
        "--state",
        "Mexico",
        "--reason",
        "needs discussion in plenary",
        "--id",
        "b-1",
    )
    assert run.out.splitlines()[1].endswith(": not adopted (already applied)"), run
    late = await cycle.msp("silence", "break", procedure, "--state", "Chile", "--reason", "too late now")
    err = one_line_error(late, 1)
    assert err.startswith(
        f"the silence procedure {procedure} has ended: not adopted: Mexico broke silence on "
    ), late
    again = await cycle.msp(*start)
    assert "has ended: not adopted" in one_line_error(again, 1), again

    lines = (await cycle.ok("silence", "status")).out.splitlines()
    assert lines[0] == f"Silence procedures of {cycle.code} (1)", lines
    assert lines[1].split() == ["PROCEDURE", "DEADLINE", "(GENEVA)", "STATUS", "BROKEN", "BY", "ATTENTION"], (
        lines
    )
    assert lines[2].split()[0] == procedure and lines[2].split()[-4:] == ["not", "adopted", "Mexico", "-"], (
        lines
    )
    rows = (await cycle.ok("silence", "status", "--json")).json()["procedures"]
    assert [(r["procedure"], r["status"], r["broken_by"]) for r in rows] == [
        (procedure, "not_adopted", "Mexico")
    ]

    gone = await cycle.msp("silence", "break", "no-such", "--state", "Chile", "--reason", "none at all")
    assert one_line_error(gone, 4).startswith(f"no silence procedure no-such for {cycle.code}"), gone
    await cycle.no_failed_tasks(wid)

    # The initiator withdraws another proposal: not adopted, and no one can break silence on it any more.
    other = ("--procedure", "budget-2027-b", *start[4:])
    await cycle.ok("silence", "start", *other)
    withdrawn = await cycle.ok(
        "silence", "withdraw", "budget-2027-b", "--ref", "President's letter of 9 March"
    )
    assert withdrawn.out.splitlines()[1].startswith("accepted: "), withdrawn
    shown = (await cycle.ok("silence", "status", "budget-2027-b", "--json")).json()
    assert shown["status"] == "withdrawn", shown
    late = await cycle.msp("silence", "break", "budget-2027-b", "--state", "Chile", "--reason", "too late")
    assert "has ended" in one_line_error(late, 1), late


@pytest.mark.parametrize("text", ["tomorrow", "2030-02-30", "2030-01-01 25:00"])
async def test_bad_deadline_text_is_bad_input_naming_the_option(text: str):
    # Nothing listens there: the command must stop before it connects (exit 3 would say it tried).
    env = process_env(f"127.0.0.1:{free_port()}", "tq-none", convention="ccm")
    run = await msp(
        env,
        "silence",
        "start",
        "--procedure",
        "p-1",
        "--proposal",
        "To adopt it",
        "--ref",
        "r",
        "--deadline",
        text,
    )
    assert run.code == 2, run
    assert run.err.strip() == (
        f"--deadline: {text!r}: expected a date (YYYY-MM-DD) or a date and time (YYYY-MM-DD HH:MM)"
    ), run


def test_first_watched_deadline_is_after_today():
    assert deadline(first_year(date(2026, 11, 28))) == date(2027, 4, 30)
    assert deadline(first_year(date(2027, 4, 30))) == date(2027, 4, 30)
