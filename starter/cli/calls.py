"""What `msp` asks of Temporal, each in one place: describe, query, list, start (the one path of a decision is
`send.py`).

Every call is bounded by ANSWER_TIMEOUT and every refusal becomes one line with an exit code (`CliError`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain import search_attributes as sa
from domain.bounds import md
from domain.ids import meeting_id, presidency_id
from domain.models import Convention
from domain.presidency import PresidencyState
from runtime.connect import TASK_QUEUE
from starter.cli.common import (
    ANSWER_TIMEOUT,
    FAILED,
    NOT_RUNNING,
    CliError,
    meeting_ref,
    one_line,
)
from workflows.presidency import PresidencyWorkflow

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


async def _asked(wid: str, call: Awaitable[R], missing: CliError | None) -> R:
    """The answer of a call about the workflow ``wid``; ``missing`` (or the RPC error in one line) when there is no
    such workflow."""
    try:
        return await call
    except RPCError as e:
        if missing is not None and e.status == RPCStatusCode.NOT_FOUND:
            raise missing from None
        raise rpc_error(wid, e) from None


async def describe(client: Client, wid: str, missing: CliError | None = None) -> WorkflowExecutionDescription:
    """The workflow's description; ``missing`` (or the RPC error in one line) when there is none."""
    return await _asked(wid, client.get_workflow_handle(wid).describe(rpc_timeout=ANSWER_TIMEOUT), missing)


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
    handle = client.get_workflow_handle(wid)
    return await _asked(wid, answer(wid, handle.query(query, rpc_timeout=ANSWER_TIMEOUT)), missing)


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


# Queries in flight at once when a list asks each workflow it found (112 Art. 7 workflows with the full register):
# the answers come in the time of a few rather than one after another, without crowding the worker.
QUERIES_IN_FLIGHT = 16
X = TypeVar("X")


async def each(items: Sequence[X], ask: Callable[[X], Awaitable[R]]) -> list[R]:
    """``ask`` of every item, QUERIES_IN_FLIGHT at a time; the answers in the items' order (the first error raised)."""
    gate = asyncio.Semaphore(QUERIES_IN_FLIGHT)

    async def one(item: X) -> R:
        async with gate:
            return await ask(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


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
