"""A State's arrears across meetings, and a payment settled oldest arrears first (Art. 14).

Each meeting has its own ledger; a State owes each what it was assessed there less what it paid there. A payment
given without a meeting (`msp funds pay` without `--meeting`) settles the oldest of these first (by the date the
contribution was due, then by meeting), and whatever is left goes where a payment went before: to the ledger of the
Presidency's current meeting. The split is decided here, once: each ledger records its part under an id derived from
the payment's and keeps the whole split, so a payment sent again after a partial failure is completed with the same
split and nothing counts twice.
"""

from __future__ import annotations

import hashlib
from datetime import date

from pydantic import BaseModel, ConfigDict

from domain.bounds import chf
from domain.decisions import Rejected
from domain.funds import LedgerState, Payment, PaymentSplit, canonical_state
from domain.models import name_key

# The longest decision id the models accept.
_ID_MAX = 128


class Owed(BaseModel):
    """What a State owes one meeting's ledger."""

    model_config = ConfigDict(frozen=True)

    meeting: str
    assessed: int
    paid: int
    outstanding: int
    due: date
    overdue: bool
    # What is owed: the assessed contribution, or the surplus invoiced to the host of a meeting away from Geneva.
    what: str = "contribution"


def owed_by(state: str, ledgers: list[LedgerState], today: date) -> list[Owed]:
    """Every meeting that assessed ``state`` (in any case and spacing), the oldest due first."""
    owed = []
    for ledger in ledgers:
        name = canonical_state(ledger, state)
        if name is None:
            continue
        a = ledger.assessments[name]
        paid = ledger.paid.get(name, 0)
        outstanding = max(a.amount - paid, 0)
        owed.append(
            Owed(
                meeting=ledger.meeting,
                assessed=a.amount,
                paid=paid,
                outstanding=outstanding,
                due=a.due,
                overdue=outstanding > 0 and today > a.due,
            )
        )
    return sorted(owed, key=lambda o: (o.due, o.meeting))


def surplus_owed_by(state: str, ledgers: list[LedgerState], today: date) -> list[Owed]:
    """Every surplus invoiced to ``state`` as the host of a meeting away from Geneva, not withdrawn, the oldest due
    first. Apart from ``owed_by``: a payment without --surplus never settles it."""
    owed = [
        Owed(
            meeting=ledger.meeting,
            assessed=inv.amount,
            paid=inv.paid,
            outstanding=inv.outstanding,
            due=inv.due,
            overdue=inv.outstanding > 0 and today > inv.due,
            what=f"surplus ({', '.join(inv.places)})",
        )
        for ledger in ledgers
        for host, inv in ledger.surplus.items()
        if name_key(host) == name_key(state) and not inv.withdrawn
    ]
    return sorted(owed, key=lambda o: (o.due, o.meeting))


def split_payment(p: Payment, ledgers: list[LedgerState], current: str, today: date) -> PaymentSplit:
    """How ``p`` settles its State's arrears, oldest first, the rest to the ``current`` meeting's ledger.

    A payment already split (a ledger keeps its split under the payment's id) keeps that split, so sending it again
    completes it. Refused (``Rejected``) when the rest would be refused by the current ledger: nothing is sent then.
    """
    for ledger in ledgers:
        if (earlier := ledger.splits.get(p.decision_id)) is not None:
            if earlier.total != p.amount or name_key(earlier.state) != name_key(p.state):
                raise Rejected(
                    f"Payment {p.decision_id} was recorded as {chf(earlier.total)} from {earlier.state}, not "
                    f"{chf(p.amount)} from {p.state}; give this one another --id."
                )
            return earlier
    owed = owed_by(p.state, ledgers, today)
    # As the ledgers write it.
    state = next((s for ledger in ledgers if (s := canonical_state(ledger, p.state)) is not None), p.state)
    parts: dict[str, int] = {}
    rest = p.amount
    for o in owed:
        if rest and o.outstanding:
            parts[o.meeting] = min(rest, o.outstanding)
            rest -= parts[o.meeting]
    if rest:
        by_meeting = {ledger.meeting: ledger for ledger in ledgers}
        assessed_now = current in by_meeting and canonical_state(by_meeting[current], p.state) is not None
        total_owed = sum(o.outstanding for o in owed)
        more = f"{chf(p.amount)} from {state} is more than its outstanding contribution across meetings"
        if owed and not assessed_now:
            raise Rejected(
                f"{more} ({chf(total_owed)}), and it has no assessed contribution for the {current} to take the "
                "rest; record what it owes, or give --meeting."
            )
        if owed and not p.force:
            raise Rejected(
                f"{more} ({chf(total_owed)}); record it with --force if that is what was received."
            )
        # Where a payment went before: the current meeting's ledger, which refuses it there if it must.
        parts[current] = parts.get(current, 0) + rest
    return PaymentSplit(payment_id=p.decision_id, state=state, total=p.amount, parts=parts)


def part_id(split: PaymentSplit, meeting: str) -> str:
    """The id under which ``meeting``'s ledger records its part: the payment's own when there is one part, else
    derived from it (within the length a decision id may have), so that each part is recorded once."""
    if len(split.parts) == 1:
        return split.payment_id
    suffix = f":{meeting}"
    whole = split.payment_id
    if len(whole) + len(suffix) > _ID_MAX:
        digest = hashlib.sha256(whole.encode()).hexdigest()[:12]
        whole = f"{whole[: _ID_MAX - len(suffix) - len(digest) - 1]}+{digest}"
    return whole + suffix


def parts(p: Payment, split: PaymentSplit) -> list[Payment]:
    """The payment each ledger is sent: its part, under its id, naming the whole split."""
    return [
        p.model_copy(update={"decision_id": part_id(split, meeting), "amount": amount, "split": split})
        for meeting, amount in split.parts.items()
    ]
