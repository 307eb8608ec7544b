"""The `msp` command: start the presidential cycle, send the Presidency's decisions, show where things stand;
record a meeting's money (`msp funds`), follow its documents (`msp docs`) and the mandated reviews
(`msp reviews`).

It stays thin: every rule lives in ``domain/`` and is enforced by the workflows' update validators, so a
decision is answered here exactly as the workflow answered it.

Exit codes: 0 done (or already done), 1 decision rejected, 2 bad input (nothing sent), 3 Temporal unreachable,
4 workflow not running, 5 no answer or another Temporal failure.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import TypeAdapter, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from domain import search_attributes as sa
from domain.assessments import SharesError, parse_shares
from domain.bounds import quote
from domain.calendar import day_start, local_date
from domain.config import CycleConfig
from domain.decisions import (
    AddPart,
    ChangeFormat,
    CloseMeeting,
    DecideIntersessional,
    DecisionOutcome,
    DecisionRecord,
    Designate,
    ExtendByDay,
    Postpone,
    ReplaceDesignate,
    SetDates,
)
from domain.documents import (
    Delivered,
    DocumentInput,
    DocumentSpec,
    DocumentState,
    Symbol,
    Withdraw,
    document_id,
    funds_id,
    new_state,
    risk_text,
)
from domain.funds import Assess, LedgerState, Payment, SetEstimate, arrears, chf, queue
from domain.meeting import MeetingState
from domain.models import (
    Convention,
    Defaults,
    Language,
    MeetingFormat,
    describe_part,
)
from domain.presidency import PresidencyState, meeting_id, presidency_id
from domain.reviews import (
    Conclude,
    Periodicity,
    ReviewInput,
    ReviewState,
    Subject,
    WithdrawReview,
    parse_periodicity,
    review_id,
)
from starter.cli_arrears import PayMeetingOpt, pay_oldest_first
from starter.cli_base import (
    ANSWER_TIMEOUT,
    BAD_INPUT,
    DEFAULT_CONFIG,
    FAILED,
    NOT_RUNNING,
    OK,
    STATUS_WAIT,
    CliError,
    ConfigOpt,
    ConventionOpt,
    DocumentDecision,
    HostOpt,
    IdOpt,
    JsonOpt,
    M,
    MeetingOpt,
    PlaceOpt,
    RefOpt,
    _answer,
    _attention,
    _attention_cell,
    _checked,
    _convention,
    _describe,
    _echo,
    _latest_runs,
    _load_config,
    _meeting_decision,
    _meeting_ref,
    _meeting_started,
    _new_id,
    _one_line,
    _presidency_decision,
    _presidency_state,
    _president,
    _rpc_error,
    _run,
    _send_update,
    _start_once,
    _table,
    _today,
    _undeliverable_lines,
    _validated,
    app,
    cycle_app,
    decide_app,
    docs_app,
    funds_app,
    reviews_app,
)
from starter.cli_codec import codec_server
from starter.cli_extensions import extensions_app
from starter.cli_reports import _start_reports, reports_app
from starter.cli_silence import silence_app
from starter.connect import TASK_QUEUE, connect
from workflows.document import DocumentWorkflow
from workflows.funds import MeetingFundsWorkflow
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow
from workflows.review import ReviewWorkflow

app.add_typer(extensions_app, name="extensions")
app.add_typer(silence_app, name="silence")
app.add_typer(reports_app, name="reports")
app.command("codec-server")(codec_server)

# msp cycle start


@cycle_app.command("start")
def cycle_start(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Start the presidency from the configuration file; does nothing if it already runs."""

    async def go() -> int:
        cfg = _load_config(config)
        if url := os.environ.get("CCM_CONFERENCE_SERVICES_URL"):
            # `make run` moves its receiver with its ports; the workflows must send jobs where it listens.
            money = cfg.money.model_copy(update={"conference_services_url": url})
            cfg = cfg.model_copy(update={"money": money})
        state = cfg.initial_state()
        wid = presidency_id(state.convention)
        client = await connect()
        try:
            await client.start_workflow(
                PresidencyWorkflow.run,
                state,
                id=wid,
                task_queue=TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                # Static, so it cannot go stale across terms: who presides is in the current details.
                static_summary=f"Presidency of the {state.convention.name}: one run per term",
            )
        except WorkflowAlreadyStartedError:
            _echo(f"{wid}: already running")
        except RPCError as e:
            raise _rpc_error(wid, e) from None
        else:
            _echo(f"started {wid}")
            _echo(
                f"term {state.term}: {state.president} presides over the {state.meeting.ref.label}, "
                f"{state.meeting.describe_dates()}"
            )
        await _start_reviews(client, cfg)
        await _start_reports(client, cfg)
        return OK

    _run(go)


# msp decide ... : meeting decisions


@decide_app.command("set-dates")
def set_dates(
    ref: RefOpt,
    start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")],
    days: Annotated[
        int | None, typer.Option("--days", help="Number of days (1-10); default: unchanged.")
    ] = None,
    place: PlaceOpt = None,
    host: HostOpt = None,
    decision_id: IdOpt = None,
    meeting: MeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Set the dates (and place) of the next part of the meeting that has not begun."""
    fields = {
        "decision_id": decision_id or _new_id(),
        "reference": ref,
        "start": start,
        "duration_days": days,
        "place": place,
        "host_covering_extra_cost": host,
    }
    _meeting_decision(convention, meeting, MeetingWorkflow.set_dates, SetDates, fields)


@decide_app.command("postpone")
def postpone(
    ref: RefOpt,
    to: Annotated[
        str, typer.Option("--to", help="The new first day, YYYY-MM-DD, later than the current one.")
    ],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, as the decision says.")] = None,
    decision_id: IdOpt = None,
    meeting: MeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Postpone the next part that has not begun (the parts after it move with it)."""
    fields = {"decision_id": decision_id or _new_id(), "reference": ref, "new_start": to, "reason": reason}
    _meeting_decision(convention, meeting, MeetingWorkflow.postpone, Postpone, fields)


@decide_app.command("change-format")
def change_format(
    ref: RefOpt,
    format: Annotated[MeetingFormat, typer.Option("--format", help="How the part is held.")],
    decision_id: IdOpt = None,
    meeting: MeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Change the format of the next part that has not begun."""
    fields = {"decision_id": decision_id or _new_id(), "reference": ref, "format": format}
    _meeting_decision(convention, meeting, MeetingWorkflow.change_format, ChangeFormat, fields)


@decide_app.command("add-part")
def add_part(
    ref: RefOpt,
    start: Annotated[str, typer.Option("--start", help="First day of the new part, YYYY-MM-DD.")],
    days: Annotated[int, typer.Option("--days", help="Number of days (1-10).")],
    place: PlaceOpt = None,
    host: HostOpt = None,
    format: Annotated[MeetingFormat, typer.Option("--format", help="How the part is held.")] = (
        MeetingFormat.IN_PERSON
    ),
    decision_id: IdOpt = None,
    meeting: MeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Split the meeting: add a part after the last one."""
    fields = {
        "decision_id": decision_id or _new_id(),
        "reference": ref,
        "start": start,
        "duration_days": days,
        "place": place,
        "host_covering_extra_cost": host,
        "format": format,
    }
    _meeting_decision(convention, meeting, MeetingWorkflow.add_part, AddPart, fields)


@decide_app.command("extend-by-day")
def extend_by_day(
    ref: RefOpt,
    decision_id: IdOpt = None,
    meeting: MeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Extend the part in session (or the next one) by a day."""
    fields = {"decision_id": decision_id or _new_id(), "reference": ref}
    _meeting_decision(convention, meeting, MeetingWorkflow.extend_by_day, ExtendByDay, fields)


@decide_app.command("close")
def close(
    ref: RefOpt,
    successor_state: Annotated[
        str | None, typer.Option("--successor-state", help="The successor, if not the designate.")
    ] = None,
    successor_representative: Annotated[
        str | None, typer.Option("--successor-representative", help="The successor's representative.")
    ] = None,
    decision_id: IdOpt = None,
    meeting: MeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Close the meeting in session (on its last part); the Presidency hands over."""
    fields = {
        "decision_id": decision_id or _new_id(),
        "reference": ref,
        "successor": _president(successor_state, successor_representative),
    }
    _meeting_decision(convention, meeting, MeetingWorkflow.close, CloseMeeting, fields)


# msp decide ... : presidency decisions

StateOpt = Annotated[str, typer.Option("--state", help="The State Party, e.g. 'United Kingdom'.")]
RepresentativeOpt = Annotated[
    str | None, typer.Option("--representative", help="Its representative, e.g. 'Ambassador X'.")
]


@decide_app.command("designate")
def designate(
    ref: RefOpt,
    state: StateOpt,
    representative: RepresentativeOpt = None,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Designate the President of the next meeting that has none yet."""
    fields = {
        "decision_id": decision_id or _new_id(),
        "reference": ref,
        "president": _president(state, representative),
    }
    _presidency_decision(convention, PresidencyWorkflow.designate, Designate, fields)


@decide_app.command("replace-designate")
def replace_designate(
    ref: RefOpt,
    state: StateOpt,
    representative: RepresentativeOpt = None,
    position: Annotated[
        int, typer.Option("--position", help="Which upcoming meeting: 1 is the next one.")
    ] = 1,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Replace the President-designate of an upcoming meeting."""
    fields = {
        "decision_id": decision_id or _new_id(),
        "reference": ref,
        "position": position,
        "president": _president(state, representative),
    }
    _presidency_decision(convention, PresidencyWorkflow.replace_designate, ReplaceDesignate, fields)


@decide_app.command("intersessional")
def intersessional(
    ref: RefOpt,
    held: Annotated[
        bool, typer.Option("--held/--not-held", help="Whether an intersessional meeting is held next cycle.")
    ],
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Decide whether an intersessional meeting is held in the next cycle."""
    fields = {"decision_id": decision_id or _new_id(), "reference": ref, "held": held}
    _presidency_decision(convention, PresidencyWorkflow.decide_intersessional, DecideIntersessional, fields)


# msp status


@app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print both states as JSON.")] = False,
    meeting: MeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Show the presidency, its meeting and the decisions of both."""

    async def go() -> int:
        conv = _convention(convention)
        client = await connect()
        if meeting is None:
            pres = await _meeting_started(client, conv, STATUS_WAIT)
        else:
            pres = await _presidency_state(client, conv)
        ref = _meeting_ref(meeting) if meeting is not None else pres.meeting.ref
        mid = meeting_id(pres.convention, ref)
        meet, missing = await _meeting_state(client, mid)
        fid = funds_id(pres.convention.code, ref.label)
        ledger = await _ledger_if_any(client, fid)
        if as_json:
            out = {
                "presidency": pres.model_dump(mode="json"),
                "meeting": meet.model_dump(mode="json") if meet is not None else None,
                "funds": _ledger_json(fid, ledger) if ledger is not None else None,
            }
            _echo(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            _echo(_status_text(pres, mid, meet, missing, fid, ledger))
        return OK

    _run(go)


async def _meeting_state(client: Client, mid: str) -> tuple[MeetingState | None, str | None]:
    handle = client.get_workflow_handle_for(MeetingWorkflow.run, mid)
    try:
        return await _answer(mid, handle.query(MeetingWorkflow.state, rpc_timeout=ANSWER_TIMEOUT)), None
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            return None, f"no workflow {mid} (not started yet?)"
        raise _rpc_error(mid, e) from None


def _status_text(
    pres: PresidencyState,
    mid: str,
    meet: MeetingState | None,
    missing: str | None,
    fid: str = "",
    ledger: LedgerState | None = None,
) -> str:
    plan = meet.plan if meet is not None else pres.meeting
    designates = [f"{i}. {p}" for i, p in enumerate(pres.designates, start=1)] or ["none"]
    if meet is not None:
        phase = meet.phase.value.replace("_", " ")
        status = phase if meet.status == phase else f"{phase} ({meet.status})"
    else:
        status = f"{pres.meeting_status} (as last reported; {missing})"
    dates = [
        (f"part {i}: " if len(plan.parts) > 1 else "")
        + describe_part(p)
        + (f", {p.host_covering_extra_cost} covering the extra cost" if p.host_covering_extra_cost else "")
        for i, p in enumerate(plan.parts, start=1)
    ]
    held = (
        ", ".join(
            f"{d.date} (part {d.part}, day {d.day}"
            + ("" if d.interpretation else ", informal consultations without interpretation")
            + ")"
            for d in meet.days_held
        )
        if meet
        else ""
    )
    if ledger is not None:
        funds = f"balance {chf(ledger.balance)}, shortfall {chf(ledger.shortfall)} ({fid})"
    else:
        funds = f"no ledger ({fid} does not exist: a term begun before meetings had ledgers?)"
    interpretation = (
        [f"{day}: {state.value.replace('_', ' ')}" for day, state in sorted(meet.interpretation.items())]
        if meet
        else []
    )
    if not interpretation:
        interpretation = ["not tracked" if ledger is None else "nothing requested yet"]
    if pres.history:
        h = pres.history[-1]
        handover = f"{h.handed_over_on}: {h.president} to {h.successor}, at the {h.meeting} (term {h.term})"
    else:
        handover = "none recorded"
    rows: list[tuple[str, str]] = [
        ("Presidency", f"{presidency_id(pres.convention)} ({pres.convention.name})"),
        ("Term", str(pres.term)),
        ("President", f"{pres.president}, since {pres.began_on}"),
        ("Outgoing", str(pres.outgoing or "-")),
        ("Designates", designates[0]),
        *(("", d) for d in designates[1:]),
        ("Meeting", f"{plan.ref.label}: {plan.ref.title()} ({mid})"),
        ("Phase", status),
        ("Dates", dates[0]),
        *(("", d) for d in dates[1:]),
        ("Days held", held or "none yet"),
        ("Funds", funds),
        ("Interpretation", interpretation[0]),
        *(("", d) for d in interpretation[1:]),
        ("Closed", f"{meet.closed.closed_on}, {meet.closed.how}" if meet and meet.closed else "-"),
        ("Last handover", handover),
        (
            "Intersessional",
            f"this cycle: {_held(pres.intersessional_this_cycle)}; "
            f"next cycle: {_held(pres.intersessional_next_cycle)}",
        ),
    ]
    log: list[tuple[DecisionRecord, str]] = [(r, "presidency") for r in pres.decisions.records]
    if meet is not None:
        log += [(r, plan.ref.label) for r in meet.decisions.records]
    log.sort(key=lambda x: x[0].at)
    lines = _table(rows)
    lines += ["", f"Decisions ({len(log)})"]
    if log:
        lines += _table(
            [
                (f"{r.at.astimezone(UTC):%Y-%m-%d %H:%M:%S}", where, r.decision_id, r.summary, r.reference)
                for r, where in log
            ],
            header=("TIME (UTC)", "ON", "ID", "SUMMARY", "REFERENCE"),
        )
    else:
        lines.append("none yet")
    return "\n".join(lines)


def _held(value: bool | None) -> str:
    return "not decided" if value is None else ("held" if value else "not held")


# msp funds ... : a meeting's ledger (MeetingFundsWorkflow, `ccm-funds-14MSP`)

LedgerMeetingOpt = Annotated[
    str | None,
    typer.Option("--meeting", help="Whose ledger, e.g. 14MSP. Default: the Presidency's current meeting."),
]
AmountOpt = Annotated[int, typer.Option("--amount", help="Whole Swiss francs (CHF), more than 0.")]


async def _ledger_target(client: Client, convention: Convention, label: str | None) -> tuple[str, str]:
    """The ledger's workflow id and its meeting's label: the meeting given, or the Presidency's current one."""
    if label is not None:
        ref = _meeting_ref(label)
    else:
        # Just after `msp cycle start` the Presidency may not have started its meeting (and ledger) yet.
        ref = (await _meeting_started(client, convention, STATUS_WAIT)).meeting.ref
    return funds_id(convention.code, ref.label), ref.label


def _no_ledger(wid: str, label: str, e: RPCError | None = None) -> CliError:
    detail = f": {_one_line(e.message)}" if e is not None else ""
    return CliError(f"no ledger is running for the {label} ({wid}{detail})", NOT_RUNNING)


def _ledger_update(
    convention: str,
    meeting: str | None,
    update: UpdateMethodMultiParam[[MeetingFundsWorkflow, M], DecisionOutcome],
    model: type[M],
    fields: Mapping[str, Any],
    id_field: str = "decision_id",
    what: str = "decision",
) -> None:
    async def go() -> int:
        conv = _convention(convention)
        message = _validated(model, fields, id_field, what)
        client = await connect()
        wid, label = await _ledger_target(client, conv, meeting)
        handle = client.get_workflow_handle_for(MeetingFundsWorkflow.run, wid)
        return await _send_update(
            handle, update, message, str(getattr(message, id_field)), lambda e: _no_ledger(wid, label, e)
        )

    _run(go)


async def _ledger_state(client: Client, wid: str, label: str) -> LedgerState:
    handle = client.get_workflow_handle_for(MeetingFundsWorkflow.run, wid)
    try:
        return await _answer(wid, handle.query(MeetingFundsWorkflow.ledger, rpc_timeout=ANSWER_TIMEOUT))
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise _no_ledger(wid, label) from None
        raise _rpc_error(wid, e) from None


async def _ledger_if_any(client: Client, wid: str) -> LedgerState | None:
    """The ledger, or None when there is none (terms begun before meetings had ledgers)."""
    handle = client.get_workflow_handle_for(MeetingFundsWorkflow.run, wid)
    try:
        return await _answer(wid, handle.query(MeetingFundsWorkflow.ledger, rpc_timeout=ANSWER_TIMEOUT))
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            return None
        raise _rpc_error(wid, e) from None


def _ledger_json(wid: str, ledger: LedgerState) -> dict[str, Any]:
    today = local_date(_today(), Defaults())
    return {
        "id": wid,
        "meeting": ledger.meeting,
        "as_of": str(today),
        "estimate": ledger.estimate,
        "paid": ledger.payments_total,
        "granted": ledger.granted_total,
        "released": ledger.released_total,
        "balance": ledger.balance,
        "waiting": ledger.waiting_total,
        "shortfall": ledger.shortfall,
        "arrears": [a.model_dump(mode="json") for a in arrears(ledger, today)],
        "queue": [r.model_dump(mode="json") for r in queue(ledger)],
        "ledger": ledger.model_dump(mode="json"),
    }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _funds_text(wid: str, ledger: LedgerState) -> str:
    today = local_date(_today(), Defaults())
    estimate = (
        f"{chf(ledger.estimate)} ({ledger.estimate_reference})"
        if ledger.estimate is not None
        else "not yet adopted (msp funds estimate)"
    )
    rows = [
        ("Funds", f"the {ledger.meeting} ({wid})"),
        ("Cost estimate", estimate),
        ("Paid", f"{chf(ledger.payments_total)} in {_plural(ledger.payments_count, 'payment')}"),
        ("Granted", chf(ledger.granted_total)),
        ("Released", chf(ledger.released_total)),
        ("Balance", chf(ledger.balance)),
        ("Waiting", f"{chf(ledger.waiting_total)} for {_plural(len(ledger.pending), 'request')}"),
        ("Shortfall", chf(ledger.shortfall)),
    ]
    lines = _table(rows)
    owed = arrears(ledger, today)
    lines += ["", f"Contributions ({_plural(len(owed), 'State')}; as of {today})"]
    if owed:
        lines += _table(
            [
                (
                    a.state,
                    f"{ledger.assessments[a.state].share_percent:g}%",
                    chf(a.assessed),
                    chf(a.paid),
                    chf(a.outstanding),
                    str(a.due),
                    "OVERDUE" if a.overdue else "",
                )
                for a in owed
            ],
            header=("STATE", "SHARE", "ASSESSED", "PAID", "OUTSTANDING", "DUE", ""),
        )
    else:
        lines.append("none assessed yet (msp funds assess)")
    waiting = queue(ledger)
    lines += ["", f"Queue ({_plural(len(waiting), 'request')}; granted in this order as money arrives)"]
    if waiting:
        lines += _table(
            [
                (str(i), str(r.priority), str(r.needed_by or "-"), chf(r.amount), r.purpose)
                + (("TOO LATE",) if r.request_id in ledger.too_late else ("",))
                for i, r in enumerate(waiting, start=1)
            ],
            header=("#", "PRIORITY", "NEEDED BY", "AMOUNT", "PURPOSE", ""),
        )
    else:
        lines.append("nothing waits for money")
    return "\n".join(lines)


@funds_app.command("estimate")
def funds_estimate(
    amount: AmountOpt,
    ref: RefOpt,
    decision_id: IdOpt = None,
    meeting: LedgerMeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record the meeting's adopted cost estimate."""
    fields = {"decision_id": decision_id or _new_id(), "reference": ref, "amount": amount}
    _ledger_update(convention, meeting, MeetingFundsWorkflow.set_estimate, SetEstimate, fields)


@funds_app.command("assess")
def funds_assess(
    file: Annotated[
        Path, typer.Option("--file", help="CSV with the header state,share_percent, from the ISU (Art. 14).")
    ],
    due: Annotated[str, typer.Option("--due", help="When the contributions are due, YYYY-MM-DD.")],
    ref: RefOpt,
    decision_id: IdOpt = None,
    meeting: LedgerMeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Assess each State's contribution from the file of shares (UN scale of assessment, adjusted)."""
    try:
        raw = file.read_bytes()
    except OSError as e:
        _echo(f"{file}: cannot read the file of shares: {_one_line(e.strerror or str(e))}", err=True)
        raise typer.Exit(BAD_INPUT) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        _echo(f"{file}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); save it as UTF-8 CSV", err=True)
        raise typer.Exit(BAD_INPUT) from None
    try:
        shares = parse_shares(text, str(file))
    except SharesError as e:
        _echo(_one_line(str(e)), err=True)
        raise typer.Exit(BAD_INPUT) from None
    fields = {"decision_id": decision_id or _new_id(), "reference": ref, "shares": shares, "due": due}
    _ledger_update(convention, meeting, MeetingFundsWorkflow.assess, Assess, fields)


@funds_app.command("pay")
def funds_pay(
    state: Annotated[str, typer.Option("--state", help="The State Party that paid, as assessed.")],
    amount: AmountOpt,
    ref: RefOpt,
    force: Annotated[
        bool, typer.Option("--force", help="Record it even if it is more than the State's outstanding share.")
    ] = False,
    payment_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="Payment id; recording the same id again counts it once. Default: a new one, printed.",
        ),
    ] = None,
    meeting: PayMeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record a payment received from a State, its oldest arrears first unless --meeting says which ledger; what
    waits for money is granted in order."""
    fields = {
        "payment_id": payment_id or _new_id(),
        "reference": ref,
        "state": state,
        "amount": amount,
        "force": force,
    }
    if meeting is None:
        return pay_oldest_first(convention, fields)
    _ledger_update(
        convention, meeting, MeetingFundsWorkflow.record_payment, Payment, fields, "payment_id", "payment"
    )


@funds_app.command("status")
def funds_status(
    as_json: JsonOpt = False,
    meeting: LedgerMeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Show the ledger: estimate, payments, grants, balance, arrears per State, and the queue in grant order."""

    async def go() -> int:
        conv = _convention(convention)
        client = await connect()
        wid, label = await _ledger_target(client, conv, meeting)
        ledger = await _ledger_state(client, wid, label)
        if as_json:
            _echo(json.dumps(_ledger_json(wid, ledger), indent=2, ensure_ascii=False))
        else:
            _echo(_funds_text(wid, ledger))
        return OK

    _run(go)


# msp docs ... : official documents (DocumentWorkflow, `ccm-doc-CCM/MSP/2027/3`)

DocMeetingOpt = Annotated[
    str | None,
    typer.Option("--meeting", help="The meeting, e.g. 14MSP. Default: the Presidency's current meeting."),
]
# Languages are checked by the models, so that a wrong one is refused in one line like any other option.
_LANGUAGES = ", ".join(lang.value for lang in Language)
SymbolArg = Annotated[str, typer.Argument(help="The document's symbol, e.g. CCM/MSP/2027/3.")]
_SYMBOL: TypeAdapter[str] = TypeAdapter(Symbol)


def _no_document(symbol: str, wid: str, e: RPCError | None = None) -> CliError:
    if e is not None and "completed" in e.message:
        return CliError(
            f"{symbol} is finished: every language is issued or withdrawn ({wid}); "
            f"see `msp docs status {symbol}`",
            NOT_RUNNING,
        )
    detail = f": {_one_line(e.message)}" if e is not None else ""
    return CliError(
        f"no document {symbol} is running ({wid}{detail}); submit it with `msp docs submit`", NOT_RUNNING
    )


async def _check_ledger(client: Client, fid: str, label: str, code: str) -> None:
    """Refuses a meeting without a running ledger, before anything is started."""
    try:
        desc = await client.get_workflow_handle(fid).describe(rpc_timeout=ANSWER_TIMEOUT)
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise CliError(
                f"--meeting: no meeting {label} for {code}: its ledger {fid} does not exist; nothing submitted",
                BAD_INPUT,
            ) from None
        raise _rpc_error(fid, e) from None
    if desc.status != WorkflowExecutionStatus.RUNNING:
        status = desc.status.name.lower() if desc.status is not None else "unknown"
        raise CliError(
            f"--meeting: the ledger of the {label} ({fid}) is {status}, not running; nothing submitted",
            BAD_INPUT,
        )


@docs_app.command("submit")
def docs_submit(
    symbol: Annotated[str, typer.Option("--symbol", help="The document's symbol, e.g. CCM/MSP/2027/3.")],
    title: Annotated[str, typer.Option("--title", help="Its title.")],
    pages: Annotated[int, typer.Option("--pages", help="Pages to translate (1-2000).")],
    due: Annotated[str, typer.Option("--due", help="When it must be out in every language, YYYY-MM-DD.")],
    language: Annotated[str, typer.Option("--language", help=f"The original language: {_LANGUAGES}.")] = "en",
    priority: Annotated[int, typer.Option("--priority", help="1 is translated first (1-9).")] = 2,
    meeting: DocMeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Submit a document: it asks the meeting's ledger for each translation and is sent off as money comes."""
    fields = {
        "symbol": symbol,
        "title": title,
        "pages": pages,
        "due": due,
        "original_language": language.strip().lower(),
        "priority": priority,
    }

    async def go() -> int:
        conv = _convention(convention)
        given = _meeting_ref(meeting).label if meeting is not None else None
        # Checked before anything is asked of Temporal; the meeting is filled in below when not given.
        spec = DocumentSpec.model_validate({**fields, "meeting": given or "1MSP"})
        client = await connect()
        pres = await _meeting_started(client, conv, STATUS_WAIT)
        if given is None and not pres.meeting_started:
            raise CliError(
                f"the presidency of {conv.code} has not started the {pres.meeting.ref.label} yet; "
                "try again in a moment",
                FAILED,
            )
        label = given or pres.meeting.ref.label
        spec = spec.model_copy(update={"meeting": label})
        fid = funds_id(conv.code, label)
        await _check_ledger(client, fid, label, conv.code)
        money = pres.convention.money
        wid = document_id(conv.code, spec.symbol)
        inp = DocumentInput(convention=conv.code, spec=spec, money=money, funds_id=fid)
        attributes: list[SearchAttributePair[Any]] = [
            SearchAttributePair(sa.KIND, "document"),
            SearchAttributePair(sa.CONVENTION, conv.code),
            SearchAttributePair(sa.MEETING, label),
        ]
        # A symbol is submitted once; only a run that failed may be started again.
        if not await _start_once(
            client, DocumentWorkflow.run, inp, wid, f"{spec.symbol}: {spec.title}", attributes
        ):
            raise CliError(
                f"{spec.symbol} is already submitted ({wid}); see `msp docs status {spec.symbol}`", BAD_INPUT
            )
        plan = new_state(spec, money)
        cost = sum(t.amount for t in plan.translations.values())
        langs = ", ".join(lang.value for lang in plan.translations)
        _echo(f"started {wid}")
        _echo(
            f"{spec.symbol}: {_plural(len(plan.translations), 'translation')} ({langs}) for {chf(cost)}, "
            f"asked of the {label} ledger ({fid}); due {spec.due}"
        )
        return OK

    _run(go)


def _document_update(
    convention: str,
    symbol: str,
    update: UpdateMethodMultiParam[[DocumentWorkflow, DocumentDecision], DecisionOutcome],
    model: type[DocumentDecision],
    fields: Mapping[str, Any],
) -> None:
    async def go() -> int:
        conv = _convention(convention)
        message = _validated(model, fields, "decision_id", "decision")
        wid = document_id(conv.code, _checked(_SYMBOL, symbol, "SYMBOL"))
        client = await connect()
        handle = client.get_workflow_handle_for(DocumentWorkflow.run, wid)
        return await _send_update(
            handle,
            update,
            message,
            message.decision_id,
            lambda e: _no_document(symbol, wid, e),
        )

    _run(go)


@docs_app.command("delivered")
def docs_delivered(
    symbol: SymbolArg,
    lang: Annotated[
        str, typer.Option("--lang", help=f"The language delivered by conference services: {_LANGUAGES}.")
    ],
    ref: Annotated[
        str | None, typer.Option("--ref", help="What reported the delivery. Default: conference services.")
    ] = None,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record that a translation was delivered: the document is issued in that language."""
    fields = {"decision_id": decision_id or _new_id(), "language": lang.strip().lower(), "reference": ref}
    _document_update(convention, symbol, DocumentWorkflow.delivered, Delivered, fields)


@docs_app.command("withdraw")
def docs_withdraw(
    symbol: SymbolArg,
    ref: RefOpt,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Withdraw a document: its requests leave the queue, money granted to jobs not sent goes back, and jobs sent
    are cancelled at conference services (their money goes back once they confirm; a job already done stays paid)."""
    fields = {"decision_id": decision_id or _new_id(), "reference": ref}
    _document_update(convention, symbol, DocumentWorkflow.withdraw, Withdraw, fields)


def _document_json(wid: str, state: DocumentState) -> dict[str, Any]:
    return {
        "id": wid,
        "waiting_for_funds": state.waiting_for_funds,
        "pending_languages": state.pending_languages,
        "finished": state.finished,
        **state.model_dump(mode="json"),
    }


def _risk_cell(s: DocumentState) -> str:
    if s.at_risk:
        return "yes: it will miss its due date"
    return "no" if s.late_days is None else f"no: issued {risk_text(s)}"


def _document_text(wid: str, s: DocumentState) -> str:
    spec = s.spec
    rows = [
        ("Document", f"{spec.symbol}: {spec.title} ({wid})"),
        ("Meeting", f"{spec.meeting}, due {spec.due}"),
        (
            "Original",
            f"{spec.original_language.value}, {_plural(spec.pages, 'page')}, priority {spec.priority}",
        ),
        ("At risk", _risk_cell(s)),
        ("Waiting", f"{chf(s.waiting_for_funds)} for funds"),
        ("Withdrawn", "yes" if s.withdrawn else "no"),
    ]
    lines = _table(rows)
    lines += ["", "Translations"]
    lines += _table(
        [
            (
                lang.value,
                t.status.value.replace("_", " "),
                chf(t.amount),
                t.job_reference or "-",
                _one_line(t.error) if t.error else "",
            )
            for lang, t in s.translations.items()
        ],
        header=("LANGUAGE", "STATUS", "CHF", "JOB", "ERROR"),
    )
    lines += ["", f"Log ({len(s.log)})", *(s.log or ["nothing yet"])]
    return "\n".join(lines)


async def _document_list(client: Client, code: str, label: str) -> list[dict[str, Any]]:
    query = f"CcmKind = 'document' AND CcmConvention = '{code}' AND CcmMeeting = '{label}'"
    prefix = document_id(code, "")
    found = []
    try:
        async for wf in client.list_workflows(query, rpc_timeout=ANSWER_TIMEOUT):
            attrs = wf.typed_search_attributes
            found.append(
                {
                    "symbol": wf.id.removeprefix(prefix),
                    "id": wf.id,
                    "status": wf.status.name.lower() if wf.status is not None else "unknown",
                    "started": wf.start_time.isoformat(),
                    "pending_languages": list(attrs.get(sa.LANGUAGES_PENDING) or []),
                    "waiting_for_funds": int(attrs.get(sa.WAITING_FOR_FUNDS) or 0),
                    "attention": list(attrs.get(sa.ATTENTION) or []),
                }
            )
    except RPCError as e:
        raise _rpc_error(f"the list of documents ({query})", e) from None
    found.sort(key=lambda d: (d["started"], d["symbol"]))
    return found


def _documents_text(label: str, docs: list[dict[str, Any]]) -> str:
    if not docs:
        return f"no documents submitted for the {label}"
    waiting = sum(int(d["waiting_for_funds"]) for d in docs)
    lines = [f"Documents of the {label} ({len(docs)}; {chf(waiting)} waiting for funds)"]
    lines += _table(
        [
            (
                d["symbol"],
                d["status"],
                " ".join(d["pending_languages"]) or "-",
                chf(int(d["waiting_for_funds"])),
                " ".join(a.replace("_", " ") for a in d["attention"]),
            )
            for d in docs
        ],
        header=("SYMBOL", "WORKFLOW", "PENDING", "WAITING FOR FUNDS", "RISK"),
    )
    return "\n".join(lines)


@docs_app.command("status")
def docs_status(
    symbol: Annotated[
        str | None, typer.Argument(help="A document's symbol; without it, every document of the meeting.")
    ] = None,
    as_json: JsonOpt = False,
    meeting: DocMeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Show one document (each language, its money, its log), or list the meeting's documents."""

    async def go() -> int:
        conv = _convention(convention)
        given = _meeting_ref(meeting).label if meeting is not None else None
        wid = document_id(conv.code, _checked(_SYMBOL, symbol, "SYMBOL")) if symbol is not None else ""
        client = await connect()
        if symbol is not None:
            handle = client.get_workflow_handle_for(DocumentWorkflow.run, wid)
            try:
                state = await _answer(wid, handle.query(DocumentWorkflow.state, rpc_timeout=ANSWER_TIMEOUT))
            except RPCError as e:
                if e.status == RPCStatusCode.NOT_FOUND:
                    raise _no_document(symbol, wid) from None
                raise _rpc_error(wid, e) from None
            if as_json:
                _echo(json.dumps(_document_json(wid, state), indent=2, ensure_ascii=False))
            else:
                _echo(_document_text(wid, state))
            return OK
        label = given or (await _presidency_state(client, conv)).meeting.ref.label
        docs = await _document_list(client, conv.code, label)
        if as_json:
            _echo(json.dumps({"meeting": label, "documents": docs}, indent=2, ensure_ascii=False))
        else:
            _echo(_documents_text(label, docs))
        return OK

    _run(go)


# msp reviews ... : mandated reviews (ReviewWorkflow, `ccm-review-hosting-agreement`)

SubjectArg = Annotated[str, typer.Argument(help="The review's subject, e.g. hosting-agreement.")]
_SUBJECT: TypeAdapter[str] = TypeAdapter(Subject)


async def _start_reviews(client: Client, cfg: CycleConfig) -> None:
    """Starts every review of the configuration that has not been started; one line for each."""
    code = cfg.convention.code
    for spec in cfg.reviews:
        wid = review_id(code, spec.subject)
        attrs: list[SearchAttributePair[Any]] = [
            SearchAttributePair(sa.KIND, "review"),
            SearchAttributePair(sa.CONVENTION, code),
            SearchAttributePair(sa.PHASE, "pending"),
            SearchAttributePair(sa.DUE_DATE, day_start(spec.due.on, cfg.defaults)),
        ]
        if spec.due.meeting:
            attrs.append(SearchAttributePair(sa.MEETING, spec.due.meeting))
        inp = ReviewInput(
            convention=code,
            spec=spec,
            webhook=cfg.notifications.webhook,
            cadence_years=cfg.defaults.review_conference_cadence_years,
        )
        # A review concluded or withdrawn is not started again; set at start, its attributes let its meeting find it.
        if not await _start_once(client, ReviewWorkflow.run, inp, wid, f"Review: {spec.title}", attrs):
            _echo(await _review_already(client, spec.subject, wid))
            continue
        _echo(f"started {wid}: review of {spec.title}, due {spec.due.describe()}")


async def _review_already(client: Client, subject: str, wid: str) -> str:
    desc = await _describe(client, wid)
    if desc.status == WorkflowExecutionStatus.RUNNING:
        return f"review {subject}: already running"
    phase = desc.typed_search_attributes.get(sa.PHASE) or "ended"
    return f"review {subject}: already {phase} ({wid}), not started again"


def _no_review(code: str, subject: str) -> CliError:
    return CliError(f"no review {subject} for {code}; `msp reviews list` shows them", NOT_RUNNING)


def _review_ended(subject: str, phase: str | None = None) -> CliError:
    how = phase if phase in ("concluded", "withdrawn") else "withdrawn/concluded"
    return CliError(f"the review {subject} is {how} and no longer running", NOT_RUNNING)


async def _running_review(client: Client, code: str, subject: str) -> WorkflowHandle[ReviewWorkflow, Any]:
    """The review's handle; refuses, before anything is sent, one that does not exist or has ended."""
    wid = review_id(code, subject)
    handle = client.get_workflow_handle_for(ReviewWorkflow.run, wid)
    desc = await _describe(client, wid, _no_review(code, subject))
    if desc.status != WorkflowExecutionStatus.RUNNING:
        raise _review_ended(subject, desc.typed_search_attributes.get(sa.PHASE))
    return handle


def _review_gone(code: str, subject: str, e: RPCError) -> CliError:
    """An update found no running review: it ended since it was looked up, or never was."""
    if "completed" in e.message:
        return _review_ended(subject)
    return _no_review(code, subject)


async def _review_state(client: Client, code: str, subject: str) -> ReviewState:
    wid = review_id(code, subject)
    handle = client.get_workflow_handle_for(ReviewWorkflow.run, wid)
    try:
        return await _answer(wid, handle.query(ReviewWorkflow.state, rpc_timeout=ANSWER_TIMEOUT))
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise _no_review(code, subject) from None
        raise _rpc_error(wid, e) from None


def _review_update(
    convention: str,
    subject: str,
    update: UpdateMethodMultiParam[[ReviewWorkflow, M], DecisionOutcome],
    message: Callable[[], M],
) -> None:
    async def go() -> int:
        conv = _convention(convention)
        name = _checked(_SUBJECT, subject.strip(), "SUBJECT")
        # Checked (and its id printed) before anything is asked of Temporal.
        decision = message()
        client = await connect()
        handle = await _running_review(client, conv.code, name)
        return await _send_update(
            handle,
            update,
            decision,
            str(getattr(decision, "decision_id")),  # noqa: B009
            lambda e: _review_gone(conv.code, name, e),
        )

    _run(go)


def _due_text(s: ReviewState) -> str:
    return s.spec.due.model_copy(update={"on": s.due}).describe()


def _review_row(
    subject: str,
    wid: str,
    execution: str,
    s: ReviewState | None,
    today: date,
    attrs: TypedSearchAttributes,
) -> dict[str, Any]:
    """One row of `msp reviews list`: from the review's state when it runs, else its search attributes."""
    due: date | None
    if s is not None:
        due = s.due
        status = s.status.value
        meeting = s.spec.due.meeting
        upcoming = {"kind": s.upcoming.kind, "on": str(s.upcoming.on)} if s.upcoming else None
    else:
        at = attrs.get(sa.DUE_DATE)
        due = local_date(at, Defaults()) if at is not None else None
        status = attrs.get(sa.PHASE) or "unknown"
        meeting = attrs.get(sa.MEETING)
        upcoming = None
    return {
        "subject": subject,
        "id": wid,
        "execution_status": execution,
        "status": status,
        "due": str(due) if due is not None else None,
        "days_left": (due - today).days if due is not None else None,
        "meeting": meeting,
        "due_point": _due_text(s) if s is not None else None,
        "cycle": s.cycle if s is not None else None,
        "next_notification": upcoming,
        **_attention(s.undeliverable if s is not None else None, attrs),
    }


async def _review_list(client: Client, code: str) -> list[dict[str, Any]]:
    query = f"CcmKind = 'review' AND CcmConvention = '{code}'"
    prefix = review_id(code, "")
    today = local_date(_today(), Defaults())
    # A review concluded with a periodicity continues as new under the same id: its latest run stands for it.
    latest = await _latest_runs(client, query, "reviews")
    rows = []
    for wid, wf in latest.items():
        subject = wid.removeprefix(prefix)
        running = wf.status == WorkflowExecutionStatus.RUNNING
        state = await _review_state(client, code, subject) if running else None
        execution = wf.status.name.lower() if wf.status is not None else "unknown"
        rows.append(_review_row(subject, wid, execution, state, today, wf.typed_search_attributes))
    rows.sort(key=lambda r: (r["due"] or "9999", r["subject"]))
    return rows


def _reviews_text(code: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return f"no reviews for {code}; `msp cycle start` starts those of the configuration"
    today = local_date(_today(), Defaults())
    lines = [f"Reviews of {code} ({len(rows)}; as of {today})"]
    lines += _table(
        [
            (
                r["subject"],
                r["due"] or "-",
                str(r["days_left"]) if r["days_left"] is not None else "-",
                r["status"],
                r["meeting"] or "-",
                f"{r['next_notification']['kind']} on {r['next_notification']['on']}"
                if r["next_notification"]
                else "-",
                _attention_cell(r),
                r["execution_status"],
            )
            for r in rows
        ],
        header=(
            "SUBJECT",
            "DUE",
            "DAYS LEFT",
            "STATUS",
            "MEETING",
            "NEXT NOTIFICATION",
            "ATTENTION",
            "WORKFLOW",
        ),
    )
    return "\n".join(lines)


def _review_text(wid: str, s: ReviewState) -> str:
    spec = s.spec
    today = local_date(_today(), Defaults())
    rows = [
        ("Review", f"{spec.subject}: {spec.title} ({wid})"),
        ("Mandate", f"{spec.mandate.decided_by}, {spec.mandate.reference}"),
        ("Due", f"{_due_text(s)}; {(s.due - today).days} days left (as of {today})"),
        ("Status", f"{s.status.value}, review number {s.cycle}"),
        ("Periodicity", spec.periodicity.describe() if spec.periodicity else "not decided"),
        ("Upcoming", f"{s.upcoming.kind} on {s.upcoming.on}" if s.upcoming else "none"),
    ]
    lines = _table(rows)
    lines += ["", f"Notifications sent ({len(s.sent)})"]
    lines += _table([(str(r.on), r.kind, r.text) for r in s.sent]) if s.sent else ["none yet"]
    lines += _undeliverable_lines(s.undeliverable)
    lines += ["", f"Conclusions ({len(s.history)})"]
    if s.history:
        lines += _table(
            [
                (
                    str(h.cycle),
                    str(h.due),
                    str(h.concluded_on),
                    h.reference,
                    h.next.describe() if h.next else "-",
                    _one_line(h.outcome),
                )
                for h in s.history
            ],
            header=("#", "DUE", "CONCLUDED", "REFERENCE", "NEXT", "OUTCOME"),
        )
    else:
        lines.append("none yet")
    return "\n".join(lines)


@reviews_app.command("list")
def reviews_list(as_json: JsonOpt = False, convention: ConventionOpt = "ccm") -> None:
    """List the reviews, running and ended, by due date: days left, status, meeting, next notification."""

    async def go() -> int:
        conv = _convention(convention)
        client = await connect()
        rows = await _review_list(client, conv.code)
        if as_json:
            today = local_date(_today(), Defaults())
            out = {"convention": conv.code, "as_of": str(today), "reviews": rows}
            _echo(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            _echo(_reviews_text(conv.code, rows))
        return OK

    _run(go)


@reviews_app.command("show")
def reviews_show(subject: SubjectArg, as_json: JsonOpt = False, convention: ConventionOpt = "ccm") -> None:
    """Show one review: mandate, due point, status, periodicity, notifications, conclusions."""

    async def go() -> int:
        conv = _convention(convention)
        name = _checked(_SUBJECT, subject.strip(), "SUBJECT")
        client = await connect()
        state = await _review_state(client, conv.code, name)
        wid = review_id(conv.code, name)
        if as_json:
            out = {"id": wid, "due_point": _due_text(state), **state.model_dump(mode="json")}
            _echo(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            _echo(_review_text(wid, state))
        return OK

    _run(go)


def _periodicity_option(text: str | None) -> Periodicity | None:
    if text is None:
        return None
    try:
        return parse_periodicity(text)
    except ValidationError as e:
        reason = "; ".join(str(err["msg"]).removeprefix("Value error, ") for err in e.errors())
        raise CliError(f"--next: {_one_line(reason)} (got {quote(text)})", BAD_INPUT) from None
    except ValueError as e:
        raise CliError(f"--next: {_one_line(str(e))}", BAD_INPUT) from None


@reviews_app.command("conclude")
def reviews_conclude(
    subject: SubjectArg,
    outcome: Annotated[str, typer.Option("--outcome", help="What the States Parties concluded.")],
    ref: RefOpt,
    next_: Annotated[
        str | None,
        typer.Option(
            "--next",
            help="When the next review falls: 'every N years' or 'at every Review Conference'. "
            "Default: the periodicity already decided, if any (without one, no next review).",
        ),
    ] = None,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Conclude a review; with a periodicity, the next review of the subject starts at once."""

    def message() -> Conclude:
        fields = {
            "decision_id": decision_id or _new_id(),
            "reference": ref,
            "outcome": outcome,
            "next": _periodicity_option(next_),
        }
        return _validated(Conclude, fields, "decision_id", "decision")

    _review_update(convention, subject, ReviewWorkflow.conclude, message)


@reviews_app.command("withdraw")
def reviews_withdraw(
    subject: SubjectArg,
    ref: RefOpt,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Withdraw a review the States Parties no longer require; it ends without a conclusion."""

    def message() -> WithdrawReview:
        fields = {"decision_id": decision_id or _new_id(), "reference": ref}
        return _validated(WithdrawReview, fields, "decision_id", "decision")

    _review_update(convention, subject, ReviewWorkflow.withdraw, message)


def main() -> NoReturn:
    """The console script: runs one command, then leaves without the interpreter's shutdown (sdk-python#300)."""
    code: int
    try:
        app()
        code = OK
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        code = 130
    except BaseException:  # an unexpected error: show it whole, since no one-line message was prepared
        import traceback

        traceback.print_exc()
        code = FAILED
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
