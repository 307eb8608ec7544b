"""SilenceProcedureWorkflow: a proposal adopted at its deadline unless a State Party breaks silence before it.

When it ends (adopted, not adopted, or withdrawn) the initiator is notified and, when the procedure concerns
another workflow (an extension request, say), that workflow gets the ``SilenceOutcome`` by the signal
``silence_ended``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from domain import search_attributes as sa
    from domain import silence as rules
    from domain.calendar import local_text
    from domain.decisions import DecisionOutcome, Rejected
    from domain.notifications import Delivery, Notification
    from domain.silence import (
        SILENCE_ENDED,
        BreakSilence,
        SilenceInput,
        SilenceOutcome,
        SilenceState,
        SilenceStatus,
        WithdrawSilence,
    )
    from domain.views import silence_details
    from workflows.common import (
        FAIL_ON_INVALID_INPUT,
        UNDELIVERABLE_RECORDED,
        UNDELIVERABLE_RECORDED_LATE,
        delivered,
        recorded,
        start_input,
        start_notification,
    )
    from workflows.decisions import Keeps, check, rejected


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class SilenceProcedureWorkflow(Keeps[SilenceState]):
    @workflow.init
    def __init__(self, inp: SilenceInput) -> None:
        self.inp = start_input(inp, SilenceInput)
        s = SilenceState(
            procedure_id=inp.procedure_id,
            proposal=inp.proposal,
            reference=inp.reference,
            initiator=inp.initiator,
            deadline=inp.deadline,
            states_parties=list(inp.states_parties),
            concerns=inp.concerns,
            decisions=inp.decisions.model_copy(deep=True),
        )
        super().__init__(s)

    @workflow.run
    async def run(self, inp: SilenceInput) -> SilenceOutcome:
        # A proposal circulated after its deadline could never be broken: refuse it rather than adopt it.
        try:
            rules.check_deadline(inp.deadline, workflow.info().start_time, inp.defaults)
        except Rejected as e:
            raise rejected(str(e)) from None
        self._refresh()
        # Not awaited before the wait: a webhook that is down must not hold the deadline back. One that refuses the
        # notice has it on record at once, not at the deadline.
        circulation = self._note("circulated", "silence-circulated", rules.circulated_text(inp))
        circulated = asyncio.create_task(
            self._notify(
                circulation, start_notification(circulation, f"silence-circulated: {inp.procedure_id}")
            )
        )
        while self.s.status is SilenceStatus.OPEN:
            now = workflow.now()
            if now >= inp.deadline:
                self._adopt()
                break
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.s.status is not SilenceStatus.OPEN,
                    timeout=max(inp.deadline - now, timedelta(milliseconds=1)),
                    timeout_summary=f"silence until {local_text(inp.deadline, inp.defaults)}",
                )
        outcome = self.s.outcome
        assert outcome is not None
        await self._deliver(outcome)
        try:
            await circulated
        except ActivityError as e:
            if not recorded(circulation, e, self.s.undeliverable, UNDELIVERABLE_RECORDED_LATE):
                raise
            self._refresh()
        kind = rules.outcome_kind(outcome)
        told = self._note("outcome", kind, rules.outcome_text(outcome, inp.initiator, inp.defaults))
        sending = start_notification(told, f"{kind}: {inp.procedure_id}")
        # After a refusal recorded late (above), the first patch reads as absent in this run: the late one applies.
        await self._notify(told, sending, UNDELIVERABLE_RECORDED, UNDELIVERABLE_RECORDED_LATE)
        self._refresh()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return outcome

    async def _notify(self, note: Notification, sending: Awaitable[Delivery], *patches: str) -> None:
        """Awaits a notification; one the webhook refuses is recorded as undeliverable: the outcome stands."""
        if await delivered(note, sending, self.s.undeliverable, *patches) is None:
            self._refresh()
        else:
            self.s.notified.append(note.kind)

    def _note(self, key: str, kind: str, text: str) -> Notification:
        return Notification(
            webhook=self.inp.webhook,
            idempotency_key=f"{workflow.info().workflow_id}:{key}",
            text=text,
            kind=kind,
            due=self.inp.deadline.isoformat(),
            subject=self.inp.procedure_id,
        )

    async def _deliver(self, outcome: SilenceOutcome) -> None:
        """Tells the workflow the procedure concerns; one that is gone is logged, and the procedure still ends."""
        if not self.inp.concerns:
            return
        try:
            await workflow.get_external_workflow_handle(self.inp.concerns).signal(SILENCE_ENDED, outcome)
            self.s.delivered = True
        except FailureError as e:
            workflow.logger.warning(
                "silence procedure %s: could not tell %s of its outcome: %s",
                self.inp.procedure_id,
                self.inp.concerns,
                e,
            )
            self.s.delivery_error = str(e)
        self._refresh()

    def _end(self, status: SilenceStatus, adopted: bool, reason: str | None) -> None:
        now = workflow.now()
        self.s.status = status
        self.s.ended_at = now
        self.s.outcome = SilenceOutcome(
            procedure_id=self.inp.procedure_id,
            workflow_id=workflow.info().workflow_id,
            adopted=adopted,
            at=self.inp.deadline if adopted else now,
            broken_by=self.s.broken_by,
            reason=reason,
            proposal=self.inp.proposal,
            reference=self.inp.reference,
        )
        self._refresh()

    def _adopt(self) -> None:
        self._end(SilenceStatus.ADOPTED, True, None)

    # Decisions.

    @workflow.update
    def break_silence(self, b: BreakSilence) -> DecisionOutcome:
        if (done := self.decisions.repeat(b.decision_id)) is not None:
            return done
        state = check(lambda: self._check_break_rule(b))
        self.s.broken_by = state
        self.s.reason = b.reason
        summary = f"{state} broke silence on the silence procedure {self.inp.procedure_id}: not adopted"
        outcome = self.decisions.record(b.decision_id, "break_silence", f"letter from {state}", summary)
        self._end(SilenceStatus.NOT_ADOPTED, False, b.reason)
        return outcome

    @break_silence.validator
    def _check_break(self, b: BreakSilence) -> None:
        # A State's letter, not a decision with a reference: checked as the Decider checks one.
        if not self.s.decisions.knows(b.decision_id):
            check(lambda: self._check_break_rule(b))

    def _check_break_rule(self, b: BreakSilence) -> str:
        return rules.check_break(
            self.s.status,
            self.inp.deadline,
            self.s.states_parties,
            b,
            workflow.now(),
            aliases=self.inp.aliases,
            procedure_id=self.inp.procedure_id,
            broken_by=self.s.broken_by,
            defaults=self.inp.defaults,
            roster=self.inp.roster,
        )

    @workflow.update
    def withdraw(self, d: WithdrawSilence) -> DecisionOutcome:
        summary = f"silence procedure {self.inp.procedure_id} withdrawn by {self.inp.initiator}"
        outcome = self.decisions.decide(d, self._check_withdraw_rule, lambda _: summary, kind="withdraw")
        if not outcome.duplicate:
            self._end(SilenceStatus.WITHDRAWN, False, d.reference)
        return outcome

    @withdraw.validator
    def _check_withdraw(self, d: WithdrawSilence) -> None:
        self.decisions.validate(d, self._check_withdraw_rule)

    def _check_withdraw_rule(self) -> None:
        rules.check_withdraw(
            self.s.status,
            self.inp.deadline,
            workflow.now(),
            procedure_id=self.inp.procedure_id,
            broken_by=self.s.broken_by,
            defaults=self.inp.defaults,
        )

    @workflow.query
    def state(self) -> SilenceState:
        return self.s

    def _refresh(self) -> None:
        self._upsert_kind(
            sa.Kind.SILENCE,
            self.inp.convention,
            sa.PHASE.value_set(self.s.status.value),
            sa.DUE_DATE.value_set(self.inp.deadline),
            undeliverable=bool(self.s.undeliverable),
        )
        workflow.set_current_details(silence_details(self.s))
