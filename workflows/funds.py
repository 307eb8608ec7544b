"""MeetingFundsWorkflow: one meeting's ledger, an entity that lives as long as its money moves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import funds as rules
    from domain import meeting_costs as costs
    from domain import search_attributes as sa
    from domain.calendar import day_start, local_date
    from domain.funds import Assess, FundsRequest, LedgerState, Payment, SetEstimate
    from domain.ids import document_id
    from domain.meeting_costs import HOST_SURPLUS, MEETING_VENUE, RegisterNotParty, SetSurplus, Venue
    from domain.queue import QUEUE_PLACE, QueuePlace, Told, next_too_late, to_tell, too_late
    from domain.roster import REGISTER_CHANGED, Roster
    from domain.views import funds_details
    from workflows.common import (
        ATTENTION_ALL,
        FAIL_ON_INVALID_INPUT,
        FUNDS_GRANTED_CHF,
        count,
        signal_payload,
        start_input,
    )
    from workflows.common import FUNDS_GRANTED as GRANTS_COUNTED
    from workflows.decisions import Batches, Rule, decision


# Grants told per workflow task; bounded so one task's commands stay few.
NOTIFY_BATCH = 100
# From this patch on, within a priority the request needed first is granted first, and a request still waiting past
# the day it is needed by is reported to its requester at once (issue 18, item 1): a timer and signals the ledger did
# not issue before. Histories from before it replay first come first served.
ORDER_OF_NEED = "ledger-order-of-need"
# From this patch on, a requester hears of all its requests granted at that moment in one signal (FUNDS_GRANTED_ALL),
# not one signal per request (issue 16); histories from before it replay one signal per grant.
GRANTS_TOGETHER = "ledger-one-grant-signal-per-requester"
# From this patch on, the ledger tells each waiting document its place in the queue whenever it changes (issue 12,
# point 4): signals it did not send before. Histories from before it replay without them.
TELLS_PLACES = "ledger-tells-queue-places"


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class MeetingFundsWorkflow(Batches[LedgerState]):
    @workflow.init
    def __init__(self, ledger: LedgerState) -> None:
        super().__init__(start_input(ledger, LedgerState), self._grant, dirty=False)
        self.together: bool | None = None
        # What each waiting document was last told of its place (QUEUE_PLACE), so that a place unchanged is not
        # told again. Kept in this run only, not in the state carried over: after a continue-as-new each waiting
        # document is told once again, and the state stays as small as the queue.
        self.told: dict[str, Told] = {}
        self.tells = False
        # Places still to tell: more changed at once than one batch tells.
        self.more_places = False

    @workflow.run
    async def run(self, ledger: LedgerState) -> None:
        self.attends = workflow.patched(ATTENTION_ALL)
        # A run continued as new tells every waiting document its place once: the last run may not have.
        self.tells = self.more_places = workflow.patched(TELLS_PLACES)
        if not self.s.takers_checked and workflow.patched(HOST_SURPLUS):
            self.s.takers_checked = True
        if self._by_need():
            asyncio.get_running_loop().create_task(self._watch_need())
        self._refresh()
        while True:
            await workflow.wait_condition(
                lambda: (
                    self.dirty
                    or bool(self.s.to_notify)
                    or self.more_places
                    or workflow.info().is_continue_as_new_suggested()
                )
            )
            if self.s.by_need:
                await self._report_too_late()  # a request made already too late
            moved = self.dirty or self.more_places
            self._show()
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                # Grants not yet told travel in the state; the next run tells them first.
                workflow.continue_as_new(self.s.model_copy(update={"runs": self.s.runs + 1}))
            # Told together: all in flight at once, so a large payment frees a queue quickly.
            if self._together():
                groups = rules.grants_to_tell(self.s.to_notify, NOTIFY_BATCH)
                await asyncio.gather(*(self._notify_all(g) for g in groups))
                told = sum(len(g) for g in groups)
            else:
                batch = self.s.to_notify[:NOTIFY_BATCH]
                await asyncio.gather(*(self._notify(r) for r in batch))
                told = len(batch)
            self.s.to_notify = self.s.to_notify[told:]
            if self.tells and moved:
                await self._tell_places()

    def _together(self) -> bool:
        """Whether a requester hears of its grants in one signal (asked once per run, at the first grant told)."""
        if self.together is None:
            self.together = workflow.patched(GRANTS_TOGETHER)
        return self.together

    def _by_need(self) -> bool:
        """Whether the queue is in the order of need (set once, for this run and those it continues as)."""
        if not self.s.by_need and workflow.patched(ORDER_OF_NEED):
            self.s.by_need = True
        return self.s.by_need

    async def _watch_need(self) -> None:
        """Reports each request still waiting when the day after its ``needed_by`` begins. One timer at a time, for
        the next such day, set again only when that day changes (not on every request)."""
        while True:
            day = next_too_late(self.s)
            if day is None:
                await workflow.wait_condition(lambda: next_too_late(self.s) is not None)
                continue
            # At least a second: a day already come is reported by then, without spinning.
            timeout = max(day_start(day, self.s.defaults) - workflow.now(), timedelta(seconds=1))
            try:
                await workflow.wait_condition(
                    lambda d=day: next_too_late(self.s) != d,  # type: ignore[misc]
                    timeout=timeout,
                    timeout_summary=f"requests needed by {day - timedelta(days=1)}: too late if still waiting",
                )
            except TimeoutError:
                await self._report_too_late()

    async def _report_too_late(self) -> None:
        """Tells each requester whose request, still waiting, can no longer be funded in time; once each."""
        self.s, late = too_late(self.s, self._today())
        if not late:
            return
        self.dirty = True
        for r in late:
            workflow.logger.info(
                "%s can no longer be funded in time (needed by %s)", r.request_id, r.needed_by
            )
        await asyncio.gather(*(self._tell_too_late(r) for r in late))

    async def _tell_too_late(self, r: FundsRequest) -> None:
        try:
            await workflow.get_external_workflow_handle(r.requester).signal(
                rules.FUNDS_TOO_LATE, r.request_id
            )
        except Exception as e:  # the requester ended: nothing to tell
            workflow.logger.info("too late for %s, not told (%s)", r.request_id, e)

    async def _notify(self, r: FundsRequest) -> None:
        try:
            await workflow.get_external_workflow_handle(r.requester).signal(rules.FUNDS_GRANTED, r.request_id)
        except Exception as e:  # the requester ended (withdrawn, completed): its money comes back
            workflow.logger.info("grant %s not delivered (%s); released", r.request_id, e)
            self._change(lambda: rules.release(self.s, r.request_id))

    async def _notify_all(self, group: list[FundsRequest]) -> None:
        try:
            await workflow.get_external_workflow_handle(group[0].requester).signal(
                rules.FUNDS_GRANTED_ALL, [r.request_id for r in group]
            )
        except Exception as e:  # the requester ended (withdrawn, completed): its money comes back
            workflow.logger.info("grants %s not delivered (%s); released", [r.request_id for r in group], e)
            for r in group:
                self.s = rules.release(self.s, r.request_id)
            self._grant()

    async def _tell_places(self) -> None:
        """Tells each waiting document whose place changed since it was last told (after this batch's grants)."""
        prefix = document_id(self.s.convention, "")
        batch, self.told, self.more_places = to_tell(self.s, prefix, workflow.now(), self.told, NOTIFY_BATCH)
        await asyncio.gather(*(self._tell_place(wid, p) for wid, p in batch))

    async def _tell_place(self, wid: str, p: QueuePlace) -> None:
        try:
            await workflow.get_external_workflow_handle(wid).signal(QUEUE_PLACE, p)
        except Exception as e:  # the document ended (withdrawn, completed): nothing to tell
            workflow.logger.info("place %d in the queue not told to %s (%s)", p.place, wid, e)

    # The ISU's records: Updates with validators, so a wrong amount or State is refused and nothing written.

    @decision
    def set_estimate(self, d: SetEstimate) -> Rule[LedgerState]:
        return Rule(lambda: rules.set_estimate(self.s, d), self._put(f"cost estimate {rules.chf(d.amount)}"))

    @decision
    def assess(self, d: Assess) -> Rule[LedgerState]:
        return Rule(
            lambda: rules.assess(self.s, d, self._today()),
            self._put(f"{len(d.shares)} States assessed, due {d.due}"),
        )

    @decision
    def set_surplus(self, d: SetSurplus) -> Rule[tuple[LedgerState, str]]:
        return Rule(lambda: costs.set_surplus(self.s, d), self._applied)

    @decision
    def register_not_party(self, d: RegisterNotParty) -> Rule[tuple[LedgerState, str]]:
        return Rule(lambda: costs.register_not_party(self.s, d, self._today()), self._applied)

    @decision
    def record_payment(self, p: Payment) -> Rule[LedgerState]:
        return Rule(lambda: rules.record_payment(self.s, p), self._put(rules.payment_summary(self.s, p)))

    # Requests from documents and meetings.

    @workflow.signal(name=rules.REQUEST_FUNDS)
    def request_funds(self, r: FundsRequest) -> None:
        if not signal_payload(r, FundsRequest, rules.REQUEST_FUNDS):
            return
        if len(self.s.pending) >= rules.MAX_PENDING:
            workflow.logger.warning("queue full (%d requests): %s dropped", rules.MAX_PENDING, r.request_id)
        self._change(lambda: rules.enqueue(self.s, r))

    @workflow.signal(name=rules.CANCEL_REQUEST)
    def cancel_request(self, request_id: str) -> None:
        self._change(lambda: rules.cancel(self.s, request_id))

    @workflow.signal(name=rules.RELEASE)
    def release(self, request_id: str) -> None:
        self._change(lambda: rules.release(self.s, request_id))

    @workflow.signal(name=REGISTER_CHANGED)
    def register_changed(self, roster: Roster) -> None:
        # Passed on by the Presidency: any State in the register may pay (Art. 14); its dates tell a State Party from
        # one not party, which must register for the meeting to be assessed (domain/meeting_costs.py).
        if signal_payload(roster, Roster, REGISTER_CHANGED):
            self.s.states_parties, self.s.aliases = roster.attending(), dict(roster.aliases)
            self.s.roster = roster

    @workflow.signal(name=MEETING_VENUE)
    def meeting_venue(self, venue: Venue) -> None:
        # From the meeting: where it is held away from Geneva, and who hosts it (a host no longer hosting: withdrawn).
        if signal_payload(venue, Venue, MEETING_VENUE):
            self.s = costs.move(self.s, venue)
            self.dirty = True

    @workflow.query
    def ledger(self) -> LedgerState:
        return self.s

    @workflow.query
    def queue(self) -> list[FundsRequest]:
        return rules.queue(self.s)

    # Internals.

    def _today(self) -> date:
        return local_date(workflow.now(), self.s.defaults)

    def _change(self, rule: Callable[[], LedgerState]) -> None:
        self.s = rule()
        self._grant()

    def _grant(self) -> None:
        self._by_need()
        self.s, granted = rules.grant_in_order(self.s)
        for r in granted:
            count(GRANTS_COUNTED)
            count(FUNDS_GRANTED_CHF, r.amount)
        self.dirty = True

    def _refresh(self) -> None:
        self._upsert_kind(
            sa.Kind.FUNDS,
            self.s.convention,
            sa.MEETING.value_set(self.s.meeting),
            sa.BALANCE.value_set(float(self.s.balance)),
            sa.SHORTFALL.value_set(float(self.s.shortfall)),
            *([sa.PHASE.value_set(rules.phase(self.s))] if self.attends else []),
            flags={sa.SHORTFALL_FLAG: self.s.shortfall > 0} if self.attends else None,
        )
        workflow.set_current_details(funds_details(self.s, self._today()))
