"""`msp extensions` end to end on the real dev server: the worker and `msp` run as subprocesses, in real time.

The cycle's meeting opens 30 days from today, so a request submitted today is late for it (nine months are needed)
and goes to the next meeting; the decision at a meeting in session is covered on the time-skipping server
(tests/workflows/test_extensions.py). Here: what a user types, and what each answer says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.extensions import Article
from domain.ids import extension_id
from tests.support.devserver import (
    MspCycle,
    Run,
    Server,
    config_text,
    failed_workflow_tasks,
    meeting_start,
    worker_cycle,
)
from tests.support.requests import LAO, submit_art4

STATES = """
[states_parties]
names = ["Austria", "Chile", "Lao People's Democratic Republic", "Mexico", "Switzerland"]
"""


@dataclass
class Cycle(MspCycle):
    async def requests(self) -> list[dict[str, Any]]:
        out = (await self.ok("extensions", "list", "--json")).json()
        rows = out["requests"]
        assert isinstance(rows, list)
        return rows


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[Cycle]:
    def config(code: str, today: date) -> str:
        return config_text(code, today, STATES)

    async with worker_cycle(server, tmp_path, Cycle, config, config_in_env=True) as c:
        await c.ok("cycle", "start")
        yield c


def error(run: Run, code: int) -> str:
    assert run.code == code, run
    assert "Traceback" not in run.err, run
    assert "accepted" not in run.out, run
    return run.err.strip()


SUBMIT = ("--plan", "Survey and clearance, province by province.", "--ref", "CCM/MSP/2027/4")


async def test_a_request_from_submission_through_analysis_to_silence_procedure(cycle: Cycle) -> None:
    eif = cycle.today - timedelta(days=365 * 9)
    base = submit_art4("lao people's  democratic republic", eif, *SUBMIT)

    over = await cycle.msp(*base, "--years", "6")
    assert "rejected: Article 4 allows an extension of at most 5 years per request" in error(over, 1)
    art3 = await cycle.msp(*base[:5], "3", *base[6:], "--years", "5")
    assert "rejected: Article 3 allows an extension of at most 4 years per request" in error(art3, 1)
    unknown = await cycle.msp(
        "extensions", "submit", "--state", "Laos", "--article", "4", *SUBMIT, "--years", "5"
    )
    assert "--state: 'Laos' is not a State Party" in error(unknown, 2)
    assert await cycle.requests() == []

    run = await cycle.ok(*base, "--years", "5")
    wid = extension_id(cycle.code, Article.ART4, LAO, cycle.today.year)
    assert f"started {wid}" in run.out and "with the Article 4 Analysis Group" in run.out, run
    assert "LATE: due by" in run.out and "14MSP" in run.out, run
    [row] = await cycle.requests()
    assert (row["state"], row["status"], row["late"]) == (LAO, "in_analysis", True)
    assert row["meeting"] != "14MSP"

    keep = await cycle.ok(
        "extensions", "keep", "--state", LAO, "--article", "4", "--ref", "President's letter"
    )
    assert "stays before the 14MSP" in keep.out, keep
    again = await cycle.msp("extensions", "keep", "--state", LAO, "--article", "4", "--ref", "again")
    assert "it has not been moved" in error(again, 1)

    decide = ("extensions", "decide", "--state", LAO, "--article", "4", "--ref", "CCM/MSP/2027/13")
    early = await cycle.msp(*decide, "--grant-years", "5")
    assert "rejected: The Article 4 Analysis Group has not reported" in error(early, 1)

    analyse = ("extensions", "analyse", "--state", LAO, "--article", "4", "--ref", "AG4/2027")
    await cycle.ok(*analyse, "--summary", "Complete and well founded.", "--recommend-years", "5")
    not_sitting = await cycle.msp(*decide, "--grant-years", "5")
    message = error(not_sitting, 1)
    assert "rejected: The 14MSP is not in session (scheduled" in message
    assert str(meeting_start(cycle.today)) in message
    assert "at most 5 years" in error(await cycle.msp(*decide, "--grant-years", "6"), 1)

    deadline = cycle.today + timedelta(days=20)
    silent = await cycle.ok(*decide, "--grant-years", "4", "--by-silence-until", str(deadline), "--id", "s-1")
    assert "accepted: put to silence procedure" in silent.out, silent
    [row] = await cycle.requests()
    assert row["status"] == "under_silence" and row["silence"].startswith(f"{cycle.code}-silence-art4-")
    desc = await cycle.client.get_workflow_handle(row["silence"]).describe()
    assert desc.workflow_type == "SilenceProcedureWorkflow"
    resent = await cycle.ok(*decide, "--grant-years", "4", "--by-silence-until", str(deadline), "--id", "s-1")
    # Sent again with the same id, the request's log answers: the first outcome, as a repeat; nothing more circulated.
    assert resent.out == silent.out.removesuffix("\n") + " (already applied)\n", resent

    shown = await cycle.ok("extensions", "show", "--state", LAO, "--article", "4")
    assert "Under silence procedure" in shown.out and "moved from" not in shown.out, shown
    # Readable text, not raw markdown.
    assert not any(mark in shown.out for mark in ("**", "## ", "\\")), shown
    assert await failed_workflow_tasks(cycle.client, wid) == []
