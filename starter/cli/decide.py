"""`msp decide`: the Presidency's decisions on its meeting (MeetingWorkflow) and on the presidency itself
(PresidencyWorkflow). Each is accepted, or rejected with the reason the workflow's validator gives."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from temporalio.client import Client

from domain.decisions import (
    AddPart,
    ChangeFormat,
    CloseMeeting,
    DecideIntersessional,
    Designate,
    ExtendByDay,
    Postpone,
    ReplaceDesignate,
    SetDates,
)
from domain.ids import presidency_id
from domain.models import Convention, MeetingFormat
from starter.cli.calls import meeting_target, no_presidency
from starter.cli.commands import MEETING_TAIL, Decisions, Fields
from starter.cli.common import (
    NOT_RUNNING,
    CliError,
    RefOpt,
    group,
    one_line,
)
from starter.cli.send import At, found
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow

app = group("Send a decision of the Presidency; it is accepted, or rejected with the reason.")

PlaceOpt = Annotated[str | None, typer.Option("--place", help="Where the part is held.")]
HostOpt = Annotated[
    str | None,
    typer.Option("--host", help="Who covers the cost above a meeting in the default place."),
]
FormatOpt = Annotated[MeetingFormat, typer.Option("--format", help="How the part is held.")]
NewFormatOpt = Annotated[
    MeetingFormat | None,
    typer.Option("--format", help="How the part is held, changed in the same decision; default: unchanged."),
]
StateOpt = Annotated[str, typer.Option("--state", help="The State Party, e.g. 'United Kingdom'.")]
RepresentativeOpt = Annotated[
    str | None, typer.Option("--representative", help="Its representative, e.g. 'Ambassador X'.")
]


def part(start: str, days: int | None, place: str | None, host: str | None) -> dict[str, Any]:
    """The fields of a part of the meeting (SetDates, AddPart) from their options."""
    return {"start": start, "duration_days": days, "place": place, "host_covering_extra_cost": host}


def president(state: str | None, representative: str | None) -> dict[str, str] | None:
    if state is None and representative is None:
        return None
    return {k: v for k, v in (("state", state), ("representative", representative)) if v is not None}


async def meeting_at(client: Client, conv: Convention, label: str | None) -> At:
    """The meeting given, or the Presidency's current one."""
    wid, name = await meeting_target(client, conv, label)
    return At(
        wid, lambda e: CliError(f"the {name} is not running ({wid}: {one_line(e.message)})", NOT_RUNNING)
    )


meeting_decisions = Decisions(
    app, lambda conv, meeting: lambda client: meeting_at(client, conv, meeting), MEETING_TAIL
)
presidency_decisions = Decisions(app, lambda conv: found(presidency_id(conv), lambda _: no_presidency(conv)))


# On the meeting.


@meeting_decisions.command("set-dates", MeetingWorkflow.set_dates, SetDates)
def set_dates(
    ref: RefOpt,
    start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")],
    days: Annotated[
        int | None, typer.Option("--days", help="Number of days (1-10); default: unchanged.")
    ] = None,
    place: PlaceOpt = None,
    host: HostOpt = None,
    format: NewFormatOpt = None,
) -> Fields:
    """Set the dates (and place, and format) of the next part of the meeting that has not begun, in one decision."""
    return {"reference": ref, "format": format, **part(start, days, place, host)}


@meeting_decisions.command("postpone", MeetingWorkflow.postpone, Postpone)
def postpone(
    ref: RefOpt,
    to: Annotated[
        str, typer.Option("--to", help="The new first day, YYYY-MM-DD, later than the current one.")
    ],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, as the decision says.")] = None,
    place: PlaceOpt = None,
    host: HostOpt = None,
    format: NewFormatOpt = None,
) -> Fields:
    """Postpone the next part that has not begun (the parts after it move with it); its place and format may
    change in the same decision."""
    return {
        "reference": ref,
        "new_start": to,
        "reason": reason,
        "format": format,
        "place": place,
        "host_covering_extra_cost": host,
    }


@meeting_decisions.command("change-format", MeetingWorkflow.change_format, ChangeFormat)
def change_format(ref: RefOpt, format: FormatOpt) -> Fields:
    """Change the format of the next part that has not begun."""
    return {"reference": ref, "format": format}


@meeting_decisions.command("add-part", MeetingWorkflow.add_part, AddPart)
def add_part(
    ref: RefOpt,
    start: Annotated[str, typer.Option("--start", help="First day of the new part, YYYY-MM-DD.")],
    days: Annotated[int, typer.Option("--days", help="Number of days (1-10).")],
    place: PlaceOpt = None,
    host: HostOpt = None,
    format: FormatOpt = MeetingFormat.IN_PERSON,
) -> Fields:
    """Split the meeting: add a part after the last one."""
    return {"reference": ref, "format": format, **part(start, days, place, host)}


@meeting_decisions.command("extend-by-day", MeetingWorkflow.extend_by_day, ExtendByDay)
def extend_by_day(ref: RefOpt) -> Fields:
    """Extend the part in session (or the next one) by a day."""
    return {"reference": ref}


@meeting_decisions.command("close", MeetingWorkflow.close, CloseMeeting)
def close(
    ref: RefOpt,
    successor_state: Annotated[
        str | None, typer.Option("--successor-state", help="The successor, if not the designate.")
    ] = None,
    successor_representative: Annotated[
        str | None, typer.Option("--successor-representative", help="The successor's representative.")
    ] = None,
) -> Fields:
    """Close the meeting in session (on its last part); the Presidency hands over."""
    return {"reference": ref, "successor": president(successor_state, successor_representative)}


# On the presidency.


@presidency_decisions.command("designate", PresidencyWorkflow.designate, Designate)
def designate(ref: RefOpt, state: StateOpt, representative: RepresentativeOpt = None) -> Fields:
    """Designate the President of the next meeting that has none yet."""
    return {"reference": ref, "president": president(state, representative)}


@presidency_decisions.command("replace-designate", PresidencyWorkflow.replace_designate, ReplaceDesignate)
def replace_designate(
    ref: RefOpt,
    state: StateOpt,
    representative: RepresentativeOpt = None,
    position: Annotated[
        int, typer.Option("--position", help="Which upcoming meeting: 1 is the next one.")
    ] = 1,
) -> Fields:
    """Replace the President-designate of an upcoming meeting."""
    return {"reference": ref, "position": position, "president": president(state, representative)}


@presidency_decisions.command(
    "intersessional", PresidencyWorkflow.decide_intersessional, DecideIntersessional
)
def intersessional(
    ref: RefOpt,
    held: Annotated[
        bool, typer.Option("--held/--not-held", help="Whether an intersessional meeting is held next cycle.")
    ],
) -> Fields:
    """Decide whether an intersessional meeting is held in the next cycle."""
    return {"reference": ref, "held": held}
