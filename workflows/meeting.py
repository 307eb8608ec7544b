"""MeetingWorkflow: one MSP or Review Conference, from scheduled through its days in session to its close."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import meeting_rules as rules
    from domain import search_attributes as sa
    from domain.calendar import Clock, clock, day_start, geneva_time, local_date, next_change
    from domain.decisions import (
        AddPart,
        ChangeFormat,
        CloseMeeting,
        DecisionLog,
        DecisionOutcome,
        ExtendByDay,
        Postpone,
        SetDates,
    )
    from domain.funds import FUNDS_GRANTED, FUNDS_GRANTED_ALL, FUNDS_TOO_LATE
    from domain.meeting import HeldDay, MeetingInput, MeetingState
    from domain.models import Defaults, MeetingPlan, Phase, President
    from domain.presidency import MEETING_CLOSED, MeetingClosed
    from domain.roster import REGISTER_CHANGED, Roster
    from domain.views import meeting_details
    from workflows.common import FAIL_ON_INVALID_INPUT, signal_payload, start_input
    from workflows.decisions import Keeps, Rule, decision, rejected
    from workflows.interpretation import AT_BOOKING_LEAD, InterpretationFunding
    from workflows.meeting_notices import MeetingNotices

# From this patch on, a meeting starts its Sponsorship Programme (issue 14) and tells it of its dates and its close.
STARTS_SPONSORSHIP = "meeting-starts-sponsorship"
# From this patch on, the wait for the next day (or end) keeps one timer until its instant changes: a signal such as
# funds_granted no longer cancels and restarts it (issue 12, item 4).
ONE_TIMER = "meeting-one-timer-per-wait"

D = TypeVar("D", SetDates, Postpone, ChangeFormat, AddPart, ExtendByDay)
# A rule of domain.meeting_rules on the plan: the new plan and its summary.
PlanRule = Callable[[MeetingPlan, D, datetime, Defaults], tuple[MeetingPlan, str]]


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class MeetingWorkflow(Keeps[MeetingState]):
    @workflow.init
    def __init__(self, inp: MeetingInput) -> None:
        self.inp = start_input(inp, MeetingInput)
        s = MeetingState(
            convention=inp.convention,
            plan=inp.plan,
            president=inp.president,
            successor=inp.successor,
            decisions=DecisionLog(applied=inp.applied_ids),
        )
        self.defaults = inp.convention.defaults
        super().__init__(s, self._changed, earlier="applied before this meeting", gate=self._open)
        # Bumped on every change a waiting loop must look at again.
        self.version = 0
        self.waiting_for = "the first day"
        # The last scheduled day ended with no successor to hand over to.
        self.overran = False
        self.interpretation = InterpretationFunding(self.s, inp.funds_id, self.defaults, self._changed)
        self.notices = MeetingNotices(self.s, inp.funds_id, inp.presidency_id, self.defaults, self._changed)
        # The timer for the next day or end, and its instant (ONE_TIMER).
        self.one_timer = False
        self.alarm: tuple[datetime, asyncio.Task[None]] | None = None

    @workflow.run
    async def run(self, inp: MeetingInput) -> MeetingClosed:
        # Meetings started before the ledger existed track no interpretation.
        self.interpretation.on = inp.funds_id is not None and workflow.patched("interpretation-funds")
        self.interpretation.at_lead = self.interpretation.on and workflow.patched(AT_BOOKING_LEAD)
        self.one_timer = workflow.patched(ONE_TIMER)
        if workflow.patched(STARTS_SPONSORSHIP):
            # In the background, as the reviews are told: starting the programme never holds up the meeting.
            asyncio.get_running_loop().create_task(self.notices.start_sponsorship(self.notices.dates()))
        while self.s.closed is None:
            now = workflow.now()
            c = self._observe(now)
            await self.interpretation.sync(now)
            await self.notices.tell_reviews()
            await self.notices.tell_ledger_venue()
            await self.notices.tell_sponsorship()
            await self.notices.publish()
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
            ask = self.interpretation.next_ask(now)
            if ask is not None and ask[0] < at:
                at, what = ask[0], f"asking for the interpretation of {ask[1]}"
            self._refresh(f"{what}, {geneva_time(at, self.defaults)}")
            if self.one_timer:
                await self._wait_until(version, at, f"{self.s.plan.ref.label}: {what}")
                continue
            await self._wait_for_change(
                version, max(at - now, timedelta(seconds=1)), f"{self.s.plan.ref.label}: {what}"
            )
        if self.alarm is not None:
            self.alarm[1].cancel()
        self._refresh("nothing: the meeting is closed")
        await workflow.wait_condition(workflow.all_handlers_finished)
        closed = self.s.closed
        assert closed is not None
        await self.notices.tell_sponsorship()
        if self.inp.presidency_id:
            await self.notices.publish()
            await workflow.get_external_workflow_handle(self.inp.presidency_id).signal(MEETING_CLOSED, closed)
        return closed

    async def _wait_until(self, version: int, at: datetime, summary: str) -> None:
        """Waits for a change or for ``at``, on a timer kept across changes that leave ``at`` as it is."""
        if self.alarm is None or self.alarm[0] != at:
            if self.alarm is not None:
                self.alarm[1].cancel()
            timer = workflow.sleep(max(at - workflow.now(), timedelta(seconds=1)), summary=summary)
            self.alarm = (at, asyncio.get_running_loop().create_task(timer))
        alarm = self.alarm[1]
        await workflow.wait_condition(
            lambda: self.version != version or self.s.closed is not None or alarm.done()
        )
        if alarm.done():
            self.alarm = None

    async def _wait_for_change(self, version: int, timeout: timedelta | None, summary: str) -> None:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self.version != version or self.s.closed is not None,
                timeout=timeout,
                timeout_summary=summary,
            )

    # Decisions. Each validator runs the same pure rule as its handler, so a rejection changes nothing.

    @decision
    def set_dates(self, d: SetDates) -> Rule[tuple[MeetingPlan, str]]:
        return self._on_plan(rules.set_dates, d)

    @decision
    def postpone(self, d: Postpone) -> Rule[tuple[MeetingPlan, str]]:
        return self._on_plan(rules.postpone, d)

    @decision
    def change_format(self, d: ChangeFormat) -> Rule[tuple[MeetingPlan, str]]:
        return self._on_plan(rules.change_format, d)

    @decision
    def add_part(self, d: AddPart) -> Rule[tuple[MeetingPlan, str]]:
        return self._on_plan(rules.add_part, d)

    @decision
    def extend_by_day(self, d: ExtendByDay) -> Rule[tuple[MeetingPlan, str]]:
        return self._on_plan(rules.extend_by_day, d)

    @workflow.update
    def close(self, d: CloseMeeting) -> DecisionOutcome:
        outcome = self.decisions.decide(d, lambda: self._close_rule(d), lambda summary: summary)
        if not outcome.duplicate:
            today = local_date(workflow.now(), self.defaults)
            named = rules.named_successor(d, self.s.convention.parties_on(today), self.s.convention.aliases)
            self._close(today, f"by decision {d.decision_id}", named)
        return outcome

    @close.validator
    def _check_close(self, d: CloseMeeting) -> None:
        self.decisions.validate(d, lambda: self._close_rule(d))

    def _close_rule(self, d: CloseMeeting) -> str:
        return rules.check_close(
            self.s.plan,
            d,
            workflow.now(),
            self.defaults,
            self.s.president,
            self.s.successor,
            self.s.convention.parties_on(local_date(workflow.now(), self.defaults)),
            self.s.convention.aliases,
        )

    @workflow.signal
    def successor_changed(self, successor: President | None) -> None:
        if successor is not None and not signal_payload(successor, President, "successor_changed"):
            return
        self.s.successor = successor
        self._changed()

    @workflow.signal(name=REGISTER_CHANGED)
    def register_changed(self, roster: Roster) -> None:
        # Passed on by the Presidency: the successor named at close is checked by its dates on the day.
        if signal_payload(roster, Roster, REGISTER_CHANGED):
            today = local_date(workflow.now(), self.defaults)
            self.s.convention = self.s.convention.with_roster(roster, today)

    @workflow.signal(name=FUNDS_GRANTED)
    def funds_granted(self, request_id: str) -> None:
        self.interpretation.granted(request_id)

    @workflow.signal(name=FUNDS_GRANTED_ALL)
    def funds_granted_all(self, request_ids: list[str]) -> None:
        for request_id in request_ids:
            self.interpretation.granted(request_id)

    @workflow.signal(name=FUNDS_TOO_LATE)
    def funds_too_late(self, request_id: str) -> None:
        self.interpretation.too_late(request_id)

    @workflow.query
    def state(self) -> MeetingState:
        return self.s

    # Internals.

    def _on_plan(self, rule: PlanRule[D], d: D) -> Rule[tuple[MeetingPlan, str]]:
        """The rule applied to the plan as it is, now; what it gives becomes the plan."""
        return Rule(lambda: rule(self.s.plan, d, workflow.now(), self.defaults), self._set_plan)

    def _set_plan(self, result: tuple[MeetingPlan, str]) -> str:
        self.s.plan, summary = result
        return summary

    def _open(self) -> None:
        if self.s.closed is not None:
            raise rejected(f"The {self.s.plan.ref.title()} closed on {self.s.closed.closed_on}.")

    def _close(self, on: date, how: str, named: President | None = None) -> None:
        self.s.closed = MeetingClosed(
            meeting=self.s.plan.ref.label,
            closed_on=on,
            successor_named=named,
            how=how,
            decision_ids=[r.decision_id for r in self.s.decisions.records],
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
                funded = self.interpretation.day_begins(today)
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
        self._upsert_kind(
            sa.Kind.MEETING,
            self.s.convention.code,
            sa.MEETING.value_set(plan.ref.label),
            sa.PHASE.value_set(self.s.phase.value),
            sa.PRESIDENT.value_set(self.s.president.state),
            sa.NEXT_MEETING_START.value_set(day_start(upcoming.start, self.defaults)),
        )
        workflow.set_current_details(meeting_details(self.s, waiting_for))
