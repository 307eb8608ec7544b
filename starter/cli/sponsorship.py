"""`msp sponsorship`: a meeting's Sponsorship Programme (SponsorshipWorkflow, `ccm-sponsorship-14MSP`): donors'
contributions, delegates' applications, the ISU's grants and declines, the Presidency's coordinator, the report."""

from __future__ import annotations

from typing import Annotated

import typer
from temporalio.client import Client
from temporalio.service import RPCError

from domain.funds import chf
from domain.ids import sponsorship_id
from domain.notifications import DEFAULT_WEBHOOK
from domain.sponsorship import (
    Apply,
    AppointCoordinator,
    Contribute,
    Decline,
    Grant,
    SponsorshipState,
    report_text,
)
from domain.sponsorship import report as report_of
from runtime.connect import connect
from starter.cli.calls import query_state
from starter.cli.commands import CONVENTION, MEETING, MEETING_TAIL, Decisions, Fields, Shown, Views
from starter.cli.common import (
    NOT_RUNNING,
    AmountOpt,
    CliError,
    RefOpt,
    convention_of,
    group,
    name_options,
    one_line,
    table,
    today_in_geneva,
)
from starter.cli.ledgers import ledger_target
from starter.cli.send import At
from workflows.sponsorship import SponsorshipWorkflow

app = group(
    "A meeting's Sponsorship Programme: contributions, applications, grants, the coordinator, the report."
)

name_options(
    "donor delegate function travel_cost reason webhook", application="APPLICATION", coordinator="--name"
)

ApplicationArg = Annotated[
    str, typer.Argument(help="The application's id, as `msp sponsorship apply` printed it.")
]


async def programme_target(client: Client, code: str, label: str | None) -> tuple[str, str]:
    """The programme's workflow id and its meeting's label: the meeting given, or the Presidency's current one."""
    _, meeting = await ledger_target(client, convention_of(code), label)
    return sponsorship_id(convention_of(code).code, meeting), meeting


def no_programme(wid: str, label: str, e: RPCError | None = None) -> CliError:
    detail = f": {one_line(e.message)}" if e is not None else ""
    return CliError(f"no Sponsorship Programme is running for the {label} ({wid}{detail})", NOT_RUNNING)


async def programme_at(client: Client, code: str, label: str | None) -> At:
    wid, meeting = await programme_target(client, code, label)
    return At(wid, lambda e: no_programme(wid, meeting, e))


decisions = Decisions(
    app, lambda conv, meeting: lambda client: programme_at(client, conv.code, meeting), MEETING_TAIL
)
views = Views(app, (MEETING, CONVENTION))


@decisions.command("contribute", SponsorshipWorkflow.contribute, Contribute)
def sponsorship_contribute(
    donor: Annotated[str, typer.Option("--donor", help="Who gave: a State or an organisation.")],
    amount: AmountOpt,
    ref: RefOpt,
) -> Fields:
    """Record a donor's contribution received: it goes to the programme's own balance, not the meeting's ledger."""
    return {"reference": ref, "donor": donor, "amount": amount}


@decisions.command("apply", SponsorshipWorkflow.apply, Apply)
def sponsorship_apply(
    state: Annotated[str, typer.Option("--state", help="The State the delegate represents.")],
    delegate: Annotated[str, typer.Option("--delegate", help="The delegate's name (kept out of logs).")],
    function: Annotated[
        str, typer.Option("--function", help="The delegate's function, e.g. Head of delegation.")
    ],
    travel_cost: Annotated[int, typer.Option("--travel-cost", help="Estimated travel cost, whole CHF.")],
    ref: RefOpt,
) -> Fields:
    """Record a delegate's application; its id (printed) names it in `grant` and `decline`."""
    return {
        "reference": ref,
        "state": state,
        "delegate": delegate,
        "function": function,
        "travel_cost": travel_cost,
    }


@decisions.command("grant", SponsorshipWorkflow.grant, Grant)
def sponsorship_grant(application: ApplicationArg, ref: RefOpt) -> Fields:
    """Grant an application: its travel cost is committed (never beyond the balance) and its travel booked."""
    return {"reference": ref, "application": application}


@decisions.command("decline", SponsorshipWorkflow.decline, Decline)
def sponsorship_decline(
    application: ApplicationArg,
    ref: RefOpt,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, in a few words.")] = None,
) -> Fields:
    """Decline an application."""
    return {"reference": ref, "application": application, "reason": reason}


@decisions.command("appoint-coordinator", SponsorshipWorkflow.appoint_coordinator, AppointCoordinator)
def sponsorship_appoint_coordinator(
    name: Annotated[str, typer.Option("--name", help="The coordinator the Presidency appoints.")],
    ref: RefOpt,
    webhook: Annotated[
        str, typer.Option("--webhook", help="The webhook target (by name) their notifications go to.")
    ] = DEFAULT_WEBHOOK,
) -> Fields:
    """The Presidency appoints a coordinator for the programme; they receive its notifications from then on."""
    return {"reference": ref, "coordinator": name, "webhook": webhook}


async def _programme(code: str, meeting: str | None) -> tuple[str, SponsorshipState]:
    client = await connect()
    wid, label = await programme_target(client, code, meeting)
    return wid, await query_state(client, wid, SponsorshipWorkflow.state, no_programme(wid, label))


def status_text(wid: str, s: SponsorshipState) -> str:
    today = today_in_geneva()
    rows = [
        ("Programme", f"the {s.meeting} ({wid})"),
        ("Phase", s.phase(today).value),
        (
            "Applications close",
            f"{s.closes_on} ({s.rules.close_weeks} weeks before the first day, {s.first_day})",
        ),
        ("Contributed", f"{chf(s.contributed)} from {len(s.contributions)} contributions"),
        ("Committed", chf(s.committed)),
        ("Balance", chf(s.balance)),
        ("Coordinator", f"{s.coordinator.name} ({s.coordinator.webhook})" if s.coordinator else "none"),
    ]
    lines = table(rows)
    lines += ["", f"Applications ({len(s.applications)})"]
    if s.applications:
        lines += table(
            [
                (
                    a.id,
                    a.state,
                    a.delegate,
                    a.function,
                    chf(a.travel_cost),
                    a.status.value,
                    a.booking or a.note,
                )
                for a in s.applications
            ],
            header=("ID", "STATE", "DELEGATE", "FUNCTION", "TRAVEL", "STATUS", "BOOKING"),
        )
    else:
        lines.append("none yet (msp sponsorship apply)")
    return "\n".join(lines)


@views.command("status")
async def sponsorship_status(meeting: str | None, convention: str) -> Shown:
    """Show the programme: balance, applications and their status (the ISU's view: delegates are named)."""
    wid, s = await _programme(convention, meeting)
    return Shown(
        lambda: {"id": wid, "balance": s.balance, "programme": s.model_dump(mode="json")},
        lambda: status_text(wid, s),
    )


@views.command("report")
async def sponsorship_report(meeting: str | None, convention: str) -> Shown:
    """The report: delegates sponsored, States represented, donors, money spent and carried over (so far, until
    the meeting has closed)."""
    _, s = await _programme(convention, meeting)
    r = s.report or report_of(s)
    return Shown(
        lambda: {"final": s.report is not None, **r.model_dump(mode="json")},
        lambda: "\n".join(
            [
                report_text(r) + ("" if s.report else " (so far: the meeting has not closed)"),
                f"States represented: {', '.join(r.states) or 'none'}",
                f"Donors: {', '.join(r.donors) or 'none'}",
            ]
        ),
    )
