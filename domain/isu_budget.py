"""The ISU's budget for one year (``ccm-isu-budget-<year>``): adopted by a decision, invoiced at once to each State
Party, paid, reminded, and closed at the year's end with its arrears carried to the next year.

- **Adoption** gives the year's total and each State's contribution in a category of the financial procedures
  (the ISU's file: ``domain/isu_budget_file.py``), the due date and the days on which the unpaid are reminded.
  The States are matched against the register (aliases, any case and spacing); one unknown is refused with the
  closest name.
- **Invoices**: one per State, in the language the register says it prefers (English, French or Spanish; any other
  falls back to English), with a payment reference ``ISU-<year>-<STATE>`` and an idempotency key per State and year.
- **Payments** go to the State's oldest debt first (arrears carried, then the year's invoice); of the money, what
  the capital reserve is owed is repaid first (``domain/reserve.py``), the rest is cash.
- **Cash position** = payments + draws on the reserve - repayments to it; the **shortfall** is what the committed
  expenses exceed it by.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from domain.bounds import MAX_REMINDERS, MAX_STATES, Aliases, Chf, Day, Name, Value
from domain.decisions import Decision, DecisionLog, Rejected
from domain.funds import chf
from domain.models import Defaults, Language, StatesList, name_key, state_slug
from domain.notifications import DEFAULT_WEBHOOK, Notification, Undeliverable, WebhookName
from domain.reserve import BudgetDraw, Position, Repayment, Year, repay_first
from domain.states import check_states

# A category of contribution as the financial procedures name it ("A", "B", "base", "voluntary").
Category = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,29}$")
]
# Languages an invoice is written in; any other preference gets English.
INVOICE_LANGUAGES = (Language.EN, Language.FR, Language.ES)
IN_THE_REGISTER = "in the register"
# The worker's environment variable holding the mail gateway's URL (the invoices go there; unset: logged).
MAIL_URL_ENV = "CCM_MAIL_URL"
# The activities (activities/invoices.py) and the signal that carries a year's arrears to the next.
SEND_INVOICE = "send_invoice"
CARRY_ARREARS = "carry_arrears"
CARRIED = "arrears_carried"
# The mail gateway's refusal (a 4xx other than 408/429): retrying cannot help; the invoice is recorded undeliverable.
REJECTED_BY_GATEWAY = "InvoiceRejected"


class Phase:
    AWAITING = "awaiting-adoption"
    INVOICING = "invoicing"
    COLLECTING = "collecting"
    CLOSED = "closed"


class BudgetLine(Value):
    state: Name
    amount: Chf
    category: Category


class AdoptBudget(Decision):
    total: Chf
    lines: list[BudgetLine] = Field(min_length=1, max_length=MAX_STATES)
    due: Day
    reminders: list[Day] = Field(default_factory=list, max_length=MAX_REMINDERS)

    @model_validator(mode="after")
    def _adds_up(self) -> AdoptBudget:
        if (total := sum(line.amount for line in self.lines)) != self.total:
            raise ValueError(f"the contributions add up to {chf(total)}, not the total of {chf(self.total)}")
        seen: set[str] = set()
        for line in self.lines:
            if name_key(line.state) in seen:
                raise ValueError(f"{line.state} has two contributions")
            seen.add(name_key(line.state))
        return self


class IsuPayment(Decision):
    state: Name
    amount: Chf


class CommitExpense(Decision):
    """An expense the ISU has committed for the year (salaries, rent): what its cash must cover."""

    amount: Chf
    purpose: Name


class Carried(Value):
    """The arrears a year's budget ended with, carried to the next year's."""

    from_year: Year
    arrears: dict[Name, Chf] = Field(default_factory=dict, max_length=MAX_STATES)


class IsuBudgetInput(BaseModel):
    convention: str = "ccm"
    year: Year
    # The States Parties (register names) and their other names; empty: any well-formed name is taken.
    states_parties: StatesList = Field(default_factory=list)
    aliases: Aliases = Field(default_factory=dict)
    languages: dict[Name, Language] = Field(default_factory=dict, max_length=MAX_STATES)
    carried: Carried | None = None
    webhook: WebhookName = DEFAULT_WEBHOOK
    defaults: Defaults = Defaults()


class Invoice(Value):
    """One State's note and invoice: what the activity renders as a PDF and mails."""

    convention: str
    year: Year
    state: Name
    language: Language
    amount: int
    category: str
    carried: int = 0
    due: date
    reference: str
    budget_reference: str
    total: int
    key: str


class InvoiceSent(Value):
    state: str
    # The mail gateway's reference, or "log" when the worker has no gateway.
    reference: str
    duplicate: bool = False


class Statement(Value):
    state: str
    category: str
    reference: str
    carried: int
    invoiced: int
    paid: int
    outstanding: int
    due: date | None
    invoice_sent: bool


class IsuBudgetState(BaseModel):
    """The whole year; what the query ``state`` answers."""

    inp: IsuBudgetInput
    budget: AdoptBudget | None = None
    adopted_on: date | None = None
    paid: dict[str, int] = Field(default_factory=dict)
    payments: int = 0
    committed: int = 0
    drawn: int = 0
    repaid: int = 0
    draws: list[str] = Field(default_factory=list)
    # Repayments to tell the reserve.
    to_repay: list[Repayment] = Field(default_factory=list)
    sent: dict[str, InvoiceSent] = Field(default_factory=dict)
    # Reminder day -> the States reminded that day.
    reminded: dict[str, list[str]] = Field(default_factory=dict)
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    undeliverable: list[Undeliverable] = Field(default_factory=list)
    closed: bool = False

    @property
    def year(self) -> int:
        return self.inp.year

    @property
    def received(self) -> int:
        return sum(self.paid.values())

    @property
    def cash(self) -> int:
        return self.received + self.drawn - self.repaid

    @property
    def shortfall(self) -> int:
        return max(self.committed - self.cash, 0)

    @property
    def owed_to_reserve(self) -> int:
        return self.drawn - self.repaid

    @property
    def phase(self) -> str:
        if self.closed:
            return Phase.CLOSED
        if self.budget is None:
            return Phase.AWAITING
        return Phase.INVOICING if len(self.sent) < len(self.budget.lines) else Phase.COLLECTING


def payment_reference(year: int, state: str) -> str:
    return f"ISU-{year}-{state_slug(state).upper()}"


def carried(s: IsuBudgetState, state: str) -> int:
    return s.inp.carried.arrears.get(state, 0) if s.inp.carried is not None else 0


def line_of(s: IsuBudgetState, state: str) -> BudgetLine | None:
    return next((line for line in s.budget.lines if line.state == state), None) if s.budget else None


def outstanding(s: IsuBudgetState, state: str) -> int:
    line = line_of(s, state)
    return carried(s, state) + (line.amount if line else 0) - s.paid.get(state, 0)


def debtors(s: IsuBudgetState) -> list[str]:
    """Every State invoiced this year or carried from the last, in the budget's order."""
    names = [line.state for line in s.budget.lines] if s.budget else []
    more = [st for st in (s.inp.carried.arrears if s.inp.carried else {}) if st not in names]
    return [*names, *more]


def unpaid(s: IsuBudgetState) -> list[str]:
    return [st for st in debtors(s) if outstanding(s, st) > 0]


def arrears(s: IsuBudgetState) -> dict[str, int]:
    return {st: outstanding(s, st) for st in unpaid(s)}


def statement(s: IsuBudgetState, state: str) -> Statement:
    line = line_of(s, state)
    return Statement(
        state=state,
        category=line.category if line else "-",
        reference=payment_reference(s.year, state),
        carried=carried(s, state),
        invoiced=line.amount if line else 0,
        paid=s.paid.get(state, 0),
        outstanding=outstanding(s, state),
        due=s.budget.due if s.budget else None,
        invoice_sent=state in s.sent,
    )


def known_state(s: IsuBudgetState, name: str) -> str:
    """The State as the budget names it (register name, alias, any case); Rejected with a hint otherwise."""
    listed = debtors(s)
    if not listed:
        raise Rejected(f"The {s.year} budget has not been adopted: nothing is owed yet.")
    return check_states([name], listed, f"in the {s.year} budget", s.inp.aliases)[name]


def adopt(s: IsuBudgetState, d: AdoptBudget, today: date) -> IsuBudgetState:
    if s.budget is not None:
        raise Rejected(
            f"The {s.year} budget was adopted on {s.adopted_on} ({s.budget.reference}): a budget is adopted once."
        )
    if s.closed:
        raise Rejected(f"The {s.year} budget year has ended.")
    if late := [day for day in d.reminders if not today < day <= date(s.year, 12, 31)]:
        raise Rejected(
            f"A reminder on {late[0]} is not between tomorrow and the end of {s.year}, when the budget year ends."
        )
    names = check_states(
        [line.state for line in d.lines], s.inp.states_parties, IN_THE_REGISTER, s.inp.aliases
    )
    lines = [line.model_copy(update={"state": names[line.state]}) for line in d.lines]
    budget = d.model_copy(update={"lines": lines})
    return s.model_copy(update={"budget": budget, "adopted_on": today})


def invoices(s: IsuBudgetState) -> list[Invoice]:
    """Every State's invoice for the adopted budget (none before adoption)."""
    if s.budget is None:
        return []
    out = []
    for line in s.budget.lines:
        preferred = s.inp.languages.get(line.state, Language.EN)
        out.append(
            Invoice(
                convention=s.inp.convention,
                year=s.year,
                state=line.state,
                language=preferred if preferred in INVOICE_LANGUAGES else Language.EN,
                amount=line.amount,
                category=line.category,
                carried=carried(s, line.state),
                due=s.budget.due,
                reference=payment_reference(s.year, line.state),
                budget_reference=s.budget.reference,
                total=s.budget.total,
                key=f"{s.inp.convention}-isu-invoice-{s.year}-{state_slug(line.state)}",
            )
        )
    return out


def pay(s: IsuBudgetState, p: IsuPayment) -> tuple[IsuBudgetState, Repayment | None]:
    """A State's payment; what the reserve is owed is repaid from it first (the Repayment to tell it)."""
    state = known_state(s, p.state)
    owes = outstanding(s, state)
    if p.amount > owes:
        raise Rejected(
            f"{state} owes {chf(owes)} for {s.year}: a payment of {chf(p.amount)} is more than that."
        )
    to_reserve, _ = repay_first(s.owed_to_reserve, p.amount)
    paid = {**s.paid, state: s.paid.get(state, 0) + p.amount}
    repayment = None
    update: dict[str, object] = {"paid": paid, "payments": s.payments + 1}
    if to_reserve:
        repayment = Repayment(repayment_id=p.decision_id, year=s.year, amount=to_reserve)
        update |= {"repaid": s.repaid + to_reserve, "to_repay": [*s.to_repay, repayment]}
    return s.model_copy(update=update), repayment


def commit(s: IsuBudgetState, d: CommitExpense) -> IsuBudgetState:
    if s.closed:
        raise Rejected(f"The {s.year} budget year has ended.")
    return s.model_copy(update={"committed": s.committed + d.amount})


def reserve_drawn(s: IsuBudgetState, d: BudgetDraw) -> IsuBudgetState:
    """A draw the reserve made for this year: cash (once per draw)."""
    if d.draw_id in s.draws or d.year != s.year:
        return s
    return s.model_copy(update={"drawn": s.drawn + d.amount, "draws": [*s.draws, d.draw_id]})


def position(s: IsuBudgetState) -> Position:
    return Position(year=s.year, committed=s.committed, cash=max(s.cash, 0), drawn=s.drawn)


def reminders_due(s: IsuBudgetState) -> list[date]:
    """The reminder days not yet done, in order."""
    days = sorted(set(s.budget.reminders)) if s.budget else []
    return [d for d in days if str(d) not in s.reminded]


def reminder(s: IsuBudgetState, state: str, on: date) -> Notification:
    owes = outstanding(s, state)
    due = s.budget.due if s.budget else on
    return Notification(
        webhook=s.inp.webhook,
        idempotency_key=f"{s.inp.convention}-isu-reminder-{s.year}-{state_slug(state)}-{on}",
        text=(
            f"ISU budget {s.year}: {state} still owes {chf(owes)} (due {due}, payment reference "
            f'{payment_reference(s.year, state)}). `msp isu statement --state "{state}" --year {s.year}`'
        ),
        kind="isu-reminder",
        due=str(due),
        subject=f"isu-budget-{s.year}/{state}",
    )
