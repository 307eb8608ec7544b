"""What every `msp` command shares: exit codes, one-line errors, where decisions go and how they are sent.

The command modules (`starter/cli.py` and the `cli_*` modules it gathers) import these; the leading underscores
say they are not for use outside the `msp` command.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, TypeAdapter, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from domain import search_attributes as sa
from domain.bounds import Name, escape_controls, in_window, quote
from domain.calendar import local_clock
from domain.config import ConfigError, CycleConfig, parse_config
from domain.decisions import (
    SEND_AGAIN,
    Decision,
    DecisionOutcome,
)
from domain.documents import (
    Delivered,
    Withdraw,
)
from domain.models import (
    Convention,
    Defaults,
    MeetingKind,
    MeetingRef,
    Rejected,
)
from domain.notifications import Undeliverable
from domain.presidency import PresidencyState, meeting_id, presidency_id
from domain.states import check_state
from starter.connect import TASK_QUEUE, ConnectError, connect
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow

DEFAULT_CONFIG = Path(__file__).parents[1] / "config" / "cycle.toml"
# How long to wait for a worker to answer a query or a decision before saying so.
ANSWER_TIMEOUT = timedelta(seconds=float(os.environ.get("MSP_ANSWER_TIMEOUT", "60")))

# How long `msp status` waits for a Presidency that was just started to start its meeting.
STATUS_WAIT = timedelta(seconds=5)

# A decision refused only for the moment (the Presidency being handed over, which takes seconds once its meeting's
# workflow has finished) is sent again after each of these pauses, in seconds: 7 tries over 31.5 s.
SEND_AGAIN_DELAYS: tuple[float, ...] = (0.5, 1, 2, 4, 8, 16)

OK, REJECTED, BAD_INPUT, UNREACHABLE, NOT_RUNNING, FAILED = 0, 1, 2, 3, 4, 5

D = TypeVar("D", bound=Decision)
# Any update argument (a payment, a delivery): not all carry their id as ``decision_id``.
A = TypeVar("A")
M = TypeVar("M", bound=BaseModel)
DocumentDecision = TypeVar("DocumentDecision", Delivered, Withdraw)
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
funds_app = typer.Typer(
    help="A meeting's money: cost estimate, assessed contributions, payments, and what waits for money.",
    no_args_is_help=True,
)
docs_app = typer.Typer(
    help="Official documents: submit one for translation, record deliveries, withdraw, see where each stands.",
    no_args_is_help=True,
)
app.add_typer(cycle_app, name="cycle")
app.add_typer(decide_app, name="decide")
app.add_typer(funds_app, name="funds")
reviews_app = typer.Typer(
    help="Mandated reviews: what falls due when, who was reminded, and the decisions that conclude them.",
    no_args_is_help=True,
)
app.add_typer(docs_app, name="docs")
app.add_typer(reviews_app, name="reviews")


def _echo(text: str = "", err: bool = False) -> None:
    """Prints human text: control characters in it (ESC, OSC, NUL, bidi overrides...) are shown escaped, never
    sent raw to the terminal. Every line `msp` prints goes through here."""
    typer.echo(escape_controls(text, keep="\n"), err=err)


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
    # msp funds / msp docs
    "amount": "--amount",
    "shares": "--file",
    "due": "--due",
    "state": "--state",
    "payment_id": "--id",
    "force": "--force",
    "symbol": "--symbol",
    "title": "--title",
    "pages": "--pages",
    "original_language": "--language",
    "priority": "--priority",
    "language": "--lang",
    # msp reviews
    "outcome": "--outcome",
    "next": "--next",
}


def _validation_lines(e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        field = ".".join(str(p) for p in err["loc"])
        option = _OPTIONS.get(field, field or "input")
        msg = _one_line(str(err["msg"]).removeprefix("Value error, "))
        value = err.get("input")
        scalar = value is not None and not isinstance(value, dict | list)
        lines.append(f"{option}: {msg} (got {quote(value)})" if scalar else f"{option}: {msg}")
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
        _echo(e.message, err=True)
        raise typer.Exit(e.code) from None
    except ConfigError as e:
        _echo(str(e), err=True)
        raise typer.Exit(BAD_INPUT) from None
    except ValidationError as e:
        _echo(_validation_lines(e), err=True)
        raise typer.Exit(BAD_INPUT) from None
    except ConnectError as e:
        _echo(_one_line(str(e)), err=True)
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


def _load_config(path: Path) -> CycleConfig:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CliError(f"{path}: cannot read the configuration: {e.strerror or e}", BAD_INPUT) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise CliError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); TOML files are UTF-8", BAD_INPUT
        ) from None
    from starter.cli_register import with_register  # the register's module imports this one

    return with_register(parse_config(text, source=str(path)), path)


def _date_option(text: str | None, option: str) -> date | None:
    """A date given on the command line (YYYY-MM-DD), or None when the option was not given."""
    if text is None:
        return None
    try:
        return in_window(date.fromisoformat(text.strip()))
    except ValueError as e:
        reason = str(e) if "engine" in str(e) else f"expected a date (YYYY-MM-DD), not {quote(text)}"
        raise CliError(f"{option}: {reason}", BAD_INPUT) from None


_NAME: TypeAdapter[str] = TypeAdapter(Name)


def _checked(adapter: TypeAdapter[R], text: str, option: str) -> R:
    """An option or argument no model takes whole (a name looked up, a symbol): checked the same way before use."""
    try:
        return adapter.validate_python(text)
    except ValidationError as e:
        msg = _one_line(str(e.errors()[0]["msg"]).removeprefix("Value error, "))
        raise CliError(f"{option}: {msg} (got {quote(text)})", BAD_INPUT) from None


def _state_option(
    text: str,
    listed: Sequence[str],
    where: str,
    option: str = "--state",
    aliases: Mapping[str, str] | None = None,
) -> str:
    """A State named on the command line (or by an alias), as ``listed`` names it (any case, width and spacing);
    BAD_INPUT when it is not a well-formed name or not on the list."""
    try:
        return check_state(_checked(_NAME, text, option), listed, where, aliases)
    except Rejected as e:
        raise CliError(f"{option}: {e}", BAD_INPUT) from None


async def _describe(
    client: Client, wid: str, missing: CliError | None = None
) -> WorkflowExecutionDescription:
    """The workflow's description; ``missing`` (or the RPC error in one line) when there is none."""
    try:
        return await client.get_workflow_handle(wid).describe(rpc_timeout=ANSWER_TIMEOUT)
    except RPCError as e:
        if missing is not None and e.status == RPCStatusCode.NOT_FOUND:
            raise missing from None
        raise _rpc_error(wid, e) from None


async def _latest_runs(client: Client, query: str, what: str) -> dict[str, WorkflowExecution]:
    """The workflows a visibility query finds, the latest run of each id (a workflow that continued as new lists
    one run per continuation)."""
    latest: dict[str, WorkflowExecution] = {}
    try:
        async for wf in client.list_workflows(query, rpc_timeout=ANSWER_TIMEOUT):
            if wf.id not in latest or wf.start_time > latest[wf.id].start_time:
                latest[wf.id] = wf
    except RPCError as e:
        raise _rpc_error(f"the list of {what} ({query})", e) from None
    return latest


async def _start_once(
    client: Client,
    workflow: Any,
    arg: Any,
    wid: str,
    summary: str,
    attributes: Sequence[SearchAttributePair[Any]],
) -> bool:
    """Starts a workflow the `msp` command owns; False when one with that id runs or has ended (an ended one keeps
    its id and its outcome stands: only a failed one is started again). The attributes the workflow upserts itself
    are set at start too, so it is listed at once."""
    try:
        await client.start_workflow(
            workflow,
            arg,
            id=wid,
            task_queue=TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            static_summary=summary,
            search_attributes=TypedSearchAttributes(list(attributes)),
        )
    except WorkflowAlreadyStartedError:
        return False
    except RPCError as e:
        raise _rpc_error(wid, e) from None
    return True


# Where decisions go.


def _convention(code: str) -> Convention:
    return Convention(code=code)


def _meeting_ref(label: str) -> MeetingRef:
    m = re.fullmatch(r"\s*(\d{1,3})\s*(MSP|RC)\s*", label, flags=re.IGNORECASE)
    if not m:
        raise CliError(
            f"--meeting: expected a meeting label like 14MSP or 3RC, not {quote(label)}", BAD_INPUT
        )
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
    return await _send_update(handle, update, decision, decision.decision_id, not_running)


async def _send_update(
    handle: WorkflowHandle[W, Any],
    update: UpdateMethodMultiParam[[W, A], DecisionOutcome],
    arg: A,
    update_id: str,
    not_running: Callable[[RPCError], CliError],
) -> int:
    """Sends one update with its id as the update id (sent twice, it applies once); prints the answer.

    A refusal of the moment rather than of the decision (the Presidency is being handed over) is not the answer:
    the same update, with the same id, is sent again after each of SEND_AGAIN_DELAYS, and the last answer counts.
    """
    waits = list(SEND_AGAIN_DELAYS)
    tries = 1
    while True:
        try:
            outcome = await _answer(handle.id, handle.execute_update(update, arg, id=update_id))
            break
        except WorkflowUpdateFailedError as e:
            cause = e.cause
            if not (isinstance(cause, ApplicationError) and cause.type == "DecisionRejected"):
                message = cause.message if isinstance(cause, ApplicationError) else str(cause)
                raise CliError(
                    f"failed: {handle.id} could not apply it: {_one_line(message)}", FAILED
                ) from None
            if SEND_AGAIN not in cause.details:
                raise CliError(f"rejected: {_one_line(cause.message)}", REJECTED) from None
            if not waits:
                raise CliError(
                    f"not decided: {_one_line(cause.message)} It was still so after {tries} tries over "
                    f"{sum(SEND_AGAIN_DELAYS):g} s; send it again later with --id {update_id} (it applies once).",
                    FAILED,
                ) from None
            wait = waits.pop(0)
            typer.echo(f"{_one_line(cause.message)} Sending it again in {wait:g} s (same id).", err=True)
            await asyncio.sleep(wait)
            tries += 1
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                raise not_running(e) from None
            raise _rpc_error(handle.id, e) from None
    note = " (already applied)" if outcome.duplicate else ""
    _echo(f"accepted: {outcome.summary}{note}")
    return OK


def _decision(model: type[D], fields: Mapping[str, Any]) -> D:
    """The decision from the command's options (absent options take the model's defaults); prints its id."""
    decision = model.model_validate({k: v for k, v in fields.items() if v is not None})
    _echo(f"decision {decision.decision_id}")
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
ConfigOpt = Annotated[
    Path, typer.Option("--config", envvar="CCM_CONFIG", help="The cycle's configuration file (TOML).")
]
HostOpt = Annotated[
    str | None,
    typer.Option("--host", help="Who covers the cost above a meeting in the default place."),
]


def _table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...] | None = None) -> list[str]:
    all_rows = ([header] if header else []) + list(rows)
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(all_rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in all_rows]


def _today() -> datetime:
    return datetime.now(UTC)


def _attention(
    undeliverable: Sequence[Undeliverable] | None, attrs: TypedSearchAttributes | None
) -> dict[str, Any]:
    """A list row's ``attention`` (CcmAttention's values) and ``undeliverable`` (the refused notifications), from
    the state of a running workflow (``undeliverable``), else from the search attribute alone (records: None)."""
    flags = set(attrs.get(sa.ATTENTION) or []) if attrs is not None else set()
    records = None
    if undeliverable is not None:
        flags.discard(sa.UNDELIVERABLE)
        if undeliverable:
            flags.add(sa.UNDELIVERABLE)
        records = [u.model_dump(mode="json") for u in undeliverable]
    return {"attention": sorted(flags), "undeliverable": records}


def _attention_cell(row: Mapping[str, Any]) -> str:
    """The ATTENTION column: "2 undeliverable" when the records were read, else the flags as listed."""
    flags = [
        f"{len(row['undeliverable'])} {f}" if f == sa.UNDELIVERABLE and row["undeliverable"] else f
        for f in row["attention"]
    ]
    return ", ".join(flags) or "-"


def _undeliverable_lines(records: Sequence[Undeliverable]) -> list[str]:
    """A `show` command's section on the notifications the webhook refused (none: nothing)."""
    if not records:
        return []
    lines = [
        "",
        f"Undeliverable notifications ({len(records)}; the webhook refused them, they are not resent)",
    ]
    rows = [(local_clock(u.at, Defaults()), u.kind, u.webhook, _one_line(u.reason)) for u in records]
    return lines + _table(rows, header=("AT (GENEVA)", "KIND", "WEBHOOK", "ANSWER"))


def _validated(model: type[M], fields: Mapping[str, Any], id_field: str, what: str) -> M:
    """The message from the command's options (absent ones take the model's defaults); prints its id."""
    value = model.model_validate({k: v for k, v in fields.items() if v is not None})
    _echo(f"{what} {getattr(value, id_field)}")
    return value


JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]
