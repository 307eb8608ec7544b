"""Article 7 transparency reports: the initial report, due 180 days after the Convention enters into force for the
State (Art. 7(1)); then annual updates due 30 April each year, covering the previous calendar year (Art. 7(2)).

One workflow per State Party watches one deadline year at a time: it reminds ahead of 30 April, records the
report's receipt, and on 1 May marks a report that has not come as overdue. A year stays outstanding (and the
State's status overdue) until its report is received, however late. The initial report is watched alongside
(its reminders in the same sequence) until it is received; the first annual update watched is the first 30 April
after the initial report's due date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, cast

from pydantic import BaseModel, Field, model_validator

from domain.bounds import (
    EARLIEST,
    HEADROOM_YEARS,
    LATEST,
    MAX_REMINDERS,
    Aliases,
    Day,
    DerivedDay,
    Name,
    Value,
)
from domain.decisions import Decision, DecisionLog, Rejected
from domain.models import Defaults, StatesList
from domain.notifications import DEFAULT_WEBHOOK, KEEP_UNDELIVERABLE, Undeliverable, WebhookName
from domain.reviews import Cadence, Reminder, ahead

DEFAULT_REMINDER_DAYS = (60, 14)
# What a run carries across continue-as-new: the last receipts (and its decision log).
KEEP_RECEIVED = 20
# A deadline year a person names; the years a workflow watches run on past the window, one a year.
Year = Annotated[int, Field(ge=EARLIEST.year, le=LATEST.year)]
WatchedYear = Annotated[int, Field(ge=EARLIEST.year, le=LATEST.year + HEADROOM_YEARS)]
LeadDays = Annotated[int, Field(ge=1, le=365)]
# The initial report is recorded as the report of this "year" (no deadline year is 0).
INITIAL = 0


def deadline(year: int) -> date:
    """The Art. 7 deadline of ``year``: its report covers the calendar year before."""
    return date(year, 4, 30)


def first_year(today: date) -> int:
    """The deadline year to watch from ``today``: this year's until 30 April, else next year's."""
    return today.year if today <= deadline(today.year) else today.year + 1


def first_annual_year(today: date, initial_due: date | None) -> int:
    """The first annual update to watch: from ``today``, and never one due before the initial report."""
    return first_year(max(today, initial_due + timedelta(days=1)) if initial_due else today)


class ReportStatus(StrEnum):
    PENDING = "pending"
    RECEIVED = "received"
    OVERDUE = "overdue"
    # The initial report fell due before the register's first import, which cannot say whether it came: not
    # chased, no notice sent, until the ISU records it.
    NOT_RECORDED = "initial not recorded"
    # The State's withdrawal took effect (Art. 20): it has no obligation from that day.
    WITHDRAWN = "ended by withdrawal"


class ReportReceived(Decision):
    """The ISU records that a State Party's report has come in (``reference``: the report's symbol or the ISU's
    receipt note). A receipt id sent again applies once."""

    # The deadline year the report answers: 2027 for the report covering 2026; none for the initial report.
    year: Year | None = None
    # The initial report (Art. 7(1)) rather than an annual update.
    initial: bool = False
    received_on: Day

    @model_validator(mode="after")
    def _which(self) -> ReportReceived:
        if self.initial == (self.year is not None):
            raise ValueError(
                "name either the deadline year of an annual update or the initial report, not both"
            )
        return self

    @property
    def key(self) -> int:
        return INITIAL if self.initial else cast(int, self.year)


class ReportRecord(Value):
    year: int
    received_on: date
    reference: str
    # Received after that year's 30 April.
    late: bool = False


class ReportsInput(BaseModel):
    convention: str = "ccm"
    state: Name
    # The deadline year this run watches.
    year: WatchedYear
    reminder_days: Annotated[tuple[LeadDays, ...], Field(max_length=MAX_REMINDERS)] = DEFAULT_REMINDER_DAYS
    # How often last year's report, still missing after its overdue notice, is reminded of by this year's run (from
    # the patch ``art7-overdue-cadence`` on); None: the default cadence (domain.reviews.DEFAULT_CADENCE).
    overdue_reminders: Cadence | None = None
    # The webhook target notifications go to, by name: the worker knows its URL (a ``webhook_url`` of earlier
    # runs is ignored).
    webhook: WebhookName = DEFAULT_WEBHOOK
    received: list[ReportRecord] = Field(default_factory=list, max_length=KEEP_RECEIVED)
    # Deadline years missed whose report has not been received yet.
    outstanding: list[WatchedYear] = Field(
        default_factory=list, max_length=LATEST.year + HEADROOM_YEARS - EARLIEST.year
    )
    # Receipts already applied, carried across continue-as-new.
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    # Notifications the webhook refused, carried across continue-as-new.
    undeliverable: list[Undeliverable] = Field(default_factory=list, max_length=KEEP_UNDELIVERABLE)
    # The States Parties (from the register): the State must be one of them; empty: any well-formed name.
    states_parties: StatesList = Field(default_factory=list)
    # The register's other names of a State (alias -> short name): the State may be named by one.
    aliases: Aliases = Field(default_factory=dict)
    defaults: Defaults = Defaults()
    # The initial report's due date (entry into force + 180 days), while it has not been received; None: not
    # chased (runs started before the register, or received).
    initial_due: Day | None = None
    # The initial report was due and has not been received.
    initial_outstanding: bool = False
    # The initial report fell due before the register's first import: listed as not recorded, never chased.
    initial_unrecorded: bool = False
    # The day the State's withdrawal takes effect (Art. 20): the workflow ends on it.
    ends_on: DerivedDay | None = None


class ReportsState(BaseModel):
    state: Name
    year: int
    deadline: date
    status: ReportStatus = ReportStatus.PENDING
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS
    received: list[ReportRecord] = Field(default_factory=list)
    outstanding: list[int] = Field(default_factory=list)
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    # Notifications sent by this run, and the next one it waits for.
    sent: list[Reminder] = Field(default_factory=list)
    upcoming: Reminder | None = None
    undeliverable: list[Undeliverable] = Field(default_factory=list)
    initial_due: date | None = None
    initial_outstanding: bool = False
    initial_unrecorded: bool = False
    ends_on: date | None = None


def initial_state(inp: ReportsInput) -> ReportsState:
    s = ReportsState(
        state=inp.state,
        year=inp.year,
        deadline=deadline(inp.year),
        reminder_days=inp.reminder_days,
        received=list(inp.received),
        outstanding=sorted(set(inp.outstanding)),
        decisions=inp.decisions.model_copy(deep=True),
        undeliverable=list(inp.undeliverable),
        initial_due=inp.initial_due,
        initial_outstanding=inp.initial_outstanding,
        initial_unrecorded=inp.initial_unrecorded,
        ends_on=inp.ends_on,
    )
    s.status = status_of(s)
    return s


def receipt_of(s: ReportsState, year: int) -> ReportRecord | None:
    return next((r for r in s.received if r.year == year), None)


def status_of(s: ReportsState) -> ReportStatus:
    """Overdue while any year is outstanding; else received once the watched year's report is in."""
    if s.status == ReportStatus.WITHDRAWN:
        return s.status
    if s.outstanding or s.initial_outstanding:
        return ReportStatus.OVERDUE
    if s.initial_unrecorded and receipt_of(s, INITIAL) is None:
        return ReportStatus.NOT_RECORDED
    return ReportStatus.RECEIVED if receipt_of(s, s.year) else ReportStatus.PENDING


def check_received(s: ReportsState, r: ReportReceived, today: date) -> None:
    """Raises Rejected, with the rule in words, if the receipt cannot be recorded."""
    if r.received_on > today:
        raise Rejected(
            f"A report cannot be received in the future: {r.received_on} is after today ({today})."
        )
    if r.initial:
        if (done := receipt_of(s, INITIAL)) is not None:
            raise Rejected(
                f"The initial report of {s.state} was already received on {done.received_on} ({done.reference})."
            )
        if s.initial_due is None:
            raise Rejected(f"No initial report of {s.state} is chased here: record annual updates by --year.")
        return
    assert r.year is not None
    if (done := receipt_of(s, r.year)) is not None:
        raise Rejected(
            f"The report due on {deadline(r.year)} (covering {r.year - 1}) was already received on "
            f"{done.received_on} ({done.reference})."
        )
    if r.year > s.year:
        raise Rejected(
            f"The report due on {deadline(r.year)} (covering {r.year - 1}) is not due yet: "
            f"the report now watched is the one due on {s.deadline}."
        )
    if r.year < s.year and r.year not in s.outstanding:
        missing = ", ".join(str(y) for y in s.outstanding) or "none"
        raise Rejected(
            f"The report due on {deadline(r.year)} is not watched here: only the report due on {s.deadline} "
            f"and outstanding ones (deadline years: {missing}) can be recorded."
        )
    if r.received_on < date(r.year, 1, 1):
        raise Rejected(
            f"The report due on {deadline(r.year)} covers {r.year - 1}: it cannot have been received before "
            f"that year ended ({r.received_on} is before 1 January {r.year})."
        )


def apply_received(s: ReportsState, r: ReportReceived, today: date) -> tuple[ReportsState, str]:
    """The state with the receipt recorded (late if after its deadline), and a one-line summary."""
    check_received(s, r, today)
    cleared: dict[str, object]
    if r.initial:
        due = cast(date, s.initial_due)
        cleared = {"initial_outstanding": False, "initial_unrecorded": False}
        what = f"initial Article 7 report of {s.state} due {due}"
    else:
        year = cast(int, r.year)
        due = deadline(year)
        cleared = {"outstanding": [y for y in s.outstanding if y != year]}
        what = f"Article 7 report of {s.state} due {due} (covering {year - 1})"
    record = ReportRecord(
        year=r.key, received_on=r.received_on, reference=r.reference, late=r.received_on > due
    )
    new = s.model_copy(update={"received": [*s.received, record][-KEEP_RECEIVED:], **cleared})
    new.status = status_of(new)
    late = ", late" if record.late else ""
    return new, f"{what} received on {r.received_on} ({r.reference}){late}"


def schedule(
    state_name: str, year: int, reminder_days: tuple[int, ...], after: date | None = None
) -> list[Reminder]:
    """Reminders N days before the deadline (those not yet past ``after``), then the overdue notice on 1 May."""
    due = deadline(year)
    what = f"{state_name}'s Article 7 transparency report covering {year - 1}"
    out = ahead(f"art7:{year}:reminder", due, set(reminder_days), _reminder_text(what, due))
    out.append(
        Reminder(
            key=f"art7:{year}:overdue",
            on=due + timedelta(days=1),
            kind="overdue",
            text=f"Overdue: {what} was due on {due} and has not been received.",
        )
    )
    return [r for r in out if after is None or r.on > after]


def _reminder_text(what: str, due: date) -> Callable[[int], str]:
    return lambda lead: f"Reminder: {what} is due on {due}, in {lead} days."


def initial_schedule(state_name: str, due: date, reminder_days: tuple[int, ...]) -> list[Reminder]:
    """Reminders N days before the initial report's due date, then the overdue notice the day after (day 181)."""
    what = f"{state_name}'s initial Article 7 transparency report"
    out = ahead("art7:initial:reminder", due, set(reminder_days), _reminder_text(what, due))
    out.append(
        Reminder(
            key="art7:initial:overdue",
            on=due + timedelta(days=1),
            kind="overdue",
            text=f"Overdue: {what} was due on {due} (180 days after entry into force) and has not been received.",
        )
    )
    return out


def still_overdue(s: ReportsState, cadence: Cadence) -> list[Reminder]:
    """Last year's report, missed and still not received: reminders at ``cadence`` from its overdue notice (1 May,
    the day this run began) up to this year's deadline; none once it is received."""
    missed = s.year - 1
    if missed not in s.outstanding:
        return []
    due = deadline(missed)
    what = f"{s.state}'s Article 7 transparency report covering {missed - 1}"
    out = []
    for n in range(1, 367):  # at most one a day for a year
        days = cadence.offset(n)
        on = due + timedelta(days=1 + days)
        if on > s.deadline:
            break
        text = f"Still overdue ({days + 1} days): {what} was due on {due} and has not been received."
        out.append(Reminder(key=f"art7:{missed}:overdue:{n}", on=on, kind="overdue", text=text))
    return out


def is_follow_up(r: Reminder) -> bool:
    """A reminder of a report still overdue after its notice (``still_overdue``), rather than the notice itself."""
    return r.kind == "overdue" and r.key.rsplit(":", 1)[1].isdigit()


def owed(s: ReportsState, cadence: Cadence | None = None) -> list[Reminder]:
    """What this run still sends, in date order: the initial report's (until received), the year's and (given a
    ``cadence``) last year's, still overdue."""
    out = []
    # Once overdue, the initial report is reported as such (status, outstanding) but not notified again each year.
    chased = not s.initial_outstanding and not s.initial_unrecorded
    if s.initial_due is not None and chased and receipt_of(s, INITIAL) is None:
        out += initial_schedule(s.state, s.initial_due, s.reminder_days)
    if receipt_of(s, s.year) is None:
        out += schedule(s.state, s.year, s.reminder_days)
    if cadence is not None:
        out += still_overdue(s, cadence)
    sent = {r.key for r in s.sent}
    return sorted((r for r in out if r.key not in sent), key=lambda r: r.on)


def next_input(inp: ReportsInput, s: ReportsState) -> ReportsInput:
    """The next run's input: the following deadline year, carrying receipts, outstanding years and the log."""
    return inp.model_copy(
        update={
            "year": s.year + 1,
            "received": s.received[-KEEP_RECEIVED:],
            "outstanding": list(s.outstanding),
            "decisions": s.decisions,
            "undeliverable": s.undeliverable[-KEEP_UNDELIVERABLE:],
            "initial_due": s.initial_due if receipt_of(s, INITIAL) is None else None,
            "initial_outstanding": s.initial_outstanding,
            "initial_unrecorded": s.initial_unrecorded and receipt_of(s, INITIAL) is None,
            "ends_on": s.ends_on,
        }
    )
