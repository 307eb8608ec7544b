"""`msp isu`: the ISU's own money. A year's budget (IsuBudgetWorkflow, `ccm-isu-budget-2027`): adopted from the
ISU's file, invoiced at once, paid, stated per State; and the capital reserve (CapitalReserveWorkflow,
`ccm-isu-reserve`): voluntary contributions, draws for a cash-flow shortfall."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from temporalio.client import Client
from temporalio.common import SearchAttributePair
from temporalio.service import RPCError
from temporalio.workflow import UpdateMethodMultiParam

from domain import search_attributes as sa
from domain.decisions import DecisionOutcome
from domain.funds import chf
from domain.ids import isu_budget_id, isu_reserve_id
from domain.isu_budget import (
    AdoptBudget,
    CommitExpense,
    IsuBudgetInput,
    IsuBudgetState,
    IsuPayment,
    arrears,
    known_state,
    statement,
)
from domain.isu_budget_file import BudgetFileError, parse_budget
from domain.models import Convention, Language
from domain.reserve import ContributeReserve, Draw, ReserveState, SetTarget
from runtime.connect import connect
from starter.cli.calls import query_if_any, query_state, start_once
from starter.cli.commands import CONVENTION, DECISION_ID, Decisions, Fields, Shown, Views, option
from starter.cli.common import (
    BAD_INPUT,
    DEFAULT_CONFIG,
    NOT_RUNNING,
    AmountOpt,
    CliError,
    ConfigOpt,
    ConventionOpt,
    IdOpt,
    RefOpt,
    convention_of,
    date_option,
    decided,
    group,
    kind_attributes,
    load_config,
    name_options,
    one_line,
    today_in_geneva,
)
from starter.cli.isu_text import statement_text, status_text
from starter.cli.register import read_register, register_path
from starter.cli.send import Locate, Target, found, send_decision
from workflows.isu_budget import IsuBudgetWorkflow
from workflows.reserve import CapitalReserveWorkflow

app = group(
    "The ISU's own money: the year's budget and its invoices, payments, statements, the capital reserve."
)
budget_app = typer.Typer(help="A year's ISU budget.", no_args_is_help=True)
app.add_typer(budget_app, name="budget")

name_options("total donor purpose year", lines="FILE", target="--amount")

YearOpt = Annotated[int | None, typer.Option("--year", help="The budget year. Default: this year (Geneva).")]


def year_of(year: int | None) -> int:
    return year if year is not None else today_in_geneva().year


def no_budget(wid: str, year: int, e: RPCError | None = None) -> CliError:
    detail = f": {one_line(e.message)}" if e is not None else ""
    return CliError(
        f"no ISU budget for {year} ({wid}{detail}); adopt one with `msp isu budget adopt`", NOT_RUNNING
    )


def no_reserve(wid: str, e: RPCError | None = None) -> CliError:
    detail = f": {one_line(e.message)}" if e is not None else ""
    return CliError(
        f"no capital reserve is running ({wid}{detail}); `msp isu budget adopt` starts it", NOT_RUNNING
    )


def decision(
    update: UpdateMethodMultiParam[[Any, Any], DecisionOutcome],
    message: Callable[[], BaseModel],
    wid: str,
    gone: Callable[[RPCError], CliError],
    before: Callable[[Client], Any] | None = None,
) -> None:
    """Sends one decision to the workflow ``wid`` (after ``before``, which may start it)."""

    def prepare() -> tuple[Any, Any]:
        sent = message()

        async def locate(client: Client) -> Target[Any]:
            if before is not None:
                await before(client)
            return Target(client.get_workflow_handle(wid), gone)

        return sent, locate

    send_decision(update, prepare)


def budget_at(conv: Convention, year: int | None) -> Locate:
    the_year = year_of(year)
    wid = isu_budget_id(conv.code, the_year)
    return found(wid, lambda e: no_budget(wid, the_year, e))


def reserve_at(conv: Convention) -> Locate:
    wid = isu_reserve_id(conv.code)
    return found(wid, lambda e: no_reserve(wid, e))


budget_decisions = Decisions(app, budget_at, (option("year", YearOpt, None), DECISION_ID, CONVENTION))
reserve_decisions = Decisions(app, reserve_at)
views = Views(app)


def budget_lines(file: Path) -> Any:
    """The budget file, read and checked; a bad one ends the command (exit 2) with one line naming the place."""
    try:
        raw = file.read_bytes()
    except OSError as e:
        raise CliError(
            f"{file}: cannot read the budget file: {one_line(e.strerror or str(e))}", BAD_INPUT
        ) from None
    try:
        return parse_budget(raw.decode("utf-8-sig"), str(file))
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise CliError(f"{file}:{line}: not UTF-8 text; save it as UTF-8 CSV", BAD_INPUT) from None
    except BudgetFileError as e:
        raise CliError(one_line(str(e)), BAD_INPUT) from None


@budget_app.command("adopt")
def budget_adopt(
    file: Annotated[
        Path, typer.Argument(help="CSV with the header state,contribution_chf,category, from the ISU.")
    ],
    ref: RefOpt,
    due: Annotated[str, typer.Option("--due", help="When the contributions are due, YYYY-MM-DD.")],
    year: YearOpt = None,
    total: Annotated[
        int | None, typer.Option("--total", help="The year's total (CHF); must equal the file's sum.")
    ] = None,
    reminder: Annotated[
        list[str] | None,
        typer.Option("--reminder", help="A day the unpaid are reminded, YYYY-MM-DD (repeat for more)."),
    ] = None,
    decision_id: IdOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """Adopt the year's ISU budget: every State Party's invoice goes out at once, in its language."""
    conv = convention_of(convention)
    cfg = load_config(config)
    path = register_path(cfg, config)
    languages: dict[str, Language] = {}
    if path is not None:
        languages = {r.state: r.language for r in read_register(path).rows if r.language is not None}
    the_year = year_of(year)
    inp = IsuBudgetInput(
        convention=conv.code,
        year=the_year,
        states_parties=cfg.states_parties.names,
        aliases=cfg.states_parties.aliases,
        languages=languages,
        webhook=cfg.notifications.webhook,
        defaults=cfg.defaults,
    )

    def message() -> AdoptBudget:
        lines = budget_lines(file)
        days = [date_option(d, "--reminder") for d in reminder or []]
        added = sum(line.amount for line in lines)
        if total is not None and total != added:
            raise CliError(
                f"--total: {chf(total)}, but the contributions in {file} add up to {chf(added)}", BAD_INPUT
            )
        return decided(
            AdoptBudget,
            decision_id,
            ref,
            total=added if total is None else total,
            lines=lines,
            due=date_option(due, "--due"),
            reminders=days,
        )

    async def start(client: Client) -> None:
        reserve = isu_reserve_id(conv.code)
        await start_once(
            client,
            CapitalReserveWorkflow.run,
            ReserveState(convention=conv.code),
            reserve,
            "ISU capital reserve",
            kind_attributes(sa.Kind.ISU_RESERVE, conv.code),
        )
        wid = isu_budget_id(conv.code, the_year)
        phase = [SearchAttributePair(sa.PHASE, "awaiting-adoption")]
        attrs = kind_attributes(sa.Kind.ISU_BUDGET, conv.code, *phase)
        await start_once(client, IsuBudgetWorkflow.run, inp, wid, f"ISU budget {the_year}", attrs)

    wid = isu_budget_id(conv.code, the_year)
    decision(IsuBudgetWorkflow.adopt, message, wid, lambda e: no_budget(wid, the_year, e), start)


@budget_decisions.command("pay", IsuBudgetWorkflow.pay, IsuPayment)
def isu_pay(
    state: Annotated[str, typer.Option("--state", help="The State Party that paid.")],
    amount: AmountOpt,
    ref: RefOpt,
) -> Fields:
    """Record a State's payment to the ISU budget; what the reserve is owed is repaid from it first."""
    return {"reference": ref, "state": state, "amount": amount}


@budget_decisions.command("commit-expense", IsuBudgetWorkflow.commit_expense, CommitExpense)
def isu_commit_expense(
    amount: AmountOpt,
    purpose: Annotated[str, typer.Option("--purpose", help="What it pays for (salaries, rent...).")],
    ref: RefOpt,
) -> Fields:
    """Record an expense the ISU has committed for the year: its cash must cover it."""
    return {"reference": ref, "amount": amount, "purpose": purpose}


@reserve_decisions.command("contribute-reserve", CapitalReserveWorkflow.contribute, ContributeReserve)
def isu_contribute_reserve(
    donor: Annotated[str, typer.Option("--donor", help="Who contributes (a State, an organisation).")],
    amount: AmountOpt,
    ref: RefOpt,
) -> Fields:
    """Record a voluntary contribution to the capital reserve."""
    return {"reference": ref, "donor": donor, "amount": amount}


@reserve_decisions.command("draw", CapitalReserveWorkflow.draw, Draw)
def isu_draw(
    amount: AmountOpt,
    ref: RefOpt,
    year: YearOpt = None,
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why; the reserve covers only a cash-flow shortfall.")
    ] = "cash-flow shortfall",
) -> Fields:
    """Draw on the capital reserve to cover the year's cash-flow shortfall (nothing else)."""
    return {"reference": ref, "year": year_of(year), "amount": amount, "purpose": purpose}


@reserve_decisions.command("reserve-target", CapitalReserveWorkflow.set_target, SetTarget)
def isu_reserve_target(
    amount: Annotated[
        int, typer.Option("--amount", help="The new target, whole CHF (CHF 400,000 until changed).")
    ],
    ref: RefOpt,
) -> Fields:
    """Set the capital reserve's target, as a later decision of the States Parties may."""
    return {"reference": ref, "target": amount}


@views.command("statement")
async def isu_statement(
    state: Annotated[str, typer.Option("--state", help="The State Party.")],
    year: YearOpt = None,
    *,
    convention: str,
) -> Shown:
    """A State's statement for the year: invoiced, paid, outstanding."""
    the_year = year_of(year)
    wid = isu_budget_id(convention_of(convention).code, the_year)
    s: IsuBudgetState = await query_state(
        await connect(), wid, IsuBudgetWorkflow.state, no_budget(wid, the_year)
    )
    try:
        name = known_state(s, state)
    except ValueError as e:
        raise CliError(f"--state: {e}", BAD_INPUT) from None
    st = statement(s, name)
    return Shown(lambda: st.model_dump(mode="json"), lambda: statement_text(st, the_year))


@views.command("status")
async def isu_status(year: YearOpt = None, *, convention: str) -> Shown:
    """The year's budget: invoices sent, money received, cash position; and the reserve."""
    code, the_year = convention_of(convention).code, year_of(year)
    client = await connect()
    wid = isu_budget_id(code, the_year)
    s: IsuBudgetState = await query_state(client, wid, IsuBudgetWorkflow.state, no_budget(wid, the_year))
    r = await query_if_any(client, isu_reserve_id(code), CapitalReserveWorkflow.state)
    return Shown(
        lambda: {
            "budget": s.model_dump(mode="json"),
            "arrears": arrears(s),
            "reserve": r.model_dump(mode="json") if r is not None else None,
        },
        lambda: status_text(s, r),
    )
