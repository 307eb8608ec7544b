"""The one path of a decision from `msp` to its workflow: where it goes (``Target``, ``At``, a ``Locate``), sent as
an update under an id of its own, sent again while refused only for the moment, answered in one line.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import typer
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from domain.decisions import DECISION_REJECTED, SEND_AGAIN, DecisionOutcome
from domain.models import Convention
from runtime.connect import connect
from starter.cli.calls import answer, rpc_error, running
from starter.cli.common import FAILED, OK, REJECTED, CliError, convention_of, echo, one_line, run

# A decision refused only for the moment (the Presidency being handed over, which takes seconds once its meeting's
# workflow has finished) is sent again after each of these pauses, in seconds: 7 tries over 31.5 s.
SEND_AGAIN_DELAYS: tuple[float, ...] = (0.5, 1, 2, 4, 8, 16)


class Decided(Protocol):
    """What `msp` sends as a decision: a model with its id (a State's letter breaking silence has no reference)."""

    @property
    def decision_id(self) -> str: ...


W = TypeVar("W")
M = TypeVar("M", bound=Decided)


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
