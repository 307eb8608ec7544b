"""`msp silence`: general silence procedures, a proposal adopted at its deadline unless a State Party breaks silence.

A procedure is named by its id (`--procedure`, e.g. 2021-budget); its workflow is `<code>-silence-<id>`. Extension
requests put their decisions to silence through `msp extensions decide --by-silence-until`; those procedures are
listed here too. What `msp silence status` prints is in `starter/cli/silence_text.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.common import SearchAttributePair
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.workflow import UpdateMethodMultiParam

from domain import search_attributes as sa
from domain.calendar import local_text, parse_local_instant
from domain.decisions import DECISION_REJECTED, DecisionOutcome
from domain.ids import silence_id
from domain.silence import (
    BreakSilence,
    ProcedureId,
    SilenceInput,
    SilenceOutcome,
    SilenceStatus,
    WithdrawSilence,
)
from runtime.connect import TASK_QUEUE, connect
from starter.cli.calls import answer, describe, presidency_state, rpc_error, start_once
from starter.cli.commands import Shown, Views
from starter.cli.common import (
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
    RefOpt,
    checked,
    convention_of,
    decided,
    echo,
    group,
    kind_attributes,
    load_config,
    name_options,
    one_line,
    run,
    states_parties,
)
from starter.cli.send import At, Decided, send_decision
from starter.cli.silence_text import (
    no_procedure,
    outcome,
    outcome_words,
    procedure_json,
    procedure_list,
    procedure_state,
    procedure_text,
    procedures_text,
)
from workflows.silence import SilenceProcedureWorkflow

app = group(
    "Silence procedures: circulate a proposal with a deadline, record a State Party breaking silence, "
    "see the outcome."
)
views = Views(app)

name_options("proposal initiator deadline", procedure_id="--procedure", states_parties="states_parties.names")

ProcedureArg = Annotated[str, typer.Argument(help="The procedure's id, e.g. 2021-budget.")]
PROCEDURE: TypeAdapter[str] = TypeAdapter(ProcedureId)


async def ended(
    procedure: str, handle: WorkflowHandle[Any, Any], status: WorkflowExecutionStatus | None
) -> CliError:
    """Why a procedure that is no longer running cannot be changed: its outcome, read from the workflow's result.
    A procedure that reached its outcome refuses the decision (exit 1, as a rejection); one terminated or failed
    is not running (exit 4)."""
    result = await outcome(handle) if status == WorkflowExecutionStatus.COMPLETED else None
    if result is not None:
        return CliError(f"the silence procedure {procedure} has ended: {outcome_words(result)}", REJECTED)
    how = status.name.lower().replace("_", " ") if status is not None else "ended"
    return CliError(f"the silence procedure {procedure} has ended: {how}", NOT_RUNNING)


@app.command("start")
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
        code = convention_of(convention).code
        cfg = load_config(config)
        try:
            at = parse_local_instant(deadline, cfg.defaults)
        except ValueError as e:
            raise CliError(f"--deadline: {e}", BAD_INPUT) from None
        names = states_parties(cfg, config, "break silence")
        # Checked (every option) before anything is asked of Temporal; the initiator may be filled in below.
        inp = SilenceInput.model_validate(
            {
                "convention": code,
                "procedure_id": procedure.strip(),
                "proposal": proposal,
                "reference": ref,
                "initiator": initiator if initiator is not None else "the Presidency",
                "deadline": at,
                "states_parties": names,
                "aliases": cfg.states_parties.aliases,
                "roster": cfg.states_parties.roster,
                "webhook": cfg.notifications.webhook,
                "defaults": cfg.defaults,
            }
        )
        client = await connect()
        if initiator is None:
            inp = inp.model_copy(update={"initiator": await default_initiator(client, code)})
        wid = silence_id(code, inp.procedure_id)
        started = await start_once(
            client,
            SilenceProcedureWorkflow.run,
            inp,
            wid,
            f"Silence procedure {inp.procedure_id}: adopted at {local_text(inp.deadline)} unless silence is broken",
            kind_attributes(
                sa.Kind.SILENCE,
                code,
                SearchAttributePair(sa.PHASE, SilenceStatus.OPEN.value),
                SearchAttributePair(sa.DUE_DATE, inp.deadline),
            ),
        )
        if not started:
            raise await already(client, inp.procedure_id, wid)
        await circulated(client, inp.procedure_id, wid)
        echo(f"started {wid}: circulated by {inp.initiator} ({inp.reference})")
        echo(
            f"adopted at {local_text(inp.deadline)} unless one of the {len(inp.states_parties)} States Parties "
            "breaks silence before then"
        )
        return OK

    run(go)


async def circulated(client: Client, procedure: str, wid: str) -> None:
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
        await answer(wid, first_task())
    except CliError:
        raise CliError(
            f"started {wid}, but its first workflow task did not complete within {ANSWER_TIMEOUT.total_seconds():g} "
            f"s, so whether its deadline stands is not known yet: `msp silence status {procedure}` will say (is a "
            f"worker running on task queue {TASK_QUEUE}?)",
            FAILED,
        ) from None
    except RPCError as e:
        raise rpc_error(wid, e) from None
    desc = await describe(client, wid)
    if desc.status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED):
        return
    try:
        await handle.result(follow_runs=False, rpc_timeout=ANSWER_TIMEOUT)
    except WorkflowFailureError as e:
        cause = e.cause
        if isinstance(cause, ApplicationError) and cause.type == DECISION_REJECTED:
            raise CliError(f"rejected: {one_line(cause.message)}", REJECTED) from None
        raise CliError(f"failed: {wid} failed at its start: {one_line(str(cause))}", FAILED) from None
    except RPCError as e:
        raise rpc_error(wid, e) from None
    raise await ended(procedure, handle, desc.status)


async def default_initiator(client: Client, code: str) -> str:
    """'the President (Austria)' when the running presidency answers, else 'the Presidency'."""
    try:
        state = await presidency_state(client, convention_of(code))
    except CliError:
        return "the Presidency"
    return f"the President ({state.president.state})"


async def already(client: Client, procedure: str, wid: str) -> CliError:
    handle = client.get_workflow_handle(wid, result_type=SilenceOutcome)
    desc = await describe(client, wid)
    if desc.status == WorkflowExecutionStatus.RUNNING:
        return CliError(
            f"rejected: the silence procedure {procedure} is already open ({wid}); "
            f"`msp silence status {procedure}` shows it, or choose another --procedure",
            REJECTED,
        )
    why = await ended(procedure, handle, desc.status)
    return CliError(
        f"rejected: {why.message}; it is not circulated again (choose another --procedure)", REJECTED
    )


def procedure_decision(
    code: str,
    procedure: str,
    update: UpdateMethodMultiParam[[SilenceProcedureWorkflow, Any], DecisionOutcome],
    message: Callable[[], Decided],
) -> None:
    def prepare() -> tuple[Decided, Any]:
        conv = convention_of(code)
        name = checked(PROCEDURE, procedure.strip(), "PROCEDURE")
        decision = message()

        async def locate(client: Client) -> At | DecisionOutcome:
            wid = silence_id(conv.code, name)
            desc = await describe(client, wid, no_procedure(conv.code, name))
            if desc.status != WorkflowExecutionStatus.RUNNING:
                # An ended procedure takes no update: the log it ended with answers a decision it applied.
                if desc.status == WorkflowExecutionStatus.COMPLETED:
                    s = await procedure_state(client, conv.code, name)
                    if (done := s.decisions.repeat(decision.decision_id)) is not None:
                        return done
                handle = client.get_workflow_handle_for(SilenceProcedureWorkflow.run, wid)
                raise await ended(name, handle, desc.status)

            def gone(e: RPCError) -> CliError:
                # It ended between the look-up and the update (its deadline passed, or another State broke silence):
                # refused as when it had ended before (exit 1).
                return CliError(
                    f"the silence procedure {name} has ended ({one_line(e.message)}); "
                    f"`msp silence status {name}` shows its outcome",
                    REJECTED,
                )

            return At(wid, gone)

        return decision, locate

    send_decision(update, prepare)


@app.command("break")
def silence_break(
    procedure: ProcedureArg,
    state: Annotated[str, typer.Option("--state", help="The State Party breaking silence, as listed.")],
    reason: Annotated[str, typer.Option("--reason", help="The reason the State gives.")],
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record a State Party breaking silence before the deadline: the proposal is then not adopted."""
    procedure_decision(
        convention,
        procedure,
        SilenceProcedureWorkflow.break_silence,
        lambda: decided(BreakSilence, decision_id, None, state=state, reason=reason),
    )


@app.command("withdraw")
def silence_withdraw(
    procedure: ProcedureArg,
    ref: RefOpt,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """The initiator withdraws the proposal before the deadline: it is not adopted."""
    procedure_decision(
        convention,
        procedure,
        SilenceProcedureWorkflow.withdraw,
        lambda: decided(WithdrawSilence, decision_id, ref),
    )


@views.command("status")
async def silence_status(
    procedure: Annotated[
        str | None, typer.Argument(help="The procedure's id. Default: a table of every procedure.")
    ] = None,
    *,
    convention: str,
) -> Shown:
    """One procedure in detail (proposal, initiator, deadline, status, who broke silence and why), or all of them."""
    code = convention_of(convention).code
    client = await connect()
    if procedure is None:
        rows = await procedure_list(client, code)
        return Shown(lambda: {"convention": code, "procedures": rows}, lambda: procedures_text(code, rows))
    name = checked(PROCEDURE, procedure.strip(), "PROCEDURE")
    s = await procedure_state(client, code, name)
    wid = silence_id(code, name)
    return Shown(lambda: procedure_json(wid, s), lambda: procedure_text(wid, s))
