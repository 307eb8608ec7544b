"""Official documents: translated into the other five official languages, each as its money arrives."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.bounds import Day, Title, WorkflowId
from domain.calendar import local_date
from domain.decisions import Decision, DecisionLog, Reference, Rejected, old_shapes
from domain.funds import FundsRequest
from domain.models import Defaults, Language, Money
from domain.queue import QueuePlace

Symbol = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9][A-Za-z0-9./()\-]{2,79}$")
]


class LanguageStatus(StrEnum):
    WAITING_FOR_FUNDS = "waiting_for_funds"
    FUNDED = "funded"
    IN_TRANSLATION = "in_translation"
    # Withdrawn while its job was sent or on its way: conference services are asked to cancel it, and its money
    # comes back only if they confirm.
    CANCELLING = "cancelling"
    ISSUED = "issued"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


DONE = {LanguageStatus.ISSUED, LanguageStatus.FAILED, LanguageStatus.WITHDRAWN}


class DocumentSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: Symbol
    title: Title
    original_language: Language = Language.EN
    pages: int = Field(ge=1, le=2000)
    # 1 is translated first.
    priority: int = Field(default=2, ge=1, le=9)
    meeting: Annotated[str, StringConstraints(pattern=r"^\d{1,3}(MSP|RC)$")]
    due: Day


class Translation(BaseModel):
    language: Language
    status: LanguageStatus = LanguageStatus.WAITING_FOR_FUNDS
    amount: int
    granted_at: datetime | None = None
    job_reference: str | None = None
    issued_at: datetime | None = None
    error: str | None = None


class Delivered(Decision):
    language: Language
    reference: Reference = "delivered by conference services"


class Withdraw(Decision):
    pass


class DocumentInput(BaseModel):
    convention: str = "ccm"
    spec: DocumentSpec
    money: Money
    funds_id: WorkflowId
    defaults: Defaults = Defaults()


class DocumentState(BaseModel):
    spec: DocumentSpec
    translations: dict[Language, Translation]
    at_risk: bool = False
    # Once finished: how many days after its due date the last language was issued (0: on time). None while a
    # language is still to come, and for a withdrawn document (nothing to be late for).
    late_days: int | None = None
    withdrawn: bool = False
    # Its place in the ledger's queue, as the ledger last told it (QUEUE_PLACE) while a language waits for money.
    queue: QueuePlace | None = None
    log: list[str] = Field(default_factory=list)
    decisions: DecisionLog = Field(default_factory=DecisionLog)

    _old_shapes = old_shapes("applied_ids")

    @property
    def waiting_for_funds(self) -> int:
        return sum(
            t.amount for t in self.translations.values() if t.status is LanguageStatus.WAITING_FOR_FUNDS
        )

    @property
    def waiting_languages(self) -> list[str]:
        return [
            lang.value
            for lang, t in self.translations.items()
            if t.status is LanguageStatus.WAITING_FOR_FUNDS
        ]

    @property
    def pending_languages(self) -> list[str]:
        """The languages still to be issued (one being cancelled never will be)."""
        return [
            lang.value
            for lang, t in self.translations.items()
            if t.status not in DONE and t.status is not LanguageStatus.CANCELLING
        ]

    @property
    def finished(self) -> bool:
        return all(t.status in DONE for t in self.translations.values())


def request_id(symbol: str, language: Language) -> str:
    return f"translation:{symbol}:{language.value}"


def needed_by(spec: DocumentSpec, money: Money) -> date:
    """The last day a translation can be funded and still be done by the due date."""
    return spec.due - timedelta(days=money.translation_days)


def funds_request(inp: DocumentInput, language: Language, amount: int, requester: str) -> FundsRequest:
    """What the document asks its ledger for one language's translation (``amount``)."""
    spec = inp.spec
    return FundsRequest(
        request_id=request_id(spec.symbol, language),
        requester=requester,
        purpose=f"translation of {spec.symbol} into {language.value}",
        amount=amount,
        priority=spec.priority,
        needed_by=needed_by(spec, inp.money),
    )


def withdrawn_summary(symbol: str, reference: str, released: int, cancelling: int, held: int) -> str:
    """The withdrawal in words: the money released, and the jobs sent whose money waits for their cancellation."""
    summary = f"{symbol} withdrawn ({reference}); CHF {released} released"
    if cancelling:
        summary += (
            f"; {cancelling} job(s) sent to conference services being cancelled: their CHF {held} is "
            "released once they confirm"
        )
    return summary


def cancelled_text(t: Translation, cancelled: bool) -> str:
    """A job of a withdrawn document, cancelled or too late to cancel at conference services, for its log."""
    if not cancelled:
        return (
            f"{t.language.value}: job {t.job_reference} already completed by conference services, too late to "
            f"cancel; CHF {t.amount} stays spent"
        )
    return (
        f"{t.language.value}: job {t.job_reference or '(none had arrived)'} cancelled by conference services; "
        f"CHF {t.amount} released"
    )


def new_state(spec: DocumentSpec, money: Money) -> DocumentState:
    targets = [lang for lang in Language if lang is not spec.original_language]
    return DocumentState(
        spec=spec,
        translations={
            lang: Translation(language=lang, amount=spec.pages * money.translation_rate_per_page[lang])
            for lang in targets
        },
    )


def check_delivered(state: DocumentState, d: Delivered) -> None:
    t = state.translations.get(d.language)
    if t is None:
        raise Rejected(
            f"{d.language.value} is the original language of {state.spec.symbol}; nothing to deliver."
        )
    if t.status is not LanguageStatus.IN_TRANSLATION:
        raise Rejected(
            f"The {d.language.value} version of {state.spec.symbol} is not in translation "
            f"(it is {t.status.value.replace('_', ' ')})."
        )


def check_withdraw(state: DocumentState) -> None:
    if state.withdrawn:
        raise Rejected(f"{state.spec.symbol} is already withdrawn.")
    if state.finished:
        raise Rejected(f"{state.spec.symbol} is issued in every language; there is nothing left to withdraw.")


def will_miss_due_date(
    state: DocumentState, today: date, money: Money, defaults: Defaults | None = None
) -> bool:
    """At risk while unfinished: a language still waiting for money can no longer be translated by the due date, a
    language in translation is past it, or (given ``defaults``, the clock grants are read on) one was funded too
    late to be translated in time. A withdrawn or finished document is not at risk: it is on time or late."""
    if state.withdrawn or state.finished:
        return False
    latest_start = needed_by(state.spec, money)
    waiting = any(
        t.status in {LanguageStatus.WAITING_FOR_FUNDS, LanguageStatus.FUNDED}
        for t in state.translations.values()
    )
    in_work = [t for t in state.translations.values() if t.status is LanguageStatus.IN_TRANSLATION]
    funded_late = defaults is not None and any(
        t.granted_at is not None and local_date(t.granted_at, defaults) > latest_start for t in in_work
    )
    return (waiting and today > latest_start) or (bool(in_work) and (today > state.spec.due or funded_late))


def days_late(state: DocumentState, defaults: Defaults) -> int | None:
    """For a finished document: the days its last language came out after the due date (0: on time). None while a
    language is still to come, when withdrawn, or when no language was issued."""
    if not state.finished or state.withdrawn:
        return None
    issued = [
        local_date(t.issued_at, defaults) for t in state.translations.values() if t.issued_at is not None
    ]
    if not issued:
        return None
    return max((max(issued) - state.spec.due).days, 0)


def risk_text(state: DocumentState) -> str:
    """The document against its due date, in words, as `msp docs status` and the current details say it."""
    if state.late_days is not None:
        return (
            f"late by {state.late_days} day{'' if state.late_days == 1 else 's'}"
            if state.late_days
            else "on time"
        )
    if state.at_risk:
        return f"at risk: it will miss its due date {state.spec.due}"
    return "withdrawn" if state.withdrawn else "on track"


def phase(state: DocumentState) -> str:
    """The document's CcmPhase: withdrawn, issued (every language), waiting_for_funds (a language waits for money),
    or in_translation."""
    statuses = {t.status for t in state.translations.values()}
    if state.withdrawn:
        return "withdrawn"
    if statuses <= {LanguageStatus.ISSUED, LanguageStatus.WITHDRAWN}:
        return "issued"
    if LanguageStatus.WAITING_FOR_FUNDS in statuses:
        return "waiting_for_funds"
    return "in_translation"
