"""The ISU's budget and capital reserve, as pure rules: the budget file, adoption against the register, invoices,
payments that repay the reserve first, and the reserve's invariants under generated sequences."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.decisions import Rejected
from domain.isu_budget import (
    AdoptBudget,
    BudgetLine,
    Carried,
    CommitExpense,
    IsuBudgetInput,
    IsuBudgetState,
    IsuPayment,
    adopt,
    commit,
    invoices,
    pay,
    position,
    reserve_drawn,
    statement,
)
from domain.isu_budget_file import BudgetFileError, parse_budget
from domain.models import Language
from domain.reserve import (
    BudgetDraw,
    ContributeReserve,
    Draw,
    ReserveState,
    contribute,
    draw,
    repay,
    report,
    shortfall,
)

TODAY = date(2026, 11, 20)
YEAR = 2027
HEADER = "state,contribution_chf,category\n"


def budget(*lines: tuple[str, int], reminders: tuple[date, ...] = ()) -> AdoptBudget:
    return AdoptBudget(
        decision_id="b",
        reference="r",
        total=sum(a for _, a in lines),
        lines=[BudgetLine(state=s, amount=a, category="B") for s, a in lines],
        due=date(YEAR, 3, 31),
        reminders=list(reminders),
    )


def year_state(**kw: object) -> IsuBudgetState:
    inp = IsuBudgetInput(
        year=YEAR,
        states_parties=["Austria", "Lao People's Democratic Republic", "Senegal", "Chile"],
        aliases={"Lao PDR": "Lao People's Democratic Republic"},
        languages={"Senegal": Language.FR, "Chile": Language.ES, "Austria": Language.AR},
        **kw,
    )
    return IsuBudgetState(inp=inp)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "budget.csv:1: the file is empty"),
        ("state,amount,category\nAustria,1,B\n", "budget.csv:1: unknown column 'amount'"),
        (HEADER, "budget.csv:1: no States after the header"),
        (HEADER + "Austria,61200,B\nChile,1.5,A\n", "budget.csv:3: contribution_chf: not a whole number"),
        (HEADER + "Austria,0,B\n", "budget.csv:2: contribution_chf: not a whole number of francs from 1"),
        (
            HEADER + "Austria,10,B\n AUSTRIA ,10,B\n",
            "budget.csv:3: state: AUSTRIA appears twice (first on line 2)",
        ),
        (HEADER + "Austria,10,\n", "budget.csv:2: category:"),
        (HEADER + "Austria,10\n", "budget.csv:2: expected 3 columns"),
        (HEADER + ",10,B\n", "budget.csv:2: state:"),
    ],
)
def test_a_bad_budget_file_names_the_line_and_the_field(text: str, error: str) -> None:
    with pytest.raises(BudgetFileError) as err:
        parse_budget(text, "budget.csv")
    assert str(err.value).startswith(error), err.value


def test_the_budget_file_is_read_in_its_order_with_comments_and_quotes() -> None:
    text = '\ufeff# ISU 2027\nCategory,State,Contribution_CHF\nB,"Korea, Republic of",48000\n\nA,Chile,1200\n'
    assert parse_budget(text, "f") == [
        BudgetLine(state="Korea, Republic of", amount=48_000, category="B"),
        BudgetLine(state="Chile", amount=1_200, category="A"),
    ]


def test_the_contributions_must_add_up_to_the_total() -> None:
    with pytest.raises(ValidationError, match="add up to CHF"):
        AdoptBudget(
            decision_id="b",
            reference="r",
            total=10,
            lines=[BudgetLine(state="Chile", amount=9, category="A")],
            due=date(YEAR, 3, 31),
        )


def test_adoption_matches_the_register_and_invoices_each_state_in_its_language() -> None:
    s = adopt(year_state(), budget(("austria", 100), ("Lao PDR", 50), ("SENEGAL", 30), ("Chile", 20)), TODAY)
    assert [line.state for line in s.budget.lines] == [  # type: ignore[union-attr]
        "Austria",
        "Lao People's Democratic Republic",
        "Senegal",
        "Chile",
    ]
    sent = {inv.state: inv for inv in invoices(s)}
    assert sent["Senegal"].language is Language.FR and sent["Chile"].language is Language.ES
    assert sent["Austria"].language is Language.EN  # Arabic preferred: no Arabic invoice, English instead
    assert sent["Lao People's Democratic Republic"].reference == "ISU-2027-LAO-PEOPLE-S-DEMOCRATIC-REPUBLIC"
    assert len({inv.key for inv in sent.values()}) == 4
    with pytest.raises(Rejected, match="adopted once"):
        adopt(s, budget(("Chile", 1)), TODAY)


def test_an_unknown_state_or_a_reminder_outside_the_year_is_refused() -> None:
    with pytest.raises(Rejected, match="'Chil' is not a State Party in the register: did you mean 'Chile'"):
        adopt(year_state(), budget(("Chil", 10)), TODAY)
    with pytest.raises(Rejected, match="not between tomorrow and the end of 2027"):
        adopt(year_state(), budget(("Chile", 10), reminders=(date(2028, 1, 2),)), TODAY)


def test_payments_go_to_arrears_carried_and_repay_the_reserve_first() -> None:
    s = year_state(carried=Carried(from_year=YEAR - 1, arrears={"Chile": 5}))
    s = adopt(s, budget(("Chile", 20), ("Senegal", 30)), TODAY)
    s = commit(s, CommitExpense(decision_id="x", reference="r", amount=60, purpose="rent"))
    assert (s.cash, s.shortfall) == (0, 60)
    s = reserve_drawn(s, draw_for(10))
    s = reserve_drawn(s, draw_for(10))  # told twice, counted once
    assert (s.drawn, s.cash, s.owed_to_reserve) == (10, 10, 10)
    s, repayment = pay(s, IsuPayment(decision_id="p", reference="r", state="chile", amount=25))
    assert repayment is not None and repayment.amount == 10
    assert (s.repaid, s.cash, s.owed_to_reserve) == (10, 25, 0)
    chile = statement(s, "Chile")
    assert (chile.carried, chile.invoiced, chile.paid, chile.outstanding) == (5, 20, 25, 0)
    with pytest.raises(Rejected, match="Chile owes CHF 0 for 2027"):
        pay(s, IsuPayment(decision_id="p2", reference="r", state="Chile", amount=1))


def draw_for(amount: int) -> BudgetDraw:
    return BudgetDraw(draw_id="d", year=YEAR, amount=amount)


PURPOSES = ["cash-flow shortfall", "Cash flow", "to pay for a meeting", "sponsorship programme"]
amounts = st.integers(min_value=1, max_value=300_000)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("contribute"), amounts),
        st.tuples(st.just("pay"), amounts),
        st.tuples(st.just("expense"), amounts),
        st.tuples(st.just("draw"), amounts, st.sampled_from(PURPOSES)),
        st.tuples(st.just("deliver")),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(steps)
def test_the_reserve_never_goes_below_zero_nor_a_draw_beyond_the_shortfall(
    ops: list[tuple[Any, ...]],
) -> None:
    s = adopt(year_state(), budget(("Austria", 5_000_000)), TODAY)
    r = report(ReserveState(), position(s))
    for n, (kind, *args) in enumerate(ops):
        if kind == "contribute":
            r = contribute(
                r, ContributeReserve(decision_id=f"c{n}", reference="r", donor="Norway", amount=args[0])
            )
        elif kind == "expense":
            s = commit(
                s, CommitExpense(decision_id=f"x{n}", reference="r", amount=args[0], purpose="salaries")
            )
        elif kind == "pay":
            owed, amount = s.owed_to_reserve, min(args[0], 5_000_000 - s.received)
            if amount <= 0:
                continue
            s, repayment = pay(
                s, IsuPayment(decision_id=f"p{n}", reference="r", state="Austria", amount=amount)
            )
            assert (repayment.amount if repayment else 0) == min(owed, amount)  # repaid before anything else
            if repayment is not None:
                r = repay(r, repayment)
        elif kind == "deliver":  # the draws reach the budget, later than they were made
            for told in r.to_tell:
                s = reserve_drawn(s, told)
            r = r.model_copy(update={"to_tell": []})
        else:
            undelivered = sum(d.amount for d in r.to_tell)
            true_gap = max(s.committed - s.cash - undelivered, 0)
            before = r.balance
            asked = Draw(decision_id=f"d{n}", reference="r", year=YEAR, amount=args[0], purpose=str(args[1]))
            try:
                r = draw(r, asked)
            except Rejected as e:
                assert args[1] in PURPOSES[2:] or args[0] > min(true_gap, before) or "no cash-flow" in str(e)
                continue
            assert args[1] in PURPOSES[:2], "a draw for another purpose was taken"
            assert args[0] <= true_gap and args[0] <= before
        r = report(r, position(s))
        assert r.balance >= 0
        assert r.balance == r.contributed - sum(r.drawn.values()) + sum(r.repaid.values())
        assert shortfall(r, YEAR) == max(s.committed - s.cash - sum(d.amount for d in r.to_tell), 0)
