"""`msp register`: the register of States the engine works from (import a file, show a State's page), and the hooks
by which the other commands take the States Parties from it.

The ISU keeps the register as a CSV file (``[states_parties] register_file`` in the cycle's configuration, shipped as
``config/register.csv``). `msp cycle start` imports it into the register workflow (``<code>-register``) when none
runs; `msp register import FILE` checks a file the same way the workflow does, and sends it: the answer says what
changed, and the workflow starts the obligations of the States it concerns. Commands that name a State check it
against the configured file's register, on the day they run.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from domain import search_attributes as sa
from domain.calendar import local_date
from domain.config import CycleConfig
from domain.decisions import Rejected
from domain.ids import register_id, report_id, watch_id
from domain.obligations import ImportRegister, RegisterInput, initial_reports
from domain.register import Register, RegisterError, Row, Who, obligations, parse_register
from domain.reports import ReportsState, ReportStatus
from domain.states import check_state
from domain.watch import WatchState
from runtime.connect import connect
from starter.cli.calls import answer, rpc_error, start_once
from starter.cli.common import (
    BAD_INPUT,
    DEFAULT_CONFIG,
    NOT_RUNNING,
    OK,
    CliError,
    ConfigOpt,
    ConventionOpt,
    IdOpt,
    JsonOpt,
    echo,
    load_config,
    new_id,
    run,
    today,
    validated,
)
from starter.cli.send import send_update
from workflows.register import RegisterWorkflow
from workflows.reports import Article7Workflow
from workflows.watch import DeadlineWatchWorkflow

app = typer.Typer(
    help="The register of States: import the ISU's file, show a State's obligations.", no_args_is_help=True
)

FileArg = Annotated[Path, typer.Argument(help="The register file (CSV, the columns of config/register.csv).")]


def read_register(path: Path) -> Register:
    """The register in ``path``; BAD_INPUT with one line per problem, each naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CliError(f"{path}: cannot read the register: {e}", BAD_INPUT) from None
    try:
        return parse_register(text, str(path))
    except RegisterError as e:
        raise CliError(str(e), BAD_INPUT) from None


def register_path(cfg: CycleConfig, config: Path) -> Path | None:
    name = cfg.states_parties.register_file
    return None if name is None else config.parent / name


def with_register(cfg: CycleConfig, config: Path) -> CycleConfig:
    """The configuration with its States Parties taken from its register file, as of today (hook of
    ``load_config``): ``names`` are the States Parties today; ``article7`` those whose reports are chased."""
    path = register_path(cfg, config)
    if path is None:
        return cfg
    register = read_register(path)
    on = local_date(today(), cfg.defaults)
    names = register.roster(on, Who.PARTY)
    p = cfg.presidency
    for where, president in [("president", p.president), *(("designates", d) for d in p.designates)]:
        try:
            check_state(president.state, names, f"in {path} on {on}", register.aliases())
        except Rejected as e:
            raise CliError(f"{config}: presidency.{where}: {e}", BAD_INPUT) from None
    article7 = [r.state for r in register.rows if obligations(r) and r.state in names]
    update = {
        "names": names,
        "article7": article7,
        "aliases": register.aliases(),
        "roster": register.compact(),
    }
    sp = cfg.states_parties.model_copy(update=update)
    return cfg.model_copy(update={"states_parties": sp})


async def import_shipped(client: Client, cfg: CycleConfig, config: Path) -> None:
    """`msp cycle start`: starts the register workflow with the configured file when none runs (hook)."""
    path = register_path(cfg, config)
    if path is None:
        return
    register = read_register(path)
    code = cfg.convention.code
    inp = RegisterInput(
        convention=code,
        reminder_days=tuple(cfg.states_parties.article7_reminder_days),
        webhook=cfg.notifications.webhook,
        defaults=cfg.defaults,
        meeting_on=cfg.meeting.parts[0].start,
    )
    attrs = sa.started_with(sa.Kind.REGISTER, code)
    wid = register_id(code)
    handle = client.get_workflow_handle_for(RegisterWorkflow.run, wid)
    if not await start_once(client, RegisterWorkflow.run, inp, wid, "Register of States", attrs):
        echo(f"{wid}: already running (`msp register import` changes it)")
    else:
        d = ImportRegister(
            decision_id=f"shipped-{path.name}", reference=str(path), source=str(path), text=path.read_text()
        )
        outcome = await answer(
            wid, handle.execute_update(RegisterWorkflow.import_register, d, id=d.decision_id)
        )
        echo(f"started {wid}: {outcome.summary} ({len(register.rows)} rows)")
    s = await answer(wid, handle.query(RegisterWorkflow.state))
    echo(initial_reports_line(s.states, local_date(today(), cfg.defaults), s.first_import))


def initial_reports_line(register: Register, on: date, first_import: date | None) -> str:
    """One line for `make run`'s banner: the initial reports fallen due since the register's first import, and
    those due before it, not recorded (from the register's query: it costs no wait for the Article 7 workflows,
    which the register starts in the background)."""
    since, unrecorded = initial_reports(register, on, first_import)
    shown = ", ".join(since[:5]) + (f" and {len(since) - 5} more" if len(since) > 5 else "")
    due = f"{len(since)} fell due since the register's first import ({shown}): `msp reports list --overdue`"
    return (
        f"initial Art. 7 reports: {due if since else 'none overdue'}; {len(unrecorded)} due before "
        f"{first_import or on} not recorded (not chased until `msp reports received --initial` records them)"
    )


async def running_watch(client: Client, code: str, article: str, state: str) -> str | None:
    """The id of the State's running Art. 3/4 watch, which a first extension request takes over (hook of
    `msp extensions request`); None when there is none."""
    wid = watch_id(code, article, state)
    try:
        desc = await client.get_workflow_handle(wid).describe()
    except RPCError:
        return None
    return wid if desc.status == WorkflowExecutionStatus.RUNNING else None


@app.command("import")
def register_import(
    file: FileArg,
    ref: Annotated[
        str, typer.Option("--ref", help="What the import answers: a depositary notification, a note.")
    ],
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Check a register file and import it: prints what changed; new States Parties get their obligations."""

    async def go() -> int:
        read_register(file)  # every problem, before anything is sent
        d = validated(
            ImportRegister,
            {
                "decision_id": decision_id or new_id(),
                "reference": ref,
                "source": str(file),
                "text": file.read_text(),
            },
            "import",
        )
        client = await connect()
        wid = register_id(convention)
        handle = client.get_workflow_handle_for(RegisterWorkflow.run, wid)

        def gone(e: RPCError) -> CliError:
            return CliError(
                f"no register running ({wid}): `msp cycle start` imports the shipped one", NOT_RUNNING
            )

        return await send_update(handle, RegisterWorkflow.import_register, d, gone)

    run(go)


async def _query(client: Client, wid: str, query: Any) -> Any | None:
    """A running workflow's answer to ``query``; None when there is no such workflow running."""
    handle = client.get_workflow_handle(wid)
    try:
        desc = await handle.describe()
    except RPCError:
        return None
    # One ended by the State's withdrawal still says so (the worker answers for a completed run too).
    if desc.status not in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED):
        return None
    try:
        return await answer(wid, handle.query(query))
    except RPCError as e:
        raise rpc_error(wid, e) from None


def state_page(
    row: Row, today: date, art7: ReportsState | None, watches: dict[str, WatchState | None]
) -> dict[str, Any]:
    eif, left = row.entry_into_force, row.withdrawal_effective
    out: dict[str, Any] = {
        "state": row.state,
        "aliases": list(row.aliases),
        "standing": row.standing(today).value,
        "signed": row.signed,
        "deposited": row.deposited,
        "instrument": row.instrument,
        "entry_into_force": eif,
        "withdrawal_notified": row.withdrawal_notified,
        "withdrawal_effective": left,
        "language": row.language or "not declared in the data",
        "art3_stockpiles": {None: "not declared in the data", True: "yes", False: "no"}[row.art3_stockpiles],
        "art4_contamination": {None: "not declared in the data", True: "yes", False: "no"}[
            row.art4_contamination
        ],
        "source": row.source,
        "read_on": row.read_on,
        "note": row.note,
        "obligations": [],
    }
    for o in obligations(row):
        if o.article == "7":
            status = "not watched (no Article 7 workflow running)"
            if art7 is not None:
                received = next((r for r in art7.received if r.year == 0), None)
                status = (
                    f"received {received.received_on}"
                    if received
                    else f"ended by withdrawal on {art7.ends_on}"
                    if art7.status == ReportStatus.WITHDRAWN
                    else "overdue"
                    if art7.initial_outstanding
                    else "not recorded (due before the register's first import; not chased)"
                    if art7.initial_unrecorded
                    else "pending"
                    if art7.initial_due
                    else "not chased"
                )
                out["obligations"].append(
                    {
                        "article": "7",
                        "what": f"annual update covering {art7.year - 1}",
                        "due": art7.deadline,
                        "status": art7.status.value,
                    }
                )
        else:
            w = watches.get(o.article)
            status = "not watched" if w is None else f"{w.status.value}; request due by {w.request_due}"
        out["obligations"].insert(
            0 if o.article == "7" else len(out["obligations"]),
            {"article": o.article, "what": o.what, "due": o.due, "status": status},
        )
    return out


@app.command("show")
def register_show(
    state: Annotated[str, typer.Argument(help="The State, by its short name or an alias (Lao PDR).")],
    as_json: JsonOpt = False,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """A State's page: its record, where it stands today, its obligations with their dates and status."""

    async def go() -> int:
        cfg = load_config(config)
        client = await connect()
        register = await _query(client, register_id(convention), RegisterWorkflow.register)
        if register is None:
            path = register_path(cfg, config)
            if path is None:
                raise CliError(
                    f"no register running ({register_id(convention)}) and none in {config}", NOT_RUNNING
                )
            register = read_register(path)
        row = register.find(state)
        if row is None:
            try:
                check_state(state, [n for r in register.rows for n in r.names], "in the register")
            except Rejected as e:
                raise CliError(f"STATE: {e}", BAD_INPUT) from None
            raise CliError(f"STATE: {state} is not in the register", BAD_INPUT)
        art7 = await _query(client, report_id(convention, row.state), Article7Workflow.state)
        watches = {
            a: await _query(client, watch_id(convention, a, row.state), DeadlineWatchWorkflow.state)
            for a in ("3", "4")
        }
        page = state_page(row, local_date(today(), cfg.defaults), art7, watches)
        if as_json:
            echo(json.dumps(page, default=str, indent=2))
            return OK
        for key, value in page.items():
            if key != "obligations" and value not in (None, [], ""):
                echo(f"{key.replace('_', ' ')}: {', '.join(value) if isinstance(value, list) else value}")
        echo(
            "obligations:"
            if page["obligations"]
            else "obligations: none (not a State Party, or dates not verified)"
        )
        for o in page["obligations"]:
            echo(f"  Art. {o['article']}: {o['what']}, due {o['due']}: {o['status']}")
        return OK

    run(go)
