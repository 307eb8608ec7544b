"""`msp silence start` on a server whose clock is not this machine's: the workflow decides whether the deadline
is still to come, on the server's clock, and `msp` reports that decision.

The time-skipping test server is moved 400 days ahead of this machine's clock before anything starts; `msp` and a
worker run against it. A deadline 30 days ahead here has passed there.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from activities.conference_services import ConferenceServices
from domain.calendar import local_text
from domain.silence import silence_id
from tests.scenario import time_skipping
from tests.support.devserver import binary, config_text, msp, process_env
from worker import build_worker

AHEAD = timedelta(days=400)


@pytest.fixture
async def ahead(tmp_path: Path) -> AsyncIterator[tuple[WorkflowEnvironment, dict[str, str]]]:
    """A time-skipping server 400 days ahead, a worker on it, and the environment `msp` needs to reach them."""
    async with time_skipping(binary("temporal-test-server")) as env:
        await env.sleep(AHEAD)
        code = f"t{uuid.uuid4().hex[:10]}"
        task_queue = f"tq-{code}"
        today = datetime.now(ZoneInfo("Europe/Zurich")).date()
        config = tmp_path / "cycle.toml"
        config.write_text(
            config_text(code, today) + '\n[states_parties]\nnames = ["Austria", "Chile", "Mexico"]\n'
        )
        process = process_env(env.client.service_client.config.target_host, task_queue, convention=code)
        process["CCM_CONFIG"] = str(config)
        async with (
            ConferenceServices() as services,
            build_worker(env.client, services, task_queue),
        ):
            yield env, process


def start(procedure: str, deadline: datetime) -> tuple[str, ...]:
    return (
        *("silence", "start", "--procedure", procedure, "--proposal", "To adopt the revised budget"),
        *("--ref", "President's letter", "--initiator", "the President (Austria)"),
        *("--deadline", f"{deadline:%Y-%m-%d %H:%M}"),
    )


async def test_a_deadline_to_come_here_but_past_on_the_server_is_rejected_with_the_servers_time(
    ahead: tuple[WorkflowEnvironment, dict[str, str]],
) -> None:
    env, process = ahead
    here = datetime.now(ZoneInfo("Europe/Zurich"))
    run = await msp(process, *start("late-here", here + timedelta(days=30)))
    assert run.code == 1, run
    assert "started" not in run.out, run
    [line] = run.err.strip().splitlines()
    assert line.startswith("rejected: The deadline ") and "has already passed (it is " in line, run
    # The time it names is the server's, 400 days on (the day, read a moment later, may have turned).
    days = {local_text(here + AHEAD + timedelta(minutes=m)).split(",")[0] for m in (0, 5)}
    assert any(f"(it is {day}, " in line for day in days), (days, run)
    code = process["CCM_CONVENTION"]
    desc = await env.client.get_workflow_handle(silence_id(code, "late-here")).describe()
    assert desc.status == WorkflowExecutionStatus.FAILED


async def test_a_deadline_to_come_on_the_server_is_circulated(
    ahead: tuple[WorkflowEnvironment, dict[str, str]],
) -> None:
    env, process = ahead
    here = datetime.now(ZoneInfo("Europe/Zurich"))
    run = await msp(process, *start("on-time", here + AHEAD + timedelta(days=30)))
    assert run.code == 0, run
    code = process["CCM_CONVENTION"]
    assert run.out.splitlines()[0].startswith(f"started {silence_id(code, 'on-time')}: circulated by "), run
    desc = await env.client.get_workflow_handle(silence_id(code, "on-time")).describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING
