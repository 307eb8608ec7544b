"""The scenario of `bench/five_years.py`: five meetings with their money, documents, reviews and extension
requests, driven with the steps the tests use (tests/scenario.py)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from bench.common import BenchError, bounded
from domain.calendar import day_end
from domain.decisions import AddPart, Designate
from domain.documents import DocumentInput, DocumentSpec, LanguageStatus
from domain.extensions import (
    Analysis,
    Article,
    DeclareCompletion,
    ExtensionInput,
    ExtensionRequest,
    MeetingSlot,
)
from domain.funds import Assess, Payment, SetEstimate
from domain.ids import funds_id, presidency_id, review_id, silence_id
from domain.models import Language, MeetingKind, Money, President
from domain.presidency import PresidencyState
from domain.reviews import Conclude, DueKind, DuePoint, Mandate, ReviewInput, ReviewsOfMeeting, ReviewSpec
from tests import scenario
from workflows.document import DocumentWorkflow
from workflows.extension import ExtensionRequestWorkflow
from workflows.funds import MeetingFundsWorkflow
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow
from workflows.review import ReviewWorkflow

CODE = "ccm"
TASK_QUEUE = "ccm-bench-years"
MEETINGS = 5
DOCUMENTS_PER_MEETING = 20
REVIEWS = 3
EXTENSIONS = 6
PAGES = 2
CONCURRENCY = 10  # client calls in flight
SUCCESSORS = [President(state=s) for s in ("Chile", "Mexico", "Norway", "Peru", "Ghana", "Japan")]
EXTENDING = ["Lao People's Democratic Republic", "Chile", "Iraq", "Lebanon", "Germany", "Mauritania"]


@activity.defn(name="tell_reviews_meeting_moved")
async def no_reviews_at_meetings(m: ReviewsOfMeeting) -> int:
    """Stands in for the activity that finds the reviews due at a meeting through visibility, which the
    time-skipping server lacks (ListWorkflowExecutions is unimplemented there); this scenario's reviews are due on
    dates, so there are none to tell."""
    return 0


STAND_INS = {"tell_reviews_meeting_moved": no_reviews_at_meetings}


async def assessed(ledger: WorkflowHandle[Any, Any], tag: str, amount: int, due: date) -> None:
    """A ledger with a cost estimate of ``amount`` adopted and assessed on one State (Austria), due ``due``."""
    await scenario.decide(
        ledger,
        MeetingFundsWorkflow.set_estimate,
        SetEstimate(decision_id=f"e-{tag}", reference="estimate", amount=amount),
    )
    await scenario.decide(
        ledger,
        MeetingFundsWorkflow.assess,
        Assess(decision_id=f"a-{tag}", reference="assessment", shares={"Austria": 100.0}, due=due),
    )


class Scenario:
    def __init__(self, env: WorkflowEnvironment, receiver_url: str) -> None:
        self.env = env
        self.client: Client = env.client
        self.money = Money(conference_services_url=receiver_url)
        self.started: list[tuple[str, str | None]] = []  # (workflow id, first run id) for the histories
        self.docs: list[str] = []
        self.meetings: list[str] = []

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def presidency(self) -> PresidencyState:
        s: PresidencyState = await self.presidency_handle.query(PresidencyWorkflow.state)
        return s

    async def run(self) -> None:
        today = (await self.now()).date()
        self.state0 = scenario.initial_state(
            CODE, today, [scenario.part(today + timedelta(days=40))], kind=MeetingKind.RC, money=self.money
        )
        self.presidency_handle = await self.client.start_workflow(
            PresidencyWorkflow.run,
            self.state0,
            id=presidency_id(self.state0.convention),
            task_queue=TASK_QUEUE,
        )
        self.started.append((self.presidency_handle.id, self.presidency_handle.result_run_id))
        await self.start_reviews(today)
        extensions = await self.start_extensions(today)
        for term in range(1, MEETINGS + 1):
            await self.term(term)
            if term == 3:
                await self.conclude_review()
            if term == 4:
                await self.complete_extensions(extensions[:3])

    async def term(self, term: int) -> None:
        s = await self.presidency()
        for _ in range(50):
            if s.term == term and s.meeting_started:
                break
            await asyncio.sleep(0.02)
            s = await self.presidency()
        if s.term != term or not s.meeting_started:
            raise BenchError(f"term {term} did not begin (the Presidency is in term {s.term})")
        if s.meeting.ref.kind is MeetingKind.RC:
            s = await self.split(s)
        plan = s.meeting
        label = plan.ref.label
        self.meetings.append(label)
        self.started.append((scenario.meeting_handle(self.client, s.convention, plan.ref).id, None))
        ledger = self.client.get_workflow_handle(funds_id(CODE, label))
        self.started.append((ledger.id, None))
        days = sum(p.days for p in plan.parts)
        await self.fund(ledger, label, days)
        year = plan.first_day.year
        docs = await bounded(
            CONCURRENCY,
            (
                scenario.start_document(
                    self.client,
                    DocumentInput(
                        convention=CODE,
                        spec=DocumentSpec(
                            symbol=f"CCM/{label}/{year}/{i}",
                            title=f"Document {i} of the {label}",
                            pages=PAGES,
                            meeting=label,
                            due=plan.first_day,
                        ),
                        money=self.money,
                        funds_id=ledger.id,
                    ),
                    TASK_QUEUE,
                )
                for i in range(1, DOCUMENTS_PER_MEETING + 1)
            ),
        )
        self.started += [(d.id, d.result_run_id) for d in docs]
        self.docs += [d.id for d in docs]
        await self.env.sleep(timedelta(hours=1))
        await self.until_in_translation(docs, len(Language) - 1)
        await bounded(CONCURRENCY, (scenario.deliver_translations(d, Language.EN, f"{d.id}-") for d in docs))
        now_state = await self.presidency()
        if not now_state.designates:
            taken = [now_state.president, *(h.president for h in now_state.history)]
            successor = next(p for p in SUCCESSORS if not any(p.same_state(t) for t in taken))
            designate = Designate(
                decision_id=f"designate-{term}", reference=f"term {term}", president=successor
            )
            await scenario.decide(self.presidency_handle, PresidencyWorkflow.designate, designate)
        await scenario.sleep_until(
            self.env, day_end(plan.last_day, self.state0.convention.defaults) + timedelta(hours=1)
        )

    async def split(self, s: PresidencyState) -> PresidencyState:
        """The Review Conference split by decision into two parts 80 days apart; the Presidency's state once the
        meeting has told it (by signal) of its new plan."""
        label = s.meeting.ref.label
        split = AddPart(
            decision_id=f"split-{label}",
            reference="CCM/CONF/1",
            start=s.meeting.last_day + timedelta(days=80),
            duration_days=2,
        )
        await scenario.decide(
            scenario.meeting_handle(self.client, s.convention, s.meeting.ref), MeetingWorkflow.add_part, split
        )
        for _ in range(100):
            s = await self.presidency()
            if len(s.meeting.parts) == 2:
                return s
            await asyncio.sleep(0.02)
        raise BenchError(f"the Presidency did not learn that the {label} has two parts")

    async def fund(self, ledger: WorkflowHandle[Any, Any], label: str, days: int) -> None:
        """A cost estimate covering the documents' translations and the days' interpretation, assessed on one
        State and paid at once."""
        amount = (
            DOCUMENTS_PER_MEETING * 5 * PAGES * self.money.translation_rate_per_page[Language.FR]
            + days * self.money.interpretation_per_day
        )
        await assessed(ledger, label, amount, (await self.now()).date() + timedelta(days=30))
        await scenario.decide(
            ledger,
            MeetingFundsWorkflow.record_payment,
            Payment(decision_id=f"p-{label}", reference="bank", state="Austria", amount=amount, force=True),
        )

    async def until_in_translation(self, docs: list[Any], languages: int) -> None:
        """Until conference services have every job of these documents (each language in translation)."""
        waiting = len(docs) * languages
        for _ in range(500):
            states = await bounded(CONCURRENCY, (d.query(DocumentWorkflow.state) for d in docs))
            waiting = sum(
                1
                for s in states
                for t in s.translations.values()
                if t.status is not LanguageStatus.IN_TRANSLATION
            )
            if waiting == 0:
                return
            await asyncio.sleep(0.02)
        states = await bounded(CONCURRENCY, (d.query(DocumentWorkflow.state) for d in docs[:1]))
        raise BenchError(
            f"{waiting} translations of the {len(docs)} documents are still not in translation; the first: "
            f"{ {k.value: t.status.value for k, t in states[0].translations.items()} }"
        )

    async def start_reviews(self, today: date) -> None:
        for i in range(1, REVIEWS + 1):
            spec = ReviewSpec(
                subject=f"review-{i}",
                title=f"mandated review {i}",
                mandate=Mandate(decided_by="3rd Review Conference", reference="CCM/CONF/2026/6"),
                due=DuePoint(kind=DueKind.DATE, on=today + timedelta(days=365 * i)),
            )
            h = await scenario.start_review(self.client, ReviewInput(convention=CODE, spec=spec), TASK_QUEUE)
            self.started.append((h.id, h.result_run_id))

    async def conclude_review(self) -> None:
        await scenario.decide(
            self.client.get_workflow_handle(review_id(CODE, "review-1")),
            ReviewWorkflow.conclude,
            Conclude(decision_id="conclude-1", reference="final report", outcome="Fit for purpose"),
        )

    async def start_extensions(self, today: date) -> list[WorkflowHandle[Any, Any]]:
        now = await self.now()
        handles = []
        for i, state in enumerate(EXTENDING):
            request = ExtensionRequest(
                state=state,
                article=Article.ART4,
                entry_into_force=date(today.year - 9, 6, 1),
                current_deadline=date(today.year + 1, 6, 1) + timedelta(days=30 * i),
                submitted_on=today,
                requested_months=24 + 6 * i,
                plan="Survey and clearance of the remaining areas.",
                reference=f"CCM/MSP/{today.year}/{i + 4}",
            )
            inp = ExtensionInput(
                convention=CODE,
                request=request,
                meeting=MeetingSlot(label="15MSP", first_day=today + timedelta(days=400)),
                next_meeting=MeetingSlot(label="16MSP", first_day=today + timedelta(days=765)),
            )
            h = await scenario.start_extension(self.client, inp, TASK_QUEUE)
            self.started.append((h.id, h.result_run_id))
            handles.append(h)
            analysis = Analysis(decision_id=f"an-{i}", reference="AG4 report", summary="A sound plan.")
            await scenario.decide(h, ExtensionRequestWorkflow.analyse, analysis)
            proposal = scenario.proposal_by_silence(f"sp-{i}", f"ext-{i}", now + timedelta(days=20))
            await scenario.decide(h, ExtensionRequestWorkflow.put_to_silence, proposal)
            self.started.append((silence_id(CODE, f"ext-{i}"), None))
        return handles

    async def complete_extensions(self, handles: list[WorkflowHandle[Any, Any]]) -> None:
        today = (await self.now()).date()
        for i, h in enumerate(handles):
            done = DeclareCompletion(decision_id=f"done-{i}", reference="note verbale", completed_on=today)
            await scenario.decide(h, ExtensionRequestWorkflow.declare_completion, done)
