"""Building and driving a presidential cycle on the time-skipping test server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.calendar import day_end, day_start, local_date
from domain.decisions import DECISION_REJECTED, DecisionOutcome
from domain.funds import Assess, SetEstimate
from domain.ids import funds_id, presidency_id, sponsorship_id
from domain.meeting import MeetingState
from domain.presidency import PresidencyState
from tests.scenario import (
    AUSTRIA,
    CHILE,
    MEXICO,
    NORWAY,
    decide,
    estimate_and_assess,
    initial_state,
    meeting_handle,
    part,
    sleep_until,
)
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow

T = TypeVar("T")

# The states a cycle starts from are built in tests/scenario.py, which the benchmarks share; named here too, where
# the tests have always found them.
__all__ = ["AUSTRIA", "CHILE", "MEXICO", "NORWAY", "Cycle", "initial_state", "part", "rejection"]


@dataclass
class Cycle:
    """One presidency running on the test server, with handles to it and its current meeting."""

    env: WorkflowEnvironment
    worker: Worker
    state0: PresidencyState
    handle: WorkflowHandle[Any, Any] = field(init=False)

    @property
    def client(self) -> Client:
        return self.env.client

    @property
    def defaults(self) -> Any:
        return self.state0.convention.defaults

    async def start(self) -> Cycle:
        self.handle = await self.client.start_workflow(
            PresidencyWorkflow.run,
            self.state0,
            id=presidency_id(self.state0.convention),
            task_queue=self.worker.task_queue,
        )
        return self

    async def presidency(self) -> PresidencyState:
        state: PresidencyState = await self.handle.query(PresidencyWorkflow.state)
        return state

    async def meeting_handle(self, label: str | None = None) -> WorkflowHandle[Any, Any]:
        ref = (await self.presidency()).meeting.ref if label is None else label
        return meeting_handle(self.client, self.state0.convention, ref)

    async def meeting(self, label: str | None = None) -> MeetingState:
        handle = await self.meeting_handle(label)
        state: MeetingState = await once_started(lambda: handle.query(MeetingWorkflow.state))
        return state

    async def today(self) -> date:
        return local_date(await self.env.get_current_time(), self.defaults)

    async def sleep_until_day(self, day: date, hour: int = 12) -> None:
        """Skips time to ``hour`` o'clock Geneva time on ``day``."""
        await sleep_until(
            self.env, day_start(day, self.defaults) + timedelta(hours=hour - self.defaults.day_start_hour)
        )

    async def sleep_past_end_of(self, day: date) -> None:
        await sleep_until(self.env, day_end(day, self.defaults) + timedelta(hours=1))

    async def decide_meeting(self, update: Any, decision: Any) -> DecisionOutcome:
        handle = await self.meeting_handle()
        outcome: DecisionOutcome = await once_started(lambda: decide(handle, update, decision))
        return outcome

    async def decide_presidency(self, update: Any, decision: Any) -> DecisionOutcome:
        outcome: DecisionOutcome = await decide(self.handle, update, decision)
        return outcome

    async def assessed(self, estimate: SetEstimate, assess: Assess) -> WorkflowHandle[Any, Any]:
        """The ledger of its meeting, once the Presidency has started it, given ``estimate`` and ``assess``."""
        ledger = self.client.get_workflow_handle(
            funds_id(self.state0.convention.code, self.state0.meeting.ref.label)
        )
        await self.env.sleep(timedelta(minutes=1))
        await estimate_and_assess(ledger, estimate, assess)
        return ledger

    async def stop(self) -> None:
        """Terminates what this cycle left running, so later tests do not pay for its timers: its meeting, its
        Presidency, and the ledgers and Sponsorship Programmes of its meetings (whose timers, once their worker is gone, would hold the
        time-skipping server still)."""
        labels: set[str] = set()
        with contextlib.suppress(Exception):
            state = await self.presidency()
            labels = {state.meeting.ref.label, *(t.meeting for t in state.history)}
        with contextlib.suppress(Exception):
            await (await self.meeting_handle()).terminate("test over")
        with contextlib.suppress(Exception):
            await self.handle.terminate("test over")
        code = self.state0.convention.code
        for wid in sorted(f(code, label) for label in labels for f in (funds_id, sponsorship_id)):
            with contextlib.suppress(Exception):
                await self.client.get_workflow_handle(wid).terminate("test over")


async def once_started(send: Callable[[], Awaitable[T]], attempts: int = 50) -> T:
    """``send()``, sent again while its workflow is not found: on a loaded machine the Presidency may have recorded
    a meeting whose start has not reached the server yet. A wait at start, by query or describe, left the test
    server's clock unable to skip later in the module (f8498f5), so only a refused call waits, 0.1 s at a time."""
    for _ in range(attempts - 1):
        try:
            return await send()
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise
        await asyncio.sleep(0.1)
    return await send()


def rejection(err: WorkflowUpdateFailedError) -> str:
    cause = err.cause
    assert isinstance(cause, ApplicationError), cause
    assert cause.type == DECISION_REJECTED
    return cause.message


async def refused(sent: Awaitable[Any]) -> str:
    """Why the decision ``sent`` was refused: it must fail as a rejected decision."""
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await sent
    return rejection(err.value)
