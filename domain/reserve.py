"""The ISU's capital reserve (7th MSP): CHF 400,000 built from voluntary contributions, drawn on **only** to cover
a cash-flow shortfall of the ISU budget, and repaid from the budget's later contributions before anything else.

The reserve (``ccm-isu-reserve``) and each year's budget (``ccm-isu-budget-<year>``) are two workflows. The budget
owns its cash position and tells the reserve (a ``Position``) whenever it changes; the reserve takes a draw only
against the shortfall so reported, less what it has drawn for that year since (``shortfall``), so that two draws
sent at once cannot both take the same shortfall. The rules, all pure:

- the balance never goes below zero: a draw is at most the balance;
- a draw is at most the shortfall: committed expenses less the cash position;
- a draw for any purpose but a cash-flow shortfall is refused, quoting the rule;
- a payment into the budget repays what the reserve is owed before it counts as cash (``repay_first``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from domain.bounds import Chf, Name, Value, quote
from domain.decisions import Decision, DecisionLog, Rejected
from domain.funds import chf
from domain.models import name_key

# The target the 7th MSP set; a later decision may change it (``SetTarget``).
RESERVE_TARGET = 400_000
CASH_FLOW = "cash-flow shortfall"
# What a person may write for the one purpose allowed (any case and spacing).
_CASH_FLOW_WORDS = {
    "cash-flow shortfall",
    "cash flow shortfall",
    "cashflow shortfall",
    "cash-flow",
    "cash flow",
}
RULE = "the capital reserve may only cover a cash-flow shortfall of the ISU budget (7th MSP, financial procedures)"
# Budget years the engine deals with.
Year = Annotated[int, Field(ge=2008, le=2200)]
# The signals between them: the budget tells the reserve its position and its repayments; the reserve tells the
# budget of a draw.
POSITION = "budget_position"
REPAID = "reserve_repaid"
DRAWN = "reserve_drawn"
# Repayments the reserve remembers (by the id of the payment they came from), so that one told twice counts once.
KEEP_REPAYMENTS = 2_000


def cash_flow(purpose: str) -> bool:
    return name_key(purpose) in {name_key(w) for w in _CASH_FLOW_WORDS}


def repay_first(owed: int, amount: int) -> tuple[int, int]:
    """A payment into the budget, split: what repays the reserve first, and what is left as cash."""
    to_reserve = min(max(owed, 0), amount)
    return to_reserve, amount - to_reserve


class Position(Value):
    """A budget's cash as it tells the reserve: its committed expenses, its cash position, and how much of that
    cash came from the reserve's draws (what the reserve had drawn for the year when the budget last heard)."""

    year: Year
    committed: int = Field(ge=0)
    cash: int = Field(ge=0)
    drawn: int = Field(ge=0)


class Repayment(Value):
    """Part of a payment into the budget, repaying the reserve (the budget's signal to it)."""

    repayment_id: str = Field(min_length=1, max_length=200)
    year: Year
    amount: Chf


class BudgetDraw(Value):
    """A draw the reserve made for a year's budget (its signal to the budget)."""

    draw_id: str = Field(min_length=1, max_length=200)
    year: Year
    amount: Chf


class ContributeReserve(Decision):
    """A voluntary contribution to the reserve: the only money that funds it."""

    donor: Name
    amount: Chf


class Draw(Decision):
    year: Year
    amount: Chf
    purpose: Name = CASH_FLOW


class SetTarget(Decision):
    target: Chf


class ReserveState(BaseModel):
    """The whole reserve; carried across continue-as-new."""

    convention: str = "ccm"
    target: int = RESERVE_TARGET
    balance: int = 0
    contributed: int = 0
    contributions: int = 0
    # Per budget year: drawn from the reserve, and repaid to it.
    drawn: dict[int, int] = Field(default_factory=dict)
    repaid: dict[int, int] = Field(default_factory=dict)
    positions: dict[int, Position] = Field(default_factory=dict)
    repayments: list[str] = Field(default_factory=list)
    # Draws not yet told to their year's budget.
    to_tell: list[BudgetDraw] = Field(default_factory=list)
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    runs: int = 1

    def owed(self, year: int) -> int:
        return self.drawn.get(year, 0) - self.repaid.get(year, 0)

    @property
    def owed_total(self) -> int:
        return sum(self.owed(y) for y in self.drawn)

    @property
    def below_target(self) -> int:
        return max(self.target - self.balance, 0)


def shortfall(s: ReserveState, year: int) -> int:
    """The year's shortfall as the reserve can know it: committed expenses less cash, as last reported, less what
    it has drawn for the year since."""
    p = s.positions.get(year)
    if p is None:
        return 0
    return max(p.committed - p.cash - (s.drawn.get(year, 0) - p.drawn), 0)


def contribute(s: ReserveState, d: ContributeReserve) -> ReserveState:
    return s.model_copy(
        update={
            "balance": s.balance + d.amount,
            "contributed": s.contributed + d.amount,
            "contributions": s.contributions + 1,
        }
    )


def draw(s: ReserveState, d: Draw) -> ReserveState:
    """A draw for ``d.year``'s budget; Rejected when the purpose, the shortfall or the balance does not allow it."""
    if not cash_flow(d.purpose):
        raise Rejected(f"A draw for {quote(d.purpose)} is refused: {RULE}.")
    if d.year not in s.positions:
        raise Rejected(
            f"No cash position of the {d.year} budget has reached the reserve: a draw covers its shortfall, "
            "and the budget must be running (msp isu budget adopt)."
        )
    gap = shortfall(s, d.year)
    if gap == 0:
        raise Rejected(f"The {d.year} budget has no cash-flow shortfall: {RULE}.")
    if d.amount > gap:
        raise Rejected(f"A draw of {chf(d.amount)} exceeds the {d.year} shortfall of {chf(gap)}.")
    if d.amount > s.balance:
        raise Rejected(f"A draw of {chf(d.amount)} exceeds the reserve's balance of {chf(s.balance)}.")
    told = BudgetDraw(draw_id=d.decision_id, year=d.year, amount=d.amount)
    return s.model_copy(
        update={
            "balance": s.balance - d.amount,
            "drawn": {**s.drawn, d.year: s.drawn.get(d.year, 0) + d.amount},
            "to_tell": [*s.to_tell, told],
        }
    )


def repay(s: ReserveState, r: Repayment) -> ReserveState:
    """A repayment from a budget; one told twice (the same id) counts once, and never more than the year owes."""
    if r.repayment_id in s.repayments:
        return s
    amount = min(r.amount, max(s.owed(r.year), 0))
    return s.model_copy(
        update={
            "balance": s.balance + amount,
            "repaid": {**s.repaid, r.year: s.repaid.get(r.year, 0) + amount},
            "repayments": [*s.repayments, r.repayment_id][-KEEP_REPAYMENTS:],
        }
    )


def report(s: ReserveState, p: Position) -> ReserveState:
    return s.model_copy(update={"positions": {**s.positions, p.year: p}})


def set_target(s: ReserveState, d: SetTarget) -> ReserveState:
    return s.model_copy(update={"target": d.target})
