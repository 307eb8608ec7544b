"""`msp status`: the presidency, its meeting, the meeting's money and the decisions of both."""

from __future__ import annotations

from typing import Annotated

import typer

from domain.calendar import local_clock
from domain.decisions import DecisionRecord
from domain.funds import LedgerState, chf
from domain.ids import funds_id, meeting_id, presidency_id
from domain.meeting import MeetingState
from domain.models import describe_part
from domain.presidency import PresidencyState
from runtime.connect import connect
from starter.cli.calls import meeting_started, presidency_state, query_if_any
from starter.cli.common import (
    OK,
    STATUS_WAIT,
    ConventionOpt,
    MeetingOpt,
    convention_of,
    echo,
    echo_json,
    meeting_ref,
    run,
    table,
)
from starter.cli.funds import ledger_json
from workflows.funds import MeetingFundsWorkflow
from workflows.meeting import MeetingWorkflow


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print both states as JSON.")] = False,
    meeting: MeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Show the presidency, its meeting and the decisions of both."""

    async def go() -> int:
        conv = convention_of(convention)
        client = await connect()
        if meeting is None:
            pres = await meeting_started(client, conv, STATUS_WAIT)
        else:
            pres = await presidency_state(client, conv)
        ref = meeting_ref(meeting) if meeting is not None else pres.meeting.ref
        mid = meeting_id(pres.convention, ref)
        meet = await query_if_any(client, mid, MeetingWorkflow.state)
        missing = None if meet is not None else f"no workflow {mid} (not started yet?)"
        fid = funds_id(pres.convention.code, ref.label)
        ledger = await query_if_any(client, fid, MeetingFundsWorkflow.ledger)
        if as_json:
            echo_json(
                {
                    "presidency": pres.model_dump(mode="json"),
                    "meeting": meet.model_dump(mode="json") if meet is not None else None,
                    "funds": ledger_json(fid, ledger) if ledger is not None else None,
                }
            )
        else:
            echo(status_text(pres, mid, meet, missing, fid, ledger))
        return OK

    run(go)


def status_text(
    pres: PresidencyState,
    mid: str,
    meet: MeetingState | None,
    missing: str | None,
    fid: str = "",
    ledger: LedgerState | None = None,
) -> str:
    plan = meet.plan if meet is not None else pres.meeting
    designates = [f"{i}. {p}" for i, p in enumerate(pres.designates, start=1)] or ["none"]
    if meet is not None:
        phase = meet.phase.value.replace("_", " ")
        status = phase if meet.status == phase else f"{phase} ({meet.status})"
    else:
        status = f"{pres.meeting_status} (as last reported; {missing})"
    dates = [
        (f"part {i}: " if len(plan.parts) > 1 else "")
        + describe_part(p)
        + (f", {p.host_covering_extra_cost} covering the extra cost" if p.host_covering_extra_cost else "")
        for i, p in enumerate(plan.parts, start=1)
    ]
    held = (
        ", ".join(
            f"{d.date} (part {d.part}, day {d.day}"
            + ("" if d.interpretation else ", informal consultations without interpretation")
            + ")"
            for d in meet.days_held
        )
        if meet
        else ""
    )
    if ledger is not None:
        funds = f"balance {chf(ledger.balance)}, shortfall {chf(ledger.shortfall)} ({fid})"
    else:
        funds = f"no ledger ({fid} does not exist: a term begun before meetings had ledgers?)"
    interpretation = (
        [f"{day}: {state.value.replace('_', ' ')}" for day, state in sorted(meet.interpretation.items())]
        if meet
        else []
    )
    if not interpretation:
        interpretation = ["not tracked" if ledger is None else "nothing requested yet"]
    if pres.history:
        h = pres.history[-1]
        handover = f"{h.handed_over_on}: {h.president} to {h.successor}, at the {h.meeting} (term {h.term})"
    else:
        handover = "none recorded"
    rows: list[tuple[str, str]] = [
        ("Presidency", f"{presidency_id(pres.convention)} ({pres.convention.name})"),
        ("Term", str(pres.term)),
        ("President", f"{pres.president}, since {pres.began_on}"),
        ("Outgoing", str(pres.outgoing or "-")),
        ("Designates", designates[0]),
        *(("", d) for d in designates[1:]),
        ("Meeting", f"{plan.ref.label}: {plan.ref.title()} ({mid})"),
        ("Phase", status),
        ("Dates", dates[0]),
        *(("", d) for d in dates[1:]),
        ("Days held", held or "none yet"),
        ("Funds", funds),
        ("Interpretation", interpretation[0]),
        *(("", d) for d in interpretation[1:]),
        ("Closed", f"{meet.closed.closed_on}, {meet.closed.how}" if meet and meet.closed else "-"),
        ("Last handover", handover),
        (
            "Intersessional",
            f"this cycle: {_held(pres.intersessional_this_cycle)}; "
            f"next cycle: {_held(pres.intersessional_next_cycle)}",
        ),
    ]
    log: list[tuple[DecisionRecord, str]] = [(r, "presidency") for r in pres.decisions.records]
    if meet is not None:
        log += [(r, plan.ref.label) for r in meet.decisions.records]
    log.sort(key=lambda x: x[0].at)
    d = pres.convention.defaults
    lines = table(rows)
    lines += ["", f"Decisions ({len(log)})"]
    if log:
        lines += table(
            [(local_clock(r.at, d), where, r.decision_id, r.summary, r.reference) for r, where in log],
            header=(f"TIME ({d.place})", "ON", "ID", "SUMMARY", "REFERENCE"),
        )
    else:
        lines.append("none yet")
    return "\n".join(lines)


def _held(value: bool | None) -> str:
    return "not decided" if value is None else ("held" if value else "not held")
