"""Fault suite, fuzzed decisions: hypothesis sends well over 1,000 decision payloads through the raw client (an
update by name, with plain values: dicts, lists, numbers, nulls, 100 kB strings, edge dates), bypassing the pydantic
models `msp` uses, to the Presidency, a meeting and an extension request on the time-skipping server.

Each must be accepted, or rejected with a reason (WorkflowUpdateFailedError caused by an ApplicationError with a
message) within a bound; a rejected one leaves the workflow's state exactly as it was; and after the run no workflow
task has failed (a failing task would leave the workflow looking Running while stuck).

A payload the SDK cannot decode into the update's model never reaches the validator: the SDK rejects the update
itself with "Failed decoding arguments", its cause (pydantic's error, naming the field) attached. That is a clean
rejection (nothing is written, the client is told at once), so the workflows keep their typed signatures.

The runner (tests/support/fuzz_runner.py) is the one tests/faults/test_fuzz_inputs.py uses: here each update is
checked against the state read just before it, a rejection at once.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

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
    art4_request,
    dates_around,
    mostly,
    no_failed_tasks,
    payloads,
)
from tests.support.fuzz_runner import Msg, Settle, Target, fuzz
from tests.support.reminding import today
from workflows.extension import ExtensionRequestWorkflow

# Examples per target: three targets, so well over 1,000 in all.
EXAMPLES = 340
# A meeting's new days ask its ledger for money: still for three reads in a row, so a signal delayed on a loaded
# machine is not mistaken for a change.
MEETING_SETTLES = Settle(reads=3, every=0.05, within=10)


def sends(updates: dict[str, dict[str, st.SearchStrategy[Any]]]) -> st.SearchStrategy[Msg]:
    """One update by name with one payload; now and then none, two, or an update name that does not exist."""
    one = st.one_of(
        *(st.builds(lambda n, p: Msg(False, n, [p]), st.just(n), payloads(f)) for n, f in updates.items())
    )
    odd = st.one_of(
        st.builds(lambda n: Msg(False, n, []), st.sampled_from(sorted(updates))),
        st.builds(lambda n, p: Msg(False, n, [p, p]), st.sampled_from(sorted(updates)), JUNK),
        st.builds(lambda p: Msg(False, "no_such_decision", [p]), JUNK),
    )
    return mostly(one, odd, 9)


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
    target = Target(ts_env, cycles[0].handle, restart)
    await fuzz(target, strategy, EXAMPLES, signals=False, name="presidency")
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
    target = Target(ts_env, await cycles[0].meeting_handle(), restart, settle=MEETING_SETTLES)
    await fuzz(target, strategy, EXAMPLES, signals=False, name="meeting")
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
    target = Target(
        ts_env, await start_extension(ts_env, ts_worker), lambda: start_extension(ts_env, ts_worker)
    )
    await fuzz(target, strategy, EXAMPLES, signals=False, name="extension request")
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
