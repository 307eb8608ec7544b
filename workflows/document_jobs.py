"""The jobs of a DocumentWorkflow: sending its translations to conference services, and cancelling them.

A base class of ``DocumentWorkflow``, imported through the sandbox like ``workflows.common``: its code is shared by
every document rather than built again in each run.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

from domain import documents as rules
from domain.calendar import local_clock
from domain.conference import (
    CANCEL_TRANSLATION,
    SUBMIT_TRANSLATION,
    SUBMIT_TRANSLATIONS,
    Cancellation,
    JobAnswer,
    JobAnswers,
    JobCancellation,
    Receipt,
    TranslationBatch,
    TranslationJob,
)
from domain.documents import DocumentInput, DocumentState, LanguageStatus
from domain.funds import RELEASE
from domain.models import Language
from workflows.common import call_services, start_input
from workflows.decisions import Shows


def _reason(e: BaseException) -> str:
    cause = e.cause if isinstance(e, ActivityError) else None
    return cause.message if isinstance(cause, ApplicationError) else str(cause)


def _stopped(e: BaseException) -> bool:
    """Whether a submission ended because it was cancelled, rather than refused by conference services."""
    return not isinstance(e, ActivityError) or isinstance(e.cause, CancelledError)


class DocumentJobs(Shows[DocumentState]):
    def __init__(self, inp: DocumentInput) -> None:
        self.inp = start_input(inp, DocumentInput)
        super().__init__(rules.new_state(inp.spec, inp.money))
        self.defaults = inp.defaults
        self.submitting: dict[Language, asyncio.Task[None]] = {}
        # The submission activities in flight, to stop them (and only them) when the document is withdrawn.
        self.sending: dict[Language, workflow.ActivityHandle[Any]] = {}
        self.cancelling: dict[Language, asyncio.Task[None]] = {}
        # Set by the run from the patches CANCEL_SENT_JOBS and ONE_CALL_PER_GRANT (workflows/document.py).
        self.cancels_jobs = False
        self.batches = False
        # Languages a batch left unanswered (held or failing at conference services): they go alone from then on,
        # retried on their own, so one slow job holds up no other.
        self.alone: set[Language] = set()

    def _start_submissions(self) -> None:
        if self.s.withdrawn and self.cancels_jobs:
            return  # a withdrawn document sends nothing more
        funded = [
            lang
            for lang, t in self.s.translations.items()
            if t.status is LanguageStatus.FUNDED and lang not in self.submitting
        ]
        # The languages funded together go in one call from ONE_CALL_PER_GRANT on; one call each before it, and for
        # a language a batch left unanswered.
        together = [lang for lang in funded if lang not in self.alone] if self.batches else []
        calls = [(together, True)] if together else []
        calls += [([lang], False) for lang in funded if lang not in together]
        for langs, batch in calls:
            task = asyncio.get_running_loop().create_task(self._submit(langs, batch))
            self.submitting.update(dict.fromkeys(langs, task))

    def _job_key(self, lang: Language) -> str:
        return f"{workflow.info().workflow_id}:{lang.value}"

    def _job(self, lang: Language) -> TranslationJob:
        spec = self.inp.spec
        return TranslationJob(
            base_url=self.inp.money.conference_services_url,
            idempotency_key=self._job_key(lang),
            symbol=spec.symbol,
            title=spec.title,
            meeting=spec.meeting,
            source_language=spec.original_language,
            target_language=lang,
            pages=spec.pages,
            due=spec.due,
            amount_granted=self.s.translations[lang].amount,
        )

    async def _submit(self, langs: list[Language], batch: bool) -> None:
        jobs = [self._job(lang) for lang in langs]
        summary = f"submit {self.inp.spec.symbol} for translation into {', '.join(la.value for la in langs)}"
        try:
            if self.s.withdrawn and self.cancels_jobs:
                return  # withdrawn before it went: _cancel_job settles it
            if batch:
                call = call_services(SUBMIT_TRANSLATIONS, TranslationBatch(jobs=jobs), JobAnswers, summary)
                self.sending.update(dict.fromkeys(langs, call))
                answers = (await call).answers
            else:
                one = self.sending[langs[0]] = call_services(SUBMIT_TRANSLATION, jobs[0], Receipt, summary)
                answers = [JobAnswer(target_language=langs[0], receipt=await one)]
        except (ActivityError, asyncio.CancelledError) as e:
            for lang in langs:
                await self._not_sent(lang, e)
        else:
            for answer in answers:
                await self._answered(answer)
        finally:
            for lang in langs:
                self.sending.pop(lang, None)
                self.submitting.pop(lang, None)
            # Outside the workflow only when garbage collection closes this coroutine (GeneratorExit) after its run
            # left the worker without being evicted: there is nothing to show then, and the workflow API raises.
            if workflow.in_workflow():
                self._changed()

    async def _not_sent(self, lang: Language, e: BaseException) -> None:
        t = self.s.translations[lang]
        if self.s.withdrawn and self.cancels_jobs and _stopped(e):
            # Stopped by the withdrawal, perhaps after the job arrived: _cancel_job asks conference services.
            return
        if self.s.withdrawn and not self.cancels_jobs:
            # The path before CANCEL_SENT_JOBS, kept for histories recorded then.
            t.status = LanguageStatus.WITHDRAWN
            self._log(f"{lang.value}: submission stopped by the withdrawal; CHF {t.amount} released")
            await self._funds().signal(RELEASE, rules.request_id(self.inp.spec.symbol, lang))
            return
        await self._refused(lang, _reason(e))

    async def _refused(self, lang: Language, reason: str) -> None:
        t = self.s.translations[lang]
        t.status, t.error = LanguageStatus.FAILED, reason
        self._log(f"{lang.value}: refused by conference services: {t.error}")
        await self._funds().signal(RELEASE, rules.request_id(self.inp.spec.symbol, lang))

    async def _answered(self, answer: JobAnswer) -> None:
        lang, t = answer.target_language, self.s.translations[answer.target_language]
        if answer.refused is not None:
            await self._refused(lang, answer.refused)
        elif answer.receipt is None:
            self.alone.add(lang)  # still FUNDED: _start_submissions sends it again, alone
        elif t.status is LanguageStatus.FUNDED:
            t.status, t.job_reference = LanguageStatus.IN_TRANSLATION, answer.receipt.reference
            self._log(f"{lang.value}: in translation ({answer.receipt.reference})")
        elif t.status is LanguageStatus.CANCELLING:
            t.job_reference = answer.receipt.reference

    async def _cancel_job(self, lang: Language, reason: str) -> None:
        """Asks conference services to cancel the job of a withdrawn language, sent or on its way, by its key.

        The money comes back only when they confirm; a job they completed first stays paid for.
        """
        t = self.s.translations[lang]
        spec = self.inp.spec
        try:
            await workflow.wait_condition(lambda: lang not in self.submitting)
            if t.status is LanguageStatus.FAILED:
                return  # refused when sent: there is no job, and its money already came back
            request = JobCancellation(
                base_url=self.inp.money.conference_services_url,
                idempotency_key=self._job_key(lang),
                symbol=spec.symbol,
                target_language=lang,
                reason=reason,
            )
            try:
                answer = await call_services(
                    CANCEL_TRANSLATION,
                    request,
                    Cancellation,
                    f"cancel the translation of {spec.symbol} into {lang.value}",
                )
            except ActivityError as e:
                t.status, t.error = LanguageStatus.WITHDRAWN, f"cancellation refused: {_reason(e)}"
                self._log(f"{lang.value}: {t.error}; CHF {t.amount} stays spent")
                return
            t.status, t.job_reference = LanguageStatus.WITHDRAWN, answer.reference or t.job_reference
            if not answer.cancelled:
                t.error = f"too late to cancel: {answer.detail}"
                self._log(rules.cancelled_text(t, cancelled=False))
                return
            self._log(rules.cancelled_text(t, cancelled=True))
            await self._funds().signal(RELEASE, rules.request_id(spec.symbol, lang))
        finally:
            self.cancelling.pop(lang, None)
            if workflow.in_workflow():
                self._changed()

    def _funds(self) -> workflow.ExternalWorkflowHandle[object]:
        return workflow.get_external_workflow_handle(self.inp.funds_id)

    def _log(self, line: str) -> None:
        self.s.log.append(f"{local_clock(workflow.now(), self.defaults)} {self.defaults.place}: {line}")
