"""`msp silence`: general silence procedures, a proposal adopted at its deadline unless a State Party breaks silence.

A procedure is named by its id (`--procedure`, e.g. 2021-budget); its workflow is `<code>-silence-<id>`. Extension
requests put their decisions to silence through `msp extensions decide --by-silence-until`; those procedures are
listed here too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from domain import search_attributes as sa
from domain.calendar import local_clock, local_text, parse_local_instant
from domain.decisions import DecisionOutcome
from domain.models import Defaults
from domain.silence import (
    BreakSilence,
    ProcedureId,
    SilenceInput,
    SilenceOutcome,
    SilenceState,
    SilenceStatus,
    WithdrawSilence,
    silence_id,
)
from starter.cli_base import (
    _OPTIONS,
    ANSWER_TIMEOUT,
    BAD_INPUT,
    DEFAULT_CONFIG,
    FAILED,
    NOT_RUNNING,
    OK,
    REJECTED,
    CliError,
    ConfigOpt,
    ConventionOpt,
    IdOpt,
    JsonOpt,
    M,
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
    _new_id,
    _one_line,
    _presidency_state,
    _rpc_error,
    _run,
    _send_update,
    _start_once,
    _table,
    _today,
    _undeliverable_lines,
    _validated,
)
from starter.connect import TASK_QUEUE, connect
from workflows.silence import SilenceProcedureWorkflow

silence_app = typer.Typer(
    help="Silence procedures: circulate a proposal with a deadline, record a State Party breaking silence, "
    "see the outcome.",
    no_args_is_help=True,
)

_OPTIONS.update(
    {
        "procedure_id": "--procedure",
        "proposal": "--proposal",
        "initiator": "--initiator",
        "deadline": "--deadline",
        "states_parties": "states_parties.names",
    }
)

ProcedureArg = Annotated[str, typer.Argument(help="The procedure's id, e.g. 2021-budget.")]
_PROCEDURE: TypeAdapter[str] = TypeAdapter(ProcedureId)


def _no_procedure(code: str, procedure: str) -> CliError:
    return CliError(
        f"no silence procedure {procedure} for {code} ({silence_id(code, procedure)}); "
        "`msp silence status` lists them",
        NOT_RUNNING,
    )


def _outcome_words(o: SilenceOutcome) -> str:
    if o.status is SilenceStatus.ADOPTED:
        return f"adopted at {local_text(o.at)}: no State Party broke silence"
    if o.status is SilenceStatus.NOT_ADOPTED:
        return f"not adopted: {o.broken_by} broke silence on {local_text(o.at)} ({_one_line(o.reason or '')})"
    return f"withdrawn on {local_text(o.at)} ({_one_line(o.reason or '')})"


async def _outcome(handle: WorkflowHandle[Any, Any]) -> SilenceOutcome | None:
    """The outcome of a procedure that has completed; None if it did not complete (failed, terminated...)."""
    try:
        result = await _answer(handle.id, handle.result(follow_runs=False, rpc_timeout=ANSWER_TIMEOUT))
    except WorkflowFailureError:
        return None
    except RPCError as e:
        raise _rpc_error(handle.id, e) from None
    return result if isinstance(result, SilenceOutcome) else None


async def _ended(
    procedure: str, handle: WorkflowHandle[Any, Any], status: WorkflowExecutionStatus | None
) -> CliError:
    """Why a procedure that is no longer running cannot be changed: its outcome, read from the workflow's result."""
    outcome = await _outcome(handle) if status == WorkflowExecutionStatus.COMPLETED else None
    if outcome is not None:
        how = _outcome_words(outcome)
    else:
        how = status.name.lower().replace("_", " ") if status is not None else "ended"
    return CliError(f"the silence procedure {procedure} has ended: {how}", NOT_RUNNING)


# msp silence start


@silence_app.command("start")
def silence_start(
    procedure: Annotated[
        str, typer.Option("--procedure", help="The procedure's id: lower-case letters, digits and dashes.")
    ],
    proposal: Annotated[str, typer.Option("--proposal", help="The proposal put to the States Parties.")],
    ref: Annotated[str, typer.Option("--ref", help="The letter or document that circulates the proposal.")],
    deadline: Annotated[
        str,
        typer.Option(
            "--deadline",
            help="Adopted then unless silence is broken: 'YYYY-MM-DD' (23:59 that day) or 'YYYY-MM-DD HH:MM', "
            "Geneva time.",
        ),
    ],
    initiator: Annotated[
        str | None,
        typer.Option(
            "--initiator",
            help="Who circulates it. Default: the President (State) of the running presidency, else the Presidency.",
        ),
    ] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """Circulate a proposal; it is adopted at the deadline unless a State Party of the configuration breaks silence."""

    async def go() -> int:
        code = _convention(convention).code
        cfg = _load_config(config)
        try:
            at = parse_local_instant(deadline, cfg.defaults)
        except ValueError as e:
            raise CliError(f"--deadline: {e}", BAD_INPUT) from None
        if not cfg.states_parties.names:
            raise CliError(
                f"{config}: states_parties.names is empty: a silence procedure needs the States Parties who may "
                "break silence",
                BAD_INPUT,
            )
        # Checked (every option) before anything is asked of Temporal; the initiator may be filled in below.
        inp = SilenceInput.model_validate(
            {
                "convention": code,
                "procedure_id": procedure.strip(),
                "proposal": proposal,
                "reference": ref,
                "initiator": initiator if initiator is not None else "the Presidency",
                "deadline": at,
                "states_parties": list(cfg.states_parties.names),
                "aliases": cfg.states_parties.aliases,
                "webhook": cfg.notifications.webhook,
            }
        )
        client = await connect()
        if initiator is None:
            inp = inp.model_copy(update={"initiator": await _default_initiator(client, code)})
        wid = silence_id(code, inp.procedure_id)
        started = await _start_once(
            client,
            SilenceProcedureWorkflow.run,
            inp,
            wid,
            f"Silence procedure {inp.procedure_id}: adopted at {local_text(inp.deadline)} unless silence is broken",
            [
                SearchAttributePair(sa.KIND, "silence"),
                SearchAttributePair(sa.CONVENTION, code),
                SearchAttributePair(sa.PHASE, SilenceStatus.OPEN.value),
                SearchAttributePair(sa.DUE_DATE, inp.deadline),
            ],
        )
        if not started:
            raise await _already(client, inp.procedure_id, wid)
        await _circulated(client, inp.procedure_id, wid)
        _echo(f"started {wid}: circulated by {inp.initiator} ({inp.reference})")
        _echo(
            f"adopted at {local_text(inp.deadline)} unless one of the {len(inp.states_parties)} States Parties "
            "breaks silence before then"
        )
        return OK

    _run(go)


async def _circulated(client: Client, procedure: str, wid: str) -> None:
    """Waits (bounded) for the workflow's own check of the deadline, made on the server's clock; a CliError when
    it refused the procedure.

    Whether the deadline is still to come depends on "now", so the workflow decides it (against its start time,
    the server's clock), never this machine's clock: the two may differ. The workflow is started, then its first
    workflow task is awaited: once it has completed, the workflow either runs (circulated) or has failed with the
    reason. Chosen over update-with-start, which would also answer at once: this works on every server (the
    time-skipping test server has no update-with-start), and the workflow's commands stay as they were, so the
    recorded histories replay.
    """
    handle = client.get_workflow_handle(wid, result_type=SilenceOutcome)
    closing = {
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    }

    async def first_task() -> None:
        # Polled, not long-polled: the time-skipping test server answers a long poll only when it times out.
        while True:
            async for event in handle.fetch_history_events(rpc_timeout=ANSWER_TIMEOUT):
                if event.event_type in closing:
                    return
            await asyncio.sleep(0.1)

    try:
        await _answer(wid, first_task())
    except CliError:
        raise CliError(
            f"started {wid}, but its first workflow task did not complete within {ANSWER_TIMEOUT.total_seconds():g} "
            f"s, so whether its deadline stands is not known yet: `msp silence status {procedure}` will say (is a "
            f"worker running on task queue {TASK_QUEUE}?)",
            FAILED,
        ) from None
    except RPCError as e:
        raise _rpc_error(wid, e) from None
    desc = await _describe(client, wid)
    if desc.status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED):
        return
    try:
        await handle.result(follow_runs=False, rpc_timeout=ANSWER_TIMEOUT)
    except WorkflowFailureError as e:
        cause = e.cause
        if isinstance(cause, ApplicationError) and cause.type == "DecisionRejected":
            raise CliError(f"rejected: {_one_line(cause.message)}", REJECTED) from None
        raise CliError(f"failed: {wid} failed at its start: {_one_line(str(cause))}", FAILED) from None
    except RPCError as e:
        raise _rpc_error(wid, e) from None
    raise await _ended(procedure, handle, desc.status)


async def _default_initiator(client: Client, code: str) -> str:
    """'the President (Austria)' when the running presidency answers, else 'the Presidency'."""
    try:
        state = await _presidency_state(client, _convention(code))
    except CliError:
        return "the Presidency"
    return f"the President ({state.president.state})"


async def _already(client: Client, procedure: str, wid: str) -> CliError:
    handle = client.get_workflow_handle(wid, result_type=SilenceOutcome)
    desc = await _describe(client, wid)
    if desc.status == WorkflowExecutionStatus.RUNNING:
        return CliError(
            f"rejected: the silence procedure {procedure} is already open ({wid}); "
            f"`msp silence status {procedure}` shows it, or choose another --procedure",
            REJECTED,
        )
    ended = await _ended(procedure, handle, desc.status)
    return CliError(
        f"rejected: {ended.message}; it is not circulated again (choose another --procedure)", REJECTED
    )


# msp silence break


@silence_app.command("break")
def silence_break(
    procedure: ProcedureArg,
    state: Annotated[str, typer.Option("--state", help="The State Party breaking silence, as listed.")],
    reason: Annotated[str, typer.Option("--reason", help="The reason the State gives.")],
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record a State Party breaking silence before the deadline: the proposal is then not adopted."""

    fields = {"decision_id": decision_id or _new_id(), "state": state, "reason": reason}
    _procedure_update(
        convention,
        procedure,
        SilenceProcedureWorkflow.break_silence,
        lambda: _validated(BreakSilence, fields, "decision_id", "decision"),
    )


@silence_app.command("withdraw")
def silence_withdraw(
    procedure: ProcedureArg,
    ref: RefOpt,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """The initiator withdraws the proposal before the deadline: it is not adopted."""
    fields = {"decision_id": decision_id or _new_id(), "reference": ref}
    _procedure_update(
        convention,
        procedure,
        SilenceProcedureWorkflow.withdraw,
        lambda: _validated(WithdrawSilence, fields, "decision_id", "decision"),
    )


def _procedure_update(
    convention: str,
    procedure: str,
    update: UpdateMethodMultiParam[[SilenceProcedureWorkflow, M], DecisionOutcome],
    message: Callable[[], M],
) -> None:
    async def go() -> int:
        code = _convention(convention).code
        name = _checked(_PROCEDURE, procedure.strip(), "PROCEDURE")
        decision = message()
        decision_id = str(getattr(decision, "decision_id"))  # noqa: B009
        client = await connect()
        wid = silence_id(code, name)
        handle = client.get_workflow_handle_for(SilenceProcedureWorkflow.run, wid)
        desc = await _describe(client, wid, _no_procedure(code, name))
        # The same decision id again: the server would answer with the first outcome (or, once the procedure
        # has ended, not at all), not saying it was a repeat.
        if desc.status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED):
            s = await _procedure_state(client, code, name)
            done = next((r for r in s.log if r.decision_id == decision_id), None)
            if done is not None:
                _echo(f"accepted: {done.summary} (already applied)")
                return OK
        if desc.status != WorkflowExecutionStatus.RUNNING:
            raise await _ended(name, handle, desc.status)

        def gone(e: RPCError) -> CliError:
            # It ended between the look-up and the update (its deadline passed, or another State broke silence).
            return CliError(
                f"the silence procedure {name} has ended ({_one_line(e.message)}); "
                f"`msp silence status {name}` shows its outcome",
                NOT_RUNNING,
            )

        return await _send_update(handle, update, decision, decision_id, gone)

    _run(go)


# msp silence status


async def _procedure_state(client: Client, code: str, procedure: str) -> SilenceState:
    wid = silence_id(code, procedure)
    handle = client.get_workflow_handle_for(SilenceProcedureWorkflow.run, wid)
    try:
        return await _answer(wid, handle.query(SilenceProcedureWorkflow.state, rpc_timeout=ANSWER_TIMEOUT))
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise _no_procedure(code, procedure) from None
        raise _rpc_error(wid, e) from None


def _status_words(s: SilenceState) -> str:
    return {
        SilenceStatus.OPEN: "open: adopted at the deadline unless a State Party breaks silence",
        SilenceStatus.ADOPTED: "adopted: no State Party broke silence",
        SilenceStatus.NOT_ADOPTED: "not adopted: silence was broken",
        SilenceStatus.WITHDRAWN: "withdrawn by the initiator",
    }[s.status]


def _procedure_text(wid: str, s: SilenceState) -> str:
    now = _today()
    deadline = local_text(s.deadline)
    if s.status is SilenceStatus.OPEN and s.deadline > now:
        left = s.deadline - now
        hours = int(left.total_seconds() // 3600)
        deadline += f" (in {hours // 24} days {hours % 24} hours)" if hours >= 24 else f" (in {hours} hours)"
    rows = [
        ("Procedure", f"{s.procedure_id} ({wid})"),
        ("Proposal", _one_line(s.proposal)),
        ("Reference", s.reference),
        ("Initiator", s.initiator),
        ("Deadline", deadline),
        ("Status", _status_words(s)),
        ("States Parties", str(len(s.states_parties))),
    ]
    if s.broken_by:
        at = f" on {local_text(s.ended_at)}" if s.ended_at else ""
        rows.append(("Broken by", f"{s.broken_by}{at}"))
        rows.append(("Reason", _one_line(s.reason or "")))
    elif s.status is SilenceStatus.WITHDRAWN and s.ended_at:
        rows.append(("Withdrawn", f"on {local_text(s.ended_at)} ({s.reason})"))
    if s.concerns:
        told = (
            "told"
            if s.delivered
            else (f"not told ({s.delivery_error})" if s.delivery_error else "not yet told")
        )
        rows.append(("Concerns", f"{s.concerns} ({told} of the outcome)"))
    lines = _table(rows) + _undeliverable_lines(s.undeliverable)
    lines += ["", f"Decisions ({len(s.log)})"]
    if s.log:
        lines += _table(
            [(local_clock(r.at, Defaults()), r.kind, r.reference, _one_line(r.summary)) for r in s.log],
            header=("AT (GENEVA)", "KIND", "REFERENCE", "SUMMARY"),
        )
    else:
        lines.append("none")
    return "\n".join(lines)


def _procedure_json(wid: str, s: SilenceState) -> dict[str, Any]:
    return {"id": wid, "deadline_local": local_text(s.deadline), **s.model_dump(mode="json")}


async def _procedure_list(client: Client, code: str) -> list[dict[str, Any]]:
    query = f"CcmKind = 'silence' AND CcmConvention = '{code}'"
    prefix = silence_id(code, "")
    latest = await _latest_runs(client, query, "silence procedures")
    rows = []
    for wid, wf in latest.items():
        procedure = wid.removeprefix(prefix)
        execution = wf.status.name.lower() if wf.status is not None else "unknown"
        attrs = wf.typed_search_attributes
        deadline: datetime | None = attrs.get(sa.DUE_DATE)
        status = attrs.get(sa.PHASE) or "unknown"
        broken_by = reason = concerns = None
        attention = _attention(None, attrs)
        if wf.status == WorkflowExecutionStatus.RUNNING:
            s = await _procedure_state(client, code, procedure)
            attention = _attention(s.undeliverable, attrs)
            deadline, status, broken_by, reason, concerns = (
                s.deadline,
                s.status.value,
                s.broken_by,
                s.reason,
                s.concerns,
            )
        elif wf.status == WorkflowExecutionStatus.COMPLETED:
            outcome = await _outcome(
                client.get_workflow_handle(wid, run_id=wf.run_id, result_type=SilenceOutcome)
            )
            if outcome is not None:
                status, broken_by = outcome.status.value, outcome.broken_by
                reason = outcome.reason if outcome.broken_by else None
        else:
            # Failed, terminated, timed out: it decided nothing, whatever its last phase was.
            status = execution
        rows.append(
            {
                "procedure": procedure,
                "id": wid,
                "deadline": deadline.isoformat() if deadline else None,
                "deadline_local": local_text(deadline) if deadline else None,
                "status": status,
                "broken_by": broken_by,
                "reason": reason,
                "concerns": concerns,
                **attention,
                "execution_status": execution,
            }
        )
    rows.sort(key=lambda r: (r["deadline"] or "9999", r["procedure"]))
    return rows


def _procedures_text(code: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return f"no silence procedures for {code}; `msp silence start` circulates one"
    lines = [f"Silence procedures of {code} ({len(rows)})"]
    lines += _table(
        [
            (
                r["procedure"],
                local_clock(datetime.fromisoformat(r["deadline"]), Defaults()) if r["deadline"] else "-",
                r["status"].replace("_", " "),
                r["broken_by"] or "-",
                _attention_cell(r),
            )
            for r in rows
        ],
        header=("PROCEDURE", "DEADLINE (GENEVA)", "STATUS", "BROKEN BY", "ATTENTION"),
    )
    return "\n".join(lines)


@silence_app.command("status")
def silence_status(
    procedure: Annotated[
        str | None, typer.Argument(help="The procedure's id. Default: a table of every procedure.")
    ] = None,
    as_json: JsonOpt = False,
    convention: ConventionOpt = "ccm",
) -> None:
    """One procedure in detail (proposal, initiator, deadline, status, who broke silence and why), or all of them."""

    async def go() -> int:
        code = _convention(convention).code
        client = await connect()
        if procedure is None:
            rows = await _procedure_list(client, code)
            if as_json:
                _echo(json.dumps({"convention": code, "procedures": rows}, indent=2, ensure_ascii=False))
            else:
                _echo(_procedures_text(code, rows))
            return OK
        name = _checked(_PROCEDURE, procedure.strip(), "PROCEDURE")
        s = await _procedure_state(client, code, name)
        wid = silence_id(code, name)
        if as_json:
            _echo(json.dumps(_procedure_json(wid, s), indent=2, ensure_ascii=False))
        else:
            _echo(_procedure_text(wid, s))
        return OK

    _run(go)
