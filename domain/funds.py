"""A meeting's money: cost estimate, assessed contributions (Art. 14), payments, and requests granted in order.

Amounts are whole Swiss francs (CHF) as integers: no rounding drifts in a ledger that must balance to the franc.
The queue is strict: requests are granted by priority (1 first); within a priority the one needed first goes first
(its ``needed_by``: a document's due date less the days a translation takes, a meeting day's date), then first come
first served; and a request the balance cannot cover holds back those behind it, so money goes where the priorities
say. A request still waiting after its ``needed_by`` can no longer be funded in time: the ledger says so at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Protocol

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.bounds import MAX_STATES, TITLE_MAX, Aliases, Chf, Day, DerivedDay, Value, WorkflowId, quote
from domain.bounds import chf as chf
from domain.decisions import Decision, DecisionId, DecisionLog, Rejected, old_shapes
from domain.meeting_costs import Arrears as Arrears
from domain.meeting_costs import Surplus, Venue, check_assessed, invoiced_host, pay_surplus
from domain.meeting_costs import arrears as arrears  # its arrears per State, as read from here before
from domain.models import Defaults, Name, StatesList, name_key
from domain.roster import Roster
from domain.states import check_state, check_states

Amount = Chf
RequestId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# Requests waiting for money: far more than a meeting's documents and days ask for; beyond it one is dropped.
MAX_PENDING = 5_000


# The signals of the ledger (MeetingFundsWorkflow): a requester asks for money with a FundsRequest, withdraws a
# request still queued, or gives a grant's money back, naming the request by its id.
REQUEST_FUNDS = "request_funds"
CANCEL_REQUEST = "cancel_request"
RELEASE = "release"
# The signal the ledger sends a requester (``FundsRequest.requester``) when its request is granted, with the request
# id: every workflow that asks for money has a handler of that name (``FundsRequester``).
FUNDS_GRANTED = "funds_granted"
# The signal the ledger sends a requester (from the patch ``ledger-one-grant-signal-per-requester`` on) with the ids
# of all its requests granted at that moment: a document whose five languages are granted by one payment hears of
# them in one signal, one workflow task, rather than five (issue 16). Requesters keep FUNDS_GRANTED for the single
# grants older ledgers sent.
FUNDS_GRANTED_ALL = "funds_granted_all"
# The signal the ledger sends a requester whose request, still waiting, is past its ``needed_by``.
FUNDS_TOO_LATE = "funds_too_late"


class FundsRequester(Protocol):
    """What a workflow that asks a ledger for money must have (MeetingWorkflow, DocumentWorkflow): a signal handler
    named FUNDS_GRANTED taking the granted request's id, and one named FUNDS_GRANTED_ALL taking the ids of several
    granted together. A grant it can no longer use it gives back (RELEASE); it may be async for that. A handler named
    FUNDS_TOO_LATE hears of a request that can no longer be funded in time. tests/domain/test_seams.py checks that
    both requesters keep to it."""

    def funds_granted(self, request_id: str) -> object: ...

    def funds_granted_all(self, request_ids: list[str]) -> object: ...

    def funds_too_late(self, request_id: str) -> object: ...


class FundsRequest(Value):
    """Money asked for by a document (a translation) or a meeting (a day's interpretation)."""

    request_id: RequestId
    requester: WorkflowId  # the workflow id to tell when granted
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=TITLE_MAX)]
    amount: Amount
    priority: int = Field(ge=1, le=9)
    # The last day a grant is in time; None (requests sent before it existed): after those that have one.
    needed_by: DerivedDay | None = None


class Grant(Value):
    request_id: str
    amount: int
    at: datetime


class Assessment(Value):
    """One State's assessed contribution to the meeting's costs."""

    state: Name
    share_percent: float = Field(gt=0, le=100)
    amount: int = Field(ge=0)
    due: date


# Meetings a payment may be split over: far more than a State is ever in arrears for.
MAX_SPLIT = 50
# Splits a ledger remembers (the newest), so that a split payment sent again is completed the same way.
KEEP_SPLITS = 2_000


class PaymentSplit(BaseModel):
    """One payment of a State settled over several meetings' ledgers, oldest arrears first (domain/arrears.py):
    each ledger records its part under an id derived from the payment's, and keeps the whole split."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payment_id: DecisionId
    state: Name
    total: Amount
    # Meeting label -> its part, oldest arrears first; the rest, if any, last.
    parts: dict[Annotated[str, StringConstraints(pattern=r"^\d{1,3}(MSP|RC)$")], Amount] = Field(
        min_length=1, max_length=MAX_SPLIT
    )

    @model_validator(mode="after")
    def _adds_up(self) -> PaymentSplit:
        if sum(self.parts.values()) != self.total:
            raise ValueError(
                f"the parts add up to {sum(self.parts.values())}, not the payment's {self.total}"
            )
        return self

    def describe(self) -> str:
        return ", ".join(f"{label} {chf(amount)}" for label, amount in self.parts.items())


class Payment(Decision):
    """A payment received from a State: its id (recorded twice, it counts once) and the bank's reference; with
    ``split``, this ledger's part of a payment settled over several meetings."""

    # Payments were first sent with a ``payment_id``, as recorded histories (and an older `msp`) still carry them.
    decision_id: DecisionId = Field(validation_alias=AliasChoices("decision_id", "payment_id"))
    state: Name
    amount: Amount
    force: bool = False
    split: PaymentSplit | None = None
    # Towards the surplus invoiced to the host of a meeting away from Geneva, not its assessed contribution.
    surplus: bool = False


class SetEstimate(Decision):
    amount: Amount


class Assess(Decision):
    """Assessed contributions from the ISU's file of States and shares (UN scale of assessment, adjusted)."""

    # At most one row per State.
    shares: dict[Name, Annotated[float, Field(gt=0, le=100)]] = Field(min_length=1, max_length=MAX_STATES)
    due: Day


class LedgerLog(DecisionLog):
    """A ledger's decisions: it keeps the ids of far more payments than a meeting receives (two or three from each
    State), so that a payment recorded again, even after many continue-as-new, counts once."""

    keep_ids: ClassVar[int] = 10_000


class LedgerState(BaseModel):
    """The whole ledger; carried across continue-as-new. Totals per State keep it small however many payments."""

    convention: str = "ccm"
    meeting: str
    # The States Parties who may be assessed and pay (`[states_parties].names`); empty: any well-formed name.
    states_parties: StatesList = Field(default_factory=list)
    # The register's other names of a State (alias -> short name): taken for the State's name.
    aliases: Aliases = Field(default_factory=dict)
    estimate: int | None = None
    estimate_reference: str | None = None
    assessments: dict[str, Assessment] = Field(default_factory=dict)
    paid: dict[str, int] = Field(default_factory=dict)
    payments_total: int = 0
    payments_count: int = 0
    granted_total: int = 0
    released_total: int = 0
    # Every request granted, with its amount: a request is granted once, and released at most once.
    granted: dict[str, int] = Field(default_factory=dict)
    released: set[str] = Field(default_factory=set)
    pending: list[FundsRequest] = Field(default_factory=list)
    # Payments and ISU decisions applied: a payment recorded twice counts once.
    decisions: LedgerLog = Field(default_factory=LedgerLog)
    # Grants made but not yet told to their requester (kept across continue-as-new).
    to_notify: list[FundsRequest] = Field(default_factory=list)
    # Payments split over several ledgers that gave this one a part, by the whole payment's id.
    splits: dict[str, PaymentSplit] = Field(default_factory=dict)
    runs: int = 1
    defaults: Defaults = Defaults()
    # Within a priority, the request needed first is granted first (from the patch ORDER_OF_NEED on); before it,
    # first come first served.
    by_need: bool = False
    # Requests still waiting that can no longer be funded in time, reported to their requester once.
    too_late: list[str] = Field(default_factory=list)
    # The register (from the Presidency): who is a State Party on a day. None: ledgers begun before it.
    roster: Roster | None = None
    # States not party registered to take part (domain/meeting_costs.py), assessed with the States Parties.
    participants: StatesList = Field(default_factory=list)
    # Where the meeting is held away from Geneva, and the surplus invoiced to each host.
    venue: Venue = Venue()
    surplus: dict[str, Surplus] = Field(default_factory=dict)
    # An assessment names States Parties and registered States not party only (from the patch HOST_SURPLUS on).
    takers_checked: bool = False

    _old_shapes = old_shapes("applied_ids")

    @property
    def balance(self) -> int:
        return self.payments_total + self.released_total - self.granted_total

    @property
    def waiting_total(self) -> int:
        return sum(r.amount for r in self.pending)

    @property
    def shortfall(self) -> int:
        """What the queue needs beyond the balance."""
        return max(self.waiting_total - self.balance, 0)


def set_estimate(ledger: LedgerState, d: SetEstimate) -> LedgerState:
    summary_before = ledger.estimate
    if summary_before == d.amount:
        raise Rejected(f"The cost estimate is already {chf(d.amount)}.")
    # A revised estimate revises what each assessed State owes, at the same shares.
    assessments = {
        state: a.model_copy(update={"amount": round(d.amount * a.share_percent / 100)})
        for state, a in ledger.assessments.items()
    }
    return ledger.model_copy(
        update={"estimate": d.amount, "estimate_reference": d.reference, "assessments": assessments}
    )


def assess(ledger: LedgerState, d: Assess, today: date | None = None) -> LedgerState:
    if ledger.estimate is None:
        raise Rejected("Record the adopted cost estimate before assessing contributions.")
    total = sum(d.shares.values())
    if total > 100.0001:
        raise Rejected(f"The shares add up to {total:.4f}%, more than 100%.")
    listed = check_states(list(d.shares), ledger.states_parties, aliases=ledger.aliases)
    # Names as first recorded, so a State re-assessed in other letter case keeps its payments.
    known = {name_key(s): s for s in [*ledger.paid, *ledger.assessments]}
    assessments: dict[str, Assessment] = {}
    seen: dict[str, str] = {}
    for given, share in d.shares.items():
        state = known.get(name_key(listed[given]), listed[given])
        if (twice := seen.setdefault(name_key(state), given)) != given:
            raise Rejected(f"{quote(given)} and {quote(twice)} are the same State, assessed twice.")
        assessments[state] = Assessment(
            state=state, share_percent=share, amount=round(ledger.estimate * share / 100), due=d.due
        )
    if today is not None:
        check_assessed(ledger, assessments, today)
    return ledger.model_copy(update={"assessments": assessments})


def canonical_state(ledger: LedgerState, name: str) -> str | None:
    return next((s for s in ledger.assessments if name_key(s) == name_key(name)), None)


def record_payment(ledger: LedgerState, p: Payment) -> LedgerState:
    if p.surplus:
        return pay_surplus(ledger, p)
    state = canonical_state(ledger, check_state(p.state, ledger.states_parties, aliases=ledger.aliases))
    if state is None:
        raise Rejected(
            f"{quote(p.state)} has no assessed contribution for the {ledger.meeting}; check the name or assess it."
        )
    splits = ledger.splits
    if p.split is not None:
        if p.split.parts.get(ledger.meeting) != p.amount or name_key(p.split.state) != name_key(state):
            raise Rejected(
                f"Payment {p.split.payment_id} split as {p.split.describe()} from {p.split.state} gives the "
                f"{ledger.meeting} no part of {chf(p.amount)} from {state}."
            )
        kept = list(ledger.splits.items())[-(KEEP_SPLITS - 1) :]
        splits = {**dict(kept), p.split.payment_id: p.split}
    outstanding = ledger.assessments[state].amount - ledger.paid.get(state, 0)
    if p.amount > max(outstanding, 0) and not p.force:
        raise Rejected(
            f"{chf(p.amount)} from {state} is more than its outstanding contribution ({chf(max(outstanding, 0))}); "
            "record it with --force if that is what was received."
        )
    paid = dict(ledger.paid)
    paid[state] = paid.get(state, 0) + p.amount
    return ledger.model_copy(
        update={
            "paid": paid,
            "payments_total": ledger.payments_total + p.amount,
            "payments_count": ledger.payments_count + 1,
            "splits": splits,
        }
    )


def payment_summary(ledger: LedgerState, p: Payment) -> str:
    """The record of a payment: a split one names the whole payment and every part."""
    if p.surplus:
        return f"{chf(p.amount)} from {invoiced_host(ledger, p.state) or p.state} towards the surplus it is invoiced"
    summary = f"{chf(p.amount)} from {canonical_state(ledger, p.state) or p.state}"
    if p.split is not None:
        summary += (
            f", part of payment {p.split.payment_id} ({chf(p.split.total)}, oldest arrears first: "
            f"{p.split.describe()})"
        )
    return summary


def enqueue(ledger: LedgerState, r: FundsRequest) -> LedgerState:
    """Queues a request unless it is already queued or granted (a request is granted once), or the queue is full."""
    if r.request_id in ledger.granted or any(q.request_id == r.request_id for q in ledger.pending):
        return ledger
    if len(ledger.pending) >= MAX_PENDING:
        return ledger
    return ledger.model_copy(update={"pending": [*ledger.pending, r]})


def cancel(ledger: LedgerState, request_id: str) -> LedgerState:
    return ledger.model_copy(update={"pending": [r for r in ledger.pending if r.request_id != request_id]})


def release(ledger: LedgerState, request_id: str) -> LedgerState:
    """Returns a grant's money to the balance, once, when what it paid for will not happen."""
    if request_id not in ledger.granted or request_id in ledger.released:
        return ledger
    return ledger.model_copy(
        update={
            "released": {*ledger.released, request_id},
            "released_total": ledger.released_total + ledger.granted[request_id],
        }
    )


def queue(ledger: LedgerState) -> list[FundsRequest]:
    """The requests waiting, in the order they are granted."""
    if not ledger.by_need:
        return sorted(ledger.pending, key=lambda r: r.priority)  # stable: arrival order within a priority
    return sorted(ledger.pending, key=lambda r: (r.priority, r.needed_by or date.max))


def grant_in_order(ledger: LedgerState) -> tuple[LedgerState, list[FundsRequest]]:
    """Grants from the head of the queue while the balance covers it; the balance never goes negative."""
    queue_ = queue(ledger)
    balance = ledger.balance
    granted: list[FundsRequest] = []
    for r in queue_:
        if r.amount > balance:
            break
        balance -= r.amount
        granted.append(r)
    if not granted:
        return ledger, []
    ids = {r.request_id for r in granted}
    new = ledger.model_copy(
        update={
            "pending": [r for r in ledger.pending if r.request_id not in ids],
            "granted": {**ledger.granted, **{r.request_id: r.amount for r in granted}},
            "granted_total": ledger.granted_total + sum(r.amount for r in granted),
            "to_notify": [*ledger.to_notify, *granted],
        }
    )
    assert new.balance >= 0
    return new, granted


def grants_to_tell(to_notify: Sequence[FundsRequest], requesters: int) -> list[list[FundsRequest]]:
    """The grants to tell now, one group (one signal) per requester, in the order granted: the longest prefix of
    ``to_notify`` that names at most ``requesters`` requesters, so what is told is always a prefix of it."""
    groups: dict[str, list[FundsRequest]] = {}
    for r in to_notify:
        if r.requester not in groups and len(groups) >= requesters:
            break
        groups.setdefault(r.requester, []).append(r)
    return list(groups.values())


class FundsKind(StrEnum):
    TRANSLATION = "translation"
    INTERPRETATION = "interpretation"


def phase(ledger: LedgerState) -> str:
    """The ledger's CcmPhase: estimating (no cost estimate adopted), shortfall (requests wait for money), or funded."""
    if ledger.estimate is None:
        return "estimating"
    return "shortfall" if ledger.shortfall > 0 else "funded"
