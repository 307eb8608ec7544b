"""MeetingWorkflow: one MSP or Review Conference, from scheduled through its days in session to its close."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain import meeting_rules as rules
    from domain import search_attributes as sa
    from domain.calendar import Clock, clock, day_start, geneva_time, local_date, meeting_days, next_change
    from domain.conference import InterpretationBooking, Receipt
    from domain.decisions import (
        AddPart,
        ChangeFormat,
        CloseMeeting,
        Decision,
        DecisionOutcome,
        DecisionRecord,
        ExtendByDay,
        Postpone,
        SetDates,
    )
    from domain.funds import FundsRequest
    from domain.meeting import HeldDay, Interpretation, MeetingInput, MeetingState
    from domain.models import Language, MeetingPlan, Phase, President
    from domain.presidency import MeetingClosed, MeetingView
    from domain.reviews import ReviewsOfMeeting
    from domain.views import meeting_details
    from workflows.common import (
        FAIL_ON_INVALID_INPUT,
        SERVICES_RETRY,
        Updates,
        rejected,
        signal_payload,
        start_input,
        upsert_changed,
    )

PlanRule = Callable[[], tuple[MeetingPlan, str]]


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class MeetingWorkflow:
    @workflow.init
    def __init__(self, inp: MeetingInput) -> None:
        self.inp = start_input(inp, MeetingInput)
        self.s = MeetingState(
            convention=inp.convention, plan=inp.plan, president=inp.president, successor=inp.successor
        )
        self.defaults = inp.convention.defaults
        self.upserted: Updates = []
        # Bumped on every change a waiting loop must look at again.
        self.version = 0
        self.published: MeetingView | None = None
        self.waiting_for = "the first day"
        # The last scheduled day ended with no successor to hand over to.
        self.overran = False
        self.interpreting = False
        # Grants for days that are gone or began without interpretation: their money goes back.
        self.late_grants: list[str] = []
        # Days that began without interpretation money: their requests leave the ledger's queue.
        self.unfunded_days: list[date] = []
        self.booking: set[date] = set()
        # The first day reviews were last told of: they move with it.
        self.announced_first_day: date | None = None

    @workflow.run
    async def run(self, inp: MeetingInput) -> MeetingClosed:
        # Meetings started before the ledger existed track no interpretation.
        self.interpreting = inp.funds_id is not None and workflow.patched("interpretation-funds")
        while self.s.closed is None:
            now = workflow.now()
            c = self._observe(now)
            await self._sync_interpretation(now)
            await self._tell_reviews()
            await self._publish()
            version = self.version
            if c.overrun:
                if self.s.successor is not None:
                    if self.overran:
                        self._close(
                            local_date(now, self.defaults),
                            "once a successor was designated, after its last scheduled day",
                        )
                    else:
                        self._close(
                            self.s.plan.last_day, "automatically at the end of its last scheduled day"
                        )
                    break
                self.overran = True
                self._refresh("a President-designate: the meeting cannot close without one")
                await self._wait_for_change(
                    version, None, "past its last day, waiting for a President-designate"
                )
                continue
            change = next_change(self.s.plan, now, self.defaults)
            assert change is not None  # a meeting not yet overrun always has a next day or end
            at, what = change
            self._refresh(f"{what}, {geneva_time(at, self.defaults)}")
            await self._wait_for_change(
                version, max(at - now, timedelta(seconds=1)), f"{self.s.plan.ref.label}: {what}"
            )
        self._refresh("nothing: the meeting is closed")
        await workflow.wait_condition(workflow.all_handlers_finished)
        closed = self.s.closed
        assert closed is not None
        if self.inp.presidency_id:
            await self._publish()
            await workflow.get_external_workflow_handle(self.inp.presidency_id).signal(
                "meeting_closed", closed
            )
        return closed

    async def _wait_for_change(self, version: int, timeout: timedelta | None, summary: str) -> None:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self.version != version or self.s.closed is not None,
                timeout=timeout,
                timeout_summary=summary,
            )

    # Decisions. Each validator runs the same pure rule as its handler, so a rejection changes nothing.

    @workflow.update
    def set_dates(self, d: SetDates) -> DecisionOutcome:
        return self._apply_plan(d, lambda: rules.set_dates(self.s.plan, d, workflow.now(), self.defaults))

    @set_dates.validator
    def _check_set_dates(self, d: SetDates) -> None:
        self._check(d, lambda: rules.set_dates(self.s.plan, d, workflow.now(), self.defaults))

    @workflow.update
    def postpone(self, d: Postpone) -> DecisionOutcome:
        return self._apply_plan(d, lambda: rules.postpone(self.s.plan, d, workflow.now(), self.defaults))

    @postpone.validator
    def _check_postpone(self, d: Postpone) -> None:
        self._check(d, lambda: rules.postpone(self.s.plan, d, workflow.now(), self.defaults))

    @workflow.update
    def change_format(self, d: ChangeFormat) -> DecisionOutcome:
        return self._apply_plan(d, lambda: rules.change_format(self.s.plan, d, workflow.now(), self.defaults))

    @change_format.validator
    def _check_change_format(self, d: ChangeFormat) -> None:
        self._check(d, lambda: rules.change_format(self.s.plan, d, workflow.now(), self.defaults))

    @workflow.update
    def add_part(self, d: AddPart) -> DecisionOutcome:
        return self._apply_plan(d, lambda: rules.add_part(self.s.plan, d, workflow.now(), self.defaults))

    @add_part.validator
    def _check_add_part(self, d: AddPart) -> None:
        self._check(d, lambda: rules.add_part(self.s.plan, d, workflow.now(), self.defaults))

    @workflow.update
    def extend_by_day(self, d: ExtendByDay) -> DecisionOutcome:
        return self._apply_plan(d, lambda: rules.extend_by_day(self.s.plan, d, workflow.now(), self.defaults))

    @extend_by_day.validator
    def _check_extend_by_day(self, d: ExtendByDay) -> None:
        self._check(d, lambda: rules.extend_by_day(self.s.plan, d, workflow.now(), self.defaults))

    @workflow.update
    def close(self, d: CloseMeeting) -> DecisionOutcome:
        if (done := self._duplicate(d)) is not None:
            return done
        try:
            summary = self._close_rule(d)
        except rules.Rejected as e:
            raise rejected(str(e)) from None
        outcome = self._record(d, summary)
        named = rules.named_successor(d, self.s.convention.states_parties)
        self._close(local_date(workflow.now(), self.defaults), f"by decision {d.decision_id}", named)
        return outcome

    @close.validator
    def _check_close(self, d: CloseMeeting) -> None:
        self._check(d, lambda: (self.s.plan, self._close_rule(d)))

    def _close_rule(self, d: CloseMeeting) -> str:
        return rules.check_close(
            self.s.plan,
            d,
            workflow.now(),
            self.defaults,
            self.s.president,
            self.s.successor,
            self.s.convention.states_parties,
        )

    @workflow.signal
    def successor_changed(self, successor: President | None) -> None:
        if successor is not None and not signal_payload(successor, President, "successor_changed"):
            return
        self.s.successor = successor
        self._changed()

    @workflow.signal
    def funds_granted(self, request_id: str) -> None:
        day = next((d for d in self.s.interpretation if self._request_id(d) == request_id), None)
        if day is not None and self.s.interpretation[day] is Interpretation.REQUESTED:
            self.s.interpretation[day] = Interpretation.GRANTED
            self._changed()
        elif day is None or self.s.interpretation[day] is Interpretation.NOT_FUNDED:
            self.late_grants.append(request_id)
            self._changed()

    @workflow.query
    def state(self) -> MeetingState:
        return self.s

    # Internals.

    def _check(self, d: Decision, rule: Callable[[], tuple[MeetingPlan, str]]) -> None:
        if self._find(d.decision_id) is not None or d.decision_id in self.inp.applied_ids:
            return
        if self.s.closed is not None:
            raise rejected(f"The {self.s.plan.ref.title()} closed on {self.s.closed.closed_on}.")
        try:
            rule()
        except rules.Rejected as e:
            raise rejected(str(e)) from None

    def _apply_plan(self, d: Decision, rule: PlanRule) -> DecisionOutcome:
        if (done := self._duplicate(d)) is not None:
            return done
        try:
            plan, summary = rule()
        except rules.Rejected as e:
            raise rejected(str(e)) from None
        self.s.plan = plan
        return self._record(d, summary)

    def _find(self, decision_id: str) -> DecisionRecord | None:
        return next((r for r in self.s.decisions if r.decision_id == decision_id), None)

    def _duplicate(self, d: Decision) -> DecisionOutcome | None:
        found = self._find(d.decision_id)
        if found is not None:
            return DecisionOutcome(decision_id=d.decision_id, summary=found.summary, duplicate=True)
        if d.decision_id in self.inp.applied_ids:
            return DecisionOutcome(
                decision_id=d.decision_id, summary="applied before this meeting", duplicate=True
            )
        return None

    def _record(self, d: Decision, summary: str) -> DecisionOutcome:
        kind = type(d).__name__
        self.s.decisions.append(
            DecisionRecord(
                decision_id=d.decision_id,
                kind=kind,
                reference=d.reference,
                summary=summary,
                at=workflow.now(),
            )
        )
        workflow.logger.info("decision accepted: %s", summary, extra={"decision_id": d.decision_id})
        self._changed()
        return DecisionOutcome(decision_id=d.decision_id, summary=summary)

    def _close(self, on: date, how: str, named: President | None = None) -> None:
        self.s.closed = MeetingClosed(
            meeting=self.s.plan.ref.label,
            closed_on=on,
            successor_named=named,
            how=how,
            decision_ids=[r.decision_id for r in self.s.decisions],
        )
        self.s.phase = Phase.CLOSED
        self.s.status = f"closed on {on}"
        self._changed()

    def _observe(self, now: datetime) -> Clock:
        c = clock(self.s.plan, now, self.defaults)
        self.s.phase, self.s.overrun, self.s.status = c.phase, c.overrun, c.describe(self.s.plan)
        if c.phase is Phase.IN_SESSION and c.part is not None and c.day is not None:
            today = local_date(now, self.defaults)
            if now >= day_start(today, self.defaults) and self.s.last_day_held != today:
                funded = not self.interpreting or self.s.interpretation.get(today) in (
                    Interpretation.GRANTED,
                    Interpretation.BOOKED,
                )
                if not funded:
                    self.s.interpretation[today] = Interpretation.NOT_FUNDED
                    self.unfunded_days.append(today)
                    workflow.logger.info("%s: no interpretation money; informal consultations", today)
                self.s.days_held.append(
                    HeldDay(date=today, part=c.part + 1, day=c.day, interpretation=funded)
                )
        return c

    def _changed(self) -> None:
        self.version += 1
        self._refresh(self.waiting_for)

    def _refresh(self, waiting_for: str) -> None:
        self.waiting_for = waiting_for
        plan = self.s.plan
        upcoming = next(
            (p for p in plan.parts if day_start(p.end, self.defaults) > workflow.now()), plan.parts[-1]
        )
        self.upserted = upsert_changed(
            self.upserted,
            [
                sa.KIND.value_set("meeting"),
                sa.CONVENTION.value_set(self.s.convention.code),
                sa.MEETING.value_set(plan.ref.label),
                sa.PHASE.value_set(self.s.phase.value),
                sa.PRESIDENT.value_set(self.s.president.state),
                sa.NEXT_MEETING_START.value_set(day_start(upcoming.start, self.defaults)),
            ],
        )
        workflow.set_current_details(meeting_details(self.s, waiting_for))

    async def _tell_reviews(self) -> None:
        """Reviews due at this meeting follow it when its first day moves (the 2nd Review Conference's part 2).

        In the background: finding and telling the reviews must never hold up the meeting itself.
        """
        first = self.s.plan.first_day
        if first == self.announced_first_day or not workflow.patched("reviews-follow-meeting"):
            return
        self.announced_first_day = first
        asyncio.get_running_loop().create_task(self._tell_reviews_of(first))

    async def _tell_reviews_of(self, first: date) -> None:
        try:
            await workflow.execute_activity(
                "tell_reviews_meeting_moved",
                ReviewsOfMeeting(
                    convention=self.s.convention.code, meeting=self.s.plan.ref.label, first_day=first
                ),
                result_type=int,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=10), maximum_attempts=20),
                summary=f"tell the reviews due at the {self.s.plan.ref.label} of its first day, {first}",
            )
        except ActivityError as e:
            workflow.logger.warning(
                "reviews due at %s not told of %s: %s", self.s.plan.ref.label, first, e.cause
            )

    def _request_id(self, day: date) -> str:
        return f"interpretation:{self.s.plan.ref.label}:{day}"

    async def _sync_interpretation(self, now: datetime) -> None:
        """Asks the ledger for each coming day's interpretation, gives back what moved days no longer need."""
        if not self.interpreting or self.inp.funds_id is None:
            return
        ledger = workflow.get_external_workflow_handle(self.inp.funds_id)
        money = self.s.convention.money
        days = set(meeting_days(self.s.plan))
        try:
            for day in sorted(days - self.s.interpretation.keys()):
                if day_start(day, self.defaults) <= now:
                    continue
                self.s.interpretation[day] = Interpretation.REQUESTED
                await ledger.signal(
                    "request_funds",
                    FundsRequest(
                        request_id=self._request_id(day),
                        requester=workflow.info().workflow_id,
                        purpose=f"interpretation, {self.s.plan.ref.label}, {day}",
                        amount=money.interpretation_per_day,
                        priority=money.interpretation_priority,
                    ),
                )
            for day in sorted(self.s.interpretation.keys() - days):
                status = self.s.interpretation.pop(day)
                if status is Interpretation.REQUESTED:
                    await ledger.signal("cancel_request", self._request_id(day))
                elif status in (Interpretation.GRANTED, Interpretation.BOOKED):
                    await ledger.signal("release", self._request_id(day))
            while self.unfunded_days:
                await ledger.signal("cancel_request", self._request_id(self.unfunded_days.pop()))
            while self.late_grants:
                await ledger.signal("release", self.late_grants.pop())
        except Exception as e:  # the ledger is gone: the meeting goes on, without interpretation money
            workflow.logger.warning("ledger %s unreachable: %s", self.inp.funds_id, e)
        for day, status in self.s.interpretation.items():
            if status is Interpretation.GRANTED and day not in self.booking:
                self.booking.add(day)
                asyncio.get_running_loop().create_task(self._book(day))

    async def _book(self, day: date) -> None:
        label = self.s.plan.ref.label
        booking = InterpretationBooking(
            base_url=self.s.convention.money.conference_services_url,
            idempotency_key=f"{workflow.info().workflow_id}:{day}",
            meeting=label,
            day=day,
            languages=list(Language),
            amount_granted=self.s.convention.money.interpretation_per_day,
        )
        try:
            await workflow.execute_activity(
                "book_interpretation",
                booking,
                result_type=Receipt,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=SERVICES_RETRY,
                summary=f"book interpretation for {label}, {day}",
            )
        except ActivityError as e:
            workflow.logger.warning("interpretation for %s refused: %s", day, e.cause)
        else:
            if self.s.interpretation.get(day) is Interpretation.GRANTED:
                self.s.interpretation[day] = Interpretation.BOOKED
                self._changed()

    async def _publish(self) -> None:
        """Tell the Presidency what changed, so its own view and search attributes follow the meeting."""
        if not self.inp.presidency_id:
            return
        view = MeetingView(plan=self.s.plan, phase=self.s.phase, status=self.s.status)
        if view == self.published:
            return
        self.published = view
        await workflow.get_external_workflow_handle(self.inp.presidency_id).signal("meeting_changed", view)
