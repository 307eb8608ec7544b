"""The watch of a State's Art. 3 (stockpiles, 8 years) or Art. 4 (contaminated areas, 10 years) deadline, from its
entry into force, for a State that declared stockpiles or contamination.

An extension must be requested in time for the meeting that would decide it: the last Meeting of States Parties
(or Review Conference) before the deadline, and no later than nine months before it (as for requests,
``extensions.due_by``). Meetings are yearly: their first days are counted a year apart from a known meeting
(the Presidency's plan, passed in at start), as provisional dates are (``presidency.provisional_start``).
Reminders lead to that day; a notice marks it, another the deadline itself. A declaration of completion ends the
watch; a request submitted hands it over (the request's workflow watches the deadline from then on).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from domain.bounds import MAX_REMINDERS, DerivedDay, Name
from domain.calendar import months_later, years_later
from domain.decisions import DecisionLog, Rejected
from domain.extensions import DeclareCompletion
from domain.models import Defaults
from domain.notifications import DEFAULT_WEBHOOK, KEEP_UNDELIVERABLE, Undeliverable, WebhookName
from domain.register import Row, obligations
from domain.reviews import Cadence, Reminder, ahead

# Days before the date a request is due by (nine months before the deciding meeting).
DEFAULT_LEADS = (365, 180, 90, 30)
REQUEST_LEAD_MONTHS = 9
LeadDays = Annotated[int, Field(ge=1, le=3 * 365)]


class WatchStatus(StrEnum):
    WATCHING = "watching"
    PASSED = "deadline passed"
    COMPLETED = "completed"
    REQUESTED = "extension requested"
    # The State's withdrawal took effect (Art. 20): it has no obligation from that day.
    WITHDRAWN = "ended by withdrawal"


ENDED = (WatchStatus.COMPLETED, WatchStatus.REQUESTED, WatchStatus.WITHDRAWN)


def watched(row: Row) -> list[tuple[str, date]]:
    """The articles (and deadlines) a row's State is watched under."""
    return [(o.article, o.due) for o in obligations(row) if o.article in ("3", "4")]


def deciding_meeting(deadline: date, known: date) -> date:
    """The first day of the last yearly meeting before ``deadline``, counting a year apart from ``known``."""
    years = deadline.year - known.year
    day = years_later(known, years)
    while day >= deadline:
        years -= 1
        day = years_later(known, years)
    while years_later(known, years + 1) < deadline:
        years += 1
        day = years_later(known, years)
    return day


def request_due(deadline: date, known: date) -> date:
    return months_later(deciding_meeting(deadline, known), -REQUEST_LEAD_MONTHS)


class WatchInput(BaseModel):
    convention: str = "ccm"
    state: Name
    article: Annotated[str, Field(pattern=r"^[34]$")]
    deadline: DerivedDay
    # The first day of a known meeting (the one the Presidency plans): the others are a year apart.
    meeting_on: DerivedDay
    leads: Annotated[tuple[LeadDays, ...], Field(max_length=MAX_REMINDERS)] = DEFAULT_LEADS
    webhook: WebhookName = DEFAULT_WEBHOOK
    defaults: Defaults = Defaults()
    # The day the State's withdrawal takes effect (Art. 20): the watch ends on it.
    ends_on: DerivedDay | None = None
    # How often a passed deadline is reminded of (watches from the patch ``watch-passed-cadence`` on); None: the
    # default cadence (domain.reviews.DEFAULT_CADENCE).
    overdue_reminders: Cadence | None = None


class WatchState(BaseModel):
    state: str
    article: str
    deadline: date
    meeting: date
    request_due: date
    status: WatchStatus = WatchStatus.WATCHING
    completed_on: date | None = None
    request: str | None = None
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    sent: list[str] = Field(default_factory=list)
    undeliverable: list[Undeliverable] = Field(default_factory=list, max_length=KEEP_UNDELIVERABLE)
    ends_on: date | None = None


def initial_state(inp: WatchInput) -> WatchState:
    meeting = deciding_meeting(inp.deadline, inp.meeting_on)
    return WatchState(
        state=inp.state,
        article=inp.article,
        deadline=inp.deadline,
        meeting=meeting,
        request_due=months_later(meeting, -REQUEST_LEAD_MONTHS),
        ends_on=inp.ends_on,
    )


def what(s: WatchState) -> str:
    thing = "destroy its stockpiled cluster munitions" if s.article == "3" else "clear its contaminated areas"
    return f"{s.state}'s deadline to {thing} (Art. {s.article}) on {s.deadline}"


def schedule(s: WatchState, leads: tuple[int, ...]) -> list[Reminder]:
    """Reminders leading to the day a request is due, a notice on that day, and one on the deadline."""
    due = s.request_due
    text = (
        f"{what(s)}: an extension request, if one is needed, is due by {due}, nine months before the meeting "
        f"that would decide it ({s.meeting})"
    )
    out = ahead(f"art{s.article}:request", due, set(leads), lambda lead: f"Reminder: {text}, in {lead} days.")
    out.append(
        Reminder(key=f"art{s.article}:request:due", on=due, kind="escalation", text=f"Due today: {text}.")
    )
    out.append(
        Reminder(
            key=f"art{s.article}:deadline",
            on=s.deadline,
            kind="overdue",
            text=f"{what(s)} has come with neither completion declared nor an extension requested.",
        )
    )
    return [r for r in out if r.key not in s.sent]


def still_passed(s: WatchState, cadence: Cadence, not_before: date | None = None) -> Reminder:
    """The next reminder of a deadline passed with neither completion nor a request, at ``cadence`` from the
    deadline's notice (numbered from it, so none is sent twice); with ``not_before``, the first on that day or after."""
    key = f"art{s.article}:passed"
    last = max((int(k.rsplit(":", 1)[1]) for k in s.sent if k.startswith(f"{key}:")), default=0)
    n = last + 1 if not_before is None else cadence.first_from(last, (not_before - s.deadline).days)
    days = cadence.offset(n)
    return Reminder(
        key=f"{key}:{n}",
        on=s.deadline + timedelta(days=days),
        kind="overdue",
        text=f"Still, {days} days on: {what(s)} has come with neither completion declared nor an extension requested.",
    )


def check_completion(s: WatchState, c: DeclareCompletion, today: date) -> None:
    if s.status in ENDED:
        raise Rejected(f"The watch of {what(s)} has ended: {s.status.value}.")
    if c.completed_on > today:
        raise Rejected(f"Completion cannot be declared for {c.completed_on}, a day still to come.")
