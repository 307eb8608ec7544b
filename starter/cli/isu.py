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
from domain.models import Language
from domain.reserve import ContributeReserve, Draw, ReserveState, SetTarget
from runtime.connect import connect
from starter.cli.calls import query_if_any, query_state, start_once
from starter.cli.common import (
    BAD_INPUT,
    DEFAULT_CONFIG,
    NOT_RUNNING,
    OK,
    AmountOpt,
    CliError,
    ConfigOpt,
    ConventionOpt,
    IdOpt,
    JsonOpt,
    RefOpt,
    convention_of,
    date_option,
    decided,
    echo,
    echo_json,
    group,
    kind_attributes,
    load_config,
    name_options,
    one_line,
    run,
    today_in_geneva,
)
from starter.cli.isu_text import statement_text, status_text
from starter.cli.register import read_register, register_path
from starter.cli.send import Target, send_decision
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


def to_budget(
    update: UpdateMethodMultiParam[[Any, Any], DecisionOutcome],
    message: Callable[[], BaseModel],
    convention: str,
    year: int | None,
) -> None:
    """Sends one decision to the year's budget."""
    the_year = year_of(year)
    wid = isu_budget_id(convention_of(convention).code, the_year)
    decision(update, message, wid, lambda e: no_budget(wid, the_year, e))


def to_reserve(
    update: UpdateMethodMultiParam[[Any, Any], DecisionOutcome],
    message: Callable[[], BaseModel],
    convention: str,
) -> None:
    """Sends one decision to the capital reserve."""
    wid = isu_reserve_id(convention_of(convention).code)
    decision(update, message, wid, lambda e: no_reserve(wid, e))


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


@app.command("pay")
def isu_pay(
    state: Annotated[str, typer.Option("--state", help="The State Party that paid.")],
    amount: AmountOpt,
    ref: RefOpt,
    year: YearOpt = None,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record a State's payment to the ISU budget; what the reserve is owed is repaid from it first."""
    to_budget(
        IsuBudgetWorkflow.pay,
        lambda: decided(IsuPayment, decision_id, ref, state=state, amount=amount),
        convention,
        year,
    )


@app.command("commit-expense")
def isu_commit_expense(
    amount: AmountOpt,
    purpose: Annotated[str, typer.Option("--purpose", help="What it pays for (salaries, rent...).")],
    ref: RefOpt,
    year: YearOpt = None,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record an expense the ISU has committed for the year: its cash must cover it."""
    to_budget(
        IsuBudgetWorkflow.commit_expense,
        lambda: decided(CommitExpense, decision_id, ref, amount=amount, purpose=purpose),
        convention,
        year,
    )


@app.command("contribute-reserve")
def isu_contribute_reserve(
    donor: Annotated[str, typer.Option("--donor", help="Who contributes (a State, an organisation).")],
    amount: AmountOpt,
    ref: RefOpt,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record a voluntary contribution to the capital reserve."""
    to_reserve(
        CapitalReserveWorkflow.contribute,
        lambda: decided(ContributeReserve, decision_id, ref, donor=donor, amount=amount),
        convention,
    )


@app.command("draw")
def isu_draw(
    amount: AmountOpt,
    ref: RefOpt,
    year: YearOpt = None,
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why; the reserve covers only a cash-flow shortfall.")
    ] = "cash-flow shortfall",
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Draw on the capital reserve to cover the year's cash-flow shortfall (nothing else)."""
    to_reserve(
        CapitalReserveWorkflow.draw,
        lambda: decided(Draw, decision_id, ref, year=year_of(year), amount=amount, purpose=purpose),
        convention,
    )


@app.command("reserve-target")
def isu_reserve_target(
    amount: Annotated[
        int, typer.Option("--amount", help="The new target, whole CHF (CHF 400,000 until changed).")
    ],
    ref: RefOpt,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Set the capital reserve's target, as a later decision of the States Parties may."""
    to_reserve(
        CapitalReserveWorkflow.set_target,
        lambda: decided(SetTarget, decision_id, ref, target=amount),
        convention,
    )


@app.command("statement")
def isu_statement(
    state: Annotated[str, typer.Option("--state", help="The State Party.")],
    year: YearOpt = None,
    as_json: JsonOpt = False,
    convention: ConventionOpt = "ccm",
) -> None:
    """A State's statement for the year: invoiced, paid, outstanding."""

    async def go() -> int:
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
        echo_json(st.model_dump(mode="json")) if as_json else echo(statement_text(st, the_year))
        return OK

    run(go)


@app.command("status")
def isu_status(year: YearOpt = None, as_json: JsonOpt = False, convention: ConventionOpt = "ccm") -> None:
    """The year's budget: invoices sent, money received, cash position; and the reserve."""

    async def go() -> int:
        code, the_year = convention_of(convention).code, year_of(year)
        client = await connect()
        wid = isu_budget_id(code, the_year)
        s: IsuBudgetState = await query_state(client, wid, IsuBudgetWorkflow.state, no_budget(wid, the_year))
        r = await query_if_any(client, isu_reserve_id(code), CapitalReserveWorkflow.state)
        if as_json:
            echo_json(
                {
                    "budget": s.model_dump(mode="json"),
                    "arrears": arrears(s),
                    "reserve": r.model_dump(mode="json") if r is not None else None,
                }
            )
        else:
            echo(status_text(s, r))
        return OK

    run(go)
