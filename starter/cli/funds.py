"""`msp funds`: a meeting's ledger (MeetingFundsWorkflow, `ccm-funds-14MSP`): cost estimate, assessed
contributions, payments, and the queue of what waits for money."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.workflow import UpdateMethodMultiParam

from domain.assessments import SharesError, parse_shares
from domain.decisions import DecisionOutcome
from domain.funds import Assess, LedgerState, Payment, SetEstimate, arrears, chf, queue
from domain.ids import funds_id
from domain.models import Convention
from runtime.connect import connect
from starter.cli.arrears import PayMeetingOpt, funds_arrears, pay_oldest_first
from starter.cli.calls import Decided, decision_at, meeting_started, query_state
from starter.cli.common import (
    BAD_INPUT,
    NOT_RUNNING,
    OK,
    OPTIONS,
    STATUS_WAIT,
    CliError,
    ConventionOpt,
    IdOpt,
    JsonOpt,
    RefOpt,
    convention_of,
    decided,
    echo,
    echo_json,
    meeting_ref,
    new_id,
    one_line,
    plural,
    run,
    table,
    today_in_geneva,
    validated,
)
from workflows.funds import MeetingFundsWorkflow

app = typer.Typer(
    help="A meeting's money: cost estimate, assessed contributions, payments, and what waits for money.",
    no_args_is_help=True,
)

OPTIONS.update(
    {
        "amount": "--amount",
        "shares": "--file",
        "due": "--due",
        "state": "--state",
        "force": "--force",
    }
)

LedgerMeetingOpt = Annotated[
    str | None,
    typer.Option("--meeting", help="Whose ledger, e.g. 14MSP. Default: the Presidency's current meeting."),
]
AmountOpt = Annotated[int, typer.Option("--amount", help="Whole Swiss francs (CHF), more than 0.")]


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


def ledger_decision(
    code: str,
    meeting: str | None,
    update: UpdateMethodMultiParam[[MeetingFundsWorkflow, Any], DecisionOutcome],
    message: Callable[[], Decided],
) -> None:
    decision_at(
        update, message, lambda client: ledger_target(client, convention_of(code), meeting), no_ledger
    )


def ledger_json(wid: str, ledger: LedgerState) -> dict[str, Any]:
    today = today_in_geneva()
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
        "queue": [r.model_dump(mode="json") for r in queue(ledger)],
        "ledger": ledger.model_dump(mode="json"),
    }


def funds_text(wid: str, ledger: LedgerState) -> str:
    today = today_in_geneva()
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
            [
                (
                    a.state,
                    f"{ledger.assessments[a.state].share_percent:g}%",
                    chf(a.assessed),
                    chf(a.paid),
                    chf(a.outstanding),
                    str(a.due),
                    "OVERDUE" if a.overdue else "",
                )
                for a in owed
            ],
            header=("STATE", "SHARE", "ASSESSED", "PAID", "OUTSTANDING", "DUE", ""),
        )
    else:
        lines.append("none assessed yet (msp funds assess)")
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


app.command("arrears")(funds_arrears)


@app.command("estimate")
def funds_estimate(
    amount: AmountOpt,
    ref: RefOpt,
    decision_id: IdOpt = None,
    meeting: LedgerMeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record the meeting's adopted cost estimate."""
    ledger_decision(
        convention,
        meeting,
        MeetingFundsWorkflow.set_estimate,
        lambda: decided(SetEstimate, decision_id, ref, amount=amount),
    )


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
    meeting: LedgerMeetingOpt = None,
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
    meeting: PayMeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record a payment received from a State, its oldest arrears first unless --meeting says which ledger; what
    waits for money is granted in order."""
    fields = {
        "decision_id": payment_id or new_id(),
        "reference": ref,
        "state": state,
        "amount": amount,
        "force": force,
    }
    if meeting is None:
        return pay_oldest_first(convention, fields)
    ledger_decision(
        convention,
        meeting,
        MeetingFundsWorkflow.record_payment,
        lambda: validated(Payment, fields, "payment"),
    )


@app.command("status")
def funds_status(
    as_json: JsonOpt = False,
    meeting: LedgerMeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Show the ledger: estimate, payments, grants, balance, arrears per State, and the queue in grant order."""

    async def go() -> int:
        conv = convention_of(convention)
        client = await connect()
        wid, label = await ledger_target(client, conv, meeting)
        ledger = await query_state(client, wid, MeetingFundsWorkflow.ledger, no_ledger(wid, label))
        if as_json:
            echo_json(ledger_json(wid, ledger))
        else:
            echo(funds_text(wid, ledger))
        return OK

    run(go)
