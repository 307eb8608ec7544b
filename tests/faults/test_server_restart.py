"""Fault: the embedded dev server stopped and started again on the same SQLite file, mid-cycle; and killed under
`make run`, which says so and starts it again, a bounded number of times.

`make run` as a real process (`starter.embedded`), with the default configuration: the presidency, its meeting and
ledger, three reviews and four Article 7 workflows, plus an extension request and a silence procedure started for the
test, and decisions taken before the stop. After the restart every workflow runs on as the same run, answers its
query with what it had, takes a new decision, and none has failed a workflow task.
"""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from domain.calendar import local_date
from domain.decisions import DecideIntersessional, Designate
from domain.extensions import Analysis, Article, ExtensionInput, ExtensionRequest, MeetingSlot
from domain.ids import extension_id, silence_id
from domain.models import Defaults, President
from domain.silence import SilenceInput
from runtime.connect import TASK_QUEUE
from starter.embedded.runner import MAX_SERVER_RESTARTS
from tests.support.devserver import failed_workflow_tasks
from tests.support.embedded import (
    PRESIDENCY,
    Embedded,
    alive,
    children,
    connect,
    eventually,
    make_run,
    running_run_id,
)
from workflows.extension import ExtensionRequestWorkflow
from workflows.presidency import PresidencyWorkflow
from workflows.silence import SilenceProcedureWorkflow

REVIEWS = [f"ccm-review-{s}" for s in ("hosting-agreement", "isu-synergies", "financial-procedures")]
REPORTS = [f"ccm-art7-{s}" for s in ("lao-people-s-democratic-republic", "lebanon", "iraq", "chile")]
MIDCYCLE = ["ccm-presidency", "ccm-meeting-14MSP", "ccm-funds-14MSP", *REVIEWS, *REPORTS]


async def start_extra(client: Client) -> tuple[str, str]:
    """An extension request (analysed) and an open silence procedure, as the ISU would have them mid-cycle."""
    today = local_date((await client.get_workflow_handle(PRESIDENCY).describe()).start_time, Defaults())
    request = ExtensionRequest(
        state="Lebanon",
        article=Article.ART4,
        entry_into_force=today - timedelta(days=365 * 9),
        current_deadline=today + timedelta(days=400),
        submitted_on=today,
        requested_months=36,
        plan="Clearance of the remaining areas in the south.",
        reference="CCM/MSP/2027/6",
    )
    ext_id = extension_id("ccm", Article.ART4, "Lebanon", today.year)
    ext = await client.start_workflow(
        ExtensionRequestWorkflow.run,
        ExtensionInput(
            request=request,
            meeting=MeetingSlot(label="14MSP", first_day=today + timedelta(days=300)),
            next_meeting=MeetingSlot(label="15MSP", first_day=today + timedelta(days=665)),
        ),
        id=ext_id,
        task_queue=TASK_QUEUE,
    )
    await ext.execute_update(
        ExtensionRequestWorkflow.analyse, Analysis(decision_id="ag4", reference="AG4", summary="Sound plan.")
    )
    started = (await client.get_workflow_handle(PRESIDENCY).describe()).start_time
    sil_id = silence_id("ccm", "budget-2027")
    await client.start_workflow(
        SilenceProcedureWorkflow.run,
        SilenceInput(
            procedure_id="budget-2027",
            proposal="To adopt the revised budget of the ISU.",
            reference="President's letter",
            initiator="the President (Austria)",
            deadline=started + timedelta(days=30),
            states_parties=["Austria", "Chile", "Mexico"],
        ),
        id=sil_id,
        task_queue=TASK_QUEUE,
    )
    return ext_id, sil_id


async def test_the_embedded_server_restarted_on_its_sqlite_file_resumes_every_workflow(
    tmp_path: Path,
) -> None:
    setup = make_run(tmp_path)
    port = setup.port
    async with setup.running() as first:
        client = await connect(port)
        for wid in MIDCYCLE:
            await eventually(lambda w=wid: running_run_id(client, w), 20, f"{wid} running")  # type: ignore[misc]
        extra = await start_extra(client)
        presidency: WorkflowHandle[Any, Any] = client.get_workflow_handle(PRESIDENCY)
        await presidency.execute_update(
            PresidencyWorkflow.designate,
            Designate(decision_id="before", reference="para 21", president=President(state="France")),
        )
        runs = {wid: await running_run_id(client, wid) for wid in [*MIDCYCLE, *extra]}
        assert await first.interrupt() == 0, first.output

    async with setup.running() as second:
        client = await connect(port)
        for wid, run_id in runs.items():
            assert await running_run_id(client, wid) == run_id, wid
            # Answering a query means the worker rebuilt it from its history.
            await client.get_workflow_handle(wid).query("__stack_trace")
        presidency = client.get_workflow_handle(PRESIDENCY)
        state = await presidency.query(PresidencyWorkflow.state)
        assert [d.decision_id for d in state.decisions.records] == ["before"]
        assert [p.state for p in state.designates] == ["Chile", "France"]
        outcome = await presidency.execute_update(
            PresidencyWorkflow.decide_intersessional,
            DecideIntersessional(decision_id="after", reference="para 30", held=True),
        )
        assert not outcome.duplicate
        ext_state = await client.get_workflow_handle(extra[0]).query(ExtensionRequestWorkflow.state)
        assert ext_state.analysis is not None and ext_state.status.value == "analysed"
        for wid in runs:
            assert await failed_workflow_tasks(client, wid) == [], wid
        assert await second.interrupt() == 0, second.output


def server_pid(runner: Embedded) -> int:
    [pid] = [pid for pid, c in children(runner.proc.pid).items() if "temporal" in c and "start-dev" in c]
    return pid


async def said(runner: Embedded, text: str, after: int) -> str:
    """The first line of the runner's output from line ``after`` on that contains ``text``."""

    async def found() -> str | None:
        return next((line for line in runner.lines[after:] if text in line), None)

    return await eventually(found, 60, f"{text!r} in the output of make run:\n{runner.output}")


async def test_a_server_killed_under_make_run_is_said_to_be_killed_and_started_again(tmp_path: Path) -> None:
    setup = make_run(tmp_path)
    state_dir, port = setup.state_dir, setup.port
    async with setup.running() as runner:
        client = await connect(port)
        await eventually(lambda: running_run_id(client, "ccm-meeting-14MSP"), 20, "the meeting running")
        run_id = await running_run_id(client, PRESIDENCY)
        # An error line the server logged long before: not why it dies now.
        with (state_dir / "server.log").open("a") as log:
            log.write('time=2020-01-01T00:00:00Z level=ERROR msg="an old, unrelated error"\n')

        for kill in range(1, MAX_SERVER_RESTARTS + 1):
            pid = server_pid(runner)
            mark = len(runner.lines)
            os.kill(pid, signal.SIGKILL)
            line = await said(runner, "was killed by SIGKILL", mark)
            assert (
                f"the Temporal server on 127.0.0.1:{port} (pid {pid}) was killed by SIGKILL after running"
                in line
            )
            assert "old, unrelated" not in runner.output, runner.output
            assert f"(restart {kill} of at most {MAX_SERVER_RESTARTS} within 10 min)" in line, line
            await said(runner, "the worker polls again and the workflows resume", mark)
            assert server_pid(runner) != pid

            # The same runs, on the same SQLite file, and the worker takes decisions again.
            client = await connect(port)
            assert await running_run_id(client, PRESIDENCY) == run_id
            outcome = await client.get_workflow_handle(PRESIDENCY).execute_update(
                PresidencyWorkflow.decide_intersessional,
                DecideIntersessional(
                    decision_id=f"after-kill-{kill}", reference="para 30", held=kill % 2 == 0
                ),
            )
            assert not outcome.duplicate
            assert await failed_workflow_tasks(client, PRESIDENCY) == []

        # Once more within the window: not started again, and the runner says why and stops everything.
        kids = children(runner.proc.pid)
        os.kill(server_pid(runner), signal.SIGKILL)
        code = await asyncio.wait_for(runner.proc.wait(), 60)
        await runner._pump
        assert code == 1, runner.output
        assert (
            f"died {MAX_SERVER_RESTARTS + 1} times within 10 min, so it is not started again: see {state_dir}"
            in runner.output
        ), runner.output
        assert "Traceback" not in runner.output, runner.output
        assert not [pid for pid in kids if alive(pid)], runner.output
