"""PresidencyWorkflow: one run per presidential term, handing over on the last day of the meeting it presides."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain import presidency as rules
    from domain import search_attributes as sa
    from domain.calendar import day_start, local_date
    from domain.committee_models import PRESIDENCY_CHANGED, PresidencyView
    from domain.decisions import DecideIntersessional, Designate, ReplaceDesignate
    from domain.funds import LedgerState
    from domain.ids import committee_id, funds_id, meeting_id
    from domain.meeting import MeetingInput
    from domain.models import Phase, President
    from domain.presidency import MEETING_CHANGED, MEETING_CLOSED, MeetingClosed, MeetingView, PresidencyState
    from domain.roster import REGISTER_CHANGED, Roster
    from domain.views import presidency_details
    from workflows.common import FAIL_ON_INVALID_INPUT, signal_payload, start_input
    from workflows.decisions import Keeps, Rule, decision, rejected
    from workflows.funds import MeetingFundsWorkflow
    from workflows.meeting import MeetingWorkflow


TELLS_COMMITTEE = "presidency-tells-committee"
# From this patch on, the meeting hears of a new first designate only when it can act on it: when a successor appears
# or disappears (it cannot close without one), or when it is in session or past its last day (it may close then).
# Each signal cost the next decision a delayed workflow task (issue 16: the p99 tail). A change kept back is told
# when the meeting begins. Terms recorded before it tell every change.
TELLS_WHEN_IT_ACTS = "presidency-tells-meeting-when-it-acts"
# From this patch on, the committee hears of changes to the designates once a minute at most, in one signal: each
# signal's answer woke the Presidency again, and the next decision waited for that task (issue 16: the p99 tail).
# The first view of a term still goes at once. Terms recorded before it tell every change.
COMMITTEE_ONCE_A_MINUTE = "presidency-tells-committee-once-a-minute"
COMMITTEE_BATCH = timedelta(minutes=1)


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class PresidencyWorkflow(Keeps[PresidencyState]):
    @workflow.init
    def __init__(self, state: PresidencyState) -> None:
        super().__init__(
            start_input(state, PresidencyState),
            lambda: self._refresh(self.waiting_for),
            earlier="applied in an earlier term",
            gate=self._taking_decisions,
        )
        # The meeting must learn of a new first designate, since it cannot close without one.
        self.successor_dirty = False
        # A roster from the register that the meeting and its ledger have not been sent yet.
        self.roster_dirty = False
        # The Coordination Committee must learn who presides and is designated: at the start of a term, and after
        # each change of the designates.
        self.committee_dirty = True
        # A change the committee has not heard of; told at once, or after COMMITTEE_BATCH from this patch on.
        self.committee_changed = False
        self.committee_batched = False
        # Whether the meeting knows of a successor at all; None: not known in this run (told as before).
        self.told_present: bool | None = None
        self.when_it_acts = False
        self.waiting_for = "the meeting to close"
        self.child: workflow.ChildWorkflowHandle[MeetingWorkflow, MeetingClosed] | None = None

    @workflow.run
    async def run(self, state: PresidencyState) -> None:
        self._refresh("the meeting to begin")
        mid = meeting_id(self.s.convention, self.s.meeting.ref)
        self.when_it_acts = workflow.patched(TELLS_WHEN_IT_ACTS)
        self.committee_batched = workflow.patched(COMMITTEE_ONCE_A_MINUTE)
        if self.committee_batched:
            # Left running at the handover: the next term tells the committee its whole view at once.
            self.batching = asyncio.create_task(self._batch_committee())
        if not self.s.meeting_started:
            await self._start_meeting(mid)
        while self.s.closed is None and not workflow.info().is_continue_as_new_suggested():
            self._refresh(f"the {self.s.meeting.ref.label} to close, on its last day")
            await workflow.wait_condition(
                lambda: (
                    self.s.closed is not None
                    or self._successor_to_tell()
                    or self.roster_dirty
                    or self._committee_to_tell()
                    or workflow.info().is_continue_as_new_suggested()
                ),
            )
            if self._committee_to_tell():
                self.committee_dirty = False
                if not self.committee_batched:
                    self.committee_changed = False
                await self._tell_committee()
            if self._successor_to_tell() and self.s.closed is None:
                self.successor_dirty = False
                successor = self.s.designates[0] if self.s.designates else None
                self.told_present = successor is not None
                await workflow.get_external_workflow_handle(mid).signal(
                    MeetingWorkflow.successor_changed, successor
                )
            if self.roster_dirty and self.s.closed is None:
                self.roster_dirty = False
                await self._pass_roster(mid)
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

    def _committee_to_tell(self) -> bool:
        return self.committee_dirty or (self.committee_changed and not self.committee_batched)

    async def _batch_committee(self) -> None:
        while True:
            await workflow.wait_condition(lambda: self.committee_changed)
            await workflow.sleep(COMMITTEE_BATCH)
            self.committee_changed = False
            self.committee_dirty = True

    async def _tell_committee(self) -> None:
        # Terms recorded before the committee existed issue no signal.
        if not workflow.patched(TELLS_COMMITTEE):
            return
        s = self.s
        view = PresidencyView(
            term=s.term,
            president=s.president,
            outgoing=s.outgoing,
            designates=s.designates,
            meeting=s.meeting.ref.label,
        )
        wid = committee_id(s.convention.code)
        try:
            await workflow.get_external_workflow_handle(wid).signal(PRESIDENCY_CHANGED, view)
        except Exception as e:  # a convention run without its committee goes on without telling it
            workflow.logger.info("committee %s not told: %s", wid, e)

    async def _pass_roster(self, mid: str) -> None:
        roster = self.s.convention.roster
        if roster is None or not workflow.patched("roster-passed-on"):
            return
        targets = [mid, funds_id(self.s.convention.code, self.s.meeting.ref.label)]
        for wid in targets:
            try:
                await workflow.get_external_workflow_handle(wid).signal(REGISTER_CHANGED, roster)
            except Exception as e:  # a meeting or ledger that has ended keeps the States it had
                workflow.logger.info("roster not passed to %s: %s", wid, e)

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
                        states_parties=self._payers(),
                        aliases=self.s.convention.aliases,
                        defaults=self.s.convention.defaults,
                        roster=self.s.convention.roster,
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
                    applied_ids=self.s.decisions.applied,
                    funds_id=funds,
                ),
                id=mid,
                # The meeting outlives a continue-as-new of its Presidency and reports back by signal.
                parent_close_policy=ParentClosePolicy.ABANDON,
                # Dates move by decision; the current details show them, a static summary could not.
                static_summary=f"{plan.ref.title()} ({plan.ref.label})",
            )
            self.told_present = bool(self.s.designates)
        except WorkflowAlreadyStartedError:
            workflow.logger.info("meeting %s already runs; it reports to this Presidency", mid)
        self.s.meeting_started = True

    def _successor_to_tell(self) -> bool:
        """Whether a change of the first designate is to be told to the meeting now (TELLS_WHEN_IT_ACTS)."""
        if not self.successor_dirty or not self.when_it_acts or self.told_present is None:
            return self.successor_dirty
        return (
            self.told_present != bool(self.s.designates)
            or self.s.meeting_phase is Phase.IN_SESSION
            or self._today() > self.s.meeting.last_day
        )

    # Decisions of the Presidency.

    @decision
    def designate(self, d: Designate) -> Rule[tuple[list[President], str]]:
        return Rule(lambda: rules.designate(self.s, d, self._today()), self._set_designates)

    @decision
    def replace_designate(self, d: ReplaceDesignate) -> Rule[tuple[list[President], str]]:
        return Rule(lambda: rules.replace_designate(self.s, d, self._today()), self._set_designates)

    @decision
    def decide_intersessional(self, d: DecideIntersessional) -> Rule[tuple[bool, str]]:
        return Rule(lambda: rules.decide_intersessional(self.s, d), self._set_intersessional)

    # What the meeting reports.

    @workflow.signal(name=MEETING_CHANGED)
    def meeting_changed(self, view: MeetingView) -> None:
        if signal_payload(view, MeetingView, MEETING_CHANGED) and view.plan.ref == self.s.meeting.ref:
            self.s.meeting, self.s.meeting_phase, self.s.meeting_status = view.plan, view.phase, view.status
            self._refresh(self.waiting_for)

    @workflow.signal(name=REGISTER_CHANGED)
    def register_changed(self, roster: Roster) -> None:
        # Sent by the register workflow after an import that changes who is a State Party.
        if signal_payload(roster, Roster, REGISTER_CHANGED):
            self.s.convention = self.s.convention.with_roster(roster, self._today())
            self.roster_dirty = True

    @workflow.signal(name=MEETING_CLOSED)
    def meeting_closed(self, closed: MeetingClosed) -> None:
        if not signal_payload(closed, MeetingClosed, MEETING_CLOSED):
            return
        if closed.meeting == self.s.meeting.ref.label and self.s.closed is None:
            self.s.closed = closed

    @workflow.query
    def state(self) -> PresidencyState:
        return self.s

    # Internals.

    def _set_designates(self, result: tuple[list[President], str]) -> str:
        designates, summary = result
        first_changed = designates[:1] != self.s.designates[:1]
        self.s.designates = designates
        self.successor_dirty = self.successor_dirty or first_changed
        self.committee_changed = True
        return summary

    def _set_intersessional(self, result: tuple[bool, str]) -> str:
        self.s.intersessional_next_cycle, summary = result
        return summary

    def _today(self) -> date:
        return local_date(workflow.now(), self.s.convention.defaults)

    def _payers(self) -> list[str]:
        """Who may be assessed and pay: any State in the register (Art. 14) when the Presidency has its roster."""
        roster = self.s.convention.roster
        return self.s.convention.states_parties if roster is None else roster.attending()

    def _taking_decisions(self) -> None:
        if self.s.closed is not None:
            raise rejected(
                f"The {self.s.meeting.ref.label} has closed and the Presidency is being handed over; "
                "send the decision again in a moment, to the new term.",
                send_again=True,
            )

    def _refresh(self, waiting_for: str) -> None:
        self.waiting_for = waiting_for
        s = self.s
        self._upsert_kind(
            sa.Kind.PRESIDENCY,
            s.convention.code,
            sa.MEETING.value_set(s.meeting.ref.label),
            sa.PHASE.value_set(s.meeting_phase.value),
            sa.PRESIDENT.value_set(s.president.state),
            sa.TERM.value_set(s.term),
            sa.NEXT_MEETING_START.value_set(day_start(s.meeting.first_day, s.convention.defaults)),
        )
        workflow.set_current_details(presidency_details(s, waiting_for))
