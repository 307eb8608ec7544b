"""`msp reviews` end to end on the real dev server: the worker and `msp` run as subprocesses, in real time.

One dev server for the module; each test has its own convention code (so its own workflow ids), task queue and
worker process. Reviews fall due months ahead (or at the meeting, 30 days ahead), so only reminders already due
today are sent while a test runs; without a webhook the worker logs them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus

from domain.calendar import years_later
from domain.ids import review_id
from tests.support.devserver import (
    MspCycle,
    Run,
    Server,
    config_text,
    eventually,
    hosting_toml,
    meeting_start,
    one_line_error,
    worker_cycle,
)

SUBJECTS = ("hosting-agreement", "isu-synergies", "financial-procedures")


def reviews_toml(today: date) -> str:
    """The three reviews of config/cycle.toml, due on different days (listed here out of due-date order)."""
    return (
        hosting_toml("4RC", today + timedelta(days=800))
        + f"""
[[reviews]]
subject = "isu-synergies"
title = "synergies between the ISU and other implementation support units"
mandate = {{ decided_by = "2nd Review Conference", reference = "CCM/CONF/2021/6" }}
due = {{ kind = "no_later_than_meeting", meeting = "4RC", on = {today + timedelta(days=400)} }}

[[reviews]]
subject = "financial-procedures"
title = "the ISU financial procedures"
mandate = {{ decided_by = "7th MSP", reference = "CCM/MSP/2017/9" }}
due = {{ kind = "date", on = {today + timedelta(days=100)} }}
"""
    )


def at_meeting_toml(today: date) -> str:
    """A review due at the cycle's own meeting, on its first day."""
    return hosting_toml("14MSP", meeting_start(today))


@dataclass
class Cycle(MspCycle):
    def write_config(self, extra: str) -> None:
        self.config.write_text(config_text(self.code, self.today, extra))

    async def start(self) -> Run:
        return await self.ok("cycle", "start", "--config", str(self.config))

    async def reviews(self) -> list[dict[str, Any]]:
        out = (await self.ok("reviews", "list", "--json")).json()
        assert out["convention"] == self.code
        rows = out["reviews"]
        assert isinstance(rows, list)
        return rows

    async def show(self, subject: str) -> dict[str, Any]:
        return await self.shown("reviews", "show", subject)

    async def no_failed_tasks(self, *subjects: str) -> None:
        await super().no_failed_tasks(*(review_id(self.code, s) for s in subjects))


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[Cycle]:
    async with worker_cycle(server, tmp_path, Cycle) as c:
        yield c


async def test_cycle_start_starts_each_review_once_and_lists_them_by_due_date(cycle: Cycle):
    cycle.write_config(reviews_toml(cycle.today))
    first = await cycle.start()
    assert f"started {cycle.code}-presidency" in first.out, first
    for subject in SUBJECTS:
        assert f"started {review_id(cycle.code, subject)}: review of " in first.out, first

    again = await cycle.start()
    assert "already running" in again.out.splitlines()[0], again
    for subject in SUBJECTS:
        assert f"review {subject}: already running" in again.out, again

    async def listed() -> None:
        rows = await cycle.reviews()
        assert [r["subject"] for r in rows] == ["financial-procedures", "isu-synergies", "hosting-agreement"]
        assert all(r["status"] == "pending" and r["execution_status"] == "running" for r in rows), rows
        assert [r["days_left"] for r in rows] == [100, 400, 800], rows
        assert [r["meeting"] for r in rows] == [None, "4RC", "4RC"], rows
        # 180 days ahead had passed before the review existed; 90 days ahead is next.
        first = rows[0]
        assert first["next_notification"] == {
            "kind": "reminder",
            "on": str(cycle.today + timedelta(days=10)),
        }, first
        assert rows[2]["next_notification"]["on"] == str(cycle.today + timedelta(days=620)), rows[2]

    await eventually(listed)
    text = (await cycle.ok("reviews", "list")).out.splitlines()
    assert text[1].split()[:4] == ["SUBJECT", "DUE", "DAYS", "LEFT"], text
    assert [line.split()[0] for line in text[2:]] == [
        "financial-procedures",
        "isu-synergies",
        "hosting-agreement",
    ], text
    await cycle.no_failed_tasks(*SUBJECTS)


async def test_a_review_due_at_a_meeting_moves_when_the_meeting_is_postponed(cycle: Cycle):
    cycle.write_config(at_meeting_toml(cycle.today))
    await cycle.start()
    start = meeting_start(cycle.today)
    assert (await cycle.show("hosting-agreement"))["due"] == str(start)

    new_start = start + timedelta(days=30)
    run = await cycle.ok("decide", "postpone", "--to", str(new_start), "--ref", "CCM/MSP/2027/4")
    assert f"postponed to {new_start}" in run.out, run

    async def moved() -> None:
        state = await cycle.show("hosting-agreement")
        assert state["due"] == str(new_start), state

    await eventually(moved, seconds=30)
    state = await cycle.show("hosting-agreement")
    assert state["due_point"] == f"at the 14MSP ({new_start})"
    assert state["status"] == "pending"
    await cycle.no_failed_tasks("hosting-agreement")


async def test_conclude_starts_the_next_review_and_withdraw_ends_one(cycle: Cycle):
    cycle.write_config(reviews_toml(cycle.today))
    await cycle.start()
    next_due = years_later(cycle.today, 3)

    run = await cycle.ok(
        "reviews",
        "conclude",
        "hosting-agreement",
        "--outcome",
        "The hosting agreement is renewed.",
        "--ref",
        "CCM/CONF/2031/5 para 12",
        "--next",
        "every 3 years",
        "--id",
        "c-hosting",
    )
    assert run.out.splitlines()[0] == "decision c-hosting", run
    assert f"the next is due by {next_due}" in run.out, run

    async def next_review() -> None:
        state = await cycle.show("hosting-agreement")
        assert state["cycle"] == 2 and state["status"] == "pending", state
        assert state["due"] == str(next_due), state
        assert state["spec"]["periodicity"] == {"every_years": 3, "at_every_review_conference": False}
        assert [h["reference"] for h in state["history"]] == ["CCM/CONF/2031/5 para 12"], state

    await eventually(next_review)
    text = (await cycle.ok("reviews", "show", "hosting-agreement")).out
    assert "review number 2" in text and "every 3 years" in text, text

    conclude = ("reviews", "conclude", "financial-procedures", "--outcome", "x" * 5, "--ref", "r", "--next")
    for bad in await asyncio.gather(*(cycle.msp(*conclude, n) for n in ("sometimes", "every 30 years"))):
        assert one_line_error(bad, 2).startswith("--next: "), bad

    run = await cycle.ok("reviews", "withdraw", "isu-synergies", "--ref", "r")
    assert "accepted: review of synergies between the ISU" in run.out and "withdrawn" in run.out, run
    handle = cycle.client.get_workflow_handle(review_id(cycle.code, "isu-synergies"))

    async def ended() -> None:
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    await eventually(ended)
    gone = await cycle.msp("reviews", "conclude", "isu-synergies", "--outcome", "too late", "--ref", "r")
    assert one_line_error(gone, 4) == "the review isu-synergies is withdrawn and no longer running", gone

    unknown = await cycle.msp("reviews", "conclude", "no-such-review", "--outcome", "nothing", "--ref", "r")
    expected = f"no review no-such-review for {cycle.code}; `msp reviews list` shows them"
    assert one_line_error(unknown, 4) == expected, unknown
    assert one_line_error(await cycle.msp("reviews", "show", "no-such-review"), 4) == expected

    # A second start leaves the running reviews alone and does not bring back the one withdrawn.
    again = await cycle.start()
    assert "review hosting-agreement: already running" in again.out, again
    assert "review isu-synergies: already withdrawn" in again.out, again

    async def listed() -> None:
        rows = {r["subject"]: r for r in await cycle.reviews()}
        assert len(rows) == 3, rows
        assert rows["isu-synergies"]["status"] == "withdrawn", rows
        assert rows["isu-synergies"]["execution_status"] == "completed", rows
        assert rows["hosting-agreement"]["cycle"] == 2, rows

    await eventually(listed)
    await cycle.no_failed_tasks(*SUBJECTS)
