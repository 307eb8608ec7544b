"""DocumentWorkflow: one official document, translated into each other official language as money arrives."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import documents as rules
    from domain import search_attributes as sa
    from domain.bounds import chf, md
    from domain.calendar import day_start, local_date
    from domain.decisions import DecisionOutcome
    from domain.documents import Delivered, DocumentInput, DocumentState, LanguageStatus, Withdraw
    from domain.funds import (
        CANCEL_REQUEST,
        FUNDS_GRANTED,
        FUNDS_GRANTED_ALL,
        FUNDS_TOO_LATE,
        RELEASE,
        REQUEST_FUNDS,
    )
    from domain.models import Language
    from domain.queue import QUEUE_PLACE, QueuePlace
    from domain.views import document_details
    from workflows.common import (
        ATTENTION_ALL,
        DOCUMENTS_ISSUED,
        FAIL_ON_INVALID_INPUT,
        attention,
        count,
        signal_payload,
    )
    from workflows.decisions import check
    from workflows.document_jobs import DocumentJobs

# From this patch on, a withdrawal sends nothing more (no request for money, no job), asks conference services to
# cancel every job sent or on its way, and gives a job's money back only when they confirm the cancellation. Before
# it, the money of a job on its way came back unasked, though the job could arrive and be done (issue 11, item 2);
# histories from then replay on the old path.
CANCEL_SENT_JOBS = "withdraw-cancels-sent-jobs"
# From this patch on, the document shows at-risk and late in CcmAttention, an extra search attribute upsert each time
# they change (issue 18, item 3); histories from before it replay without them.
RISK_ATTENTION = "document-risk-attention"
# From this patch on, the languages one grant funds go to conference services in one activity, each job still with its
# own key and its own answer: 100 activities rather than 500 when a payment releases 100 documents (issue 16).
ONE_CALL_PER_GRANT = "document-one-call-per-grant"


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class DocumentWorkflow(DocumentJobs):
    @workflow.init
    def __init__(self, inp: DocumentInput) -> None:
        super().__init__(inp)
        # Languages whose request for money the ledger has (a cancellation must not overtake its request).
        self.requested: set[Language] = set()
        self.shows_risk = False

    @workflow.run
    async def run(self, inp: DocumentInput) -> DocumentState:
        self.attends = workflow.patched(ATTENTION_ALL)
        self.shows_risk = workflow.patched(RISK_ATTENTION)
        self.batches = workflow.patched(ONE_CALL_PER_GRANT)
        funds = workflow.get_external_workflow_handle(inp.funds_id)
        for lang, t in self.s.translations.items():
            if self.cancels_jobs and t.status is LanguageStatus.WITHDRAWN:
                continue  # withdrawn before its request went
            request = rules.funds_request(inp, lang, t.amount, workflow.info().workflow_id)
            await funds.signal(REQUEST_FUNDS, request)
            self.requested.add(lang)
            if self.cancels_jobs and t.status is LanguageStatus.WITHDRAWN:
                # Withdrawn while this request was on its way: the withdrawal left its cancellation to follow it.
                await funds.signal(CANCEL_REQUEST, rules.request_id(inp.spec.symbol, lang))
        self._log(f"asked the {inp.spec.meeting} ledger for {len(self.s.translations)} translations")
        watch = asyncio.get_running_loop().create_task(self._watch_due_date())
        while not self.s.finished:
            self._start_submissions()
            self._check_due(workflow.now())
            self._refresh()
            version = self.version
            await workflow.wait_condition(lambda v=version: self.version != v)  # type: ignore[misc]
        watch.cancel()
        await workflow.wait_condition(
            lambda: not self.submitting and not self.cancelling and workflow.all_handlers_finished()
        )
        self._check_due(workflow.now())
        self._refresh()
        return self.s

    async def _watch_due_date(self) -> None:
        """Two timers for the document's life: when it can no longer be translated in time, and its due date."""
        spec, money = self.inp.spec, self.inp.money
        for day in (spec.due - timedelta(days=money.translation_days - 1), spec.due + timedelta(days=1)):
            at = day_start(day, self.defaults)
            if at > workflow.now():
                await workflow.sleep(
                    at - workflow.now(), summary=f"check {md(spec.symbol)} against its due date"
                )
            self._changed()

    def _check_due(self, now: datetime) -> None:
        """Risk from what the document is now: called whenever anything it depends on changed."""
        late = rules.will_miss_due_date(self.s, local_date(now, self.defaults), self.inp.money, self.defaults)
        if late and not self.s.at_risk:
            self._log(f"will miss its due date {self.inp.spec.due}")
        self.s.at_risk = late
        if self.s.late_days is None and (days := rules.days_late(self.s, self.defaults)) is not None:
            self.s.late_days = days
            self._log(f"issued in every language: {rules.risk_text(self.s)} (due {self.inp.spec.due})")

    def _language(self, request_id: str) -> Language | None:
        """The language a request for money (of this document) was for."""
        symbol = self.inp.spec.symbol
        return next((la for la in self.s.translations if rules.request_id(symbol, la) == request_id), None)

    @workflow.signal(name=FUNDS_GRANTED)
    async def funds_granted(self, request_id: str) -> None:
        await self._granted(request_id)

    @workflow.signal(name=FUNDS_GRANTED_ALL)
    async def funds_granted_all(self, request_ids: list[str]) -> None:
        # Every language granted by one payment, in one workflow task.
        for request_id in request_ids:
            await self._granted(request_id)

    async def _granted(self, request_id: str) -> None:
        if (lang := self._language(request_id)) is None:
            return
        t = self.s.translations[lang]
        if t.status is LanguageStatus.WITHDRAWN:
            # Granted while the withdrawal was on its way to the ledger: give it back.
            await self._funds().signal(RELEASE, request_id)
            return
        if t.status is LanguageStatus.WAITING_FOR_FUNDS:
            t.status, t.granted_at = LanguageStatus.FUNDED, workflow.now()
            self._log(f"{lang.value}: funds granted ({chf(t.amount)})")
            self._changed()

    @workflow.signal(name=FUNDS_TOO_LATE)
    def funds_too_late(self, request_id: str) -> None:
        """The ledger says a language still waiting can no longer be funded in time: at risk from now."""
        lang = self._language(request_id)
        if lang is not None and self.s.translations[lang].status is LanguageStatus.WAITING_FOR_FUNDS:
            self._log(f"{lang.value}: the ledger can no longer fund it in time")
            self._changed()

    @workflow.signal(name=QUEUE_PLACE)
    def queue_place(self, p: QueuePlace) -> None:
        """The ledger tells where the languages still waiting stand in its queue; once none waits, it is cleared."""
        if signal_payload(p, QueuePlace, QUEUE_PLACE) and self.s.waiting_languages:
            self.s.queue = p
            self._changed()

    @workflow.update
    def delivered(self, d: Delivered) -> DecisionOutcome:
        return self.decisions.decide(d, lambda: rules.check_delivered(self.s, d), lambda _: self._issue(d))

    @delivered.validator
    def _check_delivered(self, d: Delivered) -> None:
        self.decisions.validate(d, lambda: rules.check_delivered(self.s, d))

    def _issue(self, d: Delivered) -> str:
        t = self.s.translations[d.language]
        t.status, t.issued_at = LanguageStatus.ISSUED, workflow.now()
        summary = f"{self.inp.spec.symbol} issued in {d.language.value}"
        count(DOCUMENTS_ISSUED, language=d.language.value)
        self._log(summary)
        return summary

    @workflow.update
    async def withdraw(self, d: Withdraw) -> DecisionOutcome:
        if (done := self.decisions.repeat(d.decision_id)) is not None:
            return done
        check(lambda: rules.check_withdraw(self.s))
        self.s.withdrawn = True
        # Held while the withdrawal waits on the ledger and conference services: the same decision sent meanwhile
        # is a repeat, not a second withdrawal.
        self.s.decisions.hold(d.decision_id)
        if workflow.patched(CANCEL_SENT_JOBS):
            self.cancels_jobs = True
            summary = await self._withdraw(d.reference)
        else:
            summary = await self._withdraw_unasked(d.reference)
        self._log(summary)
        return self.decisions.accept(d, summary)

    async def _withdraw(self, reference: str) -> str:
        symbol = self.inp.spec.symbol
        dequeue: list[Language] = []
        release: list[Language] = []
        cancel: list[Language] = []
        # Every status set before the first await, so nothing started meanwhile escapes the withdrawal.
        for lang, t in self.s.translations.items():
            if t.status is LanguageStatus.WAITING_FOR_FUNDS:
                t.status = LanguageStatus.WITHDRAWN
                if lang in self.requested:  # else run() cancels the request once it has gone
                    dequeue.append(lang)
            elif t.status is LanguageStatus.FUNDED and lang not in self.submitting:
                t.status = LanguageStatus.WITHDRAWN
                release.append(lang)
            elif t.status in (LanguageStatus.FUNDED, LanguageStatus.IN_TRANSLATION):
                t.status = LanguageStatus.CANCELLING
                cancel.append(lang)
                if (sending := self.sending.get(lang)) is not None:
                    sending.cancel()  # no further attempt; what an earlier one delivered is cancelled by key
        funds = self._funds()
        # Requests leave the queue first, so money given back below cannot be granted to them meanwhile.
        await asyncio.gather(
            *(funds.signal(CANCEL_REQUEST, rules.request_id(symbol, lang)) for lang in dequeue)
        )
        for lang in cancel:
            self.cancelling[lang] = asyncio.get_running_loop().create_task(self._cancel_job(lang, reference))
        for lang in release:
            await funds.signal(RELEASE, rules.request_id(symbol, lang))
        released = sum(self.s.translations[lang].amount for lang in release)
        held = sum(self.s.translations[lang].amount for lang in cancel)
        return rules.withdrawn_summary(symbol, reference, released, len(cancel), held)

    async def _withdraw_unasked(self, reference: str) -> str:
        """The withdrawal before CANCEL_SENT_JOBS, kept for histories recorded then."""
        funds = self._funds()
        released = 0
        # Requests leave the queue first, so money given back below cannot be granted to them meanwhile.
        for lang, t in self.s.translations.items():
            if t.status is LanguageStatus.WAITING_FOR_FUNDS:
                t.status = LanguageStatus.WITHDRAWN
                await funds.signal(CANCEL_REQUEST, rules.request_id(self.inp.spec.symbol, lang))
        for lang, t in self.s.translations.items():
            if t.status is LanguageStatus.IN_TRANSLATION:
                # The job is with conference services and paid for: nothing comes back, nothing is issued.
                t.status = LanguageStatus.WITHDRAWN
                continue
            if t.status is not LanguageStatus.FUNDED:
                continue
            released += t.amount
            if lang in self.submitting:
                self.submitting[lang].cancel()  # its task gives the money back
            else:
                t.status = LanguageStatus.WITHDRAWN
                await funds.signal(RELEASE, rules.request_id(self.inp.spec.symbol, lang))
        return f"{self.inp.spec.symbol} withdrawn ({reference}); CHF {released} released"

    @withdraw.validator
    def _check_withdraw(self, d: Withdraw) -> None:
        self.decisions.validate(d, lambda: rules.check_withdraw(self.s))

    @workflow.query
    def state(self) -> DocumentState:
        return self.s

    def _refresh(self) -> None:
        if not self.s.waiting_languages:
            self.s.queue = None  # granted, issued or withdrawn: no place in the queue any more
        self._upsert_kind(
            sa.Kind.DOCUMENT,
            self.inp.convention,
            sa.MEETING.value_set(self.inp.spec.meeting),
            sa.LANGUAGES_PENDING.value_set(self.s.pending_languages),
            sa.WAITING_FOR_FUNDS.value_set(float(self.s.waiting_for_funds)),
            *([sa.PHASE.value_set(rules.phase(self.s))] if self.attends else []),
            # The keywords sa.AT_RISK and sa.LATE, by name.
            *(
                attention(self.upserted, at_risk=self.s.at_risk, late=bool(self.s.late_days))
                if self.shows_risk
                else []
            ),
        )
        workflow.set_current_details(document_details(self.s))
