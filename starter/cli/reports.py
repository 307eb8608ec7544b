"""`msp reports`: Article 7 transparency reports, due 30 April each year, one workflow per State Party chased.

`msp cycle start` starts a workflow for each State in `states_parties.article7` (`<code>-art7-<state>`); each watches
one deadline year per run, then continues as new for the next. `msp reports received` records a report's receipt;
`msp reports list` shows who is pending, received or overdue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from domain import search_attributes as sa
from domain.bounds import quote
from domain.calendar import day_start, local_date
from domain.config import CycleConfig
from domain.ids import report_id
from domain.models import STANDARD_DEFAULTS, match_name, name_key
from domain.reports import (
    INITIAL,
    ReportReceived,
    ReportsInput,
    ReportsState,
    ReportStatus,
    deadline,
    first_year,
)
from runtime.connect import connect
from starter.cli.calls import already_started, each, listed, query_state, start_once, state_if_running
from starter.cli.common import (
    BAD_INPUT,
    DEFAULT_CONFIG,
    NAME,
    NOT_RUNNING,
    OK,
    CliError,
    ConfigOpt,
    ConventionOpt,
    IdOpt,
    JsonOpt,
    attention,
    attention_cell,
    checked,
    columns,
    convention_of,
    date_option,
    decided,
    echo,
    echo_json,
    execution,
    group,
    kind_attributes,
    load_config,
    name_options,
    one_line,
    run,
    today,
    today_in_geneva,
)
from starter.cli.send import found, send_decision
from workflows.reports import Article7Workflow

app = group(
    "Article 7 transparency reports: record a report's receipt, see who is pending, received or overdue."
)

name_options("year", received_on="--on")


async def start_reports(client: Client, cfg: CycleConfig) -> None:
    """Starts the Art. 7 workflow of every State of `states_parties.article7` not started yet; one line each."""
    if cfg.states_parties.register_file:  # the register workflow starts them, with their initial reports
        return
    code = cfg.convention.code
    year = first_year(local_date(today(), cfg.defaults))
    for state in cfg.states_parties.article7:
        wid = report_id(code, state)
        inp = ReportsInput(
            convention=code,
            state=state,
            year=year,
            reminder_days=tuple(cfg.states_parties.article7_reminder_days),
            webhook=cfg.notifications.webhook,
            states_parties=cfg.states_parties.names,
            aliases=cfg.states_parties.aliases,
            defaults=cfg.defaults,
        )
        # It runs year after year (continue-as-new): one that ended is not brought back.
        summary = f"Article 7 reports of {state}: due 30 April each year"
        attributes = kind_attributes(
            sa.Kind.REPORT,
            code,
            SearchAttributePair(sa.STATE, state),
            SearchAttributePair(sa.ARTICLE, "7"),
            SearchAttributePair(sa.PHASE, ReportStatus.PENDING.value),
            SearchAttributePair(sa.DUE_DATE, day_start(deadline(year), cfg.defaults)),
        )
        if not await start_once(client, Article7Workflow.run, inp, wid, summary, attributes):
            echo(await already_started(client, wid, f"Article 7 reports of {state}", _ended))
            continue
        echo(f"started {wid}: Article 7 reports of {state}, next due {deadline(year)} (covering {year - 1})")


def _ended(desc: WorkflowExecutionDescription) -> str:
    return desc.status.name.lower() if desc.status is not None else "ended"


def article7_state(cfg: CycleConfig, config: Path, name: str) -> str:
    """The State as `states_parties.article7` lists it (any case and spacing); BAD_INPUT otherwise."""
    listed_states = cfg.states_parties.article7
    if not listed_states:
        raise CliError(
            f"{config}: states_parties.article7 is empty: no State's Article 7 reports are chased", BAD_INPUT
        )
    given = checked(NAME, name, "--state")
    # An alias names its State ("Lao PDR"): the workflow is the State's.
    other = {name_key(a): s for a, s in cfg.states_parties.aliases.items()}
    found, close = match_name(other.get(name_key(given), given), listed_states)
    if found is not None:
        return found
    hint = f"; did you mean '{close}'?" if close else f" ({', '.join(listed_states)})"
    raise CliError(f"--state: {quote(given)} is not in states_parties.article7 of {config}{hint}", BAD_INPUT)


def no_reports(code: str, state: str) -> CliError:
    return CliError(
        f"no Article 7 workflow for {state} ({report_id(code, state)}); `msp cycle start` starts those of "
        "states_parties.article7",
        NOT_RUNNING,
    )


async def reports_state(client: Client, wid: str) -> ReportsState:
    return await query_state(client, wid, Article7Workflow.state)


@app.command("received")
def reports_received(
    state: Annotated[
        str, typer.Option("--state", help="The State Party, as states_parties.article7 names it.")
    ],
    ref: Annotated[str, typer.Option("--ref", help="The report's symbol or the ISU's receipt note.")],
    year: Annotated[
        int | None,
        typer.Option("--year", help="The deadline year the report answers: 2027 for the one covering 2026."),
    ] = None,
    initial: Annotated[
        bool, typer.Option("--initial", help="The initial report (due 180 days after entry into force).")
    ] = False,
    on: Annotated[
        str | None,
        typer.Option("--on", help="The day the report reached the ISU (YYYY-MM-DD). Default: today."),
    ] = None,
    decision_id: IdOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record that a State Party's Article 7 report was received; a late one ends its overdue status."""

    def prepare() -> tuple[ReportReceived, Any]:
        code = convention_of(convention).code
        cfg = load_config(config)
        name = article7_state(cfg, config, state)
        received_on = date_option(on, "--on") or local_date(today(), cfg.defaults)
        receipt = decided(
            ReportReceived, decision_id, ref, year=year, initial=initial, received_on=received_on
        )

        wid = report_id(code, name)
        what = f"the Article 7 workflow of {name} ({wid})"
        return receipt, found(
            wid,
            lambda e: CliError(f"{what} is not running ({one_line(e.message)})", NOT_RUNNING),
            no_reports(code, name),
            lambda desc: CliError(f"{what} is {_ended(desc)} and no longer running", NOT_RUNNING),
        )

    send_decision(Article7Workflow.report_received, prepare)


def report_row(wid: str, status: str, s: ReportsState | None, attrs: TypedSearchAttributes) -> dict[str, Any]:
    """One row of `msp reports list`: from the workflow's state when it runs, else its search attributes."""
    if s is not None:
        last = s.received[-1] if s.received else None
        return {
            "state": s.state,
            "id": wid,
            "execution_status": status,
            "year": s.year,
            "due": str(s.deadline),
            "status": s.status.value,
            "outstanding": (["initial"] if s.initial_outstanding else []) + list(s.outstanding),
            "last_received": last.model_dump(mode="json") if last else None,
            "next_notification": {"kind": s.upcoming.kind, "on": str(s.upcoming.on)} if s.upcoming else None,
            **attention(s.undeliverable, attrs),
        }
    due = attrs.get(sa.DUE_DATE)
    day = local_date(due, STANDARD_DEFAULTS) if due is not None else None
    return {
        "state": attrs.get(sa.STATE) or wid,
        "id": wid,
        "execution_status": status,
        "year": day.year if day else None,
        "due": str(day) if day else None,
        "status": attrs.get(sa.PHASE) or "unknown",
        "outstanding": None,
        "last_received": None,
        "next_notification": None,
        **attention(None, attrs),
    }


async def report_list(client: Client, code: str) -> list[dict[str, Any]]:
    # Each deadline year is a run (continue-as-new under the same id): the latest run stands for the State.
    found = await listed(client, sa.Kind.REPORT, code, "Article 7 workflows", article="7")
    states = await each(found, lambda wf: state_if_running(wf, reports_state, client, wf.id))
    rows = [
        report_row(wf.id, execution(wf.status), s, wf.typed_search_attributes)
        for wf, s in zip(found, states, strict=True)
    ]
    rows.sort(key=lambda r: str(r["state"]).casefold())
    return rows


def _last_text(r: dict[str, Any]) -> str:
    last = r["last_received"]
    if not last:
        return "-"
    late = ", late" if last["late"] else ""
    due = "initial" if last["year"] == INITIAL else f"due {deadline(last['year'])}"
    return f"{last['received_on']} ({due}{late}) {last['reference']}"


def _overdue(r: dict[str, Any]) -> bool:
    return bool(r["status"] == ReportStatus.OVERDUE.value)


REPORT_COLUMNS: list[tuple[str, Any]] = [
    ("STATE", lambda r: r["state"]),
    ("DUE", lambda r: r["due"] or "-"),
    ("STATUS", lambda r: r["status"].upper() if _overdue(r) else r["status"]),
    (
        "OUTSTANDING",
        lambda r: (
            ", ".join(f"due {deadline(y)}" if isinstance(y, int) else str(y) for y in r["outstanding"])
            if r["outstanding"]
            else "-"
        ),
    ),
    ("LAST RECEIVED", _last_text),
    ("ATTENTION", attention_cell),
]


def reports_text(code: str, rows: list[dict[str, Any]], overdue_only: bool) -> str:
    if not rows:
        if overdue_only:
            return f"no Article 7 report of {code} is overdue"
        return f"no Article 7 workflows for {code}; `msp cycle start` starts those of states_parties.article7"
    overdue = sum(_overdue(r) for r in rows)
    what = "overdue " if overdue_only else ""
    title = f"Article 7 reports of {code} ({len(rows)} {what}States; {overdue} overdue; as of {today_in_geneva()})"
    return "\n".join([title, *columns(rows, REPORT_COLUMNS)])


@app.command("list")
def reports_list(
    as_json: JsonOpt = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only the States whose reports are overdue.")
    ] = False,
    convention: ConventionOpt = "ccm",
) -> None:
    """Each State's Article 7 reports: the deadline watched, status (OVERDUE marked), outstanding years, last receipt."""

    async def go() -> int:
        code = convention_of(convention).code
        client = await connect()
        rows = await report_list(client, code)
        if overdue:
            rows = [r for r in rows if _overdue(r)]
        if as_json:
            echo_json({"convention": code, "as_of": str(today_in_geneva()), "reports": rows})
        else:
            echo(reports_text(code, rows, overdue))
        return OK

    run(go)
