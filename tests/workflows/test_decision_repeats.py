"""Every workflow answers a decision sent again from its own log: a repeat, with the first outcome (the same decision
id under another update id, so the server's own deduplication of update ids is not what answers). And one clock:
each workflow keeps the time zone and hours of the day it was started with."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain import search_attributes as sa
from domain.calendar import day_start, local_date
from domain.decisions import DecisionOutcome, Designate
from domain.documents import Delivered, DocumentInput, DocumentSpec, DocumentState, LanguageStatus
from domain.extensions import (
    Analysis,
)
from domain.funds import Assess, LedgerState, Payment, SetEstimate
from domain.ids import (
    document_id,
    funds_id,
    meeting_label_id,
    presidency_id,
    report_id,
    review_id,
    silence_id,
)
from domain.models import Convention, Defaults, Language, Money, President
from domain.reports import ReportReceived, ReportsInput, first_year
from domain.reviews import (
    Conclude,
    DueKind,
    DuePoint,
    Mandate,
    Periodicity,
    ReviewInput,
    ReviewSpec,
    ReviewState,
)
from domain.silence import SilenceInput
from starter.receiver import Receiver
from tests.scenario import proposal_by_silence, start_extension
from tests.support.cycle_helpers import initial_state, part
from tests.support.requests import art4, at_the_14msp
from workflows.document import DocumentWorkflow
from workflows.extension import ExtensionRequestWorkflow
from workflows.funds import MeetingFundsWorkflow
from workflows.presidency import PresidencyWorkflow
from workflows.reports import Article7Workflow
from workflows.review import ReviewWorkflow

# Not Geneva's: a workflow that fell back to Europe/Zurich would show it.
NEW_YORK = Defaults(place="New York", timezone="America/New_York", day_start_hour=9, day_end_hour=17)


def code() -> str:
    return f"rep{uuid.uuid4().hex[:8]}"


async def twice(handle: WorkflowHandle[Any, Any], update: Any, first: Any, again: Any) -> None:
    """Sends ``first``, then ``again`` (the same decision id) under a new update id: a repeat, the first answer."""
    one: DecisionOutcome = await handle.execute_update(update, first, id=f"u-{uuid.uuid4()}")
    two: DecisionOutcome = await handle.execute_update(update, again, id=f"u-{uuid.uuid4()}")
    assert not one.duplicate
    assert two.duplicate and two.summary == one.summary, (one, two)


async def start_ledger(env: WorkflowEnvironment, worker: Worker, c: str) -> WorkflowHandle[Any, Any]:
    return await env.client.start_workflow(
        MeetingFundsWorkflow.run,
        LedgerState(convention=c, meeting="14MSP"),
        id=funds_id(c, "14MSP"),
        task_queue=worker.task_queue,
    )


async def test_a_payment_sent_again_is_answered_with_its_first_outcome_and_counted_once(
    ts_env: WorkflowEnvironment, ts_worker: Worker
):
    ledger = await start_ledger(ts_env, ts_worker, code())
    await twice(
        ledger,
        MeetingFundsWorkflow.set_estimate,
        SetEstimate(decision_id="e", reference="r", amount=100_000),
        SetEstimate(decision_id="e", reference="r", amount=90_000),
    )
    today = (await ts_env.get_current_time()).date()
    await ledger.execute_update(
        MeetingFundsWorkflow.assess,
        Assess(decision_id="a", reference="r", shares={"Austria": 100}, due=today),
    )
    paid = Payment(payment_id="p1", reference="bank", state="Austria", amount=100)
    await twice(ledger, MeetingFundsWorkflow.record_payment, paid, paid.model_copy(update={"amount": 200}))
    state: LedgerState = await ledger.query(MeetingFundsWorkflow.ledger)
    assert state.paid == {"Austria": 100} and state.estimate == 100_000
    assert [r.decision_id for r in state.decisions.records] == ["e", "a", "p1"]
    await ledger.terminate("test over")


async def test_a_delivery_recorded_again_is_a_repeat(
    ts_env: WorkflowEnvironment, ts_worker: Worker, tmp_path: Path
):
    c = code()
    ledger = await start_ledger(ts_env, ts_worker, c)
    today = (await ts_env.get_current_time()).date()
    await ledger.execute_update(
        MeetingFundsWorkflow.set_estimate, SetEstimate(decision_id="e", reference="r", amount=100_000)
    )
    await ledger.execute_update(
        MeetingFundsWorkflow.assess,
        Assess(decision_id="a", reference="r", shares={"Austria": 100}, due=today),
    )
    await ledger.execute_update(
        MeetingFundsWorkflow.record_payment,
        Payment(payment_id="p", reference="r", state="Austria", amount=50_000),
    )
    spec = DocumentSpec(
        symbol="CCM/MSP/2027/4", title="Report", pages=2, meeting="14MSP", due=today + timedelta(60)
    )
    with Receiver(tmp_path, log=None) as services:
        money = Money(conference_services_url=services.url)
        doc = await ts_env.client.start_workflow(
            DocumentWorkflow.run,
            DocumentInput(convention=c, spec=spec, money=money, funds_id=funds_id(c, "14MSP")),
            id=document_id(c, spec.symbol),
            task_queue=ts_worker.task_queue,
        )

        async def in_translation() -> bool:
            s: DocumentState = await doc.query(DocumentWorkflow.state)
            return s.translations[Language.FR].status is LanguageStatus.IN_TRANSLATION

        for _ in range(100):
            if await in_translation():
                break
            await ts_env.sleep(timedelta(seconds=5))
        delivered = Delivered(decision_id="fr", language=Language.FR)
        await twice(doc, DocumentWorkflow.delivered, delivered, delivered)
        # Ended by hand: waited for, a withdrawal lets the test server skip time up to the ledger's own timeout.
        await doc.terminate("test over")
    await ledger.terminate("test over")


def review_spec(due: date, subject: str) -> ReviewSpec:
    return ReviewSpec(
        subject=subject,
        title="the agreement hosting the ISU",
        mandate=Mandate(decided_by="2nd Review Conference", reference="para 42"),
        due=DuePoint(kind=DueKind.DATE, on=due),
    )


async def test_a_conclusion_sent_again_to_the_next_review_is_a_repeat_and_reviews_keep_their_clock(
    ts_env: WorkflowEnvironment, ts_worker: Worker
):
    c = code()
    due = (await ts_env.get_current_time()).date() + timedelta(days=100)
    review = await ts_env.client.start_workflow(
        ReviewWorkflow.run,
        ReviewInput(convention=c, spec=review_spec(due, "hosting"), defaults=NEW_YORK),
        id=review_id(c, "hosting"),
        task_queue=ts_worker.task_queue,
    )
    conclusion = Conclude(
        decision_id="rc", reference="para 43", outcome="assessed", next=Periodicity(every_years=3)
    )
    # The conclusion starts the next review (continue-as-new): the repeat is answered by the next one's log.
    await twice(review, ReviewWorkflow.conclude, conclusion, conclusion)
    st: ReviewState = await review.query(ReviewWorkflow.state)
    assert st.cycle == 2 and st.due != due
    assert (await review.describe()).typed_search_attributes.get(sa.DUE_DATE) == day_start(st.due, NEW_YORK)
    await review.terminate("test over")


async def test_a_receipt_sent_again_is_a_repeat_and_a_report_keeps_its_clock(
    ts_env: WorkflowEnvironment, ts_worker: Worker
):
    c = code()
    today = local_date(await ts_env.get_current_time(), NEW_YORK)
    year = first_year(today)
    # The report covering last year, received today: outstanding once its deadline (30 April) has passed. Received
    # without waiting: time skipped on this module's test server would wait on whatever else runs there.
    reports = await ts_env.client.start_workflow(
        Article7Workflow.run,
        ReportsInput(
            convention=c,
            state="Chile",
            year=year,
            outstanding=[today.year] if year > today.year else [],
            defaults=NEW_YORK,
        ),
        id=report_id(c, "Chile"),
        task_queue=ts_worker.task_queue,
    )
    receipt = ReportReceived(decision_id="r1", reference="CCM/AR/1", year=today.year, received_on=today)
    await twice(reports, Article7Workflow.report_received, receipt, receipt)
    due = date(year, 4, 30)
    assert (await reports.describe()).typed_search_attributes.get(sa.DUE_DATE) == day_start(due, NEW_YORK)
    await reports.terminate("test over")


async def test_an_analysis_sent_again_is_a_repeat_and_a_request_and_its_silence_keep_their_clock(
    ts_env: WorkflowEnvironment, ts_worker: Worker
):
    c = code()
    now = await ts_env.get_current_time()
    today = local_date(now, NEW_YORK)
    plan = "Clearance of the remaining areas, year by year."
    request = art4("Chile", date(today.year - 9, 6, 1), today, plan, "CCM/MSP/4", months=24)
    inp = at_the_14msp(c, request, today, 300, 650, defaults=NEW_YORK)
    handle = await start_extension(ts_env.client, inp, ts_worker.task_queue)
    analysis = Analysis(decision_id="ag4", reference="AG4 report", summary="Clear and complete.")
    await twice(handle, ExtensionRequestWorkflow.analyse, analysis, analysis)
    desc = await handle.describe()
    assert desc.typed_search_attributes.get(sa.DUE_DATE) == day_start(request.current_deadline, NEW_YORK)
    proposal = proposal_by_silence("s1", f"{c}-1", now + timedelta(days=14))
    outcome = await handle.execute_update(ExtensionRequestWorkflow.put_to_silence, proposal)
    assert "New York time" in outcome.summary, outcome
    procedure = ts_env.client.get_workflow_handle(silence_id(c, f"{c}-1"))
    history = await procedure.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert SilenceInput.model_validate_json(started.data).defaults == NEW_YORK
    await procedure.terminate("test over")
    await handle.terminate("test over")


async def test_a_designation_sent_again_is_a_repeat_and_the_ledger_gets_the_presidency_s_clock(
    ts_env: WorkflowEnvironment, ts_worker: Worker
):
    c = code()
    today = local_date(await ts_env.get_current_time(), NEW_YORK)
    state0 = initial_state(c, today, [part(today + timedelta(days=90))])
    state0 = state0.model_copy(update={"convention": Convention(code=c, defaults=NEW_YORK)})
    presidency = await ts_env.client.start_workflow(
        PresidencyWorkflow.run, state0, id=presidency_id(state0.convention), task_queue=ts_worker.task_queue
    )
    designate = Designate(decision_id="d1", reference="para 20", president=President(state="Mexico"))
    await twice(presidency, PresidencyWorkflow.designate, designate, designate)
    ledger = ts_env.client.get_workflow_handle(funds_id(c, "14MSP"))
    history = await ledger.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert LedgerState.model_validate_json(started.data).defaults == NEW_YORK
    for wid in (funds_id(c, "14MSP"), meeting_label_id(c, "14MSP"), presidency_id(state0.convention)):
        await ts_env.client.get_workflow_handle(wid).terminate("test over")
