"""`msp funds pay` without `--meeting`: a payment settles the State's oldest arrears first, across the meetings'
ledgers, the rest going to the current meeting's (domain/arrears.py decides the split); and `msp funds arrears`:
what a State owes, meeting by meeting."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

import typer
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain import search_attributes as sa
from domain.arrears import owed_by, parts, split_payment
from domain.calendar import local_date
from domain.funds import LedgerState, Payment, chf
from domain.ids import funds_id
from domain.models import Defaults, Rejected
from starter.cli_base import (
    _NAME,
    ANSWER_TIMEOUT,
    NOT_RUNNING,
    OK,
    REJECTED,
    STATUS_WAIT,
    CliError,
    ConventionOpt,
    JsonOpt,
    _answer,
    _checked,
    _convention,
    _echo,
    _meeting_started,
    _rpc_error,
    _run,
    _send_update,
    _table,
    _today,
    _validated,
    funds_app,
)
from starter.connect import connect
from workflows.funds import MeetingFundsWorkflow

PayMeetingOpt = Annotated[
    str | None,
    typer.Option(
        "--meeting",
        help="Whose ledger, e.g. 14MSP. Default: the State's oldest arrears first, across meetings, the rest to "
        "the Presidency's current meeting.",
    ),
]


async def _ledgers(client: Client, code: str, also: str) -> list[LedgerState]:
    """Every running ledger of the convention (and ``also``, the current one, before visibility lists it)."""
    query = sa.query(sa.Kind.FUNDS, code, running=True)
    try:
        ids = [wf.id async for wf in client.list_workflows(query, rpc_timeout=ANSWER_TIMEOUT)]
    except RPCError as e:
        raise _rpc_error(f"the list of ledgers ({query})", e) from None
    found = []
    for wid in sorted({*ids, also}):
        handle = client.get_workflow_handle_for(MeetingFundsWorkflow.run, wid)
        try:
            found.append(
                await _answer(wid, handle.query(MeetingFundsWorkflow.ledger, rpc_timeout=ANSWER_TIMEOUT))
            )
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise _rpc_error(wid, e) from None
    return found


async def _current(client: Client, code: str) -> str:
    convention = _convention(code)
    return (await _meeting_started(client, convention, STATUS_WAIT)).meeting.ref.label


def pay_oldest_first(convention: str, fields: Mapping[str, Any]) -> None:
    """Records a payment over the ledgers it settles, each part under its own id; prints the split."""

    async def go() -> int:
        code = _convention(convention).code
        payment = _validated(Payment, fields, "payment_id", "payment")
        client = await connect()
        current = await _current(client, code)
        ledgers = await _ledgers(client, code, funds_id(code, current))
        today = local_date(_today(), Defaults())
        # A payment recorded whole before (sent again, not split): its ledger answers it as a repeat.
        split_before = any(payment.decision_id in lg.splits for lg in ledgers)
        known = next((lg.meeting for lg in ledgers if payment.decision_id in lg.decisions), None)
        try:
            split = split_payment(payment, ledgers, current, today)
        except Rejected as e:
            if known is None or split_before:
                raise CliError(f"rejected: {e}", REJECTED) from None
            split = None
        if known is not None and not split_before:
            sends = [(known, payment)]
        elif split is None or list(split.parts) == [current]:
            sends = [(current, payment)]  # nothing older owed: recorded as a payment always was
        else:
            _echo(f"split oldest arrears first: {split.describe()}")
            sends = list(zip(split.parts, parts(payment, split), strict=True))
        for n, (meeting, part) in enumerate(sends):
            wid = funds_id(code, meeting)
            handle = client.get_workflow_handle_for(MeetingFundsWorkflow.run, wid)
            try:
                await _send_update(
                    handle,
                    MeetingFundsWorkflow.record_payment,
                    part,
                    part.decision_id,
                    lambda e, wid=wid, meeting=meeting: CliError(  # type: ignore[misc]
                        f"no ledger is running for the {meeting} ({wid})", NOT_RUNNING
                    ),
                )
            except CliError as e:
                if n == 0:
                    raise
                raise CliError(
                    f"{e.message}; {n} of {len(sends)} parts recorded: send the payment again with --id "
                    f"{payment.decision_id} to record the rest (what is recorded counts once)",
                    e.code,
                ) from None
        return OK

    _run(go)


@funds_app.command("arrears")
def funds_arrears(
    given: Annotated[str, typer.Option("--state", help="The State Party, as assessed.")],
    as_json: JsonOpt = False,
    convention: ConventionOpt = "ccm",
) -> None:
    """Show what a State owes, meeting by meeting, the oldest first (what a payment without --meeting settles)."""

    async def go() -> int:
        code = _convention(convention).code
        state = _checked(_NAME, given, "--state")
        client = await connect()
        current = await _current(client, code)
        ledgers = await _ledgers(client, code, funds_id(code, current))
        today = local_date(_today(), Defaults())
        owed = owed_by(state, ledgers, today)
        total = sum(o.outstanding for o in owed)
        if as_json:
            rows = [o.model_dump(mode="json") for o in owed]
            _echo(json.dumps({"state": state, "as_of": str(today), "outstanding": total, "meetings": rows}))
            return OK
        if not owed:
            _echo(f"{state} has no assessed contribution in any running ledger of {code}")
            return OK
        _echo(f"Arrears of {state} (as of {today}): {chf(total)} outstanding")
        lines = _table(
            [
                (
                    o.meeting,
                    chf(o.assessed),
                    chf(o.paid),
                    chf(o.outstanding),
                    str(o.due),
                    "OVERDUE" if o.overdue else "",
                )
                for o in owed
            ],
            header=("MEETING", "ASSESSED", "PAID", "OUTSTANDING", "DUE", ""),
        )
        _echo("\n".join(lines))
        return OK

    _run(go)
