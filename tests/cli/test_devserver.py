"""`msp` end to end on the real dev server: the worker and the command run as subprocesses, in real time.

One dev server for the module; each test has its own convention code (so its own workflow ids), task queue and
worker process. The meeting lies 30 days ahead, so no timer fires while a test runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from domain.decisions import DECISION_REJECTED
from domain.ids import meeting_id, presidency_id
from domain.models import Convention, MeetingKind, MeetingRef, Phase
from tests.support.devserver import (
    MspCycle,
    Run,
    Server,
    config_text,
    eventually,
    failed_workflow_tasks,
    free_port,
    line_of,
    meeting_start,
    msp,
    one_line_error,
    process_env,
    worker_cycle,
)
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow


@dataclass
class Cycle(MspCycle):
    """One convention's cycle: its config file, its worker process, and `msp` aimed at it."""

    @property
    def presidency_id(self) -> str:
        return presidency_id(Convention(code=self.code))

    @property
    def meeting_id(self) -> str:
        return meeting_id(Convention(code=self.code), MeetingRef(number=14, kind=MeetingKind.MSP))

    @property
    def start(self) -> date:
        return meeting_start(self.today)

    async def started(self) -> None:
        await self.ok("cycle", "start", "--config", str(self.config))

    async def status(self) -> dict[str, Any]:
        return await self.shown("status")

    async def assert_healthy(self, phase: Phase = Phase.SCHEDULED) -> None:
        """Both workflows run, answer queries with the expected phase, and never failed a workflow task."""
        for wid in (self.presidency_id, self.meeting_id):
            desc = await self.client.get_workflow_handle(wid).describe()
            assert desc.status == WorkflowExecutionStatus.RUNNING, wid
            assert await failed_workflow_tasks(self.client, wid) == [], wid
        presidency: WorkflowHandle[Any, Any] = self.client.get_workflow_handle(self.presidency_id)
        meeting: WorkflowHandle[Any, Any] = self.client.get_workflow_handle(self.meeting_id)

        async def reached() -> None:
            p = await presidency.query(PresidencyWorkflow.state)
            m = await meeting.query(MeetingWorkflow.state)
            assert p.meeting_started and p.meeting.ref.label == "14MSP"
            assert p.meeting_phase is phase and m.phase is phase
            assert p.meeting == m.plan, "the Presidency's view follows its meeting"
            assert m.closed is None and p.closed is None

        await eventually(reached)


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[Cycle]:
    async with worker_cycle(server, tmp_path, Cycle, config_text) as c:
        yield c


async def test_cycle_start_is_idempotent_and_a_bad_config_is_refused(cycle: Cycle, tmp_path: Path):
    missing = await cycle.msp("status")
    assert missing.code == 4, missing
    assert f"no presidency is running for {cycle.code}" in missing.err and "msp cycle start" in missing.err

    first = await cycle.ok("cycle", "start", "--config", str(cycle.config))
    assert cycle.presidency_id in first.out
    again = await cycle.ok("cycle", "start", "--config", str(cycle.config))
    assert "already running" in again.out

    status = await cycle.status()
    assert status["presidency"]["term"] == 1
    assert status["meeting"]["plan"]["parts"][0]["start"] == str(cycle.start)
    await cycle.assert_healthy()

    # A part that ends before it starts, an unknown format: the error names the file, the line and the field.
    async def refused(name: str, old: str, new: str, needle: str, field: str) -> Run:
        text = config_text("tbad", cycle.today).replace(old, new)
        bad = tmp_path / name
        bad.write_text(text)
        run = await cycle.msp("cycle", "start", "--config", str(bad))
        assert run.code == 2, run
        assert "Traceback" not in run.err, run
        assert f"{bad}:{line_of(text, needle)}: meeting.parts[0].{field}:" in run.err, run
        return run

    end = f"end = {cycle.start + timedelta(days=3)}"
    early, _ = await asyncio.gather(
        refused("ends-early.toml", end, f"end = {cycle.start - timedelta(days=1)}", "end = ", "end"),
        refused("bad-format.toml", 'format = "in_person"', 'format = "outdoors"', "outdoors", "format"),
    )
    assert "before it starts" in early.err
    # Nothing was started for the refused configuration.
    assert (await cycle.msp("status", "--convention", "tbad")).code == 4


async def test_accepted_decisions_show_in_the_status(cycle: Cycle):
    await cycle.started()
    new_start = cycle.start + timedelta(days=7)

    run = await cycle.ok(
        "decide",
        "designate",
        "--state",
        "Norway",
        "--representative",
        "Ambassador N",
        "--ref",
        "MSP13 ¶21",
        "--id",
        "d-norway",
    )
    assert "Norway (Ambassador N) designated" in run.out
    run = await cycle.ok(
        "decide",
        "postpone",
        "--to",
        str(new_start),
        "--reason",
        "liquidity",
        "--ref",
        "CCM/MSP/2026/4",
        "--id",
        "d-postpone",
    )
    assert f"postponed to {new_start}" in run.out
    run = await cycle.ok("decide", "extend-by-day", "--ref", "letter of 3 May", "--id", "d-extend")
    new_end = new_start + timedelta(days=4)
    assert f"to end on {new_end}" in run.out
    generated = await cycle.ok("decide", "intersessional", "--not-held", "--ref", "MSP13 ¶30")
    generated_id = generated.out.split()[1]
    assert generated_id.startswith("cli-")

    table = (await cycle.ok("status")).out
    assert "Norway (Ambassador N)" in table
    assert f"{new_start} to {new_end}, Geneva, in person" in table
    assert "next cycle: not held" in table
    log = table[table.index("Decisions") :]
    positions = [log.index(i) for i in ("d-norway", "d-postpone", "d-extend", generated_id)]
    assert positions == sorted(positions), log
    assert "CCM/MSP/2026/4" in log and "liquidity" in log

    status = await cycle.status()
    pres, meeting = status["presidency"], status["meeting"]
    assert [d["state"] for d in pres["designates"]] == ["Chile", "Norway"]
    assert [d["decision_id"] for d in pres["decisions"]["records"]] == ["d-norway", generated_id]
    assert [d["decision_id"] for d in meeting["decisions"]["records"]] == ["d-postpone", "d-extend"]
    part = meeting["plan"]["parts"][0]
    assert (part["start"], part["end"], part["provisional"]) == (str(new_start), str(new_end), False)
    # The Presidency's own view follows its meeting.
    assert pres["meeting"]["parts"][0]["end"] == str(new_end)
    await cycle.assert_healthy()


async def test_rejected_decisions_give_one_line_and_change_nothing(cycle: Cycle):
    await cycle.started()
    before = await cycle.status()

    earlier = one_line_error(
        await cycle.msp("decide", "postpone", "--to", str(cycle.start - timedelta(days=1)), "--ref", "x")
    )
    assert earlier.startswith("rejected: A postponement must move"), earlier
    assert DECISION_REJECTED not in earlier

    own = one_line_error(await cycle.msp("decide", "designate", "--state", "austria", "--ref", "x"))
    assert own == "rejected: austria holds the Presidency now and cannot be its own successor.", own

    too_long = one_line_error(
        await cycle.msp("decide", "set-dates", "--start", str(cycle.start), "--days", "11", "--ref", "x"),
        code=2,
    )
    assert too_long.startswith("--days: Input should be less than or equal to 10"), too_long

    closing = one_line_error(await cycle.msp("decide", "close", "--ref", "x"))
    assert closing.startswith("rejected: ") and "only be closed while in session" in closing, closing

    assert await cycle.status() == before
    await cycle.assert_healthy()


async def test_the_same_decision_id_applies_once(cycle: Cycle):
    await cycle.started()
    first = await cycle.ok("decide", "extend-by-day", "--ref", "x", "--id", "once-1")
    second = await cycle.ok("decide", "extend-by-day", "--ref", "x", "--id", "once-1")
    summary = first.out.splitlines()[-1].removeprefix("accepted: ")
    assert summary in second.out
    d1 = await cycle.ok("decide", "designate", "--state", "Mexico", "--ref", "x", "--id", "once-2")
    d2 = await cycle.ok("decide", "designate", "--state", "Mexico", "--ref", "x", "--id", "once-2")
    assert d1.out.splitlines()[-1].removeprefix("accepted: ") in d2.out

    status = await cycle.status()
    assert [d["decision_id"] for d in status["meeting"]["decisions"]["records"]] == ["once-1"]
    assert [d["decision_id"] for d in status["presidency"]["decisions"]["records"]] == ["once-2"]
    assert status["meeting"]["plan"]["parts"][0]["end"] == str(cycle.start + timedelta(days=4))
    assert [d["state"] for d in status["presidency"]["designates"]] == ["Chile", "Mexico"]


async def test_an_unreachable_server_is_named(tmp_path: Path):
    port = free_port()  # bound then released: nothing listens there
    env = process_env(f"127.0.0.1:{port}", "tq-none", convention="ccm")
    for args in (("status",), ("decide", "extend-by-day", "--ref", "x")):
        run = await msp(env, *args)
        assert run.code == 3, run
        assert "Traceback" not in run.err, run
        assert f"127.0.0.1:{port}" in run.err, run


async def test_a_killed_worker_loses_nothing(cycle: Cycle, tmp_path: Path):
    await cycle.started()
    await cycle.ok("decide", "designate", "--state", "Norway", "--ref", "x", "--id", "k-designate")
    await cycle.ok(
        "decide", "postpone", "--to", str(cycle.start + timedelta(days=14)), "--ref", "x", "--id", "k-post"
    )
    await cycle.ok("decide", "change-format", "--format", "hybrid", "--ref", "x", "--id", "k-format")

    await cycle.worker.kill()
    # A new process: empty caches, so both workflows are rebuilt from their histories.
    await cycle.worker.start(cycle.client)

    status = await cycle.status()
    assert [d["decision_id"] for d in status["presidency"]["decisions"]["records"]] == ["k-designate"]
    assert [d["decision_id"] for d in status["meeting"]["decisions"]["records"]] == ["k-post", "k-format"]
    part = status["meeting"]["plan"]["parts"][0]
    assert (part["start"], part["format"]) == (str(cycle.start + timedelta(days=14)), "hybrid")

    await cycle.ok("decide", "extend-by-day", "--ref", "x", "--id", "k-extend")
    await cycle.ok("decide", "intersessional", "--held", "--ref", "x", "--id", "k-inter")
    # Re-sent after the restart, an earlier decision is still applied once.
    await cycle.ok("decide", "change-format", "--format", "hybrid", "--ref", "x", "--id", "k-format")

    status = await cycle.status()
    assert [d["decision_id"] for d in status["presidency"]["decisions"]["records"]] == [
        "k-designate",
        "k-inter",
    ]
    assert [d["decision_id"] for d in status["meeting"]["decisions"]["records"]] == [
        "k-post",
        "k-format",
        "k-extend",
    ]
    assert status["meeting"]["plan"]["parts"][0]["end"] == str(cycle.start + timedelta(days=18))
    assert status["presidency"]["intersessional_next_cycle"] is True
    await cycle.assert_healthy()
