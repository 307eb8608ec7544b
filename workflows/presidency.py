"""PresidencyWorkflow: one run per presidential term, handing over on the last day of the meeting it presides."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain import presidency as rules
    from domain import search_attributes as sa
    from domain.calendar import day_start
    from domain.decisions import (
        DecideIntersessional,
        Decision,
        DecisionOutcome,
        DecisionRecord,
        Designate,
        ReplaceDesignate,
    )
    from domain.documents import funds_id
    from domain.funds import LedgerState
    from domain.meeting import MeetingInput
    from domain.meeting_rules import Rejected
    from domain.models import President
    from domain.presidency import MeetingClosed, MeetingView, PresidencyState
    from domain.views import presidency_details
    from workflows.common import (
        FAIL_ON_INVALID_INPUT,
        Updates,
        rejected,
        signal_payload,
        start_input,
        upsert_changed,
    )
    from workflows.funds import MeetingFundsWorkflow
    from workflows.meeting import MeetingWorkflow

T = TypeVar("T")


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class PresidencyWorkflow:
    @workflow.init
    def __init__(self, state: PresidencyState) -> None:
        self.s = start_input(state, PresidencyState)
        self.upserted: Updates = []
        # The meeting must learn of a new first designate, since it cannot close without one.
        self.successor_dirty = False
        self.waiting_for = "the meeting to close"
        self.child: workflow.ChildWorkflowHandle[MeetingWorkflow, MeetingClosed] | None = None

    @workflow.run
    async def run(self, state: PresidencyState) -> None:
        self._refresh("the meeting to begin")
        mid = rules.meeting_id(self.s.convention, self.s.meeting.ref)
        if not self.s.meeting_started:
            await self._start_meeting(mid)
        while self.s.closed is None and not workflow.info().is_continue_as_new_suggested():
            self._refresh(f"the {self.s.meeting.ref.label} to close, on its last day")
            await workflow.wait_condition(
                lambda: (
                    self.s.closed is not None
                    or self.successor_dirty
                    or workflow.info().is_continue_as_new_suggested()
                ),
            )
            if self.successor_dirty and self.s.closed is None:
                self.successor_dirty = False
                successor = self.s.designates[0] if self.s.designates else None
                await workflow.get_external_workflow_handle(mid).signal(
                    MeetingWorkflow.successor_changed, successor
                )
        if self.s.closed is not None and self.child is not None:
            # Hand over only once the meeting has finished, its signals delivered.
            self._refresh("the meeting's workflow to finish")
            await self.child
        self._refresh("the handover to finish")
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.s.closed is None:
            # A long term: start a fresh history and keep waiting for the same meeting.
            workflow.continue_as_new(self.s)
        nxt = rules.handover(self.s, self.s.closed)
        workflow.logger.info(
            "handover on %s: %s succeeds %s", self.s.closed.closed_on, nxt.president, self.s.president
        )
        workflow.continue_as_new(nxt)

    async def _start_meeting(self, mid: str) -> None:
        plan = self.s.meeting
        funds: str | None = None
        # Terms begun before meetings had ledgers keep running without one.
        if workflow.patched("meeting-funds-ledger"):
            funds = funds_id(self.s.convention.code, plan.ref.label)
            try:
                await workflow.start_child_workflow(
                    MeetingFundsWorkflow.run,
                    LedgerState(
                        convention=self.s.convention.code,
                        meeting=plan.ref.label,
                        states_parties=self.s.convention.states_parties,
                    ),
                    id=funds,
                    parent_close_policy=ParentClosePolicy.ABANDON,
                    static_summary=f"Funds of the {plan.ref.title()} ({plan.ref.label})",
                )
            except WorkflowAlreadyStartedError:
                workflow.logger.info("ledger %s already runs", funds)
        try:
            self.child = await workflow.start_child_workflow(
                MeetingWorkflow.run,
                MeetingInput(
                    convention=self.s.convention,
                    plan=plan,
                    president=self.s.president,
                    successor=self.s.designates[0] if self.s.designates else None,
                    presidency_id=workflow.info().workflow_id,
                    applied_ids=self.s.applied_ids,
                    funds_id=funds,
                ),
                id=mid,
                # The meeting outlives a continue-as-new of its Presidency and reports back by signal.
                parent_close_policy=ParentClosePolicy.ABANDON,
                # Dates move by decision; the current details show them, a static summary could not.
                static_summary=f"{plan.ref.title()} ({plan.ref.label})",
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.info("meeting %s already runs; it reports to this Presidency", mid)
        self.s.meeting_started = True

    # Decisions of the Presidency.

    @workflow.update
    def designate(self, d: Designate) -> DecisionOutcome:
        return self._apply(d, lambda: rules.designate(self.s, d), self._set_designates)

    @designate.validator
    def _check_designate(self, d: Designate) -> None:
        self._check(d, lambda: rules.designate(self.s, d))

    @workflow.update
    def replace_designate(self, d: ReplaceDesignate) -> DecisionOutcome:
        return self._apply(d, lambda: rules.replace_designate(self.s, d), self._set_designates)

    @replace_designate.validator
    def _check_replace_designate(self, d: ReplaceDesignate) -> None:
        self._check(d, lambda: rules.replace_designate(self.s, d))

    @workflow.update
    def decide_intersessional(self, d: DecideIntersessional) -> DecisionOutcome:
        return self._apply(d, lambda: rules.decide_intersessional(self.s, d), self._set_intersessional)

    @decide_intersessional.validator
    def _check_decide_intersessional(self, d: DecideIntersessional) -> None:
        self._check(d, lambda: rules.decide_intersessional(self.s, d))

    # What the meeting reports.

    @workflow.signal
    def meeting_changed(self, view: MeetingView) -> None:
        if signal_payload(view, MeetingView, "meeting_changed") and view.plan.ref == self.s.meeting.ref:
            self.s.meeting, self.s.meeting_phase, self.s.meeting_status = view.plan, view.phase, view.status
            self._refresh(self.waiting_for)

    @workflow.signal
    def meeting_closed(self, closed: MeetingClosed) -> None:
        if not signal_payload(closed, MeetingClosed, "meeting_closed"):
            return
        if closed.meeting == self.s.meeting.ref.label and self.s.closed is None:
            self.s.closed = closed

    @workflow.query
    def state(self) -> PresidencyState:
        return self.s

    # Internals.

    def _set_designates(self, designates: list[President]) -> None:
        first_changed = designates[:1] != self.s.designates[:1]
        self.s.designates = designates
        self.successor_dirty = self.successor_dirty or first_changed

    def _set_intersessional(self, held: bool) -> None:
        self.s.intersessional_next_cycle = held

    def _known(self, decision_id: str) -> DecisionRecord | str | None:
        found = next((r for r in self.s.decisions if r.decision_id == decision_id), None)
        return found or (decision_id if decision_id in self.s.applied_ids else None)

    def _check(self, d: Decision, rule: Callable[[], object]) -> None:
        if self._known(d.decision_id) is not None:
            return
        if self.s.closed is not None:
            raise rejected(
                f"The {self.s.meeting.ref.label} has closed and the Presidency is being handed over; "
                "send the decision again in a moment, to the new term.",
                send_again=True,
            )
        try:
            rule()
        except Rejected as e:
            raise rejected(str(e)) from None

    def _apply(
        self, d: Decision, rule: Callable[[], tuple[T, str]], store: Callable[[T], None]
    ) -> DecisionOutcome:
        known = self._known(d.decision_id)
        if isinstance(known, DecisionRecord):
            return DecisionOutcome(decision_id=d.decision_id, summary=known.summary, duplicate=True)
        if known is not None:
            return DecisionOutcome(
                decision_id=d.decision_id, summary="applied in an earlier term", duplicate=True
            )
        try:
            value, summary = rule()
        except Rejected as e:
            raise rejected(str(e)) from None
        store(value)
        self.s.decisions.append(
            DecisionRecord(
                decision_id=d.decision_id,
                kind=type(d).__name__,
                reference=d.reference,
                summary=summary,
                at=workflow.now(),
            )
        )
        workflow.logger.info("decision accepted: %s", summary, extra={"decision_id": d.decision_id})
        self._refresh(self.waiting_for)
        return DecisionOutcome(decision_id=d.decision_id, summary=summary)

    def _refresh(self, waiting_for: str) -> None:
        self.waiting_for = waiting_for
        s = self.s
        self.upserted = upsert_changed(
            self.upserted,
            [
                sa.KIND.value_set("presidency"),
                sa.CONVENTION.value_set(s.convention.code),
                sa.MEETING.value_set(s.meeting.ref.label),
                sa.PHASE.value_set(s.meeting_phase.value),
                sa.PRESIDENT.value_set(s.president.state),
                sa.TERM.value_set(s.term),
                sa.NEXT_MEETING_START.value_set(day_start(s.meeting.first_day, s.convention.defaults)),
            ],
        )
        workflow.set_current_details(presidency_details(s, waiting_for))
