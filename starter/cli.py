"""The `msp` command: start the presidential cycle, send the Presidency's decisions, show where things stand.

It stays thin: every rule lives in ``domain/`` and is enforced by the workflows' update validators, so a
decision is answered here exactly as the workflow answered it.

Exit codes: 0 done (or already done), 1 decision rejected, 2 bad input (nothing sent), 3 Temporal unreachable,
4 workflow not running, 5 no answer or another Temporal failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import UTC, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from domain.config import ConfigError, parse_config
from domain.decisions import (
    AddPart,
    ChangeFormat,
    CloseMeeting,
    DecideIntersessional,
    Decision,
    DecisionOutcome,
    DecisionRecord,
    Designate,
    ExtendByDay,
    Postpone,
    ReplaceDesignate,
    SetDates,
)
from domain.meeting import MeetingState
from domain.models import Convention, MeetingFormat, MeetingKind, MeetingRef, describe_part
from domain.presidency import PresidencyState, meeting_id, presidency_id
from starter.connect import TASK_QUEUE, ConnectError, connect
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow

DEFAULT_CONFIG = Path(__file__).parents[1] / "config" / "cycle.toml"
# How long to wait for a worker to answer a query or a decision before saying so.
ANSWER_TIMEOUT = timedelta(seconds=float(os.environ.get("MSP_ANSWER_TIMEOUT", "60")))

# How long `msp status` waits for a Presidency that was just started to start its meeting.
STATUS_WAIT = timedelta(seconds=5)

OK, REJECTED, BAD_INPUT, UNREACHABLE, NOT_RUNNING, FAILED = 0, 1, 2, 3, 4, 5

D = TypeVar("D", bound=Decision)
W = TypeVar("W")
R = TypeVar("R")

app = typer.Typer(
    help="The Convention's presidential cycle on Temporal: start it, decide, see the status.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cycle_app = typer.Typer(help="Start the presidential cycle.", no_args_is_help=True)
decide_app = typer.Typer(
    help="Send a decision of the Presidency; it is accepted, or rejected with the reason.",
    no_args_is_help=True,
)
app.add_typer(cycle_app, name="cycle")
app.add_typer(decide_app, name="decide")


class CliError(Exception):
    """Ends a command with a message on stderr and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# Errors, each into one line and an exit code.

# The option each decision field comes from, to name it in an error.
_OPTIONS = {
    "decision_id": "--id",
    "reference": "--ref",
    "start": "--start",
    "duration_days": "--days",
    "place": "--place",
    "host_covering_extra_cost": "--host",
    "new_start": "--to",
    "reason": "--reason",
    "format": "--format",
    "president.state": "--state",
    "president.representative": "--representative",
    "successor.state": "--successor-state",
    "successor.representative": "--successor-representative",
    "position": "--position",
    "held": "--held/--not-held",
    "code": "--convention",
}


def _validation_lines(e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        field = ".".join(str(p) for p in err["loc"])
        option = _OPTIONS.get(field, field or "input")
        msg = _one_line(str(err["msg"]).removeprefix("Value error, "))
        value = err.get("input")
        scalar = value is not None and not isinstance(value, dict | list)
        lines.append(f"{option}: {msg} (got {value!r})" if scalar else f"{option}: {msg}")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _no_presidency(convention: Convention) -> CliError:
    return CliError(
        f"no presidency is running for {convention.code} ({presidency_id(convention)}); "
        "start it with `msp cycle start`",
        NOT_RUNNING,
    )


def _no_answer(wid: str) -> CliError:
    return CliError(
        f"no answer from {wid} within {ANSWER_TIMEOUT.total_seconds():g} s: is a worker running on task queue "
        f"{TASK_QUEUE}? A decision may still be applied once one is; send it again with the same --id to see.",
        FAILED,
    )


def _rpc_error(wid: str, e: RPCError) -> CliError:
    if e.status == RPCStatusCode.DEADLINE_EXCEEDED:
        return _no_answer(wid)
    if e.status == RPCStatusCode.FAILED_PRECONDITION and "poller" in e.message:
        return CliError(
            f"no worker answers for {wid}: {_one_line(e.message)}; start one on task queue {TASK_QUEUE}",
            FAILED,
        )
    return CliError(f"Temporal refused the call on {wid}: {e.status.name}: {_one_line(e.message)}", FAILED)


def _run(make: Callable[[], Coroutine[Any, Any, int]]) -> None:
    """Runs one command's coroutine; ends the command with its exit code, errors as one line on stderr."""
    try:
        code = asyncio.run(make())
    except CliError as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(e.code) from None
    except ConfigError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(BAD_INPUT) from None
    except ValidationError as e:
        typer.echo(_validation_lines(e), err=True)
        raise typer.Exit(BAD_INPUT) from None
    except ConnectError as e:
        typer.echo(_one_line(str(e)), err=True)
        raise typer.Exit(UNREACHABLE) from None
    raise typer.Exit(code)


async def _answer(wid: str, call: Awaitable[R]) -> R:
    """Waits for a worker's answer, with a limit, translating what Temporal says into one line."""
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT.total_seconds()):
            return await call
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise _no_answer(wid) from None
    except WorkflowQueryFailedError as e:
        raise CliError(f"{wid} could not answer: {_one_line(e.message)}", FAILED) from None


# Where decisions go.


def _convention(code: str) -> Convention:
    return Convention(code=code)


def _meeting_ref(label: str) -> MeetingRef:
    m = re.fullmatch(r"\s*(\d{1,3})\s*(MSP|RC)\s*", label, flags=re.IGNORECASE)
    if not m:
        raise CliError(f"--meeting: expected a meeting label like 14MSP or 3RC, not {label!r}", BAD_INPUT)
    return MeetingRef(number=int(m.group(1)), kind=MeetingKind(m.group(2).upper()))


async def _presidency_state(client: Client, convention: Convention) -> PresidencyState:
    wid = presidency_id(convention)
    handle = client.get_workflow_handle_for(PresidencyWorkflow.run, wid)
    try:
        return await _answer(wid, handle.query(PresidencyWorkflow.state, rpc_timeout=ANSWER_TIMEOUT))
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise _no_presidency(convention) from None
        raise _rpc_error(wid, e) from None


async def _meeting_started(client: Client, convention: Convention, limit: timedelta) -> PresidencyState:
    """The Presidency's state once it has started its meeting's workflow, or as it is when ``limit`` is up.

    Just after a start or a handover the Presidency may not have started the workflow of its meeting yet.
    """
    state = await _presidency_state(client, convention)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit.total_seconds()
    while not state.meeting_started and loop.time() < deadline:
        await asyncio.sleep(0.25)
        state = await _presidency_state(client, convention)
    return state


async def _meeting_target(client: Client, convention: Convention, label: str | None) -> tuple[str, str]:
    """The meeting workflow's id and label: the one given, or the current meeting of the Presidency."""
    if label is not None:
        ref = _meeting_ref(label)
        return meeting_id(convention, ref), ref.label
    state = await _meeting_started(client, convention, ANSWER_TIMEOUT)
    if not state.meeting_started:
        raise CliError(
            f"the presidency of {convention.code} has not started the {state.meeting.ref.label} yet; "
            "try again in a moment",
            FAILED,
        )
    return meeting_id(state.convention, state.meeting.ref), state.meeting.ref.label


async def _send(
    handle: WorkflowHandle[W, Any],
    update: UpdateMethodMultiParam[[W, D], DecisionOutcome],
    decision: D,
    not_running: Callable[[RPCError], CliError],
) -> int:
    try:
        outcome = await _answer(handle.id, handle.execute_update(update, decision, id=decision.decision_id))
    except WorkflowUpdateFailedError as e:
        cause = e.cause
        if isinstance(cause, ApplicationError) and cause.type == "DecisionRejected":
            raise CliError(f"rejected: {_one_line(cause.message)}", REJECTED) from None
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise CliError(f"failed: {handle.id} could not apply it: {_one_line(message)}", FAILED) from None
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise not_running(e) from None
        raise _rpc_error(handle.id, e) from None
    note = " (already applied)" if outcome.duplicate else ""
    typer.echo(f"accepted: {outcome.summary}{note}")
    return OK


def _decision(model: type[D], fields: Mapping[str, Any]) -> D:
    """The decision from the command's options (absent options take the model's defaults); prints its id."""
    decision = model.model_validate({k: v for k, v in fields.items() if v is not None})
    typer.echo(f"decision {decision.decision_id}")
    return decision


def _new_id() -> str:
    return f"cli-{uuid.uuid4().hex[:12]}"


def _president(state: str | None, representative: str | None) -> dict[str, str] | None:
    if state is None and representative is None:
        return None
    return {k: v for k, v in (("state", state), ("representative", representative)) if v is not None}


def _meeting_decision(
    convention: str,
    meeting: str | None,
    update: UpdateMethodMultiParam[[MeetingWorkflow, D], DecisionOutcome],
    model: type[D],
    fields: Mapping[str, Any],
) -> None:
    async def go() -> int:
        conv = _convention(convention)
        decision = _decision(model, fields)
        client = await connect()
        wid, label = await _meeting_target(client, conv, meeting)
        handle = client.get_workflow_handle_for(MeetingWorkflow.run, wid)

        def not_running(e: RPCError) -> CliError:
            return CliError(f"the {label} is not running ({wid}: {_one_line(e.message)})", NOT_RUNNING)

        return await _send(handle, update, decision, not_running)

    _run(go)


def _presidency_decision(
    convention: str,
    update: UpdateMethodMultiParam[[PresidencyWorkflow, D], DecisionOutcome],
    model: type[D],
    fields: Mapping[str, Any],
) -> None:
    async def go() -> int:
        conv = _convention(convention)
        decision = _decision(model, fields)
        client = await connect()
        wid = presidency_id(conv)
        handle = client.get_workflow_handle_for(PresidencyWorkflow.run, wid)
        return await _send(handle, update, decision, lambda _: _no_presidency(conv))

    _run(go)


# Options shared by the commands.

IdOpt = Annotated[
    str | None,
    typer.Option(
        "--id", help="Decision id; sending the same id again applies it once. Default: a new one, printed."
    ),
]
RefOpt = Annotated[str, typer.Option("--ref", help="The paragraph or document that adopted the decision.")]
ConventionOpt = Annotated[
    str, typer.Option("--convention", envvar="CCM_CONVENTION", help="Convention code used in workflow ids.")
]
MeetingOpt = Annotated[
    str | None,
    typer.Option("--meeting", help="The meeting to decide on, e.g. 14MSP. Default: the current meeting."),
]
PlaceOpt = Annotated[str | None, typer.Option("--place", help="Where the part is held.")]
HostOpt = Annotated[
    str | None,
    typer.Option("--host", help="Who covers the cost above a meeting in the default place."),
]


# msp cycle start


@cycle_app.command("start")
def cycle_start(
    config: Annotated[
        Path, typer.Option("--config", help="The cycle's configuration file (TOML).")
    ] = DEFAULT_CONFIG,
) -> None:
    """Start the presidency from the configuration file; does nothing if it already runs."""

    async def go() -> int:
        try:
            text = config.read_text(encoding="utf-8")
        except OSError as e:
            raise CliError(f"{config}: cannot read the configuration: {e.strerror or e}", BAD_INPUT) from None
        cfg = parse_config(text, source=str(config))
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
            typer.echo(f"{wid}: already running")
            return OK
        except RPCError as e:
            raise _rpc_error(wid, e) from None
        typer.echo(f"started {wid}")
        typer.echo(
            f"term {state.term}: {state.president} presides over the {state.meeting.ref.label}, "
            f"{state.meeting.describe_dates()}"
        )
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
        if as_json:
            out = {
                "presidency": pres.model_dump(mode="json"),
                "meeting": meet.model_dump(mode="json") if meet is not None else None,
            }
            typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            typer.echo(_status_text(pres, mid, meet, missing))
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


def _table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...] | None = None) -> list[str]:
    all_rows = ([header] if header else []) + list(rows)
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(all_rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in all_rows]


def _status_text(pres: PresidencyState, mid: str, meet: MeetingState | None, missing: str | None) -> str:
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
    held = ", ".join(f"{d.date} (part {d.part}, day {d.day})" for d in meet.days_held) if meet else ""
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
        ("Closed", f"{meet.closed.closed_on}, {meet.closed.how}" if meet and meet.closed else "-"),
        ("Last handover", handover),
        (
            "Intersessional",
            f"this cycle: {_held(pres.intersessional_this_cycle)}; "
            f"next cycle: {_held(pres.intersessional_next_cycle)}",
        ),
    ]
    log: list[tuple[DecisionRecord, str]] = [(r, "presidency") for r in pres.decisions]
    if meet is not None:
        log += [(r, plan.ref.label) for r in meet.decisions]
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
