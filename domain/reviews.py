"""Mandated reviews that fall due: when, who is reminded and when, and what comes after a conclusion."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.bounds import LATEST, MAX_REMINDERS, Day, Name, Reason, Title, Value
from domain.calendar import years_later
from domain.decisions import Decision, DecisionLog, Reference, Rejected
from domain.models import Defaults
from domain.notifications import DEFAULT_WEBHOOK, KEEP_UNDELIVERABLE, Undeliverable, WebhookName

Subject = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{2,60}$")]
MeetingLabel = Annotated[str, StringConstraints(pattern=r"^\d{1,3}(MSP|RC)$")]

DEFAULT_LEADS = (180, 90, 30, 7)
# The weekly reminders of work still overdue before a mandate could set their cadence (Cadence, WEEKLY).
OVERDUE_EVERY_DAYS = 7


class DueKind(StrEnum):
    DATE = "date"
    AT_MEETING = "at_meeting"
    NO_LATER_THAN_MEETING = "no_later_than_meeting"


class DuePoint(BaseModel):
    """A date, or a meeting: due on its first day, moving when it moves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DueKind
    # For a meeting: its first day as last known (provisional until the meeting is scheduled).
    on: Day
    meeting: MeetingLabel | None = None

    @model_validator(mode="after")
    def _meeting_named(self) -> DuePoint:
        if (self.kind is DueKind.DATE) != (self.meeting is None):
            raise ValueError("a due point names a meeting exactly when it is at or no later than a meeting")
        return self

    def describe(self) -> str:
        if self.kind is DueKind.DATE:
            return f"by {self.on}"
        at = "at" if self.kind is DueKind.AT_MEETING else "no later than"
        return f"{at} the {self.meeting} ({self.on})"


class Periodicity(BaseModel):
    """What a conclusion decides for the next review: every N years, or at every Review Conference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every_years: int | None = Field(default=None, ge=1, le=20)
    at_every_review_conference: bool = False

    @model_validator(mode="after")
    def _one(self) -> Periodicity:
        if (self.every_years is None) == (not self.at_every_review_conference):
            raise ValueError("say either every N years or at every Review Conference")
        return self

    def describe(self) -> str:
        return f"every {self.every_years} years" if self.every_years else "at every Review Conference"


def parse_periodicity(text: str) -> Periodicity:
    """'every 3 years', 'at every Review Conference' (as a diplomat would write it)."""
    t = " ".join(text.lower().split())
    if m := re.fullmatch(r"every (\d{1,2}) years?", t):
        return Periodicity(every_years=int(m.group(1)))
    if t in {"at every review conference", "every review conference"}:
        return Periodicity(at_every_review_conference=True)
    raise ValueError(f"{text!r}: say 'every N years' or 'at every Review Conference'")


class Mandate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    decided_by: Name
    reference: Reference


# A reminder goes at most this many days ahead of the due date.
MAX_LEAD_DAYS = 3660
LeadDays = Annotated[int, Field(ge=1, le=MAX_LEAD_DAYS)]
CadenceDays = Annotated[int, Field(ge=1, le=366)]


class Cadence(BaseModel):
    """How often work still overdue is reminded of, counted from the escalation: every ``every_days`` for the first
    ``for_days``, then every ``then_every_days``. Set by the mandate (a review's ``overdue_reminders``); the default
    is weekly for four weeks, then monthly (every 30 days): a reminder a week for years only costs the reader's
    attention and the engine's timers (issue 16)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every_days: CadenceDays = 7
    for_days: int = Field(default=28, ge=0, le=MAX_LEAD_DAYS)
    then_every_days: CadenceDays = 30

    def offset(self, n: int) -> int:
        """Days from the escalation to the ``n``-th overdue reminder (from 1)."""
        early = self.for_days // self.every_days
        if n <= early:
            return n * self.every_days
        return early * self.every_days + (n - early) * self.then_every_days

    def first_from(self, after: int, days: int) -> int:
        """The number of the first reminder after the ``after``-th that falls ``days`` or more from the origin. A run
        begun long after its origin (a deadline passed years before the engine was started) sends from then on,
        not every reminder it missed at once."""
        early = self.for_days // self.every_days
        if days <= early * self.every_days:
            n = -(-days // self.every_days)
        else:
            n = early + -(-(days - early * self.every_days) // self.then_every_days)
        return max(after + 1, n)

    def describe(self) -> str:
        then = f"every {self.then_every_days} days"
        if self.for_days < self.every_days:
            return then
        return f"every {self.every_days} days for {self.for_days} days, then {then}"


DEFAULT_CADENCE = Cadence()
WEEKLY = Cadence(every_days=OVERDUE_EVERY_DAYS, for_days=0, then_every_days=OVERDUE_EVERY_DAYS)


class ReviewSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: Subject
    title: Title
    mandate: Mandate
    due: DuePoint
    reminder_days: Annotated[tuple[LeadDays, ...], Field(max_length=MAX_REMINDERS)] = DEFAULT_LEADS
    # Told when the due point passes without a conclusion.
    escalate_to: Annotated[tuple[Name, ...], Field(max_length=MAX_REMINDERS)] = (
        "the President",
        "the ISU Director",
    )
    periodicity: Periodicity | None = None
    # How often it is reminded of once overdue; None: DEFAULT_CADENCE (weekly for reviews begun before it).
    overdue_reminders: Cadence | None = None


class Conclude(Decision):
    outcome: Reason
    next: Periodicity | None = None


class WithdrawReview(Decision):
    pass


class ReviewStatus(StrEnum):
    PENDING = "pending"
    OVERDUE = "overdue"
    CONCLUDED = "concluded"
    WITHDRAWN = "withdrawn"


class Reminder(Value):
    """One notification the review owes: its key makes it delivered once."""

    key: str
    on: date
    kind: str  # "reminder", "escalation", "overdue"
    text: str


def ahead(key: str, due: date, leads: Iterable[int], text: Callable[[int], str]) -> list[Reminder]:
    """A reminder ``lead`` days before ``due`` for each of ``leads``, the earliest first, keyed ``<key>:<lead>d``
    (a review, a report and a deadline's watch remind so)."""
    return [
        Reminder(key=f"{key}:{lead}d", on=due - timedelta(days=lead), kind="reminder", text=text(lead))
        for lead in sorted(leads, reverse=True)
    ]


def schedule(spec: ReviewSpec, due: date, cycle: int, after: date | None = None) -> list[Reminder]:
    """The reminders before the due date (those not yet past ``after``), then the escalation on the day after."""
    out = reminders(
        f"{spec.subject}:{cycle}",
        f"the review of {spec.title}",
        due,
        _due_text(spec, due),
        spec.reminder_days,
        spec.escalate_to,
    )
    return [r for r in out if after is None or r.on > after]


def reminders(
    key: str,
    what: str,
    due: date,
    due_text: str,
    leads: Sequence[int],
    escalate_to: Sequence[str],
    undone: str = "concluded",
) -> list[Reminder]:
    """The rule every mandated piece of work follows (a review, a task of the Coordination Committee): a reminder
    ``leads`` days before it is due, the earliest first, then an escalation to ``escalate_to`` on the day after."""
    out = ahead(f"{key}:reminder", due, leads, lambda n: f"Reminder: {what} is due {due_text}, in {n} days.")
    out.append(
        Reminder(
            key=f"{key}:escalation",
            on=due + timedelta(days=1),
            kind="escalation",
            text=f"Overdue: {what} was due {due_text} and has not been {undone}. "
            f"For the attention of {' and '.join(escalate_to)}.",
        )
    )
    return out


def next_overdue(
    spec: ReviewSpec,
    due: date,
    cycle: int,
    sent: list[Reminder],
    cadence: Cadence = WEEKLY,
    not_before: date | None = None,
) -> Reminder:
    """The overdue reminder after the last one sent (numbered from the escalation), at ``cadence``; with
    ``not_before``, the first of them on that day or after."""
    last = max((int(r.key.rsplit(":", 1)[1]) for r in sent if r.kind == "overdue"), default=0)
    # The escalation goes the day after the due date, and the cadence counts from it.
    n = last + 1 if not_before is None else cadence.first_from(last, (not_before - due).days - 1)
    return overdue_reminder(spec, due, cycle, n, cadence)


def carried(sent: list[Reminder]) -> list[Reminder]:
    """What an overdue review carries into its next run: the reminders before the escalation, the escalation, and
    the last weekly reminder (enough to send none twice and to number the next week)."""
    weekly = [r for r in sent if r.kind == "overdue"]
    return [r for r in sent if r.kind != "overdue"] + weekly[-1:]


def overdue_reminder(spec: ReviewSpec, due: date, cycle: int, n: int, cadence: Cadence = WEEKLY) -> Reminder:
    on = due + timedelta(days=1 + cadence.offset(n))
    return Reminder(
        key=f"{spec.subject}:{cycle}:overdue:{n}",
        on=on,
        kind="overdue",
        text=f"Still overdue ({(on - due).days} days): the review of {spec.title}, due {due}.",
    )


def _due_text(spec: ReviewSpec, due: date) -> str:
    return spec.due.model_copy(update={"on": due}).describe()


def check_open(status: ReviewStatus) -> None:
    """A review is concluded or withdrawn while it is pending or overdue."""
    if status in (ReviewStatus.CONCLUDED, ReviewStatus.WITHDRAWN):
        raise Rejected(f"This review is already {status.value}.")


def check_conclude(status: ReviewStatus, d: Conclude) -> None:
    check_open(status)


def next_due(spec: ReviewSpec, concluded_on: date, periodicity: Periodicity, cadence_years: int) -> DuePoint:
    """Where the next review of the same subject falls, from the periodicity just decided."""
    if periodicity.every_years:
        on = years_later(concluded_on, periodicity.every_years)
        return DuePoint(kind=DueKind.DATE, on=_within(on))
    number = _next_rc_number(spec.due.meeting)
    on = years_later(spec.due.on, cadence_years)
    return DuePoint(kind=DueKind.AT_MEETING, on=_within(on), meeting=f"{number}RC")


def _within(due: date) -> date:
    if due > LATEST:
        raise Rejected(
            f"The next review would fall due on {due}, after {LATEST}, the last date the engine handles."
        )
    return due


def _next_rc_number(meeting: str | None) -> int:
    if meeting and meeting.endswith("RC"):
        return int(meeting[:-2]) + 1
    raise Rejected("'At every Review Conference' needs the review to be due at a Review Conference now.")


# The signal a review due at a meeting gets, with a MeetingMoved, when that meeting's first day changes.
MEETING_MOVED = "meeting_moved"


class MeetingMoved(Value):
    """Sent to every review due at a meeting when that meeting's first day changes."""

    meeting: MeetingLabel
    first_day: Day


class ConclusionRecord(Value):
    cycle: int
    due: date
    concluded_on: date
    outcome: str
    reference: str
    next: Periodicity | None = None


class ReviewInput(BaseModel):
    convention: str = "ccm"
    spec: ReviewSpec
    # The webhook target notifications go to, by name: the worker knows its URL. (Inputs of earlier runs carry a
    # ``webhook_url``: ignored, the worker's target of this name is used.)
    webhook: WebhookName = DEFAULT_WEBHOOK
    cycle: int = Field(default=1, ge=1, le=10_000)
    cadence_years: int = Field(default=5, ge=1, le=20)
    history: list[ConclusionRecord] = Field(default_factory=list)
    # Decisions applied to earlier reviews of this subject: a conclusion re-sent after it took effect is not
    # applied to the next review.
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    # Reminders already sent, carried when a review overdue for years continues as new to keep its history short
    # (past ``continue_after_events``; a weekly reminder costs about ten).
    sent: list[Reminder] = Field(default_factory=list)
    continue_after_events: int = Field(default=1000, ge=100, le=40_000)
    # Notifications the webhook refused, carried when the review continues as new.
    undeliverable: list[Undeliverable] = Field(default_factory=list, max_length=KEEP_UNDELIVERABLE)
    defaults: Defaults = Defaults()


class ReviewState(BaseModel):
    spec: ReviewSpec
    due: date
    status: ReviewStatus = ReviewStatus.PENDING
    cycle: int = 1
    sent: list[Reminder] = Field(default_factory=list)
    upcoming: Reminder | None = None
    history: list[ConclusionRecord] = Field(default_factory=list)
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    undeliverable: list[Undeliverable] = Field(default_factory=list)


# The activity that finds the reviews due at a meeting and tells them it moved (MEETING_MOVED).
TELL_REVIEWS_MEETING_MOVED = "tell_reviews_meeting_moved"


class ReviewsOfMeeting(Value):
    """What a meeting tells the reviews due at it when its first day changes."""

    convention: str
    meeting: str
    first_day: date
