"""`msp funds`: a meeting's ledger (MeetingFundsWorkflow, `ccm-funds-14MSP`): cost estimate, assessed
contributions, payments, and the queue of what waits for money."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from temporalio.client import Client
from temporalio.workflow import UpdateMethodMultiParam

from domain.assessments import SharesError, parse_shares
from domain.decisions import DecisionOutcome
from domain.funds import Assess, LedgerState, Payment, SetEstimate, arrears, chf, queue
from domain.meeting_costs import RegisterNotParty, SetSurplus
from domain.models import Convention, name_key
from runtime.connect import connect
from starter.cli.arrears import PayMeetingOpt, funds_arrears, owed_cells, pay_oldest_first
from starter.cli.calls import query_state
from starter.cli.commands import CONVENTION, MEETING, MEETING_TAIL, Decisions, Fields, Shown, Views
from starter.cli.common import (
    BAD_INPUT,
    AmountOpt,
    ConventionOpt,
    IdOpt,
    MeetingOpt,
    RefOpt,
    convention_of,
    decided,
    echo,
    group,
    name_options,
    new_id,
    one_line,
    plural,
    table,
    today_in_geneva,
    validated,
)
from starter.cli.ledgers import ledger_target, no_ledger
from starter.cli.send import At, Decided, send_to
from workflows.funds import MeetingFundsWorkflow

app = group("A meeting's money: cost estimate, assessed contributions, payments, and what waits for money.")

name_options("amount due state force host surplus", shares="--file")


async def ledger_at(client: Client, conv: Convention, label: str | None) -> At:
    wid, name = await ledger_target(client, conv, label)
    return At(wid, lambda e: no_ledger(wid, name, e))


decisions = Decisions(
    app, lambda conv, meeting: lambda client: ledger_at(client, conv, meeting), MEETING_TAIL
)

views = Views(app, (MEETING, CONVENTION))


def ledger_decision(
    code: str,
    meeting: str | None,
    update: UpdateMethodMultiParam[[MeetingFundsWorkflow, Any], DecisionOutcome],
    message: Callable[[], Decided],
) -> None:
    send_to(code, update, lambda conv: lambda client: ledger_at(client, conv, meeting), message)


def ledger_json(wid: str, ledger: LedgerState) -> dict[str, Any]:
    today = today_in_geneva(ledger.defaults)
    return {
        "id": wid,
        "meeting": ledger.meeting,
        "as_of": str(today),
        "estimate": ledger.estimate,
        "paid": ledger.payments_total,
        "granted": ledger.granted_total,
        "released": ledger.released_total,
        "balance": ledger.balance,
        "waiting": ledger.waiting_total,
        "shortfall": ledger.shortfall,
        "arrears": [a.model_dump(mode="json") for a in arrears(ledger, today)],
        "surplus": [
            {**inv.model_dump(mode="json"), "outstanding": inv.outstanding} for inv in ledger.surplus.values()
        ],
        "participants": ledger.participants,
        "queue": [r.model_dump(mode="json") for r in queue(ledger)],
        "ledger": ledger.model_dump(mode="json"),
    }


def funds_text(wid: str, ledger: LedgerState) -> str:
    today = today_in_geneva(ledger.defaults)
    estimate = (
        f"{chf(ledger.estimate)} ({ledger.estimate_reference})"
        if ledger.estimate is not None
        else "not yet adopted (msp funds estimate)"
    )
    rows = [
        ("Funds", f"the {ledger.meeting} ({wid})"),
        ("Cost estimate", estimate),
        ("Paid", f"{chf(ledger.payments_total)} in {plural(ledger.payments_count, 'payment')}"),
        ("Granted", chf(ledger.granted_total)),
        ("Released", chf(ledger.released_total)),
        ("Balance", chf(ledger.balance)),
        ("Waiting", f"{chf(ledger.waiting_total)} for {plural(len(ledger.pending), 'request')}"),
        ("Shortfall", chf(ledger.shortfall)),
    ]
    lines = table(rows)
    owed = arrears(ledger, today)
    lines += ["", f"Contributions ({plural(len(owed), 'State')}; as of {today})"]
    if owed:
        lines += table(
            [(a.state, f"{ledger.assessments[a.state].share_percent:g}%", *owed_cells(a)) for a in owed],
            header=("STATE", "SHARE", "ASSESSED", "PAID", "OUTSTANDING", "DUE", ""),
        )
    else:
        lines.append("none assessed yet (msp funds assess)")
    lines += surplus_text(ledger, today)
    waiting = queue(ledger)
    lines += ["", f"Queue ({plural(len(waiting), 'request')}; granted in this order as money arrives)"]
    if waiting:
        lines += table(
            [
                (str(i), str(r.priority), str(r.needed_by or "-"), chf(r.amount), r.purpose)
                + (("TOO LATE",) if r.request_id in ledger.too_late else ("",))
                for i, r in enumerate(waiting, start=1)
            ],
            header=("#", "PRIORITY", "NEEDED BY", "AMOUNT", "PURPOSE", ""),
        )
    else:
        lines.append("nothing waits for money")
    return "\n".join(lines)


def surplus_text(ledger: LedgerState, today: date) -> list[str]:
    """The surplus invoiced to each host of a meeting away from Geneva, and the States not party taking part."""
    lines: list[str] = []
    if ledger.surplus or ledger.venue.away:
        rows = [
            (
                inv.host,
                ", ".join(inv.places),
                chf(inv.amount),
                chf(inv.paid),
                chf(inv.outstanding),
                str(inv.due),
                "WITHDRAWN" if inv.withdrawn else "OVERDUE" if inv.outstanding and today > inv.due else "",
            )
            for inv in ledger.surplus.values()
        ]
        invoiced = {name_key(h) for h in ledger.surplus}
        rows += [
            (host, ", ".join(places), "not yet set (msp funds surplus)", "", "", "", "")
            for host, places in ledger.venue.hosts().items()
            if name_key(host) not in invoiced
        ]
        lines += ["", "Surplus above a meeting in Geneva (invoiced to the host, apart from the balance)"]
        lines += table(rows, header=("HOST", "HELD IN", "SURPLUS", "PAID", "OUTSTANDING", "DUE", ""))
    if ledger.participants:
        assessed = {name_key(s) for s in ledger.assessments}
        lines += [
            "",
            f"States not party taking part ({len(ledger.participants)}; assessed with the States Parties)",
        ]
        lines += [
            f"  {s}" + ("" if name_key(s) in assessed else ": not yet assessed (msp funds assess)")
            for s in ledger.participants
        ]
    return lines


app.command("arrears")(funds_arrears)


@decisions.command("estimate", MeetingFundsWorkflow.set_estimate, SetEstimate)
def funds_estimate(amount: AmountOpt, ref: RefOpt) -> Fields:
    """Record the meeting's adopted cost estimate."""
    return {"reference": ref, "amount": amount}


@decisions.command("surplus", MeetingFundsWorkflow.set_surplus, SetSurplus)
def funds_surplus(
    amount: AmountOpt,
    due: Annotated[str, typer.Option("--due", help="When the host is to pay it, YYYY-MM-DD.")],
    ref: RefOpt,
    host: Annotated[
        str | None,
        typer.Option("--host", help="The host invoiced, when the meeting has several. Default: its host."),
    ] = None,
) -> Fields:
    """Invoice the host of a meeting away from Geneva what it costs above the same meeting in Geneva."""
    return {"reference": ref, "amount": amount, "due": due, "host": host}


@decisions.command("participate", MeetingFundsWorkflow.register_not_party, RegisterNotParty)
def funds_participate(
    state: Annotated[str, typer.Option("--state", help="The State not party, as the register names it.")],
    ref: RefOpt,
) -> Fields:
    """Register a State not party that takes part in the meeting: it is assessed with the States Parties (Art. 14)."""
    return {"reference": ref, "state": state}


def _shares(file: Path) -> dict[str, float]:
    """The file of shares, read and checked; a bad one ends the command (exit 2) with one line naming the place."""
    try:
        raw = file.read_bytes()
    except OSError as e:
        echo(f"{file}: cannot read the file of shares: {one_line(e.strerror or str(e))}", err=True)
        raise typer.Exit(BAD_INPUT) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        echo(f"{file}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); save it as UTF-8 CSV", err=True)
        raise typer.Exit(BAD_INPUT) from None
    try:
        return parse_shares(text, str(file))
    except SharesError as e:
        echo(one_line(str(e)), err=True)
        raise typer.Exit(BAD_INPUT) from None


@app.command("assess")
def funds_assess(
    file: Annotated[
        Path, typer.Option("--file", help="CSV with the header state,share_percent, from the ISU (Art. 14).")
    ],
    due: Annotated[str, typer.Option("--due", help="When the contributions are due, YYYY-MM-DD.")],
    ref: RefOpt,
    decision_id: IdOpt = None,
    meeting: MeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Assess each State's contribution from the file of shares (UN scale of assessment, adjusted)."""
    shares = _shares(file)
    ledger_decision(
        convention,
        meeting,
        MeetingFundsWorkflow.assess,
        lambda: decided(Assess, decision_id, ref, shares=shares, due=due),
    )


@app.command("pay")
def funds_pay(
    state: Annotated[str, typer.Option("--state", help="The State Party that paid, as assessed.")],
    amount: AmountOpt,
    ref: RefOpt,
    force: Annotated[
        bool, typer.Option("--force", help="Record it even if it is more than the State's outstanding share.")
    ] = False,
    payment_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="Payment id; recording the same id again counts it once. Default: a new one, printed.",
        ),
    ] = None,
    surplus: Annotated[
        bool,
        typer.Option(
            "--surplus",
            help="From the host, towards the surplus of a meeting away from Geneva (the --meeting's, default the "
            "current one), not its assessed contribution.",
        ),
    ] = False,
    meeting: PayMeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record a payment received from a State, its oldest arrears first unless --meeting says which ledger; what
    waits for money is granted in order. With --surplus, the host's payment of the surplus."""
    fields = {
        "decision_id": payment_id or new_id(),
        "reference": ref,
        "state": state,
        "amount": amount,
        "force": force,
        "surplus": surplus,
    }
    if meeting is None and not surplus:
        return pay_oldest_first(convention, fields)
    ledger_decision(
        convention,
        meeting,
        MeetingFundsWorkflow.record_payment,
        lambda: validated(Payment, fields, "payment"),
    )


@views.command("status")
async def funds_status(meeting: str | None, convention: str) -> Shown:
    """Show the ledger: estimate, payments, grants, balance, arrears per State, and the queue in grant order."""
    conv = convention_of(convention)
    client = await connect()
    wid, label = await ledger_target(client, conv, meeting)
    ledger = await query_state(client, wid, MeetingFundsWorkflow.ledger, no_ledger(wid, label))
    return Shown(lambda: ledger_json(wid, ledger), lambda: funds_text(wid, ledger))
