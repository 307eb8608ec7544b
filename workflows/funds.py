"""MeetingFundsWorkflow: one meeting's ledger, an entity that lives as long as its money moves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import funds as rules
    from domain import search_attributes as sa
    from domain.calendar import local_date
    from domain.decisions import DecisionOutcome
    from domain.funds import Assess, FundsRequest, LedgerState, Payment, SetEstimate
    from domain.meeting_rules import Rejected
    from domain.models import Defaults
    from domain.views import funds_details
    from workflows.common import (
        FAIL_ON_INVALID_INPUT,
        FUNDS_GRANTED,
        FUNDS_GRANTED_CHF,
        Updates,
        count,
        rejected,
        signal_payload,
        start_input,
        upsert_changed,
    )


# Grants told per workflow task; bounded so one task's commands stay few.
NOTIFY_BATCH = 100


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class MeetingFundsWorkflow:
    @workflow.init
    def __init__(self, ledger: LedgerState) -> None:
        self.s = start_input(ledger, LedgerState)
        self.upserted: Updates = []
        self.dirty = False

    @workflow.run
    async def run(self, ledger: LedgerState) -> None:
        self._refresh()
        while True:
            await workflow.wait_condition(
                lambda: self.dirty or bool(self.s.to_notify) or workflow.info().is_continue_as_new_suggested()
            )
            if self.dirty:
                # Once per wake-up, not per signal: each search-attribute upsert is a history event.
                self.dirty = False
                self._refresh()
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                # Grants not yet told travel in the state; the next run tells them first.
                workflow.continue_as_new(self.s.model_copy(update={"runs": self.s.runs + 1}))
            # Told together: one signal each, all in flight at once, so a large payment frees a queue quickly.
            batch = self.s.to_notify[:NOTIFY_BATCH]
            await asyncio.gather(*(self._notify(r) for r in batch))
            self.s.to_notify = self.s.to_notify[len(batch) :]

    async def _notify(self, r: FundsRequest) -> None:
        try:
            await workflow.get_external_workflow_handle(r.requester).signal("funds_granted", r.request_id)
        except Exception as e:  # the requester ended (withdrawn, completed): its money comes back
            workflow.logger.info("grant %s not delivered (%s); released", r.request_id, e)
            self._change(lambda: rules.release(self.s, r.request_id))

    # The ISU's records: Updates with validators, so a wrong amount or State is refused and nothing written.

    @workflow.update
    def set_estimate(self, d: SetEstimate) -> DecisionOutcome:
        return self._record(
            d.decision_id, lambda: rules.set_estimate(self.s, d), f"cost estimate {rules.chf(d.amount)}"
        )

    @set_estimate.validator
    def _check_set_estimate(self, d: SetEstimate) -> None:
        self._check(d.decision_id, lambda: rules.set_estimate(self.s, d))

    @workflow.update
    def assess(self, d: Assess) -> DecisionOutcome:
        return self._record(
            d.decision_id, lambda: rules.assess(self.s, d), f"{len(d.shares)} States assessed, due {d.due}"
        )

    @assess.validator
    def _check_assess(self, d: Assess) -> None:
        self._check(d.decision_id, lambda: rules.assess(self.s, d))

    @workflow.update
    def record_payment(self, p: Payment) -> DecisionOutcome:
        return self._record(
            p.payment_id,
            lambda: rules.record_payment(self.s, p),
            f"{rules.chf(p.amount)} from {rules.canonical_state(self.s, p.state) or p.state}",
        )

    @record_payment.validator
    def _check_record_payment(self, p: Payment) -> None:
        self._check(p.payment_id, lambda: rules.record_payment(self.s, p))

    # Requests from documents and meetings.

    @workflow.signal
    def request_funds(self, r: FundsRequest) -> None:
        if not signal_payload(r, FundsRequest, "request_funds"):
            return
        if len(self.s.pending) >= rules.MAX_PENDING:
            workflow.logger.warning("queue full (%d requests): %s dropped", rules.MAX_PENDING, r.request_id)
        self._change(lambda: rules.enqueue(self.s, r))

    @workflow.signal
    def cancel_request(self, request_id: str) -> None:
        self._change(lambda: rules.cancel(self.s, request_id))

    @workflow.signal
    def release(self, request_id: str) -> None:
        self._change(lambda: rules.release(self.s, request_id))

    @workflow.query
    def ledger(self) -> LedgerState:
        return self.s

    @workflow.query
    def queue(self) -> list[FundsRequest]:
        return sorted(self.s.pending, key=lambda r: r.priority)

    # Internals.

    def _check(self, decision_id: str, rule: Callable[[], LedgerState]) -> None:
        if decision_id in self.s.applied_ids:
            return
        try:
            rule()
        except Rejected as e:
            raise rejected(str(e)) from None

    def _record(self, decision_id: str, rule: Callable[[], LedgerState], summary: str) -> DecisionOutcome:
        if decision_id in self.s.applied_ids:
            return DecisionOutcome(decision_id=decision_id, summary=summary, duplicate=True)
        try:
            new = rule()
        except Rejected as e:
            raise rejected(str(e)) from None
        self.s = new.model_copy(update={"applied_ids": {*new.applied_ids, decision_id}})
        self._grant()
        workflow.logger.info("ledger %s: %s", self.s.meeting, summary)
        return DecisionOutcome(decision_id=decision_id, summary=summary)

    def _change(self, rule: Callable[[], LedgerState]) -> None:
        self.s = rule()
        self._grant()

    def _grant(self) -> None:
        self.s, granted = rules.grant_in_order(self.s)
        for r in granted:
            count(FUNDS_GRANTED)
            count(FUNDS_GRANTED_CHF, r.amount)
        self.dirty = True

    def _refresh(self) -> None:
        self.upserted = upsert_changed(
            self.upserted,
            [
                sa.KIND.value_set("funds"),
                sa.CONVENTION.value_set(self.s.convention),
                sa.MEETING.value_set(self.s.meeting),
                sa.BALANCE.value_set(float(self.s.balance)),
                sa.SHORTFALL.value_set(float(self.s.shortfall)),
            ],
        )
        today = local_date(workflow.now(), Defaults())
        workflow.set_current_details(funds_details(self.s, today))
