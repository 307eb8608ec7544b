"""Fault suite, every other workflow input fuzzed: hypothesis sends updates and signals by name, with plain values
(dicts, lists, numbers, nulls, 100 kB strings, edge dates, control characters, full-width names), through the raw
client, to a document, a meeting's ledger, a review, an Article 7 workflow, an extension request and a silence
procedure on the time-skipping server (tests/faults/test_fuzz.py covers the Presidency, a meeting and the extension
request's other decisions).

Each update is accepted and carried out, or rejected with a reason (an ApplicationError with a message; a rule's
rejection on one line, quoting little of the input) and the state is left exactly as it was. Each signal is carried
out or dropped. After the run no workflow task has failed, and the workflow still takes a well-formed input.

What the SDK does with an input that does not fit (temporalio/worker/_workflow_instance.py): an update's arguments
it cannot decode are rejected before the validator (pydantic's error, ValidationError being a failure type of every
workflow); a signal's are logged and the signal dropped. A null is decoded as None whatever the type, and arguments
are decoded only when their count matches, then passed to the handler as they came: a signal handler raising on
them would fail every workflow task after it. The worker's interceptor (workflows/guards.py) drops such a signal
and rejects such an update with a sentence, so the tests run the worker as worker.py builds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import strategies as st
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.bounds import MAX_CHF, MAX_STATES
from domain.decisions import DECISION_REJECTED
from domain.documents import DocumentInput, DocumentSpec, LanguageStatus
from domain.extensions import Analysis
from domain.funds import Assess, LedgerState, Payment, SetEstimate
from domain.ids import document_id, funds_id, report_id, review_id, silence_id
from domain.models import Money
from domain.reports import ReportsInput, first_year
from domain.reviews import DueKind, DuePoint, Mandate, ReviewInput, ReviewSpec
from domain.silence import SilenceInput
from starter.receiver import Receiver
from tests.scenario import start_extension, start_silence
from tests.support.fuzz import (
    DECISION_ID,
    EDGE_DATES,
    HUGE,
    JUNK,
    REFERENCE,
    SMALL_INT,
    UNICODE,
    art4_request,
    dates_around,
    mostly,
    no_failed_tasks,
    payloads,
)
from tests.support.fuzz_runner import Msg, Settle, Target, fuzz
from tests.support.reminding import today
from tests.support.requests import at_the_14msp
from workflows.document import DocumentWorkflow
from workflows.extension import ExtensionRequestWorkflow
from workflows.funds import MeetingFundsWorkflow
from workflows.reports import Article7Workflow
from workflows.review import ReviewWorkflow

# Examples per workflow: six workflows, about 570 inputs in all.
EXAMPLES = 100
# Settled once a read shows the same state as the one before, and no activity on its way.
SETTLES = Settle(reads=1, every=0.02, within=5)
LISTED = ["Austria", "Chile", "Lao People's Democratic Republic", "Mexico", "Norway"]

# --- what goes into a payload (besides tests/faults/test_fuzz.py's) --------------------------------------------

# Listed (in any case, width or spacing) about 60% of the time, not listed about 25%, not a name at all the rest.
STATE = mostly(
    st.sampled_from([*LISTED, " austria ", "ＭＥＸＩＣＯ", "NORWAY", "lao people's  democratic republic"]),
    mostly(
        st.sampled_from(["Atlantis", "Canada", "Australia", "Sweden", "Mexco"]),
        st.one_of(st.sampled_from(["Mex\x00ico", "\x1b]0;pwned\x07Chile", "Chile\u202e", ""]), UNICODE, HUGE),
        6,
    ),
    6,
)
AMOUNT = mostly(
    st.integers(min_value=1, max_value=2_000_000),
    st.one_of(
        st.sampled_from([0, -5, MAX_CHF, MAX_CHF + 1, 2**63, 1.5, "100"]),
        st.integers(min_value=-(2**70), max_value=2**70),
    ),
    8,
)
TEXT = mostly(
    st.sampled_from(["Needs discussion in plenary.", "Fit for purpose"]), st.one_of(UNICODE, HUGE), 8
)
SHARES = mostly(
    st.dictionaries(STATE, st.floats(min_value=0.01, max_value=60), min_size=1, max_size=5),
    st.one_of(
        st.just({f"State {i}": 0.1 for i in range(MAX_STATES + 1)}),
        st.just({"Mexico": 60.0, "ＭＥＸＩＣＯ": 10.0}),
        st.dictionaries(UNICODE, JUNK, max_size=3),
    ),
    7,
)


def instants(now: datetime) -> st.SearchStrategy[str]:
    """Deadlines: mostly days ahead with a time zone; some past, naive, far out or not instants at all."""
    ahead = st.integers(min_value=-5, max_value=400).map(lambda d: (now + timedelta(days=d)).isoformat())
    odd = st.one_of(
        EDGE_DATES,
        st.sampled_from(["9999-12-31T23:59:00+00:00", "2030-01-01T12:00:00", "0001-01-01T00:00:00Z"]),
    )
    return mostly(ahead, odd, 7)


# --- sending them ---------------------------------------------------------------------------------------------


def messages(
    updates: dict[str, dict[str, st.SearchStrategy[Any]]], signals: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[Msg]:
    """One update or signal by name with one payload; now and then none, two, or a name that does not exist."""
    one = [
        *(st.builds(lambda n, p: Msg(False, n, [p]), st.just(n), payloads(f)) for n, f in updates.items()),
        *(
            st.builds(lambda n, p: Msg(True, n, [p]), st.just(n), mostly(s, JUNK, 8))
            for n, s in signals.items()
        ),
    ]
    names = [(False, n) for n in updates] + [(True, n) for n in signals]
    odd = st.one_of(
        st.builds(lambda k: Msg(k[0], k[1], []), st.sampled_from(names)),
        st.builds(lambda k, p: Msg(k[0], k[1], [p, p]), st.sampled_from(names), JUNK),
        st.builds(lambda s, p: Msg(s, "no_such_input", [p]), st.booleans(), JUNK),
    )
    return mostly(st.one_of(*one), odd, 9)


def fixed(update: str, rule: dict[str, Any], ok: Msg, signal: Msg | None = None) -> list[Msg]:
    """Inputs sent in every run besides the generated ones (hypothesis's generation favours simple values, so a
    rule's rejection, say, is not otherwise sure to come up): one the rule rejects, one carried out, a signal, and
    three the workflow cannot take (no such update, no argument, a field of the wrong type)."""
    out = [
        Msg(False, update, [rule]),
        ok,
        Msg(False, "no_such_input", [{}]),
        Msg(False, update, []),
        Msg(False, update, [{"decision_id": 5}]),
    ]
    return out + ([signal] if signal else [])


def new_target(
    env: WorkflowEnvironment,
    handle: WorkflowHandle[Any, Any],
    restart: Callable[[], Awaitable[WorkflowHandle[Any, Any]]],
) -> Target:
    """A target for the shared runner, each input checked against the state the last one left once settled (an input
    here sets off activities and signals that take a while); the workflow may be continuing as new when an input
    reaches it."""
    return Target(
        env,
        handle,
        restart,
        settle=SETTLES,
        carry=True,
        continues=True,
        one_line=(DECISION_REJECTED, "InputRejected"),
        reason_max=1000,
    )


async def terminate(env: WorkflowEnvironment, *ids: str) -> None:
    for wid in ids:
        with contextlib.suppress(Exception):
            await env.client.get_workflow_handle(wid).terminate("test over")


def code() -> str:
    return f"fz{uuid.uuid4().hex[:8]}"


@pytest.fixture
def worker(ts_worker: Worker) -> Worker:
    """The worker as worker.py builds it, with its interceptors (the one that drops a signal of the wrong arity)."""
    return ts_worker


# --- the ledger -----------------------------------------------------------------------------------------------


async def start_ledger(env: WorkflowEnvironment, worker: Worker, c: str) -> WorkflowHandle[Any, Any]:
    return await env.client.start_workflow(
        MeetingFundsWorkflow.run,
        LedgerState(convention=c, meeting="14MSP", states_parties=LISTED),
        id=funds_id(c, "14MSP"),
        task_queue=worker.task_queue,
    )


async def test_fuzzed_ledger_records_and_requests(ts_env: WorkflowEnvironment, worker: Worker):
    t = await today(ts_env)
    common = {"decision_id": DECISION_ID, "reference": REFERENCE}
    request_id = mostly(st.sampled_from(["r1", "r2", "r3"]), st.one_of(UNICODE, HUGE), 8)
    strategy = messages(
        {
            "set_estimate": common | {"amount": AMOUNT},
            "assess": common | {"shares": SHARES, "due": dates_around(t)},
            "record_payment": {
                "payment_id": DECISION_ID,
                "reference": REFERENCE,
                "state": STATE,
                "amount": AMOUNT,
                "force": st.booleans(),
            },
        },
        {
            "request_funds": payloads(
                {
                    "request_id": request_id,
                    # Nobody by that id: its grant cannot be told, and the money comes back.
                    "requester": mostly(st.just("fz-no-such-requester"), st.one_of(UNICODE, HUGE), 8),
                    "purpose": st.just("translation"),
                    "amount": AMOUNT,
                    "priority": SMALL_INT,
                }
            ),
            "cancel_request": request_id,
            "release": request_id,
        },
    )
    c = code()
    target = new_target(
        ts_env, await start_ledger(ts_env, worker, c), lambda: start_ledger(ts_env, worker, code())
    )
    target.query = "ledger"
    target.moving = ("pending", "granted", "released", "granted_total", "released_total", "to_notify")
    explicit = fixed(
        "record_payment",
        {"payment_id": "fx-1", "reference": "r", "state": "Atlantis", "amount": 5},
        Msg(False, "set_estimate", [{"decision_id": "fx-2", "reference": "r", "amount": 1000}]),
        Msg(True, "release", ["r1"]),
    )
    await fuzz(target, strategy, EXAMPLES, explicit)
    ledger = await target.handle.query("ledger")
    # Only States Parties were assessed, each once, under the list's own name; the balance never went negative.
    assert set(ledger["assessments"]) <= set(LISTED), ledger["assessments"]
    assert ledger["payments_total"] + ledger["released_total"] >= ledger["granted_total"]
    ok = SetEstimate(decision_id=f"final-{uuid.uuid4().hex}", reference="r", amount=123_457)
    assert (await target.handle.execute_update(MeetingFundsWorkflow.set_estimate, ok)).duplicate is False
    await terminate(ts_env, *target.ids)


async def test_an_oversized_payment_is_rejected_at_once_and_the_ledger_goes_on(
    ts_env: WorkflowEnvironment, worker: Worker
):
    """Half of the server's 2 MB limit on a payload (above it, the SDK's rejection, which repeats the request,
    cannot be sent: see docs/reliability.md). `msp` never sends one (tests/cli/test_bounds.py)."""
    handle = await start_ledger(ts_env, worker, code())
    big = {"payment_id": "p1", "reference": "x" * 1_000_000, "state": "Austria", "amount": 5}
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await handle.execute_update("record_payment", big)
    assert isinstance(e.value.cause, ApplicationError)
    assert "at most 500 characters" in e.value.cause.message and len(e.value.cause.message) < 1000
    ledger: LedgerState = await handle.query(MeetingFundsWorkflow.ledger)
    assert ledger.payments_count == 0
    await no_failed_tasks(ts_env, handle.id)
    await terminate(ts_env, handle.id)


# --- a document -----------------------------------------------------------------------------------------------


@pytest.fixture
def receiver(tmp_path: Any) -> Any:
    with Receiver(tmp_path, log=None) as r:
        yield r


@dataclass
class Documents:
    env: WorkflowEnvironment
    worker: Worker
    code: str
    money: Money
    n: int = 0

    async def ledger(self) -> None:
        """A ledger with money for every document of the test."""
        h = await start_ledger(self.env, self.worker, self.code)
        await h.execute_update(
            MeetingFundsWorkflow.set_estimate, SetEstimate(decision_id="e", reference="r", amount=MAX_CHF)
        )
        due = (await today(self.env)) + timedelta(days=30)
        await h.execute_update(
            MeetingFundsWorkflow.assess,
            Assess(decision_id="a", reference="r", shares={"Austria": 100.0}, due=due),
        )
        pay = Payment(payment_id="p", reference="r", state="Austria", amount=MAX_CHF)
        await h.execute_update(MeetingFundsWorkflow.record_payment, pay)

    async def start(self) -> WorkflowHandle[Any, Any]:
        """A one-page document, in translation into the five other languages."""
        self.n += 1
        spec = DocumentSpec(
            symbol=f"CCM/FZ/{self.n}",
            title="Draft final report",
            pages=1,
            meeting="14MSP",
            due=(await today(self.env)) + timedelta(days=60),
        )
        handle = await self.env.client.start_workflow(
            DocumentWorkflow.run,
            DocumentInput(
                convention=self.code, spec=spec, money=self.money, funds_id=funds_id(self.code, "14MSP")
            ),
            id=document_id(self.code, spec.symbol),
            task_queue=self.worker.task_queue,
        )
        loop = asyncio.get_running_loop()
        end = loop.time() + 10
        while loop.time() < end:
            state = await handle.query("state")
            if all(t["status"] == "in_translation" for t in state["translations"].values()):
                break
            await asyncio.sleep(0.05)
        return handle


async def test_fuzzed_document_deliveries_and_withdrawals(
    ts_env: WorkflowEnvironment, worker: Worker, receiver: Receiver
):
    docs = Documents(ts_env, worker, code(), Money(conference_services_url=receiver.url))
    await docs.ledger()
    common = {"decision_id": DECISION_ID, "reference": REFERENCE}
    # English is the original: delivering it is refused by the rule, as is a language already issued.
    language = mostly(
        st.sampled_from(["ar", "en", "es", "fr", "ru", "zh"]), st.sampled_from(["EN", "de", ""]), 8
    )
    strategy = messages(
        {
            "delivered": {
                "decision_id": DECISION_ID,
                "language": language,
                "reference": mostly(REFERENCE, st.none(), 8),
            },
            "withdraw": common,
        },
        {"funds_granted": st.sampled_from(["translation:CCM/FZ/1:fr", "translation:CCM/FZ/2:ar", "x"])},
    )
    target = new_target(ts_env, await docs.start(), docs.start)
    target.moving = ("log",)  # each job sent and answered is logged as it happens
    # A funded language is being sent, a cancelling one waits for conference services' answer: both move on alone.
    target.busy = (f'"{LanguageStatus.FUNDED.value}"', f'"{LanguageStatus.CANCELLING.value}"')
    explicit = fixed(
        "delivered",
        {"decision_id": "fx-1", "language": "en"},
        Msg(False, "delivered", [{"decision_id": "fx-2", "language": "fr"}]),
        Msg(True, "funds_granted", ["x"]),
    )
    await fuzz(target, strategy, EXAMPLES, explicit)
    print(f"  ({target.ended} documents finished by a fuzzed input)")
    await no_failed_tasks(ts_env, funds_id(docs.code, "14MSP"))
    await terminate(ts_env, *target.ids, funds_id(docs.code, "14MSP"))


# --- a review -------------------------------------------------------------------------------------------------


async def test_fuzzed_review_conclusions_withdrawals_and_meeting_moves(
    ts_env: WorkflowEnvironment, worker: Worker
):
    t = await today(ts_env)

    async def start() -> WorkflowHandle[Any, Any]:
        c = code()
        spec = ReviewSpec(
            subject="hosting-agreement",
            title="the agreement hosting the ISU",
            mandate=Mandate(decided_by="2nd Review Conference", reference="CCM/CONF/2021/6"),
            # At an MSP: "at every Review Conference" is refused, every N years is taken.
            due=DuePoint(kind=DueKind.AT_MEETING, on=t + timedelta(days=400), meeting="14MSP"),
        )
        return await ts_env.client.start_workflow(
            ReviewWorkflow.run,
            ReviewInput(convention=c, spec=spec),
            id=review_id(c, spec.subject),
            task_queue=worker.task_queue,
        )

    # "At every Review Conference" (refused for a review due at an MSP) often, else every N years, none, or junk.
    nxt = mostly(
        st.just({"at_every_review_conference": True}),
        st.one_of(
            st.none(),
            st.builds(lambda n: {"every_years": n}, st.integers(min_value=1, max_value=20)),
            st.builds(lambda n: {"every_years": n}, st.integers(min_value=-3, max_value=10_000)),
            st.just({"every_years": 3, "at_every_review_conference": True}),
            JUNK,
        ),
        4,
    )
    common = {"decision_id": DECISION_ID, "reference": REFERENCE}
    strategy = messages(
        {"conclude": common | {"outcome": TEXT, "next": nxt}, "withdraw": common},
        {
            "meeting_moved": payloads(
                {
                    "meeting": mostly(st.sampled_from(["4RC", "5RC", "14MSP"]), UNICODE, 8),
                    "first_day": dates_around(t + timedelta(days=400)),
                }
            )
        },
    )
    target = new_target(ts_env, await start(), start)
    target.moving = ("upcoming", "sent")  # the next reminder, worked out again after a change
    explicit = fixed(
        "conclude",
        {
            "decision_id": "fx-1",
            "reference": "r",
            "outcome": "Fit",
            "next": {"at_every_review_conference": True},
        },
        Msg(
            False,
            "conclude",
            [{"decision_id": "fx-2", "reference": "r", "outcome": "Fit", "next": {"every_years": 3}}],
        ),
        Msg(True, "meeting_moved", [{"meeting": "14MSP", "first_day": str(t + timedelta(days=410))}]),
    )
    await fuzz(target, strategy, EXAMPLES, explicit)
    print(f"  ({target.ended} reviews ended by a fuzzed input)")
    state = await target.handle.query("state")
    assert state["status"] in ("pending", "overdue", "concluded", "withdrawn"), state["status"]
    await terminate(ts_env, *target.ids)


# --- Article 7 ------------------------------------------------------------------------------------------------


async def test_fuzzed_article7_receipts(ts_env: WorkflowEnvironment, worker: Worker):
    t = await today(ts_env)
    year = first_year(t)
    c = code()
    handle = await ts_env.client.start_workflow(
        Article7Workflow.run,
        # A year missed: its report can still be received (this year's, once the year it covers is over).
        ReportsInput(
            convention=c, state="ＣＨＩＬＥ", year=year, outstanding=[year - 1], states_parties=LISTED
        ),
        id=report_id(c, "Chile"),
        task_queue=worker.task_queue,
    )

    async def restart() -> WorkflowHandle[Any, Any]:
        raise AssertionError("an Article 7 workflow does not end by a receipt")

    years = mostly(
        st.sampled_from([year - 2, year - 1, year - 1, year - 1, year, year + 1]),
        st.integers(min_value=-5, max_value=10_000),
        8,
    )
    # Mostly since the missed year began (when its report may have come), else anywhere.
    since = (date(year - 1, 1, 1) - t).days
    received = mostly(
        st.integers(min_value=since, max_value=0).map(lambda n: str(t + timedelta(days=n))),
        dates_around(t),
        8,
    )
    strategy = messages(
        {
            "report_received": {
                "decision_id": DECISION_ID,
                "year": years,
                "received_on": received,
                "reference": REFERENCE,
            }
        },
        {},
    )
    explicit = fixed(
        "report_received",
        {"decision_id": "fx-1", "year": year + 1, "received_on": str(t), "reference": "r"},
        Msg(
            False,
            "report_received",
            [{"decision_id": "fx-2", "year": year - 1, "received_on": str(t), "reference": "r"}],
        ),
    )
    await fuzz(new_target(ts_env, handle, restart), strategy, EXAMPLES * 2 // 3, explicit, signals=False)
    state = await handle.query("state")
    # The State as the list names it (it was given in full width).
    assert state["state"] == "Chile"
    await terminate(ts_env, handle.id)


# --- an extension request: the silence procedure and the signals ------------------------------------------------


async def test_fuzzed_extension_silence_proposals_and_signals(ts_env: WorkflowEnvironment, worker: Worker):
    t = await today(ts_env)
    now = await ts_env.get_current_time()
    c = code()
    states = iter(LISTED * 20)

    async def start() -> WorkflowHandle[Any, Any]:
        request = art4_request(t, next(states))
        inp = at_the_14msp(c, request, t, 365, 730, states_parties=LISTED)
        handle = await start_extension(ts_env.client, inp, worker.task_queue)
        # Analysed, so a decision by silence procedure can be taken.
        analysis = Analysis(decision_id=f"an-{uuid.uuid4().hex}", reference="AG4 report", summary="Complete")
        await handle.execute_update(ExtensionRequestWorkflow.analyse, analysis)
        return handle

    procedures = ["fz-a", "fz-b", "fz-c"]
    common = {"decision_id": DECISION_ID, "reference": REFERENCE}
    strategy = messages(
        {
            "analyse": common
            | {
                "summary": TEXT,
                "recommended_months": mostly(st.none(), st.integers(min_value=-2, max_value=130), 5),
            },
            "put_to_silence": common
            | {
                "granted": st.booleans(),
                "months": mostly(st.none(), st.integers(min_value=-2, max_value=130), 6),
                "benchmarks": st.lists(
                    mostly(st.sampled_from(["annual survey results"]), st.one_of(UNICODE, HUGE), 7),
                    max_size=60,
                ),
                "procedure_id": mostly(st.sampled_from(procedures), UNICODE, 8),
                "initiator": mostly(st.just("the President"), STATE, 7),
                "deadline": instants(now),
                "states_parties": mostly(st.just(LISTED), st.lists(STATE, max_size=4), 8),
            },
        },
        {
            "silence_ended": payloads(
                {
                    "procedure_id": st.sampled_from(procedures),
                    "workflow_id": mostly(
                        st.sampled_from([silence_id(c, p) for p in procedures]), UNICODE, 8
                    ),
                    "adopted": st.booleans(),
                    "at": instants(now),
                    "broken_by": st.one_of(st.none(), STATE),
                    "reason": st.one_of(st.none(), TEXT),
                    "proposal": TEXT,
                    "reference": REFERENCE,
                }
            ),
            "superseded": mostly(st.just(f"{c}-extension-next"), st.one_of(UNICODE, HUGE), 3),
        },
    )
    target = new_target(ts_env, await start(), start)
    explicit = fixed(
        "analyse",
        {"decision_id": "fx-1", "reference": "r", "summary": "Complete", "recommended_months": 100},
        Msg(False, "analyse", [{"decision_id": "fx-2", "reference": "r", "summary": "Complete"}]),
        Msg(True, "superseded", ["not a workflow id"]),
    )
    await fuzz(target, strategy, EXAMPLES, explicit)
    print(f"  ({target.ended} requests ended by a fuzzed input)")
    await terminate(ts_env, *target.ids, *(silence_id(c, p) for p in procedures))


# --- a silence procedure --------------------------------------------------------------------------------------


async def test_fuzzed_silence_breaks_and_withdrawals(ts_env: WorkflowEnvironment, worker: Worker):
    now = await ts_env.get_current_time()
    c = code()
    n = iter(range(10_000))

    async def start() -> WorkflowHandle[Any, Any]:
        inp = SilenceInput(
            convention=c,
            procedure_id=f"fz-{next(n)}",
            proposal="To adopt the revised budget.",
            reference="President's letter of 3 March",
            initiator="the President (Austria)",
            deadline=now + timedelta(days=30),
            states_parties=LISTED,
        )
        return await start_silence(ts_env.client, inp, worker.task_queue)

    strategy = messages(
        {
            "break_silence": {"decision_id": DECISION_ID, "state": STATE, "reason": TEXT},
            "withdraw": {"decision_id": DECISION_ID, "reference": REFERENCE},
        },
        # The procedure takes no signal: these are buffered, unread.
        {"silence_ended": JUNK},
    )
    target = new_target(ts_env, await start(), start)
    target.moving = ("notified", "delivered", "delivery_error")  # what the procedure sends once ended
    explicit = fixed(
        "break_silence",
        {"decision_id": "fx-1", "state": "Atlantis", "reason": "Needs a plenary."},
        Msg(
            False,
            "break_silence",
            [{"decision_id": "fx-2", "state": "ＭＥＸＩＣＯ", "reason": "Needs a plenary."}],
        ),
        Msg(True, "silence_ended", [None]),
    )
    await fuzz(target, strategy, EXAMPLES, explicit)
    print(f"  ({target.ended} procedures ended by a fuzzed input)")
    await terminate(ts_env, *target.ids)
