"""Records one history per workflow type into tests/histories/, for the replay tests.

Run it again (``.venv/bin/python -m tests.record_histories``) only when a change to a workflow is meant to
alter its commands: the replay test exists to catch such a change made by accident. Histories recorded by
earlier versions (``*-v1.json``) stay: they prove that workflows already running still replay.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.conference_services import ConferenceServices
from domain.decisions import (
    ChangeFormat,
    CloseMeeting,
    DecideIntersessional,
    Designate,
    ExtendByDay,
    Postpone,
)
from domain.documents import DocumentInput, DocumentSpec, LanguageStatus, Withdraw
from domain.extensions import (
    Analysis,
    Article,
    DeclareCompletion,
    ExtensionInput,
    ExtensionRequest,
    MeetingSlot,
    ProposeBySilence,
)
from domain.funds import Assess, LedgerState, Payment, SetEstimate
from domain.ids import document_id, funds_id, register_id, report_id, silence_id, sponsorship_id, watch_id
from domain.models import Language, MeetingFormat, Money
from domain.obligations import ImportRegister, RegisterInput
from domain.register import COLUMNS, entry_into_force, initial_report_due
from domain.reports import ReportReceived, ReportsInput
from domain.reviews import (
    Conclude,
    DueKind,
    DuePoint,
    Mandate,
    MeetingMoved,
    Periodicity,
    ReviewInput,
    ReviewSpec,
)
from domain.silence import BreakSilence, SilenceInput
from domain.sponsorship import Apply, AppointCoordinator, Contribute, Decline, Grant
from domain.watch import WatchState
from tests.scenario import (
    MEXICO,
    decide,
    deliver_translations,
    initial_state,
    meeting_handle,
    part,
    start_document,
    start_extension,
    start_review,
    time_skipping,
    worker_with_receiver,
)
from tests.support.cycle_helpers import Cycle
from tests.support.devserver import binary
from worker import build_worker
from workflows.document import DocumentWorkflow
from workflows.extension import ExtensionRequestWorkflow
from workflows.funds import MeetingFundsWorkflow
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow
from workflows.register import RegisterWorkflow
from workflows.reports import Article7Workflow
from workflows.review import ReviewWorkflow
from workflows.silence import SilenceProcedureWorkflow
from workflows.sponsorship import SponsorshipWorkflow
from workflows.watch import DeadlineWatchWorkflow

OUT = Path(__file__).parent / "histories"


async def save(handle: WorkflowHandle[Any, Any], name: str, run_id: str | None = None) -> None:
    handle = handle._client.get_workflow_handle(handle.id, run_id=run_id)
    history = await handle.fetch_history()
    (OUT / f"{name}.json").write_text(history.to_json())
    print(f"{name}: {len(history.events)} events")


async def record(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    today = (await env.get_current_time()).date()
    money = Money(conference_services_url=url)
    state = initial_state("ccm", today, [part(today + timedelta(days=30))], money=money)
    c = await Cycle(env, worker, state).start()
    first_run = c.handle.result_run_id
    plan = (await c.presidency()).meeting
    label = plan.ref.label
    ledger = env.client.get_workflow_handle(funds_id("ccm", label))
    await env.sleep(timedelta(minutes=1))
    await decide(
        ledger,
        MeetingFundsWorkflow.set_estimate,
        SetEstimate(decision_id="e1", reference="CCM/MSP/14/2", amount=300_000),
    )
    await decide(
        ledger,
        MeetingFundsWorkflow.assess,
        Assess(decision_id="a1", reference="CCM/MSP/14/3", shares={"Austria": 60, "Chile": 40}, due=today),
    )
    spec = DocumentSpec(
        symbol="CCM/MSP/2027/1", title="Agenda", pages=3, priority=1, meeting=label, due=plan.first_day
    )
    doc = await start_document(
        env.client, DocumentInput(spec=spec, money=money, funds_id=ledger.id), worker.task_queue
    )
    await c.decide_presidency(
        PresidencyWorkflow.designate, Designate(decision_id="d1", reference="MSP/14/7", president=MEXICO)
    )
    await c.decide_presidency(
        PresidencyWorkflow.decide_intersessional,
        DecideIntersessional(decision_id="i1", reference="MSP/14/8", held=True),
    )
    await decide(
        ledger,
        MeetingFundsWorkflow.record_payment,
        Payment(payment_id="pay1", reference="instalment 1", state="Austria", amount=60_000),
    )
    new_start = plan.first_day + timedelta(days=14)
    await c.decide_meeting(
        MeetingWorkflow.postpone, Postpone(decision_id="p1", reference="letter", new_start=new_start)
    )
    await c.decide_meeting(
        MeetingWorkflow.change_format,
        ChangeFormat(decision_id="f1", reference="letter", format=MeetingFormat.HYBRID),
    )
    await env.sleep(timedelta(days=2))
    await deliver_translations(doc, spec.original_language, "")
    await doc.result()
    await c.sleep_until_day(new_start + timedelta(days=3), hour=12)
    await c.decide_meeting(MeetingWorkflow.extend_by_day, ExtendByDay(decision_id="x1", reference="plenary"))
    await c.sleep_until_day(new_start + timedelta(days=4), hour=12)
    await c.decide_meeting(MeetingWorkflow.close, CloseMeeting(decision_id="c1", reference="final report"))
    await c.sleep_until_day(new_start + timedelta(days=5), hour=12)
    assert (await c.presidency()).term == 2
    await save(c.handle, "presidency", first_run)
    await save(meeting_handle(env.client, state.convention, plan.ref), "meeting")
    await save(doc, "document")
    await save(ledger, "funds")
    await c.stop()
    await ledger.terminate("recorded")
    await record_review(env, worker, url)


async def record_review(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    today = (await env.get_current_time()).date()
    spec = ReviewSpec(
        subject="hosting-agreement",
        title="the agreement hosting the ISU",
        mandate=Mandate(decided_by="2nd Review Conference", reference="CCM/CONF/2021/6"),
        due=DuePoint(kind=DueKind.AT_MEETING, on=today + timedelta(days=20), meeting="4RC"),
        reminder_days=(30, 7),
    )
    review = await start_review(env.client, ReviewInput(spec=spec), worker.task_queue)
    first_run = review.result_run_id
    await review.signal(
        ReviewWorkflow.meeting_moved, MeetingMoved(meeting="4RC", first_day=today + timedelta(days=25))
    )
    await env.sleep(timedelta(days=27))
    await decide(
        review,
        ReviewWorkflow.conclude,
        Conclude(
            decision_id="c1", reference="final report", outcome="assessed", next=Periodicity(every_years=3)
        ),
    )
    await env.sleep(timedelta(minutes=1))
    await save(review, "review", first_run)
    await review.terminate("recorded")


async def record_extension(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A request analysed, put to silence (broken, then kept), granted, reminded, then completed."""
    now = await env.get_current_time()
    today = now.date()
    request = ExtensionRequest(
        state="Chile",
        article=Article.ART4,
        entry_into_force=date(today.year - 9, 6, 1),
        current_deadline=date(today.year + 1, 6, 1),
        submitted_on=today,
        requested_months=24,
        plan="Clearance of the last two areas.",
        reference="CCM/MSP/2027/5",
    )
    inp = ExtensionInput(
        request=request,
        meeting=MeetingSlot(label="15MSP", first_day=today + timedelta(days=300)),
        next_meeting=MeetingSlot(label="16MSP", first_day=today + timedelta(days=665)),
    )
    h = await start_extension(env.client, inp, worker.task_queue)
    await decide(
        h,
        ExtensionRequestWorkflow.analyse,
        Analysis(decision_id="a1", reference="AG4", summary="Sound plan."),
    )
    proposal = ProposeBySilence(
        decision_id="s1",
        reference="letter",
        granted=True,
        procedure_id="chile-1",
        initiator="the President",
        deadline=now + timedelta(days=10),
        states_parties=["Chile", "Mexico"],
    )
    await decide(h, ExtensionRequestWorkflow.put_to_silence, proposal)
    silence = env.client.get_workflow_handle(silence_id("ccm", "chile-1"))
    await decide(
        silence, "break_silence", BreakSilence(decision_id="b1", state="Mexico", reason="More detail needed.")
    )
    await silence.result()
    await asyncio.sleep(1)
    second = proposal.model_copy(
        update={"decision_id": "s2", "procedure_id": "chile-2", "deadline": now + timedelta(days=20)}
    )
    await decide(h, ExtensionRequestWorkflow.put_to_silence, second)
    kept = env.client.get_workflow_handle(silence_id("ccm", "chile-2"))
    await env.sleep(timedelta(days=21))
    await kept.result()
    await env.sleep(timedelta(days=400))
    await decide(
        h,
        ExtensionRequestWorkflow.declare_completion,
        DeclareCompletion(
            decision_id="done", reference="note verbale", completed_on=today + timedelta(days=420)
        ),
    )
    await h.result()
    await save(h, "extension")
    await save(kept, "silence")


async def record_report(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    today = (await env.get_current_time()).date()
    h = await env.client.start_workflow(
        Article7Workflow.run,
        ReportsInput(state="Chile", year=today.year + 1),
        id=report_id("ccm", "Chile"),
        task_queue=worker.task_queue,
    )
    first_run = h.result_run_id
    await env.sleep(date(today.year + 1, 4, 20) - today)
    await decide(
        h,
        Article7Workflow.report_received,
        ReportReceived(
            decision_id="r1", year=today.year + 1, received_on=date(today.year + 1, 4, 20), reference="x"
        ),
    )
    await env.sleep(timedelta(days=12))
    await save(h, "report", first_run)
    await h.terminate("recorded")


async def record_review_overdue(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A review overdue long enough to continue as new (a small bound stands for years of weekly reminders)."""
    today = (await env.get_current_time()).date()
    spec = ReviewSpec(
        subject="isu-synergies",
        title="synergies between the ISU and other implementation support units",
        mandate=Mandate(decided_by="2nd Review Conference", reference="CCM/CONF/2021/6"),
        due=DuePoint(kind=DueKind.DATE, on=today + timedelta(days=10)),
    )
    review = await start_review(
        env.client, ReviewInput(spec=spec, continue_after_events=100), worker.task_queue
    )
    first_run = review.result_run_id
    await env.sleep(timedelta(days=100))
    await save(review, "review-overdue", first_run)
    await review.terminate("recorded")


async def record_silence_undeliverable(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A silence procedure whose webhook answers 404: its two notifications are recorded as undeliverable (behind
    the patch ``notification-undeliverable-recorded``) and the proposal is adopted at its deadline."""
    async with (
        ConferenceServices() as services,
        build_worker(env.client, services, "record-refused", {"default": url + "/nowhere"}) as refused,
    ):
        now = await env.get_current_time()
        inp = SilenceInput(
            procedure_id="budget-2027",
            proposal="To adopt the revised budget for 2027.",
            reference="President's letter",
            initiator="the President",
            deadline=now + timedelta(days=10),
            states_parties=["Chile", "Mexico"],
        )
        h = await env.client.start_workflow(
            SilenceProcedureWorkflow.run,
            inp,
            id=silence_id("ccm", inp.procedure_id),
            task_queue=refused.task_queue,
        )
        await h.result()
    await save(h, "silence-undeliverable")


async def record_withdrawal(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A document withdrawn with three jobs sent: one already completed (too late, its money stays spent), two
    cancelled by conference services (their money released), and two languages still waiting for money."""
    today = (await env.get_current_time()).date()
    money = Money(conference_services_url=url)
    ledger = await env.client.start_workflow(
        MeetingFundsWorkflow.run,
        LedgerState(convention="ccm", meeting="15MSP", payments_total=3 * 2 * 180),
        id=funds_id("ccm", "15MSP"),
        task_queue=worker.task_queue,
    )
    spec = DocumentSpec(
        symbol="CCM/MSP/2028/4",
        title="Draft report",
        pages=2,
        priority=1,
        meeting="15MSP",
        due=today + timedelta(60),
    )
    doc = await start_document(
        env.client, DocumentInput(spec=spec, money=money, funds_id=ledger.id), worker.task_queue
    )
    sent: list[Language] = []
    while len(sent) < 3:
        await asyncio.sleep(0.1)
        s = await doc.query(DocumentWorkflow.state)
        sent = [lang for lang, t in s.translations.items() if t.status is LanguageStatus.IN_TRANSLATION]
    async with httpx.AsyncClient(trust_env=False) as http:
        done = await http.post(
            f"{url}/translation-jobs/complete", headers={"Idempotency-Key": f"{doc.id}:{sent[0].value}"}
        )
        done.raise_for_status()
    await decide(doc, DocumentWorkflow.withdraw, Withdraw(decision_id="w1", reference="CCM/MSP/2028/4/Rev.1"))
    await doc.result()
    await save(doc, "document-withdrawn")
    await ledger.terminate("recorded")


async def record_register(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A register imported with a new State (Art. 4 declared): its Art. 7 initial report chased to overdue, its
    Art. 4 watch reminded, then completion declared."""
    today = (await env.get_current_time()).date()
    un = "http://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-6.en.xml"
    text = ",".join(COLUMNS) + f"\nNewland,,,{today},accession,,,yes,,yes,{un},{today},\n"
    h = await env.client.start_workflow(
        RegisterWorkflow.run,
        RegisterInput(meeting_on=date(today.year + 1, 9, 13)),
        id=register_id("ccm"),
        task_queue=worker.task_queue,
    )
    await h.execute_update(
        RegisterWorkflow.import_register,
        ImportRegister(decision_id="i1", reference="x", source="register.csv", text=text),
    )
    reports = env.client.get_workflow_handle(report_id("ccm", "Newland"))
    watch = env.client.get_workflow_handle(watch_id("ccm", "4", "Newland"))
    for _ in range(200):  # started by the register's activity
        try:
            await watch.describe()
            await reports.describe()
            break
        except RPCError:
            await asyncio.sleep(0.05)
    eif = entry_into_force(today)
    await env.sleep(initial_report_due(eif) + timedelta(days=2) - today)
    await save(h, "register")
    await save(reports, "report-initial", (await reports.describe()).run_id)
    s: WatchState = await watch.query(DeadlineWatchWorkflow.state)
    await env.sleep(s.request_due - timedelta(days=300) - (await env.get_current_time()).date())
    await watch.execute_update(
        DeadlineWatchWorkflow.declare_completion,
        DeclareCompletion(decision_id="c1", reference="x", completed_on=s.request_due - timedelta(days=301)),
    )
    await watch.result()
    await save(watch, "watch")
    await h.terminate("recorded")
    await reports.terminate("recorded")


async def record_order_of_need(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A ledger granting in the order of need (behind the patch ``ledger-order-of-need``): a document needed later
    asks first, one needed sooner after it; a payment covering one grants the one needed sooner; the other, still
    waiting past the day it was needed by, is reported too late to its document, which shows at risk (behind the
    patch ``document-risk-attention``)."""
    today = (await env.get_current_time()).date()
    money = Money(conference_services_url=url)
    ledger = await env.client.start_workflow(
        MeetingFundsWorkflow.run,
        LedgerState(convention="ccm", meeting="16MSP"),
        id=funds_id("ccm", "16MSP"),
        task_queue=worker.task_queue,
    )
    docs = []
    for n, due in ((1, today + timedelta(days=40)), (2, today + timedelta(days=20))):
        spec = DocumentSpec(
            symbol=f"CCM/MSP/2029/{n}", title="Report", pages=2, priority=1, meeting="16MSP", due=due
        )
        docs.append(
            await env.client.start_workflow(
                DocumentWorkflow.run,
                DocumentInput(spec=spec, money=money, funds_id=ledger.id),
                id=document_id("ccm", spec.symbol),
                task_queue=worker.task_queue,
            )
        )
        await env.sleep(timedelta(minutes=1))
    await ledger.execute_update(
        MeetingFundsWorkflow.set_estimate, SetEstimate(decision_id="e1", reference="r", amount=100_000)
    )
    await ledger.execute_update(
        MeetingFundsWorkflow.assess, Assess(decision_id="a1", reference="r", shares={"Chile": 100}, due=today)
    )
    await ledger.execute_update(
        MeetingFundsWorkflow.record_payment,
        Payment(decision_id="pay1", reference="bank advice", state="Chile", amount=5 * 2 * 180),
    )
    await env.sleep(timedelta(days=32))
    later = await docs[0].query(DocumentWorkflow.state)
    assert later.at_risk and all(t.granted_at is None for t in later.translations.values()), later
    await save(ledger, "funds-need")
    await save(docs[0], "document-too-late")
    for h in docs:
        await h.terminate("recorded")
    await ledger.terminate("recorded")


async def record_sponsorship(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A meeting that starts its Sponsorship Programme (behind the patch ``meeting-starts-sponsorship``) and tells it
    of a postponement and of its close; the programme funded, applied to, a grant booked, one refused by the
    travel agent, one declined, a coordinator told, and its report."""
    today = (await env.get_current_time()).date()
    money = Money(conference_services_url=url, travel_agent_url=url)
    state = initial_state("ccm", today, [part(today + timedelta(days=100))], money=money)
    c = await Cycle(env, worker, state).start()
    plan = (await c.presidency()).meeting
    await env.sleep(timedelta(minutes=1))
    h = env.client.get_workflow_handle(sponsorship_id("ccm", plan.ref.label))
    await decide(
        h,
        SponsorshipWorkflow.appoint_coordinator,
        AppointCoordinator(decision_id="coord", reference="letter", coordinator="C. Oordinator"),
    )
    await decide(
        h,
        SponsorshipWorkflow.contribute,
        Contribute(decision_id="c1", reference="r", donor="Norway", amount=30_000),
    )
    for n, (state_name, cost) in enumerate((("Peru", 3_000), ("Chad", 25_000), ("Fiji", 3_500))):
        await decide(
            h,
            SponsorshipWorkflow.apply,
            Apply(
                decision_id=f"a{n}",
                reference="form",
                state=state_name,
                delegate=f"D {n}",
                function="Expert",
                travel_cost=cost,
            ),
        )
    await decide(h, SponsorshipWorkflow.grant, Grant(decision_id="g0", reference="ISU", application="a0"))
    await decide(h, SponsorshipWorkflow.grant, Grant(decision_id="g1", reference="ISU", application="a1"))
    await decide(h, SponsorshipWorkflow.decline, Decline(decision_id="d2", reference="ISU", application="a2"))
    new_start = plan.first_day + timedelta(days=14)
    await c.decide_meeting(
        MeetingWorkflow.postpone, Postpone(decision_id="p1", reference="letter", new_start=new_start)
    )
    await c.sleep_until_day(new_start + timedelta(days=5), hour=12)
    report = await h.result()
    assert report["delegates"] == 1 and report["refused_by_agent"] == 1, report
    await save(await c.meeting_handle(), "meeting-sponsorship")
    await save(h, "sponsorship")
    await c.stop()


RECORDERS = {
    "register": record_register,
    "cycle": record,
    "extension": record_extension,
    "report": record_report,
    "review-overdue": record_review_overdue,
    "silence-undeliverable": record_silence_undeliverable,
    "withdrawal": record_withdrawal,
    "order-of-need": record_order_of_need,
    "sponsorship": record_sponsorship,
}


async def main() -> None:
    """Records every history, or only those named: `python -m tests.record_histories extension report`."""
    names = sys.argv[1:] or list(RECORDERS)
    async with (
        time_skipping(binary("temporal-test-server")) as env,
        worker_with_receiver(env.client, "record") as (worker, url),
    ):
        for name in names:
            await RECORDERS[name](env, worker, url)


if __name__ == "__main__":
    asyncio.run(main())
