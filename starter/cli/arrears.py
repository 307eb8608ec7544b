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
from domain.arrears import owed_by, parts, split_payment, surplus_owed_by
from domain.calendar import local_date
from domain.decisions import Rejected
from domain.funds import LedgerState, Payment, chf
from domain.ids import funds_id
from domain.models import Defaults
from runtime.connect import connect
from starter.cli.calls import answer, meeting_started, rpc_error, send_update
from starter.cli.common import (
    ANSWER_TIMEOUT,
    NAME,
    NOT_RUNNING,
    OK,
    REJECTED,
    STATUS_WAIT,
    CliError,
    ConventionOpt,
    JsonOpt,
    checked,
    convention_of,
    echo,
    run,
    table,
    today,
    validated,
)
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


async def _current(client: Client, code: str) -> tuple[str, Defaults]:
    """The Presidency's current meeting, and the clock it runs on (the configured defaults)."""
    pres = await meeting_started(client, convention_of(code), STATUS_WAIT)
    return pres.meeting.ref.label, pres.convention.defaults


def pay_oldest_first(convention: str, fields: Mapping[str, Any]) -> None:
    """Records a payment over the ledgers it settles, each part under its own id; prints the split."""

    async def go() -> int:
        code = convention_of(convention).code
        payment = validated(Payment, fields, "payment")
        client = await connect()
        current, clock = await _current(client, code)
        ledgers = await _ledgers(client, code, funds_id(code, current))
        on = local_date(today(), clock)
        # A payment recorded whole before (sent again, not split): its ledger answers it as a repeat.
        split_before = any(payment.decision_id in lg.splits for lg in ledgers)
        known = next((lg.meeting for lg in ledgers if payment.decision_id in lg.decisions), None)
        try:
            split = split_payment(payment, ledgers, current, on)
        except Rejected as e:
            if known is None or split_before:
                raise CliError(f"rejected: {e}", REJECTED) from None
            split = None
        if known is not None and not split_before:
            sends = [(known, payment)]
        elif split is None or list(split.parts) == [current]:
            sends = [(current, payment)]  # nothing older owed: recorded as a payment always was
        else:
            echo(f"split oldest arrears first: {split.describe()}")
            sends = list(zip(split.parts, parts(payment, split), strict=True))
        for n, (meeting, part) in enumerate(sends):
            wid = funds_id(code, meeting)
            handle = client.get_workflow_handle_for(MeetingFundsWorkflow.run, wid)
            try:
                await send_update(
                    handle,
                    MeetingFundsWorkflow.record_payment,
                    part,
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

    run(go)


def funds_arrears(
    given: Annotated[str, typer.Option("--state", help="The State Party, as assessed.")],
    as_json: JsonOpt = False,
    convention: ConventionOpt = "ccm",
) -> None:
    """Show what a State owes, meeting by meeting, the oldest first (what a payment without --meeting settles),
    then any surplus it is invoiced as the host of a meeting away from Geneva."""

    async def go() -> int:
        code = convention_of(convention).code
        state = checked(NAME, given, "--state")
        client = await connect()
        current, clock = await _current(client, code)
        ledgers = await _ledgers(client, code, funds_id(code, current))
        on = local_date(today(), clock)
        # A host's surplus last: a payment without --surplus settles only the contributions above it.
        owed = owed_by(state, ledgers, on) + surplus_owed_by(state, ledgers, on)
        total = sum(o.outstanding for o in owed)
        if as_json:
            rows = [o.model_dump(mode="json") for o in owed]
            echo(json.dumps({"state": state, "as_of": str(on), "outstanding": total, "meetings": rows}))
            return OK
        if not owed:
            echo(f"{state} has no assessed contribution or surplus in any running ledger of {code}")
            return OK
        echo(f"Arrears of {state} (as of {on}): {chf(total)} outstanding")
        lines = table(
            [
                (
                    o.meeting,
                    o.what,
                    chf(o.assessed),
                    chf(o.paid),
                    chf(o.outstanding),
                    str(o.due),
                    "OVERDUE" if o.overdue else "",
                )
                for o in owed
            ],
            header=("MEETING", "OWED FOR", "ASSESSED", "PAID", "OUTSTANDING", "DUE", ""),
        )
        echo("\n".join(lines))
        return OK

    run(go)
