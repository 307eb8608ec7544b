"""Fault: the embedded dev server stopped and started again on the same SQLite file, mid-cycle.

`make run` as a real process (`starter.embedded`), with the default configuration: the presidency, its meeting and
ledger, three reviews and four Article 7 workflows, plus an extension request and a silence procedure started for the
test, and decisions taken before the stop. After the restart every workflow runs on as the same run, answers its
query with what it had, takes a new decision, and none has failed a workflow task.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from domain.calendar import local_date
from domain.decisions import DecideIntersessional, Designate
from domain.extensions import Analysis, Article, ExtensionInput, ExtensionRequest, MeetingSlot, extension_id
from domain.models import Defaults, President
from domain.silence import SilenceInput, silence_id
from starter.connect import TASK_QUEUE
from tests.conftest import binary
from tests.devserver import failed_workflow_tasks
from tests.test_embedded import PRESIDENCY, REPO, Embedded, connect, eventually, free_ports, running_run_id
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
    binary("temporal")
    state_dir = tmp_path / "state"
    config = tmp_path / "cycle.toml"
    shutil.copy(REPO / "config" / "cycle.toml", config)
    port, ui_port, receiver_port = free_ports(3)

    first = await Embedded.start(state_dir, port, ui_port, receiver_port, config)
    try:
        await first.wait_for_banner()
        client = await connect(port)
        for wid in MIDCYCLE:
            await eventually(lambda w=wid: running_run_id(client, w), 20, f"{wid} running")  # type: ignore[misc]
        extra = await start_extra(client)
        presidency: WorkflowHandle[Any, Any] = client.get_workflow_handle(PRESIDENCY)
        await presidency.execute_update(
            PresidencyWorkflow.designate,
            Designate(decision_id="before", reference="para 21", president=President(state="Mexico")),
        )
        runs = {wid: await running_run_id(client, wid) for wid in [*MIDCYCLE, *extra]}
        assert await first.interrupt() == 0, first.output
    finally:
        await first.kill()

    second = await Embedded.start(state_dir, port, ui_port, receiver_port, config)
    try:
        await second.wait_for_banner()
        client = await connect(port)
        for wid, run_id in runs.items():
            assert await running_run_id(client, wid) == run_id, wid
            # Answering a query means the worker rebuilt it from its history.
            await client.get_workflow_handle(wid).query("__stack_trace")
        presidency = client.get_workflow_handle(PRESIDENCY)
        state = await presidency.query(PresidencyWorkflow.state)
        assert [d.decision_id for d in state.decisions] == ["before"]
        assert [p.state for p in state.designates] == ["Chile", "Mexico"]
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
    finally:
        await second.kill()
