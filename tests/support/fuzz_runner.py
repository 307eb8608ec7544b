"""What the fault suite's two fuzzers of workflow inputs (tests/faults/test_fuzz.py, test_fuzz_inputs.py) share: the
runner that sends an update or signal by name through the raw client and checks what came of it.

Each update must be accepted, or rejected with a reason (WorkflowUpdateFailedError caused by an ApplicationError with
a message) within a bound, and a rejected one must leave the state as it was; a signal must be taken. When an
accepted input ends the workflow, a fresh one takes the remaining examples. After the run, both outcomes have come up,
rejections for more than one reason, and no workflow task has failed.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.decisions import DECISION_REJECTED
from tests.support.fuzz import against_a_server, no_failed_tasks

# An input that takes longer than this has hung.
BOUND = 20.0


@dataclass(frozen=True)
class Msg:
    signal: bool
    name: str
    args: list[Any]


@dataclass
class Tally:
    accepted: int = 0
    signals: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.accepted + self.signals + sum(self.rejected.values())


@dataclass(frozen=True)
class Settle:
    """How the state is known to hold still: ``reads`` equal reads in a row, ``every`` seconds apart, given up
    after ``within`` seconds. No reads: the state as read at once."""

    reads: int = 0
    every: float = 0.0
    within: float = 0.0


AT_ONCE = Settle()


@dataclass
class Target:
    """The workflow inputs go to (by id, so a continue-as-new is followed); when one ends it (a meeting closed, a
    document withdrawn, a review concluded), ``restart`` gives a fresh one, so the remaining examples reach a running
    one."""

    env: WorkflowEnvironment
    handle: WorkflowHandle[Any, Any]
    restart: Callable[[], Awaitable[WorkflowHandle[Any, Any]]]
    query: str = "state"
    # Waiting for the state to hold still after an accepted input (or a signal) that sets off signals or activities.
    settle: Settle = AT_ONCE
    # Whether the settled state an input left is the one the next input is checked against, and a rejection is
    # checked once the state has settled again; if not, each input reads the state afresh and a rejection is
    # checked at once.
    carry: bool = False
    # Whether the workflow may be continuing as new when an input reaches it (else an RPC error while it runs fails).
    continues: bool = False
    # The rejections whose reason must be one line, and shorter than this (never a 100 kB value echoed back).
    one_line: tuple[str, ...] = (DECISION_REJECTED,)
    reason_max: int = 2_000
    ids: list[str] = field(default_factory=list)
    ended: int = 0
    # The state as the last input left it, once settled (only when ``carry``).
    last: str | None = None
    # Parts of the state that move on their own after an input (a grant told, money released, a notification
    # sent): left out of the check that a rejected update changed nothing, since no update writes them.
    moving: tuple[str, ...] = ()
    # Text in a snapshot that says an activity is still on its way (a job being sent, a cancel being asked): the
    # state is not settled while it shows, however still it stands for a moment.
    busy: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.follow(self.handle)

    def follow(self, handle: WorkflowHandle[Any, Any]) -> None:
        self.handle = self.env.client.get_workflow_handle(handle.id)
        self.ids.append(handle.id)
        self.last = None

    async def snapshot(self) -> str:
        # By name, as plain JSON: the state exactly as the workflow holds it.
        state = await self.handle.query(self.query)
        if isinstance(state, dict):
            state = {k: v for k, v in state.items() if k not in self.moving}
        return json.dumps(state, sort_keys=True, default=str)

    async def settled(self) -> str:
        """The state once it stops moving: an input may set off signals (a grant told, money released, a meeting's
        new days asking its ledger for money)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle.within
        last, quiet = await self.snapshot(), 0
        while quiet < self.settle.reads and loop.time() < deadline:
            await asyncio.sleep(self.settle.every)
            now = await self.snapshot()
            quiet = quiet + 1 if now == last and not any(mark in now for mark in self.busy) else 0
            last = now
        return last

    async def current(self) -> str:
        return await (self.settled() if self.carry else self.snapshot())


async def deliver(t: Target, m: Msg, tally: Tally, retry: bool = True) -> None:
    before = t.last or await t.current()
    t.last = None
    try:
        async with asyncio.timeout(BOUND):
            if m.signal:
                await t.handle.signal(m.name, args=m.args)
                tally.signals += 1
                t.last = await t.settled()  # it answers: no task is stuck on it
                return
            outcome = await t.handle.execute_update(m.name, args=m.args, id=f"u-{uuid.uuid4().hex}")
    except WorkflowUpdateFailedError as e:
        cause = e.cause
        assert isinstance(cause, ApplicationError), (m, cause)
        assert cause.message.strip(), (m, cause)
        if cause.message == "Failed decoding arguments":
            # The SDK's own rejection: the reason (pydantic's, naming the field) is its cause.
            assert isinstance(cause.cause, ApplicationError) and cause.cause.message.strip(), (m, cause.cause)
        if cause.type in t.one_line:
            # A reason on one line, quoting little of the input.
            assert "\n" not in cause.message.strip() and len(cause.message) < t.reason_max, cause.message
        after = await t.current()
        assert after == before, f"rejected {m.name} ({cause.message[:200]}) changed the state"
        if t.carry:
            t.last = after
        tally.rejected[f"{cause.type}: {cause.message[:60]}"] += 1
        return
    except TimeoutError:
        raise AssertionError(f"{m.name} did not answer within {BOUND} s: {m.args!r:.300}") from None
    except RPCError as e:
        desc = await t.handle.describe()
        assert retry and (t.continues or desc.status != WorkflowExecutionStatus.RUNNING), (
            m.name,
            e.message,
            desc.status,
        )
        if desc.status != WorkflowExecutionStatus.RUNNING:
            # An earlier input ended it: go on with a fresh one.
            assert desc.status == WorkflowExecutionStatus.COMPLETED, desc.status
            t.ended += 1
            t.follow(await t.restart())
        await deliver(t, m, tally, retry=False)  # (or it was continuing as new: the next run takes it)
        return
    assert isinstance(outcome, dict) and outcome.get("accepted") is True, (m, outcome)
    tally.accepted += 1
    if t.carry or t.settle.reads:
        settled = await t.settled()
        if t.carry:
            t.last = settled


async def fuzz(
    t: Target,
    strategy: st.SearchStrategy[Msg],
    examples: int,
    explicit: Sequence[Msg] = (),
    signals: bool = True,
    name: str | None = None,
) -> Tally:
    """Runs hypothesis in a thread (its test function is synchronous), each example sent on this event loop; then
    checks the outcomes, and that no task of the target's workflows failed."""
    loop = asyncio.get_running_loop()
    tally = Tally()

    def send(m: Msg) -> None:
        asyncio.run_coroutine_threadsafe(deliver(t, m, tally), loop).result(BOUND * 3)

    prop = given(strategy)(send)
    for m in explicit:
        prop = example(m)(prop)
    prop = against_a_server(examples)(prop)

    await asyncio.to_thread(prop)
    print(
        f"\n{name or t.ids[0]}: {tally.accepted} accepted, {tally.signals} signals, "
        f"{sum(tally.rejected.values())} rejected"
    )
    for reason, n in tally.rejected.most_common(8):
        print(f"  {n:4d}  {reason}")
    assert tally.total >= examples + len(explicit), tally
    # Both outcomes were exercised (and signals, if any were sent), and rejections for more than one reason.
    assert tally.accepted > 0 and (tally.signals > 0 or not signals) and len(tally.rejected) > 3, tally
    assert any(k.startswith(DECISION_REJECTED) for k in tally.rejected), tally
    await no_failed_tasks(t.env, *t.ids)
    return tally
