"""Fault suite, fuzzed start inputs: every workflow type is started through the raw client, by name, with a valid
input, one with a field spoiled (junk, a 100 kB string, an edge date, a control character, a null), or no input
at all (a null), on the time-skipping server.

Each start either fails the workflow at once with an ApplicationError that names the problem (an input the SDK cannot
decode raises pydantic's ValidationError before any workflow code runs: a failure type of every workflow; a null or
a State not listed fails with InputRejected), or runs; in no case does a workflow task fail (which would leave the
workflow looking Running while stuck, retried forever).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.documents import DocumentInput, DocumentSpec
from domain.extensions import ExtensionInput, MeetingSlot
from domain.funds import LedgerState
from domain.ids import funds_id
from domain.meeting import MeetingInput
from domain.models import Convention, Money
from domain.reports import ReportsInput, first_year
from domain.reviews import DueKind, DuePoint, Mandate, ReviewInput, ReviewSpec
from domain.silence import SilenceInput
from tests.support.cycle_helpers import AUSTRIA, CHILE, initial_state, part
from tests.support.fuzz import EDGE_DATES, HUGE, JUNK, UNICODE, against_a_server, art4_request, mostly
from tests.support.reminding import today

# Starts per workflow type: eight types, 320 in all.
EXAMPLES = 40
LISTED = ["Austria", "Chile", "Lao People's Democratic Republic", "Mexico", "Norway"]
SPOILS = st.one_of(
    JUNK,
    EDGE_DATES,
    st.sampled_from(["Mex\x00ico", "\x1b]0;pwned\x07", "ＭＥＸＩＣＯ", "Atlantis", -1, 0, 10**12, [], {}]),
    st.lists(UNICODE, max_size=3),
    HUGE,
)


@dataclass(frozen=True)
class Start:
    """A valid input with one field (at ``path``) spoiled; no path: the valid input; ``whole``: this instead."""

    path: tuple[str, ...] | None
    value: Any = None
    whole: bool = False


def paths(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every field of a dumped model, nested ones too (list items are left whole)."""
    out: list[tuple[str, ...]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            out.append((*prefix, key))
            out += paths(value, (*prefix, key))
    return out


def starts(sample: dict[str, Any]) -> st.SearchStrategy[Start]:
    spoiled = st.builds(Start, st.sampled_from(paths(sample)), SPOILS)
    other = st.one_of(
        st.just(Start(None)), st.builds(lambda v: Start(None, v, whole=True), st.one_of(st.none(), JUNK))
    )
    return mostly(spoiled, other, 6)


def spoil(data: dict[str, Any], s: Start) -> Any:
    if s.whole:
        return s.value
    out = copy.deepcopy(data)
    if s.path is not None:
        node = out
        for key in s.path[:-1]:
            node = node[key]
        node[s.path[-1]] = s.value
    return out


@dataclass
class Outcome:
    ran: int = 0
    failed: Counter[str] | None = None


async def first_task(env: WorkflowEnvironment, wid: str) -> tuple[str, str]:
    """How the first workflow task went: ("completed", ""), ("failed", the workflow's failure message), or
    ("task failed", the task's failure): the one outcome that must not happen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline:
        events = [e async for e in env.client.get_workflow_handle(wid).fetch_history_events()]
        for e in events:
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                return "task failed", e.workflow_task_failed_event_attributes.failure.message
        for e in events:
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
                failure = e.workflow_execution_failed_event_attributes.failure
                assert failure.HasField("application_failure_info"), failure
                return "failed", f"{failure.application_failure_info.type}: {failure.message}"
        if any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in events):
            return "completed", ""
        await asyncio.sleep(0.02)
    raise AssertionError(f"{wid}: no workflow task finished within 10 s")


async def fuzz_starts(
    env: WorkflowEnvironment,
    worker: Worker,
    workflow: str,
    valid: Callable[[], BaseModel],
    also: Callable[[str], list[str]],
) -> Counter[str]:
    """Starts ``workflow`` with each generated input (``valid()`` spoiled); ``also`` names the other workflows a
    start with that convention code may have started (a Presidency's meeting and ledger), to end them too."""
    loop = asyncio.get_running_loop()
    seen: Counter[str] = Counter()
    sample = valid().model_dump(mode="json")

    async def one(s: Start) -> None:
        payload = spoil(valid().model_dump(mode="json"), s)
        wid = f"fz-start-{uuid.uuid4().hex[:12]}"
        handle = await env.client.start_workflow(workflow, payload, id=wid, task_queue=worker.task_queue)
        how, why = await first_task(env, wid)
        assert how != "task failed", (workflow, s, why)
        if how == "failed":
            assert why.split(": ", 1)[1].strip(), (workflow, s, why)
            seen[why.split("\n")[0][:70]] += 1
        else:
            seen["ran"] += 1
        code = payload.get("convention") if isinstance(payload, dict) else None
        code = code.get("code") if isinstance(code, dict) else code
        for other in [wid, *(also(code) if isinstance(code, str) else [])]:
            with contextlib.suppress(Exception):  # ended already, or never started
                await env.client.get_workflow_handle(other).terminate("test over")
        del handle

    @against_a_server(EXAMPLES)
    @given(starts(sample))
    def prop(s: Start) -> None:
        asyncio.run_coroutine_threadsafe(one(s), loop).result(60)

    await asyncio.to_thread(prop)
    print(f"\n{workflow}: " + "; ".join(f"{n} {k}" for k, n in seen.most_common(6)))
    # Both outcomes: some ran, some failed at once naming the problem.
    assert seen["ran"] > 0 and sum(seen.values()) > seen["ran"], seen
    return seen


@pytest.fixture
def worker(ts_worker: Worker) -> Worker:
    """The worker as worker.py builds it."""
    return ts_worker


def code() -> str:
    return f"fz{uuid.uuid4().hex[:8]}"


async def test_every_workflow_type_started_with_fuzzed_inputs(ts_env: WorkflowEnvironment, worker: Worker):
    t = await today(ts_env)
    now: datetime = await ts_env.get_current_time()
    ledger_code = code()
    await ts_env.client.start_workflow(
        "MeetingFundsWorkflow",
        LedgerState(convention=ledger_code, meeting="14MSP"),
        id=funds_id(ledger_code, "14MSP"),
        task_queue=worker.task_queue,
    )
    plan = initial_state("xx", t, [part(t + timedelta(days=60))]).meeting

    def presidency() -> BaseModel:
        return initial_state(code(), t, [part(t + timedelta(days=60))]).model_copy(
            update={"convention": Convention(code=code(), states_parties=LISTED)}
        )

    def meetings(c: str) -> list[str]:
        return [f"{c}-meeting-14MSP", f"{c}-funds-14MSP"]

    def none(_: str) -> list[str]:
        return []

    request = art4_request(t, "Chile")
    spec = ReviewSpec(
        subject="hosting-agreement",
        title="the agreement hosting the ISU",
        mandate=Mandate(decided_by="2nd Review Conference", reference="CCM/CONF/2021/6"),
        due=DuePoint(kind=DueKind.DATE, on=t + timedelta(days=400)),
    )
    types: list[tuple[str, Callable[[], BaseModel], Callable[[str], list[str]]]] = [
        ("PresidencyWorkflow", presidency, meetings),
        (
            "MeetingWorkflow",
            lambda: MeetingInput(
                convention=Convention(code=code()), plan=plan, president=AUSTRIA, successor=CHILE
            ),
            none,
        ),
        (
            "MeetingFundsWorkflow",
            lambda: LedgerState(convention=code(), meeting="14MSP", states_parties=LISTED),
            none,
        ),
        (
            "DocumentWorkflow",
            lambda: DocumentInput(
                convention=ledger_code,
                spec=DocumentSpec(
                    symbol=f"CCM/FZ/{uuid.uuid4().hex[:6]}",
                    title="T",
                    pages=1,
                    meeting="14MSP",
                    due=t + timedelta(days=60),
                ),
                money=Money(),
                funds_id=funds_id(ledger_code, "14MSP"),
            ),
            none,
        ),
        ("ReviewWorkflow", lambda: ReviewInput(convention=code(), spec=spec), none),
        (
            "ExtensionRequestWorkflow",
            lambda: ExtensionInput(
                convention=code(),
                request=request,
                meeting=MeetingSlot(label="14MSP", first_day=t + timedelta(days=365)),
                next_meeting=MeetingSlot(label="15MSP", first_day=t + timedelta(days=730)),
                states_parties=LISTED,
            ),
            none,
        ),
        (
            "SilenceProcedureWorkflow",
            lambda: SilenceInput(
                convention=code(),
                procedure_id="fz-budget",
                proposal="To adopt the revised budget.",
                reference="letter",
                initiator="the President",
                deadline=now + timedelta(days=30),
                states_parties=LISTED,
            ),
            none,
        ),
        (
            "Article7Workflow",
            lambda: ReportsInput(convention=code(), state="Chile", year=first_year(t), states_parties=LISTED),
            none,
        ),
    ]
    reasons: Counter[str] = Counter()
    for name, valid, also in types:
        reasons += await fuzz_starts(ts_env, worker, name, valid, also)
    # An input that cannot be decoded, and a null one, each fail their workflow at once, naming why.
    assert any(k.startswith("ValidationError: ") for k in reasons), reasons
    assert any(k.startswith("InputRejected: the workflow needs its input") for k in reasons), reasons
    for wid in (funds_id(ledger_code, "14MSP"),):
        await ts_env.client.get_workflow_handle(wid).terminate("test over")


async def test_a_state_not_listed_fails_an_article7_workflow_at_once(
    ts_env: WorkflowEnvironment, worker: Worker
):
    inp = ReportsInput(
        convention=code(), state="Atlantis", year=first_year(await today(ts_env)), states_parties=LISTED
    )
    wid = f"fz-start-{uuid.uuid4().hex[:12]}"
    await ts_env.client.start_workflow("Article7Workflow", inp, id=wid, task_queue=worker.task_queue)
    how, why = await first_task(ts_env, wid)
    assert (how, why) == (
        "failed",
        "InputRejected: 'Atlantis' is not a State Party listed in [states_parties].",
    )
