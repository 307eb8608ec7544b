"""`msp funds pay` without `--meeting`: a payment settles the State's oldest arrears first, across the meetings'
ledgers, the rest going to the current meeting's (domain/arrears.py decides the split); and `msp funds arrears`:
what a State owes, meeting by meeting."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

import typer

from domain.arrears import Owed, owed_by, parts, split_payment, surplus_owed_by
from domain.decisions import Rejected
from domain.funds import Arrears, Payment, chf
from domain.ids import funds_id
from runtime.connect import connect
from starter.cli.common import (
    NAME,
    NOT_RUNNING,
    OK,
    REJECTED,
    CliError,
    ConventionOpt,
    JsonOpt,
    checked,
    convention_of,
    echo,
    run,
    table,
    validated,
)
from starter.cli.ledgers import ledgers_today
from starter.cli.send import send_update
from workflows.funds import MeetingFundsWorkflow

PayMeetingOpt = Annotated[
    str | None,
    typer.Option(
        "--meeting",
        help="Whose ledger, e.g. 14MSP. Default: the State's oldest arrears first, across meetings, the rest to "
        "the Presidency's current meeting.",
    ),
]


def pay_oldest_first(convention: str, fields: Mapping[str, Any]) -> None:
    """Records a payment over the ledgers it settles, each part under its own id; prints the split."""

    async def go() -> int:
        code = convention_of(convention).code
        payment = validated(Payment, fields, "payment")
        client = await connect()
        current, ledgers, on = await ledgers_today(client, code)
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


def owed_cells(a: Arrears | Owed) -> tuple[str, ...]:
    """What a State owes to a meeting, as `msp funds status` and `msp funds arrears` show it: assessed, paid,
    outstanding, due, and OVERDUE when it is."""
    return chf(a.assessed), chf(a.paid), chf(a.outstanding), str(a.due), "OVERDUE" if a.overdue else ""


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
        _, ledgers, on = await ledgers_today(client, code)
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
            [(o.meeting, o.what, *owed_cells(o)) for o in owed],
            header=("MEETING", "OWED FOR", "ASSESSED", "PAID", "OUTSTANDING", "DUE", ""),
        )
        echo("\n".join(lines))
        return OK

    run(go)
