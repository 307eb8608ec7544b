"""`msp simulate`: a scenario (domain/scenario.py) run by the engine's real workflows and activities on the
time-skipping test server, with a local receiver for conference services and notifications.

The scenario's dates are moved forward by whole years to lie ahead of the server's clock (the time-skipping server
cannot go back), and every date reported is moved back. Conference services are simulated: a translation funded is
delivered ``translation_days`` after its grant. Each meeting's ledger is given a cost estimate (its documents'
translations and its days' interpretation) and an assessment shared as the payments expected for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import re
import tempfile
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.calendar import day_end, day_start, local_date, meeting_days
from domain.config import CycleConfig
from domain.documents import Delivered, DocumentInput, DocumentSpec, DocumentState, LanguageStatus
from domain.funds import Assess, Payment, SetEstimate
from domain.ids import document_id, funds_id, meeting_id, presidency_id, review_id
from domain.meeting import MeetingState
from domain.models import Language, MeetingKind, MeetingRef
from domain.presidency import PresidencyState
from domain.reviews import ReviewInput
from domain.scenario import PRESIDENCY_DECISIONS, Scenario, shift, shifted_config, submitted_on
from starter.simdriver import (
    STAND_INS,
    decide,
    quiet_runtime,
    sleep_until,
    time_skipping,
    worker_with_receiver,
)
from starter.simulation_collect import collect, read_notifications
from starter.simulation_report import (
    DecisionDone,
    PaymentDone,
    SimulationResult,
)
from workflows.document import DocumentWorkflow
from workflows.funds import MeetingFundsWorkflow
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow
from workflows.review import ReviewWorkflow

TASK_QUEUE = "ccm-simulate"
# Events of a day happen at noon Geneva time: after a meeting day has opened (10:00), as the 9th MSP's money did.
EVENT_HOUR = 12
_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


class Simulation:
    def __init__(self, env: WorkflowEnvironment, url: str, scenario: Scenario, cfg: CycleConfig) -> None:
        self.env = env
        self.client: Client = env.client
        self.scenario = scenario
        self.origin = cfg.presidency.term_began_on
        self.years = 0  # set in run(): how far ahead the scenario is moved
        self.cfg0 = cfg
        self.url = url
        self.events: list[tuple[datetime, int, Callable[[], Awaitable[None]]]] = []
        self.seq = 0
        self.docs: dict[str, WorkflowHandle[Any, Any]] = {}
        # What the running workflows answered, kept so that collect() need not replay ended ones.
        self.meetings: dict[str, MeetingState] = {}
        self.funded: dict[str, date] = {}
        self.issued: dict[str, dict[Language, date]] = {}
        # Documents with a translation still waiting for money.
        self.waiting: dict[str, WorkflowHandle[Any, Any]] = {}
        self.delivering: set[tuple[str, Language]] = set()
        self.assessed: set[str] = set()
        self.result = SimulationResult(start=self.origin, end=self.origin)

    # Dates, both ways.

    def ahead(self, day: date) -> date:
        return shift(day, self.years)

    def back(self, day: date) -> date:
        return shift(day, -self.years)

    def back_text(self, text: str) -> str:
        return _DATE.sub(lambda m: self.back(date.fromisoformat(m.group(0))).isoformat(), text)

    def at(self, day: date, hour: int = EVENT_HOUR) -> datetime:
        return day_start(self.ahead(day), self.defaults) + timedelta(
            hours=hour - self.defaults.day_start_hour
        )

    def later(self, when: datetime, step: Callable[[], Awaitable[None]]) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, step))

    async def today(self) -> date:
        return local_date(await self.env.get_current_time(), self.defaults)

    # The run.

    async def run(self) -> SimulationResult:
        now = local_date(await self.env.get_current_time(), self.cfg0.defaults)
        self.years = max(0, now.year - self.origin.year + 1)
        self.cfg = shifted_config(self.cfg0, self.years, self.url)
        self.defaults = self.cfg.defaults
        self.code = self.cfg.convention.code
        end = shift(self.origin, self.scenario.years)
        self.result = SimulationResult(start=self.origin, end=end)
        await sleep_until(self.env, day_start(self.ahead(self.origin), self.defaults))
        state0 = self.cfg.initial_state()
        self.presidency = await self.client.start_workflow(
            PresidencyWorkflow.run, state0, id=presidency_id(state0.convention), task_queue=TASK_QUEUE
        )
        await self.start_reviews()
        for d in self.scenario.documents:
            self.later(self.at(submitted_on(d)), lambda d=d: self.submit(d))  # type: ignore[misc]
        for n, p in enumerate(self.scenario.payments, start=1):
            self.later(self.at(p.on), lambda n=n, p=p: self.pay(n, p))  # type: ignore[misc]
        for f in self.scenario.decisions:
            self.later(self.at(f.on), lambda f=f: self.decide(f))  # type: ignore[misc]
        stop = day_start(self.ahead(end), self.defaults)
        await self.watch_meeting()
        while self.events and self.events[0][0] <= stop:
            when, _, step = heapq.heappop(self.events)
            await sleep_until(self.env, when)
            await step()
            if self.waiting and not _is_delivery(step, self):
                await self.env.sleep(timedelta(minutes=5))  # grants reach their documents
                await self.schedule_deliveries()
        await sleep_until(self.env, stop)
        # Translations funded by the end are still delivered, so that each such document's issue date is known.
        if self.waiting:
            await self.schedule_deliveries()
        while self.events:
            when, _, step = heapq.heappop(self.events)
            if _is_delivery(step, self):
                await sleep_until(self.env, when)
                await step()
        await collect(self, end)
        return self.result

    async def watch_meeting(self) -> None:
        """Opens the ledger of the Presidency's meeting; looks again once that meeting is over."""
        s = await self.presidency_state()
        label = s.meeting.ref.label
        if s.meeting_started and label not in self.assessed:
            await self.open_ledger(label, s)
        end = day_end(s.meeting.last_day, self.defaults)
        if s.meeting_started:
            self.later(end - timedelta(minutes=30), functools.partial(self.capture_meeting, label))
        self.later(end + timedelta(hours=1), self.watch_meeting)

    async def capture_meeting(self, label: str) -> None:
        """The meeting's state late on its last day, while it runs: once it has closed, a query replays it."""
        with contextlib.suppress(Exception):  # not running (moved, closed early): collect() asks it then
            self.meetings[label] = await self.meeting_handle(label).query(MeetingWorkflow.state)

    def meeting_handle(self, label: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(meeting_id(self.cfg.convention_settings(), _ref(label)))

    async def open_ledger(self, label: str, s: PresidencyState) -> None:
        """The ledger's cost estimate and assessment, shared as the payments expected for this meeting."""
        self.assessed.add(label)
        paying: dict[str, int] = {}
        for p in self.scenario.payments:
            if p.meeting == label:
                paying[p.state] = paying.get(p.state, 0) + p.amount
        if not paying:
            return
        money = self.cfg.money
        translations = sum(
            d.pages
            * sum(money.translation_rate_per_page[lang] for lang in Language if lang != d.original_language)
            for d in self.scenario.documents
            if d.meeting == label
        )
        estimate = max(
            translations + len(meeting_days(s.meeting)) * money.interpretation_per_day, sum(paying.values())
        )
        total = sum(paying.values())
        shares = {state: round(100 * amount / total, 4) for state, amount in paying.items()}
        ledger = self.client.get_workflow_handle(funds_id(self.code, label))
        await decide(
            ledger,
            MeetingFundsWorkflow.set_estimate,
            SetEstimate(
                decision_id=f"sim-estimate-{label}", reference="simulated cost estimate", amount=estimate
            ),
        )
        await decide(
            ledger,
            MeetingFundsWorkflow.assess,
            Assess(
                decision_id=f"sim-assess-{label}",
                reference="simulated assessment",
                shares=shares,
                due=max(s.meeting.first_day, await self.today()),
            ),
        )

    async def presidency_state(self) -> PresidencyState:
        state: PresidencyState = await self.presidency.query(PresidencyWorkflow.state)
        return state

    async def start_reviews(self) -> None:
        for spec in self.cfg.reviews:
            inp = ReviewInput(
                convention=self.code,
                spec=spec,
                webhook=self.cfg.notifications.webhook,
                cadence_years=self.defaults.review_conference_cadence_years,
                defaults=self.defaults,
            )
            await self.client.start_workflow(
                ReviewWorkflow.run, inp, id=review_id(self.code, spec.subject), task_queue=TASK_QUEUE
            )

    async def ledger_open(self, label: str) -> bool:
        if label in self.assessed:
            return True
        s = await self.presidency_state()
        if s.meeting.ref.label == label and s.meeting_started:
            await self.open_ledger(label, s)
            return True
        return False

    async def submit(self, d: Any) -> None:
        if not await self.ledger_open(d.meeting):
            self.result.notes.append(
                f"{d.symbol}: not submitted, the {d.meeting}'s ledger was not open on {submitted_on(d)}"
            )
            return
        spec = DocumentSpec(
            symbol=d.symbol,
            title=d.title or d.symbol,
            original_language=d.original_language,
            pages=d.pages,
            priority=d.priority,
            meeting=d.meeting,
            due=self.ahead(d.due),
        )
        inp = DocumentInput(
            convention=self.code,
            spec=spec,
            money=self.cfg.money,
            funds_id=funds_id(self.code, d.meeting),
            defaults=self.defaults,
        )
        self.docs[d.symbol] = self.waiting[d.symbol] = await self.client.start_workflow(
            DocumentWorkflow.run, inp, id=document_id(self.code, d.symbol), task_queue=TASK_QUEUE
        )

    async def pay(self, n: int, p: Any) -> None:
        done = PaymentDone(day=p.on, state=p.state, amount=p.amount, meeting=p.meeting)
        self.result.payments.append(done)
        if not await self.ledger_open(p.meeting):
            done.outcome = f"not recorded: the {p.meeting}'s ledger was not open"
            return
        payment = Payment(
            decision_id=f"sim-pay-{n}", reference=p.reference, state=p.state, amount=p.amount, force=True
        )
        done.outcome = await self.send(
            self.client.get_workflow_handle(funds_id(self.code, p.meeting)),
            MeetingFundsWorkflow.record_payment,
            payment,
        )

    async def decide(self, f: Any) -> None:
        if f.kind in PRESIDENCY_DECISIONS:
            handle, update = self.presidency, getattr(PresidencyWorkflow, f.kind)
        else:
            ref = (await self.presidency_state()).meeting.ref
            handle = self.client.get_workflow_handle(meeting_id(self.cfg.convention_settings(), ref))
            update = getattr(MeetingWorkflow, f.kind)
        decision = self.ahead_decision(f.decision)
        outcome = await self.send(handle, update, decision)
        self.result.decisions.append(DecisionDone(day=f.on, kind=f.kind, outcome=outcome))

    def ahead_decision(self, d: Any) -> Any:
        moved = {
            k: self.ahead(v) for k in ("start", "new_start") if isinstance(v := getattr(d, k, None), date)
        }
        return d.model_copy(update=moved)

    async def send(self, handle: WorkflowHandle[Any, Any], update: Any, decision: Any) -> str:
        try:
            outcome = await decide(handle, update, decision)
        except WorkflowUpdateFailedError as e:
            return f"rejected: {self.back_text(str(getattr(e.cause, 'message', e.cause)))}"
        return f"accepted: {self.back_text(str(getattr(outcome, 'summary', outcome)))}"

    async def schedule_deliveries(self) -> None:
        """Conference services deliver each funded translation ``translation_days`` after its grant. Only documents
        with a translation not yet funded are asked (a finished document's query would replay its whole history)."""
        lead = timedelta(days=self.cfg.money.translation_days)
        waiting = list(self.waiting.items())
        states: list[DocumentState] = await asyncio.gather(
            *(h.query(DocumentWorkflow.state) for _, h in waiting)
        )
        for (symbol, h), state in zip(waiting, states, strict=True):
            for lang, t in state.translations.items():
                if t.status is LanguageStatus.IN_TRANSLATION and (symbol, lang) not in self.delivering:
                    self.delivering.add((symbol, lang))
                    granted = local_date(t.granted_at or await self.env.get_current_time(), self.defaults)
                    self.funded[symbol] = max(granted, self.funded.get(symbol, granted))
                    when = day_start(granted + lead, self.defaults) + timedelta(
                        hours=EVENT_HOUR - self.defaults.day_start_hour
                    )
                    self.later(when, functools.partial(self.deliver, symbol, h, lang))
            if all(
                (symbol, lang) in self.delivering
                or t.status not in (LanguageStatus.WAITING_FOR_FUNDS, LanguageStatus.FUNDED)
                for lang, t in state.translations.items()
            ):
                del self.waiting[symbol]

    async def deliver(self, symbol: str, h: WorkflowHandle[Any, Any], lang: Language) -> None:
        with contextlib.suppress(WorkflowUpdateFailedError):  # withdrawn meanwhile
            await decide(
                h, DocumentWorkflow.delivered, Delivered(decision_id=f"sim-dl-{lang}", language=lang)
            )
            # Accepted: the workflow issued this language now.
            self.issued.setdefault(symbol, {})[lang] = await self.today()


def _is_delivery(step: Callable[[], Awaitable[None]], sim: Simulation) -> bool:
    return isinstance(step, functools.partial) and step.func == sim.deliver


def _ref(label: str) -> MeetingRef:
    m = re.fullmatch(r"(\d+)(MSP|RC)", label)
    assert m is not None
    return MeetingRef(number=int(m.group(1)), kind=MeetingKind(m.group(2)))


async def simulate(scenario: Scenario, cfg: CycleConfig, server: str) -> SimulationResult:
    """Runs ``scenario`` from ``cfg`` on the time-skipping server at path ``server``."""
    with tempfile.TemporaryDirectory(prefix="ccm-simulate-") as tmp:
        async with (
            time_skipping(server, runtime=quiet_runtime()) as env,
            # Unsandboxed: the sandbox's checks are for production workers (simdriver.worker_with_receiver).
            worker_with_receiver(env.client, TASK_QUEUE, STAND_INS, directory=Path(tmp), sandboxed=False) as (
                _,
                url,
            ),
        ):
            sim = Simulation(env, url, scenario, cfg)
            result = await sim.run()
            read_notifications(sim, Path(tmp))
    return result
