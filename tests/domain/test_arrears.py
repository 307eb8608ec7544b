"""A payment settles the State's oldest arrears first, across meetings' ledgers: the split, as a plain rule."""

from __future__ import annotations

from datetime import date

import pytest

from domain import funds
from domain.arrears import owed_by, part_id, parts, split_payment
from domain.decisions import Rejected
from domain.funds import Assess, LedgerState, Payment, PaymentSplit, SetEstimate, chf

TODAY = date(2019, 9, 20)


def ledger(meeting: str, estimate: int, due: date, shares: dict[str, float]) -> LedgerState:
    s = funds.set_estimate(
        LedgerState(meeting=meeting), SetEstimate(decision_id="e", reference="r", amount=estimate)
    )
    return funds.assess(s, Assess(decision_id="a", reference="r", shares=shares, due=due))


def ninth_and_tenth() -> list[LedgerState]:
    """Chile owes CHF 30,000 to the 9MSP (paid 10,000 of 40,000) and 20,000 to the 10MSP; listed newest first."""
    ninth = ledger("9MSP", 100_000, date(2019, 6, 30), {"Chile": 40, "Norway": 60})
    ninth = funds.record_payment(
        ninth, Payment(decision_id="early", reference="r", state="Chile", amount=10_000)
    )
    tenth = ledger("10MSP", 50_000, date(2020, 6, 30), {"Chile": 40, "Norway": 60})
    return [tenth, ninth]


def payment(amount: int, pid: str = "late-1", **kw: object) -> Payment:
    return Payment(decision_id=pid, reference="bank advice", state="chile", amount=amount, **kw)


def test_what_a_state_owes_is_listed_per_meeting_the_oldest_first():
    owed = owed_by("CHILE", ninth_and_tenth(), TODAY)
    assert [(o.meeting, o.assessed, o.paid, o.outstanding, o.overdue) for o in owed] == [
        ("9MSP", 40_000, 10_000, 30_000, True),
        ("10MSP", 20_000, 0, 20_000, False),
    ]
    assert owed_by("Mexico", ninth_and_tenth(), TODAY) == []


def test_a_payment_after_the_meeting_settles_its_arrears_first_and_the_rest_goes_to_the_current_meeting():
    ledgers = ninth_and_tenth()
    split = split_payment(payment(45_000), ledgers, "10MSP", TODAY)
    assert split == PaymentSplit(
        payment_id="late-1", state="Chile", total=45_000, parts={"9MSP": 30_000, "10MSP": 15_000}
    )
    sent = parts(payment(45_000), split)
    assert [(p.decision_id, p.amount, p.split) for p in sent] == [
        ("late-1:9MSP", 30_000, split),
        ("late-1:10MSP", 15_000, split),
    ]
    # Each ledger records its part and keeps the whole split, named in its record.
    by_meeting = {lg.meeting: lg for lg in ledgers}
    ninth = funds.record_payment(by_meeting["9MSP"], sent[0])
    assert ninth.paid["Chile"] == 40_000 and ninth.splits == {"late-1": split}
    assert funds.payment_summary(ninth, sent[0]) == (
        f"{chf(30_000)} from Chile, part of payment late-1 ({chf(45_000)}, oldest arrears first: "
        f"9MSP {chf(30_000)}, 10MSP {chf(15_000)})"
    )
    # A part that is not this ledger's, or not what the split gives it, is refused.
    with pytest.raises(Rejected, match="gives the 10MSP no part of CHF 30,000"):
        funds.record_payment(by_meeting["10MSP"], sent[0].model_copy(update={"decision_id": "x"}))


def test_a_payment_sent_again_after_a_partial_failure_keeps_its_split():
    ledgers = ninth_and_tenth()
    split = split_payment(payment(45_000), ledgers, "10MSP", TODAY)
    first = parts(payment(45_000), split)[0]
    # The 9MSP recorded its part; the 10MSP's was lost. Recomputed from the ledgers now, the payment would go
    # elsewhere (the 9MSP is settled); it keeps the split its first part recorded.
    after = [ledgers[0], funds.record_payment(ledgers[1], first)]
    assert split_payment(payment(45_000), after, "10MSP", TODAY) == split
    # The same id with another amount is another payment: refused, nothing sent.
    with pytest.raises(Rejected, match="was recorded as CHF 45,000 from Chile, not CHF 5,000"):
        split_payment(payment(5_000), after, "10MSP", TODAY)


def test_a_payment_within_the_oldest_arrears_goes_there_alone_under_its_own_id():
    split = split_payment(payment(12_000), ninth_and_tenth(), "10MSP", TODAY)
    assert split.parts == {"9MSP": 12_000}
    assert [p.decision_id for p in parts(payment(12_000), split)] == ["late-1"]


def test_more_than_a_state_owes_everywhere_is_refused_unless_forced_and_the_rest_goes_to_the_current_meeting():
    with pytest.raises(
        Rejected, match=r"more than its outstanding contribution across meetings \(CHF 50,000\)"
    ):
        split_payment(payment(60_000), ninth_and_tenth(), "10MSP", TODAY)
    split = split_payment(payment(60_000, force=True), ninth_and_tenth(), "10MSP", TODAY)
    assert split.parts == {"9MSP": 30_000, "10MSP": 30_000}
    # No assessment at the current meeting to take the rest: refused before anything is sent.
    with pytest.raises(Rejected, match="no assessed contribution for the 11MSP"):
        split_payment(payment(60_000, force=True), ninth_and_tenth(), "11MSP", TODAY)


def test_a_state_assessed_nowhere_is_left_to_the_current_ledger_to_refuse():
    p = Payment(decision_id="p", reference="r", state="Atlantis", amount=100)
    assert split_payment(p, ninth_and_tenth(), "10MSP", TODAY).parts == {"10MSP": 100}


def test_part_ids_stay_within_the_length_of_a_decision_id_and_differ_per_meeting():
    long_id = "p" * 128
    split = PaymentSplit(payment_id=long_id, state="Chile", total=2, parts={"9MSP": 1, "10MSP": 1})
    ids = [part_id(split, m) for m in split.parts]
    assert len(set(ids)) == 2 and all(len(i) <= 128 for i in ids)
    assert [Payment(decision_id=i, reference="r", state="Chile", amount=1).decision_id for i in ids] == ids
    with pytest.raises(ValueError, match="add up to 2, not the payment's 3"):
        PaymentSplit(payment_id="p", state="Chile", total=3, parts={"9MSP": 1, "10MSP": 1})
