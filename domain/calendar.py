"""Meeting days in Geneva time: where a meeting stands at a given instant, and when that next changes.

Time-zone arithmetic lives here, outside the workflow sandbox, whose ZoneInfo proxy cannot be used with
``datetime.combine``. Every function takes the instant as an argument, so workflows pass ``workflow.now()``.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.models import STANDARD_DEFAULTS, Defaults, MeetingPlan, Phase
from domain.models import zone as _zone


def local_date(now: datetime, defaults: Defaults) -> date:
    return now.astimezone(_zone(defaults.timezone)).date()


def local_clock(at: datetime, defaults: Defaults) -> str:
    """An instant in the convention's time zone, for a table cell: 2021-03-31 23:59."""
    return f"{at.astimezone(_zone(defaults.timezone)):%Y-%m-%d %H:%M}"


def geneva_time(at: datetime, defaults: Defaults) -> str:
    """An instant as people in Geneva read it, labelled as the decision log labels it: 2027-07-30 10:00 Geneva time."""
    return f"{local_clock(at, defaults)} {defaults.place} time"


def _local(day: date, hour: int, defaults: Defaults) -> datetime:
    # An hour of 24 is midnight at the end of the day.
    base = datetime.combine(day, time(0), tzinfo=_zone(defaults.timezone)) + timedelta(days=hour // 24)
    return datetime.combine(base.date(), time(hour % 24), tzinfo=_zone(defaults.timezone)).astimezone(UTC)


def day_start(day: date, defaults: Defaults) -> datetime:
    return _local(day, defaults.day_start_hour, defaults)


def day_end(day: date, defaults: Defaults) -> datetime:
    return _local(day, defaults.day_end_hour, defaults)


@dataclass(frozen=True)
class Clock:
    """Where a meeting that has not been closed stands at one instant."""

    phase: Phase
    # Index of the part in session, or of the next part to begin; None once every part has begun.
    part: int | None
    # 1-based day of the part in session (the day whose date it is in Geneva).
    day: int | None
    # The last scheduled day has ended and the meeting has not closed.
    overrun: bool = False

    def describe(self, plan: MeetingPlan) -> str:
        many = len(plan.parts) > 1
        if self.phase is Phase.IN_SESSION and self.part is not None and self.day is not None:
            part = plan.parts[self.part]
            where = f"part {self.part + 1}, " if many else ""
            return f"in session, {where}day {self.day} of {part.days}"
        if self.phase is Phase.IN_SESSION and self.overrun:
            return "in session past its last scheduled day"
        if self.phase is Phase.ADJOURNED and self.part is not None:
            return f"adjourned until part {self.part + 1} on {plan.parts[self.part].start}"
        return self.phase.value.replace("_", " ")


def clock(plan: MeetingPlan, now: datetime, defaults: Defaults) -> Clock:
    today = local_date(now, defaults)
    for i, part in enumerate(plan.parts):
        if now < day_start(part.start, defaults):
            return Clock(Phase.SCHEDULED if i == 0 else Phase.ADJOURNED, i, None)
        if now < day_end(part.end, defaults):
            day = min(max((today - part.start).days + 1, 1), part.days)
            return Clock(Phase.IN_SESSION, i, day)
    return Clock(Phase.IN_SESSION, None, None, overrun=True)


def next_change(plan: MeetingPlan, now: datetime, defaults: Defaults) -> tuple[datetime, str] | None:
    """The next instant at which ``clock`` gives another answer (a day opens, a part's last day ends), and why."""
    many = len(plan.parts) > 1
    moments: list[tuple[datetime, str]] = []
    for i, part in enumerate(plan.parts):
        where = f"part {i + 1}, " if many else ""
        moments.extend(
            (day_start(part.start + timedelta(days=k), defaults), f"{where}day {k + 1} opens")
            for k in range(part.days)
        )
        last = i == len(plan.parts) - 1
        moments.append(
            (day_end(part.end, defaults), "last scheduled day ends" if last else f"part {i + 1} ends")
        )
    later = [m for m in moments if m[0] > now]
    return min(later) if later else None


def next_part(plan: MeetingPlan, now: datetime, defaults: Defaults) -> int | None:
    """Index of the first part that has not begun, the one most decisions about dates apply to."""
    for i, part in enumerate(plan.parts):
        if now < day_start(part.start, defaults):
            return i
    return None


def meeting_days(plan: MeetingPlan) -> list[date]:
    return [p.start + timedelta(days=k) for p in plan.parts for k in range(p.days)]


def years_later(day: date, years: int) -> date:
    """The same day ``years`` on; 29 February becomes 28 February in a year that has none."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def local_instant(day: date, hour: int, minute: int, defaults: Defaults) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=_zone(defaults.timezone)).astimezone(UTC)


def parse_local_instant(text: str, defaults: Defaults) -> datetime:
    """'2021-03-31' (the end of that day, 23:59) or '2021-03-31 12:00', in the convention's time zone."""
    t = text.strip().replace("T", " ")
    try:
        if " " in t:
            day, hm = t.split(None, 1)
            hour, minute = (int(x) for x in hm.split(":"))
            return local_instant(date.fromisoformat(day), hour, minute, defaults)
        return local_instant(date.fromisoformat(t), 23, 59, defaults)
    except ValueError:
        raise ValueError(
            f"{text!r}: expected a date (YYYY-MM-DD) or a date and time (YYYY-MM-DD HH:MM)"
        ) from None


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def local_text(at: datetime, defaults: Defaults | None = None) -> str:
    """An instant as people in Geneva read it: '31 March 2021, 23:59 Geneva time'."""
    d = defaults or STANDARD_DEFAULTS
    t = at.astimezone(_zone(d.timezone))
    return f"{t.day} {_MONTHS[t.month - 1]} {t.year}, {t:%H:%M} {d.place} time"


def months_later(day: date, months: int) -> date:
    """The same day ``months`` on (or back, when negative); the 31st becomes the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def describe_months(months: int) -> str:
    """A period in words: 4 years and 6 months."""
    years, rest = divmod(months, 12)
    parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
    if rest:
        parts.append(f"{rest} month{'s' if rest != 1 else ''}")
    return " and ".join(parts) or "0 months"
