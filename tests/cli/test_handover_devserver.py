"""A decision that reaches the Presidency while it is being handed over: `msp` sends it again by itself.

On the real dev server, with the worker and `msp` as processes. The meeting sits today (its days run from midnight
to midnight here); the Presidency is told the meeting has closed before its meeting's workflow has finished, so it
refuses every decision as "being handed over" for as long as the test wants. `msp` keeps sending the same decision
id; once the meeting closes for real the Presidency hands over, and the decision is accepted by the new term.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

import starter.cli.send
from domain.decisions import Designate
from domain.ids import presidency_id
from domain.models import Convention, President
from domain.presidency import MeetingClosed
from starter.cli.common import FAILED, CliError
from starter.cli.send import send_update
from tests.support.devserver import (
    MSP,
    REPO,
    STEP_TIMEOUT,
    MspCycle,
    Server,
    eventually,
    failed_workflow_tasks,
    sitting_today,
    worker_cycle,
)
from workflows.presidency import PresidencyWorkflow

HANDING_OVER = "the Presidency is being handed over"


@pytest.fixture
async def handing_over(
    server: Server, tmp_path: Path
) -> AsyncIterator[tuple[MspCycle, WorkflowHandle[Any, Any]]]:
    """A cycle whose Presidency refuses decisions as being handed over, until its meeting closes."""
    async with worker_cycle(server, tmp_path, MspCycle, sitting_today, config_in_env=True) as c:
        await c.ok("cycle", "start")

        async def sitting() -> None:
            status = (await c.ok("status", "--json")).json()
            assert status["meeting"]["phase"] == "in_session", status["meeting"]

        await eventually(sitting, seconds=20)
        presidency = server.client.get_workflow_handle(presidency_id(Convention(code=c.code)))
        # What the meeting will send when it closes, sent ahead of it: the Presidency now waits for the meeting's
        # workflow to finish before it hands over.
        await presidency.signal(
            PresidencyWorkflow.meeting_closed,
            MeetingClosed(meeting="14MSP", closed_on=c.today, how="closed by decision"),
        )

        async def waiting() -> None:
            state = await presidency.query(PresidencyWorkflow.state)
            assert state.closed is not None

        await eventually(waiting)
        yield c, presidency


async def test_msp_sends_a_decision_again_while_the_presidency_is_handed_over(
    handing_over: tuple[MspCycle, WorkflowHandle[Any, Any]],
) -> None:
    c, presidency = handing_over
    run_id = (await presidency.describe()).run_id
    proc = await asyncio.create_subprocess_exec(
        str(MSP),
        *("decide", "designate", "--state", "Mexico", "--representative", "Ambassador C"),
        *("--ref", "final report para 21", "--id", "during-handover"),
        env=c.env,
        cwd=REPO,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        # Refused for the moment: said, and sent again (not an exit with "rejected").
        first = (await asyncio.wait_for(proc.stderr.readline(), STEP_TIMEOUT)).decode()
        assert HANDING_OVER in first and "Sending it again in 0.5 s (same id)." in first, first
        # The meeting closes for real; its workflow finishes; the Presidency hands over.
        await c.ok("decide", "close", "--ref", "final report para 40", "--meeting", "14MSP")
        out, err = await asyncio.wait_for(proc.communicate(), STEP_TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, (out, err)
    assert "accepted: " in out.decode() and "rejected" not in out.decode() + err.decode(), (out, err)
    assert "Traceback" not in err.decode()
    # Applied once, by the new term (Chile presides), under the id sent.
    state = await presidency.query(PresidencyWorkflow.state)
    assert (await presidency.describe()).run_id != run_id
    assert state.term == 2 and state.president.state == "Chile", state
    assert [d.decision_id for d in state.decisions.records] == ["during-handover"]
    assert [p.state for p in state.designates] == ["Mexico"]
    assert await failed_workflow_tasks(c.client, presidency.id) == []


async def test_a_handover_that_lasts_ends_msp_with_the_reason_and_the_id_to_send_again(
    handing_over: tuple[MspCycle, WorkflowHandle[Any, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sending itself, in this process: bounded, and the last answer is the outcome."""
    _, presidency = handing_over
    monkeypatch.setattr(starter.cli.send, "SEND_AGAIN_DELAYS", (0.1, 0.1))
    decision = Designate(decision_id="too-early", reference="para 21", president=President(state="Mexico"))

    def not_running(_: object) -> CliError:
        raise AssertionError("the Presidency runs")

    with pytest.raises(CliError) as e:
        await send_update(presidency, PresidencyWorkflow.designate, decision, not_running)
    assert e.value.code == FAILED
    assert e.value.message.startswith(
        "not decided: The 14MSP has closed and the Presidency is being handed over"
    )
    assert e.value.message.endswith(
        "It was still so after 3 tries over 0.2 s; send it again later with --id too-early (it applies once)."
    )
    state = await presidency.query(PresidencyWorkflow.state)
    assert state.term == 1 and state.decisions.records == []
