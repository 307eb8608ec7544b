"""`msp silence start` on a server whose clock is not this machine's: the workflow decides whether the deadline
is still to come, on the server's clock, and `msp` reports that decision.

The time-skipping test server is moved 400 days ahead of this machine's clock before anything starts; `msp` and a
worker run against it. A deadline 30 days ahead here has passed there.

And one clock: every workflow `msp` starts gets the time zone and hours of the configuration in its input.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from activities.conference_services import ConferenceServices
from domain.calendar import local_text
from domain.documents import DocumentInput
from domain.ids import document_id, presidency_id, report_id, review_id, silence_id
from domain.models import Convention, Defaults
from domain.presidency import PresidencyState
from domain.reports import ReportsInput
from domain.reviews import ReviewInput
from domain.silence import SilenceInput
from tests.scenario import time_skipping
from tests.support.devserver import (
    binary,
    config_text,
    eventually,
    hosting_toml,
    meeting_start,
    msp,
    process_env,
)
from worker import build_worker

AHEAD = timedelta(days=400)
M = TypeVar("M")


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


# One clock: what `msp` starts runs on the configured time zone and hours, not on the defaults of the code.

CLOCK = Defaults(timezone="Asia/Tokyo", day_start_hour=9, day_end_hour=17)


async def started_with(env: WorkflowEnvironment, wid: str, input_type: type[M]) -> M:
    """The input the workflow ``wid`` was started with, as its history records it."""
    history = await env.client.get_workflow_handle(wid).fetch_history()
    payloads = history.events[0].workflow_execution_started_event_attributes.input.payloads
    [inp] = await env.client.data_converter.decode(payloads, [input_type])
    return inp  # type: ignore[no-any-return]


async def test_what_msp_starts_runs_on_the_configured_clock(tmp_path: Path) -> None:
    async with time_skipping(binary("temporal-test-server")) as env:
        code = f"t{uuid.uuid4().hex[:10]}"
        today = datetime.now(ZoneInfo("Europe/Zurich")).date()
        config = tmp_path / "cycle.toml"
        config.write_text(
            config_text(code, today)
            + '\n[defaults]\ntimezone = "Asia/Tokyo"\nday_start_hour = 9\nday_end_hour = 17\n'
            + '\n[states_parties]\nnames = ["Austria", "Chile", "Mexico"]\narticle7 = ["Chile"]\n'
            + hosting_toml("4RC", today + timedelta(days=800))
        )
        process = process_env(env.client.service_client.config.target_host, f"tq-{code}", convention=code)
        process["CCM_CONFIG"] = str(config)
        async with ConferenceServices() as services, build_worker(env.client, services, f"tq-{code}"):
            assert (await msp(process, "cycle", "start")).code == 0
            conv = Convention(code=code)
            assert (
                await started_with(env, presidency_id(conv), PresidencyState)
            ).convention.defaults == CLOCK
            assert (
                await started_with(env, review_id(code, "hosting-agreement"), ReviewInput)
            ).defaults == CLOCK
            assert (await started_with(env, report_id(code, "Chile"), ReportsInput)).defaults == CLOCK

            run = await msp(process, *start("clock", datetime.now(UTC) + timedelta(days=30)))
            assert run.code == 0, run
            assert (await started_with(env, silence_id(code, "clock"), SilenceInput)).defaults == CLOCK

            doc = ("docs", "submit", "--symbol", "CCM/MSP/2027/1", "--title", "Agenda", "--pages", "4")
            due = meeting_start(today)

            async def submitted() -> None:
                run = await msp(process, *doc, "--due", str(due))
                assert run.code == 0, run

            await eventually(submitted)
            document = await started_with(env, document_id(code, "CCM/MSP/2027/1"), DocumentInput)
            assert document.defaults == CLOCK
