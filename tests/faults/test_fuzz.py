"""Fault suite, fuzzed decisions: hypothesis sends well over 1,000 decision payloads through the raw client (an
update by name, with plain values: dicts, lists, numbers, nulls, 100 kB strings, edge dates), bypassing the pydantic
models `msp` uses, to the Presidency, a meeting and an extension request on the time-skipping server.

Each must be accepted, or rejected with a reason (WorkflowUpdateFailedError caused by an ApplicationError with a
message) within a bound; a rejected one leaves the workflow's state exactly as it was; and after the run no workflow
task has failed (a failing task would leave the workflow looking Running while stuck).

A payload the SDK cannot decode into the update's model never reaches the validator: the SDK rejects the update
itself with "Failed decoding arguments", its cause (pydantic's error, naming the field) attached. That is a clean
rejection (nothing is written, the client is told at once), so the workflows keep their typed signatures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.decisions import DECISION_REJECTED
from domain.extensions import ExtensionInput, MeetingSlot
from domain.ids import extension_id
from tests.support.cycle_helpers import Cycle, initial_state, part
from tests.support.fuzz import (
    DECISION_ID,
    FORMAT,
    JUNK,
    PRESIDENT,
    REFERENCE,
    SMALL_INT,
    STATE,
    against_a_server,
    art4_request,
    dates_around,
    mostly,
    no_failed_tasks,
    payloads,
)
from tests.support.reminding import today
from workflows.extension import ExtensionRequestWorkflow

# Examples per target: three targets, so well over 1,000 in all.
EXAMPLES = 340
# An update that takes longer than this has hung.
BOUND = 20.0


@dataclass(frozen=True)
class Send:
    update: str
    args: list[Any]


def sends(updates: dict[str, dict[str, st.SearchStrategy[Any]]]) -> st.SearchStrategy[Send]:
    """One update by name with one payload; now and then none, two, or an update name that does not exist."""
    one = st.one_of(
        *(st.builds(lambda n, p: Send(n, [p]), st.just(n), payloads(f)) for n, f in updates.items())
    )
    odd = st.one_of(
        st.builds(lambda n: Send(n, []), st.sampled_from(sorted(updates))),
        st.builds(lambda n, p: Send(n, [p, p]), st.sampled_from(sorted(updates)), JUNK),
        st.builds(lambda p: Send("no_such_decision", [p]), JUNK),
    )
    return mostly(one, odd, 9)


# --- sending them ---------------------------------------------------------------------------------------------


@dataclass
class Tally:
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.accepted + sum(self.rejected.values())


@dataclass
class Target:
    """The workflow decisions go to; when an accepted decision ends it (a meeting closed, a request completed),
    ``restart`` gives a fresh one, so the remaining examples still reach a running workflow."""

    handle: WorkflowHandle[Any, Any]
    restart: Callable[[], Awaitable[WorkflowHandle[Any, Any]]]
    # Whether an accepted decision sets off signals that change the state a moment later.
    settle: bool = False
    ids: list[str] = field(default_factory=list)
    ended: int = 0

    def __post_init__(self) -> None:
        self.ids.append(self.handle.id)


async def raw_state(handle: WorkflowHandle[Any, Any]) -> str:
    # By name, as plain JSON: the state exactly as the workflow holds it.
    return json.dumps(await handle.query("state"), sort_keys=True, default=str)


async def send(target: Target, s: Send, tally: Tally, retry: bool = True) -> None:
    handle = target.handle
    before = await raw_state(handle)
    try:
        async with asyncio.timeout(BOUND):
            outcome = await handle.execute_update(s.update, args=s.args, id=f"u-{uuid.uuid4().hex}")
    except WorkflowUpdateFailedError as e:
        cause = e.cause
        assert isinstance(cause, ApplicationError), (s, cause)
        assert cause.message.strip(), (s, cause)
        if cause.message == "Failed decoding arguments":
            # The SDK's own rejection: the reason (pydantic's, naming the field) is its cause.
            assert isinstance(cause.cause, ApplicationError) and cause.cause.message.strip(), (s, cause.cause)
        if cause.type == DECISION_REJECTED:
            # The reason is on one line, and not the whole 100 kB payload echoed back.
            assert "\n" not in cause.message.strip() and len(cause.message) < 2_000, cause.message
        after = await raw_state(handle)
        assert after == before, f"rejected {s.update} ({cause.message}) changed the state"
        tally.rejected[f"{cause.type}: {cause.message[:60]}"] += 1
        return
    except TimeoutError:
        raise AssertionError(f"{s.update} did not answer within {BOUND} s: {s.args!r:.300}") from None
    except RPCError as e:
        # The workflow ended after an earlier accepted decision: go on with a fresh one.
        desc = await handle.describe()
        assert retry and desc.status != WorkflowExecutionStatus.RUNNING, (s.update, e.message, desc.status)
        assert desc.status == WorkflowExecutionStatus.COMPLETED, desc.status
        target.ended += 1
        target.handle = await target.restart()
        target.ids.append(target.handle.id)
        await send(target, s, tally, retry=False)
        return
    assert isinstance(outcome, dict) and outcome.get("accepted") is True, (s, outcome)
    tally.accepted += 1
    if target.settle:
        await settled(handle)


async def settled(handle: WorkflowHandle[Any, Any]) -> None:
    """An accepted decision may set off signals (a meeting's new days ask its ledger for money): wait until the
    state stops moving, so the next snapshot holds still."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    last, quiet = await raw_state(handle), 0
    # Still for three reads in a row, so a signal delayed on a loaded machine is not mistaken for a change.
    while quiet < 3 and loop.time() < deadline:
        await asyncio.sleep(0.05)
        now = await raw_state(handle)
        quiet = quiet + 1 if now == last else 0
        last = now


async def fuzz(target: Target, strategy: st.SearchStrategy[Send]) -> Tally:
    """Runs hypothesis in a thread (its test function is synchronous), each example sent on this event loop."""
    loop = asyncio.get_running_loop()
    tally = Tally()

    @against_a_server(EXAMPLES)
    @given(strategy)
    def prop(s: Send) -> None:
        asyncio.run_coroutine_threadsafe(send(target, s, tally), loop).result(BOUND * 3)

    await asyncio.to_thread(prop)
    assert tally.total >= EXAMPLES, tally
    # Both outcomes were exercised, and rejections for more than one reason.
    assert tally.accepted > 0 and len(tally.rejected) > 3, tally
    assert any(k.startswith(DECISION_REJECTED) for k in tally.rejected), tally
    return tally


def show(name: str, tally: Tally) -> None:
    print(f"\n{name}: {tally.accepted} accepted, {sum(tally.rejected.values())} rejected")
    for reason, n in tally.rejected.most_common(8):
        print(f"  {n:4d}  {reason}")


# --- the targets ----------------------------------------------------------------------------------------------


async def new_cycle(env: WorkflowEnvironment, worker: Worker) -> Cycle:
    t = await today(env)
    code = f"fz{uuid.uuid4().hex[:8]}"
    c = await Cycle(env, worker, initial_state(code, t, [part(t + timedelta(days=60))])).start()
    await env.sleep(timedelta(minutes=1))
    return c


async def test_fuzzed_presidency_decisions(ts_env: WorkflowEnvironment, ts_worker: Worker):
    cycles = [await new_cycle(ts_env, ts_worker)]

    async def restart() -> WorkflowHandle[Any, Any]:
        cycles.append(await new_cycle(ts_env, ts_worker))
        return cycles[-1].handle

    strategy = sends(
        {
            "designate": {"decision_id": DECISION_ID, "reference": REFERENCE, "president": PRESIDENT},
            "replace_designate": {
                "decision_id": DECISION_ID,
                "reference": REFERENCE,
                "president": PRESIDENT,
                "position": SMALL_INT,
            },
            "decide_intersessional": {
                "decision_id": DECISION_ID,
                "reference": REFERENCE,
                "held": mostly(st.booleans(), st.sampled_from(["yes", "true", 1, 0]), 8),
            },
        }
    )
    target = Target(cycles[0].handle, restart)
    show("presidency", await fuzz(target, strategy))
    await no_failed_tasks(ts_env, *target.ids, *[(await c.meeting_handle()).id for c in cycles])
    # Still working: it answers, and takes a well-formed decision.
    state = await cycles[-1].presidency()
    assert state.term == 1 and state.meeting_started and state.closed is None
    # A follow-up that is valid in the state read back: the opposite of whatever the fuzzing left decided.
    held = state.intersessional_next_cycle is not True
    ok = await target.handle.execute_update(
        "decide_intersessional", {"decision_id": f"final-{uuid.uuid4().hex}", "reference": "r", "held": held}
    )
    assert ok["accepted"] is True
    assert (await cycles[-1].presidency()).intersessional_next_cycle is held
    for c in cycles:
        await c.stop()


async def test_fuzzed_meeting_decisions(ts_env: WorkflowEnvironment, ts_worker: Worker):
    cycles = [await new_cycle(ts_env, ts_worker)]

    async def restart() -> WorkflowHandle[Any, Any]:
        cycles.append(await new_cycle(ts_env, ts_worker))
        return await cycles[-1].meeting_handle()

    t = await today(ts_env)
    d = dates_around(t)
    common = {"decision_id": DECISION_ID, "reference": REFERENCE}
    strategy = sends(
        {
            "set_dates": common
            | {"start": d, "duration_days": SMALL_INT, "place": STATE, "host_covering_extra_cost": STATE},
            "postpone": common | {"new_start": d, "reason": REFERENCE},
            "change_format": common | {"format": FORMAT},
            "add_part": common | {"start": d, "duration_days": SMALL_INT, "place": STATE, "format": FORMAT},
            "extend_by_day": common,
            "close": common | {"successor": st.one_of(st.none(), PRESIDENT)},
        }
    )
    target = Target(await cycles[0].meeting_handle(), restart, settle=True)
    show("meeting", await fuzz(target, strategy))
    print(f"  ({target.ended} meetings closed by a fuzzed decision)")
    await no_failed_tasks(ts_env, *target.ids, *[c.handle.id for c in cycles])
    state = await cycles[-1].meeting()
    assert state.phase.value in ("scheduled", "in_session", "adjourned"), state.phase
    for c in cycles:
        await c.stop()


async def start_extension(env: WorkflowEnvironment, worker: Worker) -> WorkflowHandle[Any, Any]:
    t = await today(env)
    request = art4_request(t, "Lao People's Democratic Republic")
    code = f"fz{uuid.uuid4().hex[:8]}"
    inp = ExtensionInput(
        convention=code,
        request=request,
        meeting=MeetingSlot(label="14MSP", first_day=t + timedelta(days=365)),
        next_meeting=MeetingSlot(label="15MSP", first_day=t + timedelta(days=730)),
    )
    return await env.client.start_workflow(
        ExtensionRequestWorkflow.run,
        inp,
        id=extension_id(code, request.article, request.state, t.year),
        task_queue=worker.task_queue,
    )


async def test_fuzzed_extension_request_decisions(ts_env: WorkflowEnvironment, ts_worker: Worker):
    t = await today(ts_env)
    d = dates_around(t)
    months = st.one_of(st.none(), st.integers(min_value=-2, max_value=130))
    benchmarks = st.lists(mostly(REFERENCE, JUNK, 8), max_size=4)
    common = {"decision_id": DECISION_ID, "reference": REFERENCE}
    strategy = sends(
        {
            "analyse": common | {"summary": REFERENCE, "recommended_months": months},
            "keep_at_meeting": common,
            "decide": common | {"granted": st.booleans(), "months": months, "benchmarks": benchmarks},
            "declare_completion": common | {"completed_on": d},
        }
    )
    target = Target(await start_extension(ts_env, ts_worker), lambda: start_extension(ts_env, ts_worker))
    show("extension request", await fuzz(target, strategy))
    print(f"  ({target.ended} requests completed by a fuzzed decision)")
    await no_failed_tasks(ts_env, *target.ids)
    status = (await target.handle.query("state"))["status"]
    # The last example may have completed the request (a declaration of completion): then it has ended cleanly.
    assert status in ("in_analysis", "analysed", "completed"), status
    if status == "completed":
        assert (await target.handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    for wid in target.ids:
        with contextlib.suppress(Exception):
            await ts_env.client.get_workflow_handle(wid).terminate("test over")
