"""What `msp` asks of Temporal, each in one place: describe, query, list, start, and the one path of a decision.

Every call is bounded by ANSWER_TIMEOUT and every refusal becomes one line with an exit code (`CliError`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

import typer
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
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
from domain.bounds import md
from domain.decisions import DECISION_REJECTED, SEND_AGAIN, DecisionOutcome
from domain.ids import meeting_id, presidency_id
from domain.models import Convention
from domain.presidency import PresidencyState
from runtime.connect import TASK_QUEUE, connect
from starter.cli.common import (
    ANSWER_TIMEOUT,
    FAILED,
    NOT_RUNNING,
    OK,
    REJECTED,
    CliError,
    convention_of,
    echo,
    meeting_ref,
    one_line,
    run,
)
from workflows.presidency import PresidencyWorkflow

# A decision refused only for the moment (the Presidency being handed over, which takes seconds once its meeting's
# workflow has finished) is sent again after each of these pauses, in seconds: 7 tries over 31.5 s.
SEND_AGAIN_DELAYS: tuple[float, ...] = (0.5, 1, 2, 4, 8, 16)

W = TypeVar("W")


class Decided(Protocol):
    """What `msp` sends as a decision: a model with its id (a State's letter breaking silence has no reference)."""

    @property
    def decision_id(self) -> str: ...


M = TypeVar("M", bound=Decided)
R = TypeVar("R")
P = ParamSpec("P")


def no_answer(wid: str) -> CliError:
    return CliError(
        f"no answer from {wid} within {ANSWER_TIMEOUT.total_seconds():g} s: is a worker running on task queue "
        f"{TASK_QUEUE}? A decision may still be applied once one is; send it again with the same --id to see.",
        FAILED,
    )


def rpc_error(wid: str, e: RPCError) -> CliError:
    if e.status == RPCStatusCode.DEADLINE_EXCEEDED:
        return no_answer(wid)
    if e.status == RPCStatusCode.FAILED_PRECONDITION and "poller" in e.message:
        return CliError(
            f"no worker answers for {wid}: {one_line(e.message)}; start one on task queue {TASK_QUEUE}",
            FAILED,
        )
    return CliError(f"Temporal refused the call on {wid}: {e.status.name}: {one_line(e.message)}", FAILED)


async def answer(wid: str, call: Awaitable[R]) -> R:
    """Waits for a worker's answer, with a limit, translating what Temporal says into one line."""
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT.total_seconds()):
            return await call
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise no_answer(wid) from None
    except WorkflowQueryFailedError as e:
        raise CliError(f"{wid} could not answer: {one_line(e.message)}", FAILED) from None


async def describe(client: Client, wid: str, missing: CliError | None = None) -> WorkflowExecutionDescription:
    """The workflow's description; ``missing`` (or the RPC error in one line) when there is none."""
    try:
        return await client.get_workflow_handle(wid).describe(rpc_timeout=ANSWER_TIMEOUT)
    except RPCError as e:
        if missing is not None and e.status == RPCStatusCode.NOT_FOUND:
            raise missing from None
        raise rpc_error(wid, e) from None


async def running(
    client: Client, wid: str, missing: CliError, ended: Callable[[WorkflowExecutionDescription], CliError]
) -> None:
    """Refuses, before anything is sent, a workflow that does not exist (``missing``) or has ended (``ended``)."""
    desc = await describe(client, wid, missing)
    if desc.status != WorkflowExecutionStatus.RUNNING:
        raise ended(desc)


async def already_started(
    client: Client, wid: str, what: str, ended: Callable[[WorkflowExecutionDescription], str]
) -> str:
    """The line for a workflow `msp cycle start` did not start because one with its id runs or has ended."""
    desc = await describe(client, wid)
    if desc.status == WorkflowExecutionStatus.RUNNING:
        return f"{what}: already running"
    return f"{what}: already {ended(desc)} ({wid}), not started again"


async def query_state(
    client: Client, wid: str, query: Callable[[Any], R], missing: CliError | None = None
) -> R:
    """The answer of the workflow's query; ``missing`` (or the RPC error in one line) when there is none."""
    try:
        return await answer(wid, client.get_workflow_handle(wid).query(query, rpc_timeout=ANSWER_TIMEOUT))
    except RPCError as e:
        if missing is not None and e.status == RPCStatusCode.NOT_FOUND:
            raise missing from None
        raise rpc_error(wid, e) from None


class _Absent(CliError):
    pass


async def query_if_any(client: Client, wid: str, query: Callable[[Any], R]) -> R | None:
    """The answer of the workflow's query; None when there is no such workflow."""
    try:
        return await query_state(client, wid, query, _Absent("", NOT_RUNNING))
    except _Absent:
        return None


async def state_if_running(
    wf: WorkflowExecution, query: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs
) -> R | None:
    """A listed workflow's state from ``query(*args)`` while it runs; None for one that has ended (a list shows
    it from its search attributes)."""
    return await query(*args, **kwargs) if wf.status == WorkflowExecutionStatus.RUNNING else None


async def listed(
    client: Client,
    kind: sa.Kind,
    code: str,
    what: str,
    *,
    meeting: str | None = None,
    state: str | None = None,
    article: str | None = None,
    latest: bool = True,
) -> list[WorkflowExecution]:
    """The workflows of a kind that visibility finds (of a meeting, a State, an article when given); with
    ``latest``, only the latest run of each id (a workflow that continued as new lists one run per continuation).
    A value no query can match is refused (``Unsearchable``: BAD_INPUT)."""
    query = sa.query(kind, code, meeting=meeting, state=state, article=article)
    found: dict[str, WorkflowExecution] = {}
    runs: list[WorkflowExecution] = []
    try:
        async for wf in client.list_workflows(query, rpc_timeout=ANSWER_TIMEOUT):
            runs.append(wf)
            if wf.id not in found or wf.start_time > found[wf.id].start_time:
                found[wf.id] = wf
    except RPCError as e:
        raise rpc_error(f"the list of {what} ({query})", e) from None
    return list(found.values()) if latest else runs


async def start_once(
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
            static_summary=md(summary),  # rendered as markdown by the Web UI
            search_attributes=TypedSearchAttributes(list(attributes)),
        )
    except WorkflowAlreadyStartedError:
        return False
    except RPCError as e:
        raise rpc_error(wid, e) from None
    return True


# The Presidency and its current meeting, which most commands start from.


def no_presidency(conv: Convention) -> CliError:
    return CliError(
        f"no presidency is running for {conv.code} ({presidency_id(conv)}); start it with `msp cycle start`",
        NOT_RUNNING,
    )


async def presidency_state(client: Client, conv: Convention) -> PresidencyState:
    return await query_state(client, presidency_id(conv), PresidencyWorkflow.state, no_presidency(conv))


async def meeting_started(client: Client, conv: Convention, limit: timedelta) -> PresidencyState:
    """The Presidency's state once it has started its meeting's workflow, or as it is when ``limit`` is up.

    Just after a start or a handover the Presidency may not have started the workflow of its meeting yet.
    """
    state = await presidency_state(client, conv)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit.total_seconds()
    while not state.meeting_started and loop.time() < deadline:
        await asyncio.sleep(0.25)
        state = await presidency_state(client, conv)
    return state


async def current_meeting(client: Client, conv: Convention, limit: timedelta) -> PresidencyState:
    """As ``meeting_started``, refusing (FAILED) a Presidency that has still not started its meeting."""
    state = await meeting_started(client, conv, limit)
    if not state.meeting_started:
        raise CliError(
            f"the presidency of {conv.code} has not started the {state.meeting.ref.label} yet; try again in a moment",
            FAILED,
        )
    return state


async def meeting_target(client: Client, conv: Convention, label: str | None) -> tuple[str, str]:
    """The meeting workflow's id and label: the one given, or the current meeting of the Presidency."""
    if label is not None:
        ref = meeting_ref(label)
        return meeting_id(conv, ref), ref.label
    state = await current_meeting(client, conv, ANSWER_TIMEOUT)
    return meeting_id(state.convention, state.meeting.ref), state.meeting.ref.label


# The one path of a decision.


@dataclass(frozen=True)
class Target(Generic[W]):
    """Where a decision goes: the workflow's handle, and what to say when the update finds it not running."""

    handle: WorkflowHandle[W, Any]
    gone: Callable[[RPCError], CliError]


@dataclass(frozen=True)
class At:
    """Where a decision goes, by the workflow's id, and what to say when the update finds it not running. (A
    ``Locate`` finds it once connected, or answers from the log of a workflow that has ended.)"""

    wid: str
    gone: Callable[[RPCError], CliError]


Locate = Callable[[Client], Awaitable["Target[Any] | At | DecisionOutcome"]]


def send_decision(
    update: UpdateMethodMultiParam[[W, M], DecisionOutcome],
    prepare: Callable[[], tuple[M, Callable[[Client], Awaitable[Target[W] | At | DecisionOutcome]]]],
) -> None:
    """Runs a decision command: ``prepare`` checks every option (before anything is asked of Temporal), prints
    the decision's id and says how to find its workflow; the decision is sent there and the answer printed.
    ``locate`` answers itself only for a workflow that has ended, from the log it ended with."""

    async def go() -> int:
        message, locate = prepare()
        client = await connect()
        target = await locate(client)
        if isinstance(target, DecisionOutcome):
            return accepted(target)
        if isinstance(target, At):
            return await send_update(client.get_workflow_handle(target.wid), update, message, target.gone)
        return await send_update(target.handle, update, message, target.gone)

    run(go)


def send_to(
    code: str,
    update: UpdateMethodMultiParam[[Any, M], DecisionOutcome],
    where: Callable[[Convention], Locate],
    message: Callable[[], M],
) -> None:
    """The decision command of a workflow found from the convention ``code``: checks the convention, the options
    that name the workflow (``where``, which says how to find it) and the decision (``message``, which prints its
    id), in that order and before anything is asked of Temporal; then sends it and prints the answer."""

    def prepare() -> tuple[M, Locate]:
        locate = where(convention_of(code))
        return message(), locate

    send_decision(update, prepare)


def found(
    wid: str,
    gone: Callable[[RPCError], CliError],
    missing: CliError | None = None,
    ended: Callable[[WorkflowExecutionDescription], CliError] | None = None,
) -> Locate:
    """A workflow known by its id (a document by its symbol); with ``missing`` and ``ended``, refused before
    anything is sent when it does not exist or has ended."""

    async def locate(client: Client) -> At:
        if missing is not None and ended is not None:
            await running(client, wid, missing, ended)
        return At(wid, gone)

    return locate


def accepted(outcome: DecisionOutcome) -> int:
    """Prints a decision's answer; a repeat says so (the workflow's log answered it with the first outcome)."""
    note = " (already applied)" if outcome.duplicate else ""
    echo(f"accepted: {outcome.summary}{note}")
    return OK


async def send_update(
    handle: WorkflowHandle[W, Any],
    update: UpdateMethodMultiParam[[W, M], DecisionOutcome],
    arg: M,
    not_running: Callable[[RPCError], CliError],
) -> int:
    """Sends one decision as an update and prints the answer. Sent twice, it applies once: the workflow's log knows
    its decision id and answers the second as a repeat, with the first outcome. Each command sends it under an
    update id of its own, so that the server, which would answer a known update id with the first outcome as it
    was, does not hide that it is a repeat.

    A refusal of the moment rather than of the decision (the Presidency is being handed over) is not the answer:
    the same update is sent again after each of SEND_AGAIN_DELAYS, and the last answer counts.
    """
    update_id = f"{arg.decision_id}/{uuid.uuid4().hex[:12]}"
    waits = list(SEND_AGAIN_DELAYS)
    tries = 1
    while True:
        try:
            outcome = await answer(handle.id, handle.execute_update(update, arg, id=update_id))
            break
        except WorkflowUpdateFailedError as e:
            cause = e.cause
            if not (isinstance(cause, ApplicationError) and cause.type == DECISION_REJECTED):
                message = cause.message if isinstance(cause, ApplicationError) else str(cause)
                raise CliError(
                    f"failed: {handle.id} could not apply it: {one_line(message)}", FAILED
                ) from None
            if SEND_AGAIN not in cause.details:
                raise CliError(f"rejected: {one_line(cause.message)}", REJECTED) from None
            if not waits:
                raise CliError(
                    f"not decided: {one_line(cause.message)} It was still so after {tries} tries over "
                    f"{sum(SEND_AGAIN_DELAYS):g} s; send it again later with --id {arg.decision_id} (it applies once).",
                    FAILED,
                ) from None
            wait = waits.pop(0)
            typer.echo(f"{one_line(cause.message)} Sending it again in {wait:g} s (same id).", err=True)
            await asyncio.sleep(wait)
            tries += 1
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                raise not_running(e) from None
            raise rpc_error(handle.id, e) from None
    return accepted(outcome)
