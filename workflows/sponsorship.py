"""SponsorshipWorkflow: one meeting's Sponsorship Programme (`ccm-sponsorship-14MSP`), started by the meeting's
workflow and told by it when its dates change and when it closes; then it reports and ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import search_attributes as sa
    from domain import sponsorship as rules
    from domain.calendar import local_date, local_instant
    from domain.conference import Receipt
    from domain.funds import chf
    from domain.notifications import Notification
    from domain.sponsorship import (
        MEETING_DATES,
        Application,
        Apply,
        AppointCoordinator,
        Contribute,
        Decline,
        Grant,
        MeetingDates,
        Report,
        SponsorshipState,
        Status,
    )
    from workflows.common import (
        FAIL_ON_INVALID_INPUT,
        SERVICES_RETRY,
        call_or_refusal,
        notify,
        signal_payload,
        start_input,
    )
    from workflows.decisions import Keeps, Rule, decision

# Retried until the travel agent answers, unless it refuses the booking (HTTP 4xx): then the money is released.
TRAVEL_RETRY = RetryPolicy(
    initial_interval=SERVICES_RETRY.initial_interval,
    backoff_coefficient=SERVICES_RETRY.backoff_coefficient,
    maximum_interval=SERVICES_RETRY.maximum_interval,
    non_retryable_error_types=[rules.REFUSED_BY_AGENT],
)


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class SponsorshipWorkflow(Keeps[SponsorshipState]):
    @workflow.init
    def __init__(self, state: SponsorshipState) -> None:
        super().__init__(start_input(state, SponsorshipState), self._changed)
        self.version = 0
        self.waiting_for = "applications and contributions"
        self.outbox: list[tuple[str, str]] = []  # (key, text) for the coordinator

    @workflow.run
    async def run(self, state: SponsorshipState) -> Report:
        while True:
            self._tell_closing()
            await self._book_and_tell()
            if self.s.closed_on is not None and not self.s.to_book():
                break
            version = self.version
            # At midnight, Geneva time: from that day on applications are refused.
            closes = local_instant(self.s.closes_on, 0, 0, self.s.defaults)
            if self.s.closing_told != self.s.closes_on and closes > workflow.now():
                self._refresh(f"applications to close on {self.s.closes_on}")
                timeout: timedelta | None = closes - workflow.now()
            else:
                self._refresh(f"the {self.s.meeting} to close (after its last day, {self.s.last_day})")
                timeout = None
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    self._changed_since(version), timeout=timeout, timeout_summary=self.waiting_for
                )
        self.s.report = rules.report(self.s)
        workflow.logger.info("report: %s", rules.report_text(self.s.report))
        self._tell("report", rules.report_text(self.s.report))
        await self._book_and_tell()
        self._refresh("nothing: the programme has reported")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.s.report

    # The ISU's and the Presidency's decisions.

    @decision
    def contribute(self, d: Contribute) -> Rule[tuple[rules.Contribution, str]]:
        return Rule(lambda: rules.contribute(self.s, d), self._add_contribution)

    @decision
    def apply(self, d: Apply) -> Rule[tuple[Application, str]]:
        return Rule(lambda: rules.apply(self.s, d, self._today()), self._add_application)

    @decision
    def grant(self, d: Grant) -> Rule[tuple[str, str]]:
        return Rule(lambda: rules.grant(self.s, d), self._status(Status.GRANTED))

    @decision
    def decline(self, d: Decline) -> Rule[tuple[str, str]]:
        return Rule(lambda: rules.decline(self.s, d), self._status(Status.DECLINED))

    @decision
    def appoint_coordinator(self, d: AppointCoordinator) -> Rule[tuple[rules.Coordinator, str]]:
        return Rule(lambda: rules.appoint(self.s, d, self._today()), self._set_coordinator)

    # What the meeting tells.

    @workflow.signal(name=MEETING_DATES)
    def meeting_dates(self, m: MeetingDates) -> None:
        if not signal_payload(m, MeetingDates, MEETING_DATES) or self.s.report is not None:
            return
        self.s.first_day, self.s.last_day, self.s.closed_on = m.first_day, m.last_day, m.closed_on
        self._changed()

    @workflow.query
    def state(self) -> SponsorshipState:
        return self.s

    # Internals.

    def _add_contribution(self, result: tuple[rules.Contribution, str]) -> str:
        self.s.contributions.append(result[0])
        return result[1]

    def _add_application(self, result: tuple[Application, str]) -> str:
        self.s.applications.append(result[0])
        return result[1]

    def _status(self, status: Status) -> Callable[[tuple[str, str]], str]:
        def apply(result: tuple[str, str]) -> str:
            application, summary = result
            rules.set_status(self.s, application, status, None, "")
            if status is Status.DECLINED:
                self._tell(f"declined-{application}", summary)
            return summary

        return apply

    def _set_coordinator(self, result: tuple[rules.Coordinator, str]) -> str:
        self.s.coordinator = result[0]
        self._tell(
            "appointed",
            f"You are appointed coordinator of the Sponsorship Programme of the {self.s.meeting}.",
        )
        return result[1]

    def _today(self) -> date:
        return local_date(workflow.now(), self.s.defaults)

    def _tell_closing(self) -> None:
        if self.s.closing_told != self.s.closes_on and self._today() >= self.s.closes_on:
            self.s.closing_told = self.s.closes_on
            self._tell(
                f"closed-{self.s.closes_on}",
                f"Applications for the {self.s.meeting} closed on {self.s.closes_on}: "
                f"{len(self.s.applications)} received, {self.s.count(Status.APPLIED)} undecided; balance "
                f"{chf(self.s.balance)}.",
            )

    def _tell(self, key: str, text: str) -> None:
        """Queues a notification for the coordinator, if one is appointed (without one, the ISU alone follows it)."""
        if self.s.coordinator is not None:
            self.outbox.append((key, text))
            self.version += 1

    async def _book_and_tell(self) -> None:
        """Books each granted delegate's travel, then sends the coordinator what is queued; until none is left."""
        while (todo := self.s.to_book()) or self.outbox:
            await asyncio.gather(*(self._book(a) for a in todo))
            notes, self.outbox = self.outbox, []
            await asyncio.gather(*(self._send(key, text) for key, text in notes))

    async def _book(self, a: Application) -> None:
        booking = rules.TravelBooking(
            base_url=self.s.travel_agent_url,
            idempotency_key=f"{workflow.info().workflow_id}/{a.id}",
            meeting=self.s.meeting,
            application=a.id,
            state=a.state,
            delegate=a.delegate,
            function=a.function,
            travel_cost=a.travel_cost,
            arrive_by=self.s.first_day,
            leave_after=self.s.last_day,
        )
        summary = f"book the travel of application {a.id} ({a.state})"
        receipt = await call_or_refusal(
            rules.BOOK_TRAVEL, booking, Receipt, TRAVEL_RETRY, summary, rules.REFUSED_BY_AGENT
        )
        if isinstance(receipt, ApplicationError):
            note = receipt.message[:300]
            rules.set_status(self.s, a.id, Status.REFUSED_BY_AGENT, None, note)
            text = f"The travel agent refused application {a.id} ({a.state}); {chf(a.travel_cost)} released."
            workflow.logger.info("booking refused: application %s", a.id)
        else:
            rules.set_status(self.s, a.id, Status.BOOKED, receipt.reference, "")
            text = f"Travel booked for application {a.id} ({a.state}): {receipt.reference}."
        self._tell(f"booking-{a.id}", text)
        self._changed()

    async def _send(self, key: str, text: str) -> None:
        c = self.s.coordinator
        assert c is not None
        note = Notification(
            webhook=c.webhook,
            idempotency_key=f"{workflow.info().workflow_id}:{key}",
            text=text,
            kind="sponsorship",
            due=self.s.first_day.isoformat(),
            subject=f"sponsorship-{self.s.meeting}",
        )
        await notify(note, f"sponsorship: {key}", self.s.undeliverable)

    def _changed_since(self, version: int) -> Callable[[], bool]:
        return lambda: self.version != version

    def _changed(self) -> None:
        self.version += 1
        self._refresh(self.waiting_for)

    def _refresh(self, waiting_for: str) -> None:
        self.waiting_for = waiting_for
        self._upsert_kind(
            sa.Kind.SPONSORSHIP,
            self.s.convention,
            sa.MEETING.value_set(self.s.meeting),
            sa.PHASE.value_set(self.s.phase(self._today()).value),
            sa.BALANCE.value_set(float(self.s.balance)),
            undeliverable=bool(self.s.undeliverable),
        )
        workflow.set_current_details(rules.details(self.s, self._today(), waiting_for))
