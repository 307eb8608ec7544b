"""Records one history per workflow type into tests/histories/, for the replay tests.

Run it again (``.venv/bin/python -m tests.record_histories``) only when a change to a workflow is meant to
alter its commands: the replay test exists to catch such a change made by accident.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.decisions import (
    ChangeFormat,
    CloseMeeting,
    DecideIntersessional,
    Designate,
    ExtendByDay,
    Postpone,
)
from domain.models import MeetingFormat
from tests.conftest import binary, register_search_attributes
from tests.cycle_helpers import MEXICO, Cycle, initial_state, part
from worker import ACTIVITIES, WORKFLOWS
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow

OUT = Path(__file__).parent / "histories"


async def save(handle: WorkflowHandle[object, object], name: str, run_id: str | None = None) -> None:
    handle = handle._client.get_workflow_handle(handle.id, run_id=run_id)
    history = await handle.fetch_history()
    (OUT / f"{name}.json").write_text(history.to_json())
    print(f"{name}: {len(history.events)} events")


async def main() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=pydantic_data_converter
    )
    await register_search_attributes(env.client)
    async with Worker(env.client, task_queue="record", workflows=WORKFLOWS, activities=ACTIVITIES) as worker:
        today = (await env.get_current_time()).date()
        c = await Cycle(env, worker, initial_state("ccm", today, [part(today + timedelta(days=30))])).start()
        first_run = c.handle.result_run_id
        plan = (await c.presidency()).meeting
        await c.decide_presidency(
            PresidencyWorkflow.designate, Designate(decision_id="d1", reference="MSP/14/7", president=MEXICO)
        )
        await c.decide_presidency(
            PresidencyWorkflow.decide_intersessional,
            DecideIntersessional(decision_id="i1", reference="MSP/14/8", held=True),
        )
        new_start = plan.first_day + timedelta(days=14)
        await c.decide_meeting(
            MeetingWorkflow.postpone, Postpone(decision_id="p1", reference="letter", new_start=new_start)
        )
        await c.decide_meeting(
            MeetingWorkflow.change_format,
            ChangeFormat(decision_id="f1", reference="letter", format=MeetingFormat.HYBRID),
        )
        await c.sleep_until_day(new_start + timedelta(days=3), hour=12)
        await c.decide_meeting(
            MeetingWorkflow.extend_by_day, ExtendByDay(decision_id="x1", reference="plenary")
        )
        await c.sleep_until_day(new_start + timedelta(days=4), hour=12)
        await c.decide_meeting(
            MeetingWorkflow.close, CloseMeeting(decision_id="c1", reference="final report")
        )
        await c.sleep_until_day(new_start + timedelta(days=5), hour=12)
        assert (await c.presidency()).term == 2
        await save(c.handle, "presidency", first_run)
        await save(env.client.get_workflow_handle(f"ccm-meeting-{plan.ref.label}"), "meeting")
        await c.stop()
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
