"""`msp reports`: Article 7 transparency reports, due 30 April each year, one workflow per State Party chased.

`msp cycle start` starts a workflow for each State in `states_parties.article7` (`<code>-art7-<state>`); each watches
one deadline year per run, then continues as new for the next. `msp reports received` records a report's receipt;
`msp reports list` shows who is pending, received or overdue.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.service import RPCError

from domain import search_attributes as sa
from domain.bounds import quote
from domain.calendar import day_start, local_date
from domain.config import CycleConfig
from domain.models import Defaults, match_name, name_key
from domain.reports import (
    INITIAL,
    ReportReceived,
    ReportsInput,
    ReportsState,
    ReportStatus,
    deadline,
    first_year,
    receipt_of,
    report_id,
)
from starter.cli_base import (
    _NAME,
    _OPTIONS,
    ANSWER_TIMEOUT,
    BAD_INPUT,
    DEFAULT_CONFIG,
    NOT_RUNNING,
    OK,
    CliError,
    ConfigOpt,
    ConventionOpt,
    IdOpt,
    JsonOpt,
    _answer,
    _attention,
    _attention_cell,
    _checked,
    _convention,
    _date_option,
    _describe,
    _echo,
    _latest_runs,
    _load_config,
    _new_id,
    _one_line,
    _rpc_error,
    _run,
    _send_update,
    _start_once,
    _table,
    _today,
    _validated,
)
from starter.connect import connect
from workflows.reports import Article7Workflow

reports_app = typer.Typer(
    help="Article 7 transparency reports: record a report's receipt, see who is pending, received or overdue.",
    no_args_is_help=True,
)

_OPTIONS.update({"year": "--year", "received_on": "--on"})


# Started by `msp cycle start`.


async def _start_reports(client: Client, cfg: CycleConfig) -> None:
    """Starts the Art. 7 workflow of every State of `states_parties.article7` not started yet; one line each."""
    if cfg.states_parties.register_file:  # the register workflow starts them, with their initial reports
        return
    code = cfg.convention.code
    year = first_year(local_date(_today(), cfg.defaults))
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
        )
        # It runs year after year (continue-as-new): one that ended is not brought back.
        summary = f"Article 7 reports of {state}: due 30 April each year"
        attributes: list[SearchAttributePair[Any]] = [
            SearchAttributePair(sa.KIND, "report"),
            SearchAttributePair(sa.CONVENTION, code),
            SearchAttributePair(sa.STATE, state),
            SearchAttributePair(sa.ARTICLE, "7"),
            SearchAttributePair(sa.PHASE, ReportStatus.PENDING.value),
            SearchAttributePair(sa.DUE_DATE, day_start(deadline(year), cfg.defaults)),
        ]
        if not await _start_once(client, Article7Workflow.run, inp, wid, summary, attributes):
            _echo(await _reports_already(client, state, wid))
            continue
        _echo(f"started {wid}: Article 7 reports of {state}, next due {deadline(year)} (covering {year - 1})")


async def _reports_already(client: Client, state: str, wid: str) -> str:
    desc = await _describe(client, wid)
    if desc.status == WorkflowExecutionStatus.RUNNING:
        return f"Article 7 reports of {state}: already running"
    ended = desc.status.name.lower() if desc.status is not None else "ended"
    return f"Article 7 reports of {state}: already {ended} ({wid}), not started again"


# msp reports received


def _article7_state(cfg: CycleConfig, config: Path, name: str) -> str:
    """The State as `states_parties.article7` lists it (any case and spacing); BAD_INPUT otherwise."""
    listed = cfg.states_parties.article7
    if not listed:
        raise CliError(
            f"{config}: states_parties.article7 is empty: no State's Article 7 reports are chased", BAD_INPUT
        )
    given = _checked(_NAME, name, "--state")
    # An alias names its State ("Lao PDR"): the workflow is the State's.
    other = {name_key(a): s for a, s in cfg.states_parties.aliases.items()}
    found, close = match_name(other.get(name_key(given), given), listed)
    if found is not None:
        return found
    hint = f"; did you mean '{close}'?" if close else f" ({', '.join(listed)})"
    raise CliError(f"--state: {quote(given)} is not in states_parties.article7 of {config}{hint}", BAD_INPUT)


def _no_reports(code: str, state: str) -> CliError:
    return CliError(
        f"no Article 7 workflow for {state} ({report_id(code, state)}); `msp cycle start` starts those of "
        "states_parties.article7",
        NOT_RUNNING,
    )


async def _running_reports(client: Client, code: str, state: str) -> WorkflowHandle[Article7Workflow, Any]:
    """The State's Art. 7 handle; refuses, before anything is sent, one that does not exist or has ended."""
    wid = report_id(code, state)
    handle = client.get_workflow_handle_for(Article7Workflow.run, wid)
    desc = await _describe(client, wid, _no_reports(code, state))
    if desc.status != WorkflowExecutionStatus.RUNNING:
        ended = desc.status.name.lower() if desc.status is not None else "ended"
        raise CliError(
            f"the Article 7 workflow of {state} ({wid}) is {ended} and no longer running", NOT_RUNNING
        )
    return handle


@reports_app.command("received")
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

    async def go() -> int:
        code = _convention(convention).code
        cfg = _load_config(config)
        name = _article7_state(cfg, config, state)
        received_on = _date_option(on, "--on") or local_date(_today(), cfg.defaults)
        fields = {
            "decision_id": decision_id or _new_id(),
            "year": year,
            "initial": initial,
            "received_on": received_on,
            "reference": ref,
        }
        receipt = _validated(ReportReceived, fields, "decision_id", "decision")
        client = await connect()
        handle = await _running_reports(client, code, name)
        # The same receipt id again: the server would answer with the first outcome, not saying it was a repeat.
        if receipt.decision_id in (s := await _reports_state(client, handle.id)).decisions:
            _echo(f"accepted: {_receipt_text(s, receipt)} (already applied)")
            return OK

        def gone(e: RPCError) -> CliError:
            return CliError(
                f"the Article 7 workflow of {name} ({handle.id}) is not running ({_one_line(e.message)})",
                NOT_RUNNING,
            )

        return await _send_update(
            handle, Article7Workflow.report_received, receipt, receipt.decision_id, gone
        )

    _run(go)


def _receipt_text(s: ReportsState, r: ReportReceived) -> str:
    rec = receipt_of(s, r.key)
    if rec is None:
        return f"receipt {r.decision_id} already recorded"
    late = ", late" if rec.late else ""
    if rec.year == INITIAL:
        return f"initial Article 7 report of {s.state} received on {rec.received_on} ({rec.reference}){late}"
    return (
        f"Article 7 report of {s.state} due {deadline(rec.year)} (covering {rec.year - 1}) received on "
        f"{rec.received_on} ({rec.reference}){late}"
    )


# msp reports list


async def _reports_state(client: Client, wid: str) -> ReportsState:
    handle = client.get_workflow_handle_for(Article7Workflow.run, wid)
    try:
        return await _answer(wid, handle.query(Article7Workflow.state, rpc_timeout=ANSWER_TIMEOUT))
    except RPCError as e:
        raise _rpc_error(wid, e) from None


def _report_row(
    wid: str, execution: str, s: ReportsState | None, attrs: TypedSearchAttributes
) -> dict[str, Any]:
    """One row of `msp reports list`: from the workflow's state when it runs, else its search attributes."""
    if s is not None:
        last = s.received[-1] if s.received else None
        return {
            "state": s.state,
            "id": wid,
            "execution_status": execution,
            "year": s.year,
            "due": str(s.deadline),
            "status": s.status.value,
            "outstanding": (["initial"] if s.initial_outstanding else []) + list(s.outstanding),
            "last_received": last.model_dump(mode="json") if last else None,
            "next_notification": {"kind": s.upcoming.kind, "on": str(s.upcoming.on)} if s.upcoming else None,
            **_attention(s.undeliverable, attrs),
        }
    due = attrs.get(sa.DUE_DATE)
    day = local_date(due, Defaults()) if due is not None else None
    return {
        "state": attrs.get(sa.STATE) or wid,
        "id": wid,
        "execution_status": execution,
        "year": day.year if day else None,
        "due": str(day) if day else None,
        "status": attrs.get(sa.PHASE) or "unknown",
        "outstanding": None,
        "last_received": None,
        "next_notification": None,
        **_attention(None, attrs),
    }


async def _report_list(client: Client, code: str) -> list[dict[str, Any]]:
    query = f"CcmKind = 'report' AND CcmConvention = '{code}' AND CcmArticle = '7'"
    # Each deadline year is a run (continue-as-new under the same id): the latest run stands for the State.
    latest = await _latest_runs(client, query, "Article 7 workflows")
    rows = []
    for wid, wf in latest.items():
        running = wf.status == WorkflowExecutionStatus.RUNNING
        s = await _reports_state(client, wid) if running else None
        execution = wf.status.name.lower() if wf.status is not None else "unknown"
        rows.append(_report_row(wid, execution, s, wf.typed_search_attributes))
    rows.sort(key=lambda r: str(r["state"]).casefold())
    return rows


def _last_text(r: dict[str, Any]) -> str:
    last = r["last_received"]
    if not last:
        return "-"
    late = ", late" if last["late"] else ""
    due = "initial" if last["year"] == INITIAL else f"due {deadline(last['year'])}"
    return f"{last['received_on']} ({due}{late}) {last['reference']}"


def _reports_text(code: str, rows: list[dict[str, Any]], overdue_only: bool) -> str:
    if not rows:
        if overdue_only:
            return f"no Article 7 report of {code} is overdue"
        return f"no Article 7 workflows for {code}; `msp cycle start` starts those of states_parties.article7"
    today = local_date(_today(), Defaults())
    overdue = sum(r["status"] == ReportStatus.OVERDUE.value for r in rows)
    what = "overdue " if overdue_only else ""
    lines = [f"Article 7 reports of {code} ({len(rows)} {what}States; {overdue} overdue; as of {today})"]
    lines += _table(
        [
            (
                r["state"],
                r["due"] or "-",
                r["status"].upper() if r["status"] == ReportStatus.OVERDUE.value else r["status"],
                ", ".join(f"due {deadline(y)}" if isinstance(y, int) else str(y) for y in r["outstanding"])
                if r["outstanding"]
                else "-",
                _last_text(r),
                _attention_cell(r),
            )
            for r in rows
        ],
        header=("STATE", "DUE", "STATUS", "OUTSTANDING", "LAST RECEIVED", "ATTENTION"),
    )
    return "\n".join(lines)


@reports_app.command("list")
def reports_list(
    as_json: JsonOpt = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only the States whose reports are overdue.")
    ] = False,
    convention: ConventionOpt = "ccm",
) -> None:
    """Each State's Article 7 reports: the deadline watched, status (OVERDUE marked), outstanding years, last receipt."""

    async def go() -> int:
        code = _convention(convention).code
        client = await connect()
        rows = await _report_list(client, code)
        if overdue:
            rows = [r for r in rows if r["status"] == ReportStatus.OVERDUE.value]
        if as_json:
            today = local_date(_today(), Defaults())
            out = {"convention": code, "as_of": str(today), "reports": rows}
            _echo(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            _echo(_reports_text(code, rows, overdue))
        return OK

    _run(go)
