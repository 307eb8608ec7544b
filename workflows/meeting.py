"""MeetingWorkflow: one MSP or Review Conference, from scheduled through its days in session to its close."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import meeting_rules as rules
    from domain import search_attributes as sa
    from domain.calendar import Clock, clock, day_start, geneva_time, local_date, next_change
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
    from domain.meeting import HeldDay, MeetingInput, MeetingState
    from domain.models import MeetingPlan, Phase, President
    from domain.presidency import MeetingClosed, MeetingView
    from domain.views import meeting_details
    from workflows.common import Updates, rejected, upsert_changed

PlanRule = Callable[[], tuple[MeetingPlan, str]]


@workflow.defn
class MeetingWorkflow:
    @workflow.init
    def __init__(self, inp: MeetingInput) -> None:
        self.inp = inp
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

    @workflow.run
    async def run(self, inp: MeetingInput) -> MeetingClosed:
        while self.s.closed is None:
            now = workflow.now()
            c = self._observe(now)
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
        self._close(local_date(workflow.now(), self.defaults), f"by decision {d.decision_id}", d.successor)
        return outcome

    @close.validator
    def _check_close(self, d: CloseMeeting) -> None:
        self._check(d, lambda: (self.s.plan, self._close_rule(d)))

    def _close_rule(self, d: CloseMeeting) -> str:
        return rules.check_close(
            self.s.plan, d, workflow.now(), self.defaults, self.s.president, self.s.successor
        )

    @workflow.signal
    def successor_changed(self, successor: President | None) -> None:
        self.s.successor = successor
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
                self.s.days_held.append(HeldDay(date=today, part=c.part + 1, day=c.day))
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

    async def _publish(self) -> None:
        """Tell the Presidency what changed, so its own view and search attributes follow the meeting."""
        if not self.inp.presidency_id:
            return
        view = MeetingView(plan=self.s.plan, phase=self.s.phase, status=self.s.status)
        if view == self.published:
            return
        self.published = view
        await workflow.get_external_workflow_handle(self.inp.presidency_id).signal("meeting_changed", view)
