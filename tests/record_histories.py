"""Records one history per workflow type into tests/histories/, for the replay tests.

Run it again (``.venv/bin/python -m tests.record_histories``) only when a change to a workflow is meant to
alter its commands: the replay test exists to catch such a change made by accident. Histories recorded by
earlier versions (``*-v1.json``) stay: they prove that workflows already running still replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.conference_services import ConferenceServices
from domain import committee_models as cm
from domain import decisions as dec
from domain import reviews as rv
from domain.documents import DocumentInput, DocumentSpec, LanguageStatus, Withdraw
from domain.extensions import (
    Analysis,
    Article,
    DeclareCompletion,
    ExtensionInput,
    MeetingSlot,
)
from domain.funds import Assess, LedgerState, Payment, SetEstimate
from domain.ids import (
    committee_id,
    funds_id,
    isu_budget_id,
    isu_reserve_id,
    meeting_id,
    register_id,
    report_id,
    silence_id,
    sponsorship_id,
    watch_id,
)
from domain.isu_budget import AdoptBudget, BudgetLine, CommitExpense, IsuBudgetInput, IsuPayment
from domain.meeting import MeetingInput
from domain.meeting_costs import RegisterNotParty, SetSurplus
from domain.models import (
    Convention,
    Language,
    MeetingFormat,
    MeetingKind,
    MeetingPlan,
    MeetingRef,
    Money,
    President,
)
from domain.obligations import ImportRegister, RegisterInput
from domain.register import COLUMNS, entry_into_force, initial_report_due
from domain.reports import ReportReceived, ReportsInput
from domain.reserve import ContributeReserve, Draw, ReserveState
from domain.roster import Member, Roster
from domain.silence import BreakSilence, SilenceInput
from domain.sponsorship import AppointCoordinator, Contribute, Decline, Grant
from domain.watch import WatchInput, WatchState
from tests.scenario import (
    AUSTRIA,
    CHILE,
    MEXICO,
    decide,
    deliver_translations,
    estimate_and_assess,
    initial_state,
    meeting_handle,
    part,
    proposal_by_silence,
    report,
    start_assessed_ledger,
    start_document,
    start_extension,
    start_ledger,
    start_queued_documents,
    start_review,
    start_silence,
    time_skipping,
    worker_with_receiver,
)
from tests.support.cycle_helpers import Cycle
from tests.support.devserver import binary
from tests.support.requests import art4
from tests.support.sponsorship import expert
from worker import build_worker
from workflows.committee import CommitteeWorkflow
from workflows.document import DocumentWorkflow
from workflows.extension import ExtensionRequestWorkflow
from workflows.funds import MeetingFundsWorkflow
from workflows.isu_budget import IsuBudgetWorkflow
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow
from workflows.register import RegisterWorkflow
from workflows.reports import Article7Workflow
from workflows.reserve import CapitalReserveWorkflow
from workflows.review import ReviewWorkflow
from workflows.sponsorship import SponsorshipWorkflow
from workflows.watch import DeadlineWatchWorkflow

OUT = Path(__file__).parent / "histories"


async def save(handle: WorkflowHandle[Any, Any], name: str, run_id: str | None = None) -> None:
    handle = handle._client.get_workflow_handle(handle.id, run_id=run_id)
    history = await handle.fetch_history()
    (OUT / f"{name}.json").write_text(history.to_json())
    print(f"{name}: {len(history.events)} events")


async def end(*handles: WorkflowHandle[Any, Any]) -> None:
    """Terminates what a recording left running, in this order, once its histories are saved."""
    for h in handles:
        await h.terminate("recorded")


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
        PresidencyWorkflow.designate, dec.Designate(decision_id="d1", reference="MSP/14/7", president=MEXICO)
    )
    await c.decide_presidency(
        PresidencyWorkflow.decide_intersessional,
        dec.DecideIntersessional(decision_id="i1", reference="MSP/14/8", held=True),
    )
    await decide(
        ledger,
        MeetingFundsWorkflow.record_payment,
        Payment(payment_id="pay1", reference="instalment 1", state="Austria", amount=60_000),
    )
    new_start = plan.first_day + timedelta(days=14)
    await c.decide_meeting(
        MeetingWorkflow.postpone, dec.Postpone(decision_id="p1", reference="letter", new_start=new_start)
    )
    await c.decide_meeting(
        MeetingWorkflow.change_format,
        dec.ChangeFormat(decision_id="f1", reference="letter", format=MeetingFormat.HYBRID),
    )
    await env.sleep(timedelta(days=2))
    await deliver_translations(doc, spec.original_language, "")
    await doc.result()
    await c.sleep_until_day(new_start + timedelta(days=3), hour=12)
    await c.decide_meeting(
        MeetingWorkflow.extend_by_day, dec.ExtendByDay(decision_id="x1", reference="plenary")
    )
    await c.sleep_until_day(new_start + timedelta(days=4), hour=12)
    await c.decide_meeting(
        MeetingWorkflow.close, dec.CloseMeeting(decision_id="c1", reference="final report")
    )
    await c.sleep_until_day(new_start + timedelta(days=5), hour=12)
    assert (await c.presidency()).term == 2
    await save(c.handle, "presidency", first_run)
    await save(meeting_handle(env.client, state.convention, plan.ref), "meeting")
    await save(doc, "document")
    await save(ledger, "funds")
    await c.stop()
    await end(ledger)
    await record_review(env, worker, url)


def review_spec(subject: str, title: str, due: rv.DuePoint, **kw: Any) -> rv.ReviewSpec:
    """A review the 2nd Review Conference mandated."""
    mandate = rv.Mandate(decided_by="2nd Review Conference", reference="CCM/CONF/2021/6")
    return rv.ReviewSpec(subject=subject, title=title, mandate=mandate, due=due, **kw)


async def record_review(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    today = (await env.get_current_time()).date()
    due = rv.DuePoint(kind=rv.DueKind.AT_MEETING, on=today + timedelta(days=20), meeting="4RC")
    spec = review_spec("hosting-agreement", "the agreement hosting the ISU", due, reminder_days=(30, 7))
    review = await start_review(env.client, rv.ReviewInput(spec=spec), worker.task_queue)
    first_run = review.result_run_id
    await review.signal(
        ReviewWorkflow.meeting_moved, rv.MeetingMoved(meeting="4RC", first_day=today + timedelta(days=25))
    )
    await env.sleep(timedelta(days=27))
    await decide(
        review,
        ReviewWorkflow.conclude,
        rv.Conclude(
            decision_id="c1", reference="final report", outcome="assessed", next=rv.Periodicity(every_years=3)
        ),
    )
    await env.sleep(timedelta(minutes=1))
    await save(review, "review", first_run)
    await end(review)


async def record_extension(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A request analysed, put to silence (broken, then kept), granted, reminded, then completed."""
    now = await env.get_current_time()
    today = now.date()
    request = art4(
        "Chile", date(today.year - 9, 6, 1), today, "Clearance of the last two areas.", "CCM/MSP/2027/5", 24
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
    proposal = proposal_by_silence("s1", "chile-1", now + timedelta(days=10), reference="letter")
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
    await end(h)


async def record_review_overdue(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A review overdue long enough to continue as new (a small bound stands for years of weekly reminders)."""
    today = (await env.get_current_time()).date()
    title = "synergies between the ISU and other implementation support units"
    spec = review_spec(
        "isu-synergies", title, rv.DuePoint(kind=rv.DueKind.DATE, on=today + timedelta(days=10))
    )
    review = await start_review(
        env.client, rv.ReviewInput(spec=spec, continue_after_events=100), worker.task_queue
    )
    first_run = review.result_run_id
    await env.sleep(timedelta(days=100))
    await save(review, "review-overdue", first_run)
    await end(review)


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
        h = await start_silence(env.client, inp, refused.task_queue)
        await h.result()
    await save(h, "silence-undeliverable")


async def record_withdrawal(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A document withdrawn with three jobs sent: one already completed (too late, its money stays spent), two
    cancelled by conference services (their money released), and two languages still waiting for money."""
    today = (await env.get_current_time()).date()
    money = Money(conference_services_url=url)
    ledger = await start_ledger(
        env.client,
        LedgerState(convention="ccm", meeting="15MSP", payments_total=3 * 2 * 180),
        worker.task_queue,
    )
    spec = report("CCM/MSP/2028/4", "15MSP", today + timedelta(60), title="Draft report", priority=1)
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
    await end(ledger)


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
    await end(h, reports)


async def record_order_of_need(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A ledger granting in the order of need (behind the patch ``ledger-order-of-need``): a document needed later
    asks first, one needed sooner after it; a payment covering one grants the one needed sooner; the other, still
    waiting past the day it was needed by, is reported too late to its document, which shows at risk (behind the
    patch ``document-risk-attention``)."""
    today = (await env.get_current_time()).date()
    money = Money(conference_services_url=url)
    ledger = await start_ledger(env.client, LedgerState(convention="ccm", meeting="16MSP"), worker.task_queue)
    docs = await start_queued_documents(
        env,
        worker,
        [
            DocumentInput(
                spec=report(f"CCM/MSP/2029/{n}", "16MSP", today + timedelta(days=days), priority=1),
                money=money,
                funds_id=ledger.id,
            )
            for n, days in ((1, 40), (2, 20))
        ],
    )
    await estimate_and_assess(
        ledger,
        SetEstimate(decision_id="e1", reference="r", amount=100_000),
        Assess(decision_id="a1", reference="r", shares={"Chile": 100}, due=today),
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
    await end(*docs, ledger)


async def record_cadences(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """The paths of issue 16: a document told of its five grants in one signal (``funds-grants-together``); a
    Presidency whose scheduled meeting is not told of a replaced first designate until it is in session
    (``presidency-tells-meeting-when-it-acts``); an overdue review reminded weekly for four weeks, then every 30
    days; and a passed Art. 4 deadline reminded at the same cadence."""
    today = (await env.get_current_time()).date()
    money = Money(conference_services_url=url)
    ledger = await start_ledger(env.client, LedgerState(convention="ccm", meeting="17MSP"), worker.task_queue)
    spec = report("CCM/MSP/2030/1", "17MSP", today + timedelta(days=60), title="Agenda", priority=1)
    doc = await start_document(
        env.client, DocumentInput(spec=spec, money=money, funds_id=ledger.id), worker.task_queue
    )
    await env.sleep(timedelta(minutes=1))
    await decide(
        ledger, MeetingFundsWorkflow.set_estimate, SetEstimate(decision_id="e1", reference="r", amount=9_000)
    )
    await decide(
        ledger,
        MeetingFundsWorkflow.assess,
        Assess(decision_id="a1", reference="r", shares={"Chile": 100}, due=today),
    )
    await decide(
        ledger,
        MeetingFundsWorkflow.record_payment,
        Payment(payment_id="pay1", reference="bank advice", state="Chile", amount=5 * 2 * 180),
    )
    await env.sleep(timedelta(days=1))
    await deliver_translations(doc, spec.original_language, "")
    await doc.result()
    await save(ledger, "funds-grants-together")
    await save(doc, "document-grants-together")
    with contextlib.suppress(RPCError):  # a ledger whose queue is empty may have ended
        await end(ledger)

    due = rv.DuePoint(kind=rv.DueKind.DATE, on=today + timedelta(days=3))
    review = await start_review(
        env.client,
        rv.ReviewInput(
            spec=review_spec("financial-procedures", "the ISU financial procedures", due, reminder_days=(1,))
        ),
        worker.task_queue,
    )
    watch = await env.client.start_workflow(
        DeadlineWatchWorkflow.run,
        WatchInput(
            state="Chile", article="4", deadline=today + timedelta(days=3), meeting_on=today, leads=(1,)
        ),
        id=watch_id("ccm", "4", "Chile"),
        task_queue=worker.task_queue,
    )
    await env.sleep(timedelta(days=3 + 60))
    await save(review, "review-overdue-cadence")
    await save(watch, "watch-passed-cadence")
    await end(review, watch)

    # Last: the cycle leaves meetings whose activities retry, and time cannot skip while they run.
    today = (await env.get_current_time()).date()
    state = initial_state("cad", today, [part(today + timedelta(days=20))], money=money)
    c = await Cycle(env, worker, state).start()
    first_run = c.handle.result_run_id
    await c.decide_presidency(
        PresidencyWorkflow.designate, dec.Designate(decision_id="d1", reference="r", president=MEXICO)
    )
    await c.decide_presidency(
        PresidencyWorkflow.replace_designate,
        dec.ReplaceDesignate(decision_id="r1", reference="r", position=1, president=President(state="Peru")),
    )
    plan = (await c.presidency()).meeting
    await c.sleep_past_end_of(plan.last_day)
    for _ in range(20):  # the handover follows the meeting's end
        if (await c.presidency()).term >= 2:
            break
        await env.sleep(timedelta(hours=1))
    assert (await c.presidency()).term >= 2
    await save(c.handle, "presidency-tells-meeting-when-it-acts", first_run)
    await c.stop()


async def committee_and_cycle(
    env: WorkflowEnvironment, worker: Worker, url: str, code: str, today: date
) -> tuple[WorkflowHandle[Any, Any], Cycle]:
    """A committee told of the first term, then the cycle whose Presidency tells it; its meeting 20 days on."""
    state = initial_state(
        code, today, [part(today + timedelta(days=20))], money=Money(conference_services_url=url)
    )
    committee = await env.client.start_workflow(
        CommitteeWorkflow.run,
        cm.CommitteeState(
            presidency=cm.PresidencyView(
                term=1, president=state.president, designates=state.designates, meeting="14MSP"
            )
        ),
        id=committee_id(code),
        task_queue=worker.task_queue,
    )
    return committee, await Cycle(env, worker, state).start()


async def record_committee(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """The committee's first term (told by the Presidency, coordinators appointed, a meeting scheduled and recorded,
    a task reminded and escalated, a group member added) up to the handover, and the Presidency that told it."""
    today = (await env.get_current_time()).date()
    committee, c = await committee_and_cycle(env, worker, url, "ccm", today)
    first_run = committee.result_run_id
    presidency_run = c.handle.result_run_id
    # Once the term has been told, a designation is told again.
    await env.sleep(timedelta(minutes=1))
    await c.decide_presidency(
        PresidencyWorkflow.designate, dec.Designate(decision_id="d1", reference="MSP/14/7", president=MEXICO)
    )
    await decide(
        committee,
        CommitteeWorkflow.appoint,
        cm.Appoint(decision_id="a1", reference="MSP/14/30", theme=cm.Theme.TRANSPARENCY, states=["Peru"]),
    )
    await decide(
        committee,
        CommitteeWorkflow.add_group_member,
        cm.AddGroupMember(
            decision_id="g1", reference="MSP/14/31", article=Article.ART4, member="Switzerland"
        ),
    )
    await decide(
        committee,
        CommitteeWorkflow.assign_task,
        cm.AssignTask(
            decision_id="t1",
            reference="CC/1",
            theme=cm.Theme.TRANSPARENCY,
            title="Guide",
            due=today + timedelta(days=5),
        ),
    )
    await decide(
        committee,
        CommitteeWorkflow.schedule_meeting,
        cm.ScheduleMeeting(
            decision_id="m1", reference="letter", on=today + timedelta(days=2), agenda="Tasks."
        ),
    )
    await c.sleep_until_day(today + timedelta(days=7))
    await decide(
        committee,
        CommitteeWorkflow.record_meeting,
        cm.RecordMeeting(
            decision_id="r1", reference="CC/1", meeting=1, attended=["Austria"], conclusions="Noted."
        ),
    )
    await c.sleep_past_end_of(today + timedelta(days=23))
    assert (await c.presidency()).term == 2
    await save(committee, "committee", first_run)
    await save(c.handle, "presidency-tells-committee", presidency_run)
    await c.stop()
    await end(committee)


async def record_committee_once_a_minute(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A Presidency whose designates change twice within a minute: the committee hears of both in one signal, a
    minute after the first (``presidency-tells-committee-once-a-minute``)."""
    today = (await env.get_current_time()).date()
    committee, c = await committee_and_cycle(env, worker, url, "ccmb", today)
    presidency_run = c.handle.result_run_id
    await env.sleep(timedelta(minutes=1))
    await c.decide_presidency(
        PresidencyWorkflow.designate, dec.Designate(decision_id="d1", reference="MSP/14/7", president=MEXICO)
    )
    await c.decide_presidency(
        PresidencyWorkflow.replace_designate,
        dec.ReplaceDesignate(
            decision_id="d2", reference="MSP/14/8", position=2, president=President(state="Peru")
        ),
    )
    await env.sleep(timedelta(minutes=2))
    told = await committee.query(CommitteeWorkflow.state)
    assert [p.state for p in told.presidency.designates][-1] == "Peru", told.presidency
    await c.sleep_past_end_of(today + timedelta(days=23))
    assert (await c.presidency()).term == 2
    await save(c.handle, "presidency-tells-committee-once-a-minute", presidency_run)
    await c.stop()
    await end(committee)


async def record_host_surplus(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A meeting moved to Lausanne tells its ledger (behind the patch ``ledger-host-surplus``), which invoices the host
    the surplus and the States, with a State not party registered, the Geneva baseline; the host pays; the meeting
    moves back to Geneva and the surplus is withdrawn."""
    today = (await env.get_current_time()).date()
    roster = Roster(
        members=[Member(state=s, in_force=date(2011, 6, 1)) for s in ("Austria", "Chile", "Switzerland")]
        + [Member(state="Angola")]
    )
    convention = Convention(code="ccm", money=Money(conference_services_url=url)).with_roster(roster, today)
    ledger = await start_ledger(
        env.client,
        LedgerState(convention="ccm", meeting="17MSP", states_parties=roster.attending(), roster=roster),
        worker.task_queue,
    )
    plan = MeetingPlan(
        ref=MeetingRef(number=17, kind=MeetingKind.MSP), parts=[part(today + timedelta(days=90))]
    )
    meeting = await env.client.start_workflow(
        MeetingWorkflow.run,
        MeetingInput(
            convention=convention, plan=plan, president=AUSTRIA, successor=CHILE, funds_id=ledger.id
        ),
        id=meeting_id(convention, plan.ref),
        task_queue=worker.task_queue,
    )
    start = plan.first_day
    moved = dec.SetDates(decision_id="m1", reference="letter", start=start, place="Lausanne")
    await decide(
        meeting,
        MeetingWorkflow.set_dates,
        moved.model_copy(update={"host_covering_extra_cost": "Switzerland"}),
    )
    await env.sleep(timedelta(minutes=1))
    for update, d in [
        (MeetingFundsWorkflow.set_estimate, SetEstimate(decision_id="e1", reference="r", amount=400_000)),
        (
            MeetingFundsWorkflow.set_surplus,
            SetSurplus(decision_id="s1", reference="r", amount=150_000, due=today),
        ),
        (
            MeetingFundsWorkflow.register_not_party,
            RegisterNotParty(decision_id="n1", reference="r", state="Angola"),
        ),
        (
            MeetingFundsWorkflow.assess,
            Assess(
                decision_id="a1", reference="r", shares={"Austria": 50, "Chile": 40, "Angola": 10}, due=today
            ),
        ),
        (
            MeetingFundsWorkflow.record_payment,
            Payment(decision_id="p1", reference="bank", state="Switzerland", amount=100_000, surplus=True),
        ),
    ]:
        await decide(ledger, update, d)
    await decide(
        meeting,
        MeetingWorkflow.set_dates,
        dec.SetDates(decision_id="m2", reference="letter", start=start, place="Geneva"),
    )
    await env.sleep(timedelta(minutes=1))
    state: LedgerState = await ledger.query(MeetingFundsWorkflow.ledger)
    assert state.surplus["Switzerland"].withdrawn and state.assessments["Angola"].amount == 40_000, state
    await save(ledger, "funds-host-surplus")
    await save(meeting, "meeting-away")
    await end(meeting, ledger)


async def record_isu(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A budget year of three States: adopted, invoiced at once, an expense committed, one payment, a draw on the
    reserve for the shortfall, a payment that repays it first, a reminder to the unpaid, the year closed with its
    arrears carried; and the reserve through the same (contribution, a draw refused, a draw, a repayment)."""
    year = (await env.get_current_time()).year + 1
    tq = worker.task_queue
    reserve = await env.client.start_workflow(
        CapitalReserveWorkflow.run, ReserveState(), id=isu_reserve_id("ccm"), task_queue=tq
    )
    states = ["Austria", "Chile", "Senegal"]
    inp = IsuBudgetInput(
        year=year, states_parties=states, languages={"Chile": Language.ES, "Senegal": Language.FR}
    )
    budget = await env.client.start_workflow(
        IsuBudgetWorkflow.run, inp, id=isu_budget_id("ccm", year), task_queue=tq
    )
    lines = [BudgetLine(state=st, amount=100_000, category="B") for st in states]
    adopt = AdoptBudget(
        decision_id="b1", reference="r", total=300_000, lines=lines, due=date(year, 3, 31),
        reminders=[date(year, 5, 1)],
    )  # fmt: skip
    await budget.execute_update(IsuBudgetWorkflow.adopt, adopt)
    await reserve.execute_update(
        CapitalReserveWorkflow.contribute,
        ContributeReserve(decision_id="c1", reference="r", donor="Norway", amount=400_000),
    )
    await budget.execute_update(
        IsuBudgetWorkflow.commit_expense,
        CommitExpense(decision_id="x1", reference="r", amount=150_000, purpose="salaries"),
    )
    await budget.execute_update(
        IsuBudgetWorkflow.pay, IsuPayment(decision_id="p1", reference="r", state="Austria", amount=100_000)
    )
    await env.sleep(timedelta(minutes=1))
    with contextlib.suppress(WorkflowUpdateFailedError):
        await reserve.execute_update(
            CapitalReserveWorkflow.draw,
            Draw(decision_id="d0", reference="r", year=year, amount=10_000, purpose="a meeting"),
        )
    await reserve.execute_update(
        CapitalReserveWorkflow.draw, Draw(decision_id="d1", reference="r", year=year, amount=50_000)
    )
    await env.sleep(timedelta(minutes=1))
    await budget.execute_update(
        IsuBudgetWorkflow.pay, IsuPayment(decision_id="p2", reference="r", state="Chile", amount=60_000)
    )
    await budget.result()
    await save(budget, "isu-budget")
    await save(reserve, "isu-reserve")
    await end(reserve, env.client.get_workflow_handle(isu_budget_id("ccm", year + 1)))


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
            expert(f"a{n}", state_name, f"D {n}", cost, reference="form"),
        )
    await decide(h, SponsorshipWorkflow.grant, Grant(decision_id="g0", reference="ISU", application="a0"))
    await decide(h, SponsorshipWorkflow.grant, Grant(decision_id="g1", reference="ISU", application="a1"))
    await decide(h, SponsorshipWorkflow.decline, Decline(decision_id="d2", reference="ISU", application="a2"))
    new_start = plan.first_day + timedelta(days=14)
    await c.decide_meeting(
        MeetingWorkflow.postpone, dec.Postpone(decision_id="p1", reference="letter", new_start=new_start)
    )
    await c.sleep_until_day(new_start + timedelta(days=5), hour=12)
    report = await h.result()
    assert report["delegates"] == 1 and report["refused_by_agent"] == 1, report
    await save(await c.meeting_handle(), "meeting-sponsorship")
    await save(h, "sponsorship")
    await c.stop()


async def record_queue_places(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A ledger telling each waiting document its place in the queue (behind the patch
    ``ledger-tells-queue-places``): two documents wait; a payment funds the first in part, then all of it, and the
    second moves up; then both are funded and the second's place is cleared."""
    today = (await env.get_current_time()).date()
    money = Money(conference_services_url=url)
    ledger = await start_assessed_ledger(
        env, worker, LedgerState(convention="ccm", meeting="17MSP"), {"Chile": 100}, today, ("e1", "a1")
    )
    due = today + timedelta(days=60)
    docs = await start_queued_documents(
        env,
        worker,
        [
            DocumentInput(spec=report(f"CCM/MSP/2030/{n}", "17MSP", due), money=money, funds_id=ledger.id)
            for n in (1, 2)
        ],
    )
    language = 2 * 180
    for n, amount in enumerate((2 * language, 3 * language, 5 * language), start=1):
        await ledger.execute_update(
            MeetingFundsWorkflow.record_payment,
            Payment(decision_id=f"pay{n}", reference="bank advice", state="Chile", amount=amount),
        )
        await env.sleep(timedelta(minutes=1))
        second = await docs[1].query(DocumentWorkflow.state)
        assert (second.queue.place if second.queue else None) == (4, 1, None)[n - 1], second
    await save(ledger, "funds-queue-places")
    await save(docs[1], "document-queue-place")
    await end(*docs, ledger)


async def record_one_call_per_grant(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A document whose five languages one payment funds at once: one ``submit_translations`` activity for the five
    (behind the patch ``document-one-call-per-grant``), then each language delivered."""
    today = (await env.get_current_time()).date()
    ledger = await start_assessed_ledger(
        env, worker, LedgerState(convention="ccm", meeting="18MSP"), {"Chile": 100}, today, ("e1", "a1")
    )
    spec = report("CCM/MSP/2031/1", "18MSP", today + timedelta(days=60))
    [doc] = await start_queued_documents(
        env, worker, [DocumentInput(spec=spec, money=Money(conference_services_url=url), funds_id=ledger.id)]
    )
    await ledger.execute_update(
        MeetingFundsWorkflow.record_payment,
        Payment(decision_id="pay1", reference="bank advice", state="Chile", amount=100_000),
    )
    await env.sleep(timedelta(minutes=1))
    await deliver_translations(doc, spec.original_language, "one-call")
    state = await doc.result()
    assert {t.status for t in state.translations.values()} == {LanguageStatus.ISSUED}, state
    await save(doc, "document-one-call-per-grant")
    with contextlib.suppress(RPCError):  # closed already, its last document issued
        await end(ledger)


async def record_late_start(env: WorkflowEnvironment, worker: Worker, url: str) -> None:
    """A review and a deadline watch begun 400 days after their due date and deadline: the escalation or notice at
    once, then the cadence's next reminder from that day, not every one missed (patch
    ``overdue-reminders-from-start``). The ``*-late-start-before-patch`` histories are this recorder run on the code
    before that patch (16 reminders in one burst): replayed, they show the patch leaves such runs as they ran."""
    today = (await env.get_current_time()).date()
    past = today - timedelta(days=400)
    review = await start_review(
        env.client,
        rv.ReviewInput(
            spec=review_spec(
                "synergies", "synergies with other support units", rv.DuePoint(kind=rv.DueKind.DATE, on=past)
            )
        ),
        worker.task_queue,
    )
    watch = await env.client.start_workflow(
        DeadlineWatchWorkflow.run,
        WatchInput(state="Peru", article="3", deadline=past, meeting_on=past, leads=(1,)),
        id=watch_id("ccm", "3", "Peru"),
        task_queue=worker.task_queue,
    )
    await env.sleep(timedelta(days=31))
    await save(review, "review-late-start")
    await save(watch, "watch-late-start")
    await end(review, watch)


RECORDERS = {
    "register": record_register,
    "cycle": record,
    "extension": record_extension,
    "report": record_report,
    "review-overdue": record_review_overdue,
    "silence-undeliverable": record_silence_undeliverable,
    "withdrawal": record_withdrawal,
    "order-of-need": record_order_of_need,
    "committee": record_committee,
    "committee-once-a-minute": record_committee_once_a_minute,
    "host-surplus": record_host_surplus,
    "isu": record_isu,
    "sponsorship": record_sponsorship,
    "cadences": record_cadences,
    "queue-places": record_queue_places,
    "one-call-per-grant": record_one_call_per_grant,
    "late-start": record_late_start,
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
