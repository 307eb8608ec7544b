"""What the Presidency may decide about a meeting, as pure functions.

Each function either returns the new plan with a one-line summary, or raises ``Rejected`` with a reason a
diplomat understands. The workflow's validator calls the same function as its handler and discards the
result, so a rejected decision cannot change anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from domain.bounds import LATEST, MAX_PARTS
from domain.calendar import clock, local_date, next_part
from domain.decisions import AddPart, ChangeFormat, CloseMeeting, ExtendByDay, Postpone, Rejected, SetDates
from domain.models import Defaults, MeetingFormat, MeetingPlan, Part, Phase, President
from domain.states import check_state

MAX_DAYS = 10


def _target(plan: MeetingPlan, now: datetime, defaults: Defaults, what: str) -> int:
    i = next_part(plan, now, defaults)
    if i is None:
        raise Rejected(f"{what} is not possible: every part of the {plan.ref.title()} has already begun.")
    return i


def _check_place(place: str, host: str | None, defaults: Defaults) -> str | None:
    """A meeting away from the default place must say who covers the extra cost (seed ¶11)."""
    if place.casefold() == defaults.place.casefold():
        return None
    if not host:
        raise Rejected(
            f"A meeting in {place} instead of {defaults.place} must name the host covering every cost "
            f"above a meeting in {defaults.place} (give --host)."
        )
    return host


def _check_not_past(start: date, now: datetime, defaults: Defaults) -> None:
    today = local_date(now, defaults)
    if start < today:
        raise Rejected(f"The start date {start} is in the past (today is {today} in Geneva).")


def _check_fits(plan: MeetingPlan, i: int, part: Part) -> None:
    if part.days > MAX_DAYS:
        raise Rejected(f"A meeting part lasts 1 to {MAX_DAYS} days; {part.days} days is outside that range.")
    if i > 0 and part.start <= plan.parts[i - 1].end:
        raise Rejected(
            f"Part {i + 1} would start on {part.start}, before part {i} has ended ({plan.parts[i - 1].end})."
        )
    if i + 1 < len(plan.parts) and part.end >= plan.parts[i + 1].start:
        raise Rejected(
            f"Part {i + 1} would end on {part.end}, when part {i + 2} has already begun "
            f"({plan.parts[i + 1].start})."
        )


def _in_window(plan: MeetingPlan) -> MeetingPlan:
    """The plan a decision leads to, unless a part would end after the last date the engine handles."""
    if plan.last_day > LATEST:
        raise Rejected(
            f"The {plan.ref.label} would end on {plan.last_day}, after {LATEST}, the last date the engine handles."
        )
    return plan


def _replace(plan: MeetingPlan, i: int, part: Part) -> MeetingPlan:
    parts = list(plan.parts)
    parts[i] = part
    return _in_window(plan.model_copy(update={"parts": parts}))


def _part_name(plan: MeetingPlan, i: int) -> str:
    return f"part {i + 1} of the {plan.ref.label}" if len(plan.parts) > 1 else f"the {plan.ref.label}"


def _format_label(f: MeetingFormat) -> str:
    return f.value.replace("_", " ")


def _held(old: Part, new: Part) -> str:
    """The words a summary adds when the same act changes the format too."""
    return f", held {_format_label(new.format)}" if new.format is not old.format else ""


def set_dates(plan: MeetingPlan, d: SetDates, now: datetime, defaults: Defaults) -> tuple[MeetingPlan, str]:
    i = _target(plan, now, defaults, "Setting the dates")
    old = plan.parts[i]
    _check_not_past(d.start, now, defaults)
    days = d.duration_days if d.duration_days is not None else old.days
    place = d.place if d.place is not None else old.place
    host = _check_place(place, d.host_covering_extra_cost or old.host_covering_extra_cost, defaults)
    new = old.model_copy(
        update={
            "start": d.start,
            "end": d.start + timedelta(days=days - 1),
            "place": place,
            "host_covering_extra_cost": host,
            "format": d.format if d.format is not None else old.format,
            "provisional": False,
        }
    )
    _check_fits(plan, i, new)
    if new == old:
        raise Rejected(
            f"The dates, place and format of {_part_name(plan, i)} are already {new.start}, {new.place}, "
            f"{_format_label(new.format)}."
        )
    cost = f", {host} covering the extra cost" if host else ""
    return (
        _replace(plan, i, new),
        f"{_part_name(plan, i)}: {new.start} to {new.end} in {place}{cost}{_held(old, new)}",
    )


def postpone(plan: MeetingPlan, d: Postpone, now: datetime, defaults: Defaults) -> tuple[MeetingPlan, str]:
    i = _target(plan, now, defaults, "A postponement")
    old = plan.parts[i]
    if d.new_start <= old.start:
        raise Rejected(
            f"A postponement must move {_part_name(plan, i)} later than {old.start}; "
            f"{d.new_start} is not later (use set-dates to bring a meeting forward)."
        )
    _check_not_past(d.new_start, now, defaults)
    shift = d.new_start - old.start
    # The parts that follow move with the one postponed, so their order and spacing hold.
    parts = list(plan.parts[:i]) + [
        p.model_copy(update={"start": p.start + shift, "end": p.end + shift, "provisional": False})
        for p in plan.parts[i:]
    ]
    moved = parts[i]
    where = ""
    if d.place is not None or d.host_covering_extra_cost is not None:
        # Checked only when the act names a place or host: a plain postponement keeps the place as it was.
        place = d.place if d.place is not None else moved.place
        host = _check_place(place, d.host_covering_extra_cost or moved.host_covering_extra_cost, defaults)
        moved = moved.model_copy(update={"place": place, "host_covering_extra_cost": host})
        where = f", in {place}" + (f", {host} covering the extra cost" if host else "")
    if d.format is not None:
        moved = moved.model_copy(update={"format": d.format})
    parts[i] = moved
    new = _in_window(plan.model_copy(update={"parts": parts}))
    why = f" ({d.reason})" if d.reason else ""
    return new, f"{_part_name(plan, i)} postponed to {moved.start}–{moved.end}{where}{_held(old, moved)}{why}"


def change_format(
    plan: MeetingPlan, d: ChangeFormat, now: datetime, defaults: Defaults
) -> tuple[MeetingPlan, str]:
    i = _target(plan, now, defaults, "Changing the format")
    old = plan.parts[i]
    label = _format_label(d.format)
    if old.format is d.format:
        name = _part_name(plan, i)
        raise Rejected(f"{name[:1].upper()}{name[1:]} is already to be held {label}.")
    return _replace(plan, i, old.model_copy(update={"format": d.format})), f"{_part_name(plan, i)}: {label}"


def add_part(plan: MeetingPlan, d: AddPart, now: datetime, defaults: Defaults) -> tuple[MeetingPlan, str]:
    if len(plan.parts) >= MAX_PARTS:
        raise Rejected(
            f"The {plan.ref.label} already has {len(plan.parts)} parts, the most a meeting can have."
        )
    _check_not_past(d.start, now, defaults)
    place = d.place or defaults.place
    host = _check_place(place, d.host_covering_extra_cost, defaults)
    part = Part(
        start=d.start,
        end=d.start + timedelta(days=d.duration_days - 1),
        place=place,
        format=d.format,
        host_covering_extra_cost=host,
    )
    last = plan.parts[-1]
    if part.start <= last.end:
        raise Rejected(f"A new part must start after the last part ends ({last.end}); {part.start} does not.")
    new = _in_window(plan.model_copy(update={"parts": [*plan.parts, part]}))
    return new, f"{plan.ref.label} split: part {len(new.parts)} on {part.start} to {part.end} in {place}"


def extend_by_day(
    plan: MeetingPlan, d: ExtendByDay, now: datetime, defaults: Defaults
) -> tuple[MeetingPlan, str]:
    c = clock(plan, now, defaults)
    if c.overrun:
        i = len(plan.parts) - 1
    elif c.part is not None:
        i = c.part
    else:  # pragma: no cover - clock always names a part unless overrun
        raise Rejected("There is no part to extend.")
    old = plan.parts[i]
    new = old.model_copy(update={"end": old.end + timedelta(days=1)})
    _check_fits(plan, i, new)
    return _replace(plan, i, new), f"{_part_name(plan, i)} extended by a day, to end on {new.end}"


def named_successor(
    d: CloseMeeting, listed: Sequence[str], aliases: Mapping[str, str] | None = None
) -> President | None:
    """The successor the close decision names, as the list of States Parties names its State."""
    if d.successor is None:
        return None
    state = check_state(d.successor.state, listed, aliases=aliases)
    return d.successor.model_copy(update={"state": state})


def check_close(
    plan: MeetingPlan,
    d: CloseMeeting,
    now: datetime,
    defaults: Defaults,
    president: President,
    designated: President | None,
    listed: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> str:
    c = clock(plan, now, defaults)
    if c.phase is not Phase.IN_SESSION:
        state = c.describe(plan)
        raise Rejected(f"The {plan.ref.title()} can only be closed while in session; it is {state}.")
    if c.part is not None and c.part < len(plan.parts) - 1:
        raise Rejected(
            f"The {plan.ref.title()} is in part {c.part + 1} of {len(plan.parts)}; "
            "it closes on the last day of its last part."
        )
    successor = named_successor(d, listed, aliases) or designated
    if successor is None:
        raise Rejected(
            f"The {plan.ref.title()} cannot close without a President-designate for the next meeting: "
            "name one in the close decision (--successor) or designate one first."
        )
    if successor.same_state(president):
        raise Rejected(f"The successor cannot be the current President ({president.state}).")
    return f"{plan.ref.label} closed; {successor} takes over the Presidency"
