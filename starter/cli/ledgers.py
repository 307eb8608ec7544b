"""The meetings' ledgers as `msp` finds them: the one a command means, whether it runs, and every running one
(`msp funds`, `msp funds arrears` and `pay`, `msp docs submit`)."""

from __future__ import annotations

from datetime import date

from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.service import RPCError, RPCStatusCode

from domain import search_attributes as sa
from domain.calendar import local_date
from domain.funds import LedgerState
from domain.ids import funds_id
from domain.models import Convention
from starter.cli.calls import answer, meeting_started, rpc_error, running
from starter.cli.common import (
    ANSWER_TIMEOUT,
    BAD_INPUT,
    NOT_RUNNING,
    STATUS_WAIT,
    CliError,
    convention_of,
    execution,
    meeting_ref,
    one_line,
    today,
)
from workflows.funds import MeetingFundsWorkflow


async def ledger_target(client: Client, conv: Convention, label: str | None) -> tuple[str, str]:
    """The ledger's workflow id and its meeting's label: the meeting given, or the Presidency's current one."""
    if label is not None:
        ref = meeting_ref(label)
    else:
        # Just after `msp cycle start` the Presidency may not have started its meeting (and ledger) yet.
        ref = (await meeting_started(client, conv, STATUS_WAIT)).meeting.ref
    return funds_id(conv.code, ref.label), ref.label


def no_ledger(wid: str, label: str, e: RPCError | None = None) -> CliError:
    detail = f": {one_line(e.message)}" if e is not None else ""
    return CliError(f"no ledger is running for the {label} ({wid}{detail})", NOT_RUNNING)


async def check_ledger(client: Client, fid: str, label: str, code: str) -> None:
    """Refuses (BAD_INPUT, as the fault is the --meeting given) a meeting without a running ledger, before anything
    is started."""
    missing = CliError(
        f"--meeting: no meeting {label} for {code}: its ledger {fid} does not exist; nothing submitted",
        BAD_INPUT,
    )

    def ended(desc: WorkflowExecutionDescription) -> CliError:
        return CliError(
            f"--meeting: the ledger of the {label} ({fid}) is {execution(desc.status)}, not running; "
            "nothing submitted",
            BAD_INPUT,
        )

    await running(client, fid, missing, ended)


async def running_ledgers(client: Client, code: str, also: str) -> list[LedgerState]:
    """Every running ledger of the convention (and ``also``, the current one, before visibility lists it)."""
    query = sa.query(sa.Kind.FUNDS, code, running=True)
    try:
        ids = [wf.id async for wf in client.list_workflows(query, rpc_timeout=ANSWER_TIMEOUT)]
    except RPCError as e:
        raise rpc_error(f"the list of ledgers ({query})", e) from None
    found = []
    for wid in sorted({*ids, also}):
        handle = client.get_workflow_handle_for(MeetingFundsWorkflow.run, wid)
        try:
            found.append(
                await answer(wid, handle.query(MeetingFundsWorkflow.ledger, rpc_timeout=ANSWER_TIMEOUT))
            )
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise rpc_error(wid, e) from None
    return found


async def ledgers_today(client: Client, code: str) -> tuple[str, list[LedgerState], date]:
    """The Presidency's current meeting, every running ledger of the convention, and today on the clock the
    Presidency runs on (the configured defaults)."""
    pres = await meeting_started(client, convention_of(code), STATUS_WAIT)
    current = pres.meeting.ref.label
    ledgers = await running_ledgers(client, code, funds_id(code, current))
    return current, ledgers, local_date(today(), pres.convention.defaults)
