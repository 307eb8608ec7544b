"""The ledger's rules, and a document's, as plain functions."""

from __future__ import annotations

from datetime import date

import pytest

from domain import funds
from domain import queue as need
from domain.config import ConfigError, parse_config
from domain.decisions import Rejected
from domain.documents import Delivered, DocumentSpec, LanguageStatus, check_delivered, new_state
from domain.funds import Assess, FundsRequest, LedgerState, Payment, SetEstimate
from domain.models import Language, Money
from starter.cli.common import DEFAULT_CONFIG


def req(rid: str, amount: int, priority: int) -> FundsRequest:
    return FundsRequest(request_id=rid, requester="doc", purpose=rid, amount=amount, priority=priority)


def assessed() -> LedgerState:
    ledger = funds.set_estimate(
        LedgerState(meeting="9MSP"), SetEstimate(decision_id="e", reference="r", amount=1000)
    )
    return funds.assess(
        ledger,
        Assess(decision_id="a", reference="r", shares={"Austria": 60, "Chile": 40}, due=date(2019, 6, 30)),
    )


def pay(ledger: LedgerState, amount: int, state: str = "Austria") -> LedgerState:
    return funds.record_payment(
        ledger, Payment(payment_id="p", reference="r", state=state, amount=amount, force=True)
    )


def test_requests_are_granted_by_priority_then_arrival_and_a_big_one_holds_back_the_rest():
    ledger = assessed()
    for r in (req("p3-a", 50, 3), req("p1-a", 100, 1), req("p1-b", 300, 1), req("p2-a", 10, 2)):
        ledger = funds.enqueue(ledger, r)
    ledger, granted = funds.grant_in_order(pay(ledger, 150))
    assert [r.request_id for r in granted] == ["p1-a"]  # p1-b (300) does not fit, and holds back p2 and p3
    assert ledger.balance == 50 and ledger.shortfall == 360 - 50
    ledger, granted = funds.grant_in_order(pay(ledger, 310))
    assert [r.request_id for r in granted] == ["p1-b", "p2-a", "p3-a"]
    assert ledger.balance == 0 and ledger.pending == []


def test_in_the_order_of_need_the_request_needed_first_is_granted_first_within_its_priority():
    day = date(2019, 9, 3)
    requests = [
        req("day-2", 28_000, 1).model_copy(update={"needed_by": day}),
        req("doc-p2", 900, 2).model_copy(update={"needed_by": date(2019, 8, 1)}),
        req("no-date", 100, 1),
        req("doc-p1", 24_300, 1).model_copy(update={"needed_by": date(2019, 8, 20)}),
        req("doc-p1-b", 100, 1).model_copy(update={"needed_by": date(2019, 8, 20)}),
    ]
    ledger = assessed()
    for r in requests:
        ledger = funds.enqueue(ledger, r)
    # Before the patch: by priority, then arrival.
    assert [r.request_id for r in funds.queue(ledger)] == ["day-2", "no-date", "doc-p1", "doc-p1-b", "doc-p2"]
    ledger = ledger.model_copy(update={"by_need": True})
    # Needed first, ties by arrival; a request without a date after those with one; still strictly by priority.
    assert [r.request_id for r in funds.queue(ledger)] == ["doc-p1", "doc-p1-b", "day-2", "no-date", "doc-p2"]
    ledger, granted = funds.grant_in_order(pay(ledger, 30_000))
    assert [r.request_id for r in granted] == ["doc-p1", "doc-p1-b"]  # day 2 (28,000) holds back the rest


def test_a_request_still_waiting_past_its_needed_by_is_reported_once():
    ledger = assessed().model_copy(update={"by_need": True})
    for rid, needed in (("a", date(2019, 8, 20)), ("b", date(2019, 8, 25))):
        ledger = funds.enqueue(ledger, req(rid, 100, 1).model_copy(update={"needed_by": needed}))
    assert need.next_too_late(ledger) == date(2019, 8, 21)
    assert need.too_late(ledger, date(2019, 8, 20)) == (ledger, [])  # the day itself is still in time
    ledger, late = need.too_late(ledger, date(2019, 8, 21))
    assert [r.request_id for r in late] == ["a"] and ledger.too_late == ["a"]
    assert need.too_late(ledger, date(2019, 8, 22))[1] == []  # told once
    assert need.next_too_late(ledger) == date(2019, 8, 26)
    # A request made already too late is reported at the next look; one no longer waiting is forgotten.
    ledger = funds.cancel(
        funds.enqueue(ledger, req("c", 5, 1).model_copy(update={"needed_by": date(2019, 8, 1)})), "a"
    )
    ledger, late = need.too_late(ledger, date(2019, 8, 22))
    assert [r.request_id for r in late] == ["c"] and ledger.too_late == ["c"]


def test_interpretation_is_asked_for_at_a_booking_lead_time_the_config_sets_within_bounds():
    assert Money().interpretation_booking_days == 45
    shipped = parse_config(DEFAULT_CONFIG.read_text(), str(DEFAULT_CONFIG))
    assert shipped.money.interpretation_booking_days == 45
    text = DEFAULT_CONFIG.read_text().replace(
        "interpretation_booking_days = 45", "interpretation_booking_days = 400"
    )
    with pytest.raises(ConfigError, match="interpretation_booking_days"):
        parse_config(text, "cycle.toml")


def test_a_request_is_granted_once_and_released_once():
    ledger = funds.enqueue(pay(assessed(), 100), req("x", 100, 1))
    ledger, _ = funds.grant_in_order(ledger)
    assert funds.enqueue(ledger, req("x", 100, 1)).pending == []  # re-sent after its grant: ignored
    ledger = funds.release(funds.release(ledger, "x"), "x")
    assert ledger.released_total == 100 and ledger.balance == 100


def test_payments_are_checked_against_what_a_state_owes():
    ledger = assessed()
    with pytest.raises(Rejected, match="no assessed contribution"):
        funds.record_payment(ledger, Payment(payment_id="p", reference="r", state="Atlantis", amount=1))
    with pytest.raises(Rejected, match="more than its outstanding"):
        funds.record_payment(ledger, Payment(payment_id="p", reference="r", state="chile", amount=401))
    ledger = funds.record_payment(ledger, Payment(payment_id="p", reference="r", state="chile", amount=400))
    assert ledger.paid == {"Chile": 400}
    arrears = {a.state: a for a in funds.arrears(ledger, date(2019, 7, 1))}
    assert arrears["Austria"].overdue and arrears["Austria"].outstanding == 600
    assert not arrears["Chile"].overdue


def test_a_revised_estimate_revises_the_assessments_and_names_keep_their_payments():
    ledger = pay(assessed(), 100)
    ledger = funds.set_estimate(ledger, SetEstimate(decision_id="e2", reference="r", amount=2000))
    assert ledger.assessments["Austria"].amount == 1200
    ledger = funds.assess(
        ledger, Assess(decision_id="a2", reference="r", shares={"austria": 50}, due=date(2019, 7, 1))
    )
    assert list(ledger.assessments) == ["Austria"] and ledger.paid["Austria"] == 100


def test_a_language_being_cancelled_is_not_pending_nor_done_and_cannot_be_delivered():
    spec = DocumentSpec(
        symbol="CCM/MSP/2027/3", title="Report", pages=2, meeting="14MSP", due=date(2027, 9, 1)
    )
    s = new_state(spec, Money())
    for lang, t in s.translations.items():
        t.status = LanguageStatus.CANCELLING if lang is Language.FR else LanguageStatus.WITHDRAWN
    # Nothing will be issued, yet the document is not finished until conference services answer the cancellation.
    assert s.pending_languages == [] and not s.finished
    with pytest.raises(Rejected, match="not in translation .it is cancelling"):
        check_delivered(s, Delivered(decision_id="d", language=Language.FR))
    s.translations[Language.FR].status = LanguageStatus.WITHDRAWN
    assert s.finished
