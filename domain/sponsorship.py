"""The Sponsorship Programme of one meeting (seed ¶18-19): donors' money, delegates' applications, the ISU's
grants within the programme's own balance, travel booked, and the report after the meeting.

The balance is the programme's alone, apart from the meeting's ledger (domain/funds.py): contributions less what
is committed to granted delegates' travel. A grant never commits more than the balance; a booking the travel agent
refuses gives its money back. Amounts are whole CHF. A delegate's name is personal data: it is kept in the state
(encrypted with the payload codec) and sent to the travel agent, never put in a summary, a rejection, a log line,
the current details or a search attribute; those name the application by its id and the State.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from domain.bounds import Chf, DerivedDay, Name, Url, Value, md
from domain.decisions import Decision, DecisionId, DecisionLog, Rejected
from domain.funds import chf
from domain.models import Defaults, Sponsorship, name_key
from domain.notifications import DEFAULT_WEBHOOK, Undeliverable, WebhookName

# One delegate's estimated travel, in CHF: a long-haul fare and a week's stay are far below it.
MAX_TRAVEL_CHF = 50_000
TravelCost = Annotated[int, Field(gt=0, le=MAX_TRAVEL_CHF)]
# Per programme (one meeting): far more than the seed's ~40 applications and four donors.
MAX_APPLICATIONS = 400
MAX_CONTRIBUTIONS = 100

# The signal the meeting sends its programme when its dates change or it closes (a MeetingDates).
MEETING_DATES = "meeting_dates"
# The activity that starts a meeting's programme (activities/sponsorship.py), answered with 1 (started) or 0.
START_SPONSORSHIP = "start_sponsorship"
# The activity that books a granted delegate's travel (activities/travel.py), answered with a Receipt.
BOOK_TRAVEL = "book_travel"
# The ApplicationError type of a booking the travel agent refused (HTTP 4xx): the money is released.
REFUSED_BY_AGENT = "TravelRefused"


class Status(StrEnum):
    APPLIED = "applied"
    GRANTED = "granted"  # money committed, travel being booked
    BOOKED = "booked"
    DECLINED = "declined"
    REFUSED_BY_AGENT = "refused-by-agent"  # the booking was refused: money released


COMMITTED = (Status.GRANTED, Status.BOOKED)


class Phase(StrEnum):
    """The programme's phase, as CcmPhase shows it."""

    OPEN = "applications-open"
    CLOSED = "applications-closed"
    REPORTED = "reported"


# Decisions (Updates on the SponsorshipWorkflow).


class Contribute(Decision):
    """A donor's contribution received, for the year: a payment into the programme's balance."""

    donor: Name
    amount: Chf


class Apply(Decision):
    """A delegate's application; its decision id is the application's id."""

    state: Name
    delegate: Name
    function: Name
    travel_cost: TravelCost


class Grant(Decision):
    application: DecisionId


class Decline(Decision):
    application: DecisionId
    reason: Name | None = None


class AppointCoordinator(Decision):
    """The Presidency appoints a coordinator for the programme (¶19); they receive its notifications."""

    coordinator: Name
    webhook: WebhookName = DEFAULT_WEBHOOK


# State.


class Contribution(Value):
    decision_id: str
    donor: str
    amount: int


class Application(BaseModel):
    id: str
    state: str
    delegate: str
    function: str
    travel_cost: int
    applied_on: date
    status: Status = Status.APPLIED
    booking: str | None = None  # the travel agent's reference
    note: str = ""


class Coordinator(Value):
    name: str
    webhook: str
    appointed_on: date


class MeetingDates(Value):
    """What the meeting tells its programme: its first and last days as they are now, and when it closed."""

    meeting: str
    first_day: DerivedDay
    last_day: DerivedDay
    closed_on: date | None = None


class Report(Value):
    """After the meeting, as the seed gives its figures (¶18)."""

    meeting: str
    delegates: int
    states: list[str]
    donors: list[str]
    contributed: int
    spent: int
    carried_over: int
    applications: int
    declined: int
    refused_by_agent: int


class TravelBooking(Value):
    """What the travel agent is asked to book; the idempotency key is the programme's and the application's."""

    base_url: Url
    idempotency_key: str
    meeting: str
    application: str
    state: str
    delegate: str
    function: str
    travel_cost: int
    arrive_by: date
    leave_after: date


class SponsorshipState(BaseModel):
    """The programme's whole state, and its start input (from the meeting's workflow)."""

    convention: str
    meeting: str
    first_day: DerivedDay
    last_day: DerivedDay
    closed_on: date | None = None
    defaults: Defaults = Defaults()
    rules: Sponsorship = Sponsorship()
    travel_agent_url: Url = "http://127.0.0.1:7299"
    contributions: list[Contribution] = Field(default_factory=list)
    applications: list[Application] = Field(default_factory=list)
    coordinator: Coordinator | None = None
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    # The closing day of applications the coordinator was last told of.
    closing_told: date | None = None
    report: Report | None = None
    undeliverable: list[Undeliverable] = Field(default_factory=list)

    @property
    def contributed(self) -> int:
        return sum(c.amount for c in self.contributions)

    @property
    def committed(self) -> int:
        return sum(a.travel_cost for a in self.applications if a.status in COMMITTED)

    @property
    def balance(self) -> int:
        return self.contributed - self.committed

    @property
    def closes_on(self) -> date:
        """The first day applications are no longer taken: ``close_weeks`` before the meeting's first day."""
        return self.first_day - timedelta(weeks=self.rules.close_weeks)

    def phase(self, today: date) -> Phase:
        if self.report is not None:
            return Phase.REPORTED
        return Phase.OPEN if today < self.closes_on else Phase.CLOSED

    def find(self, application: str) -> Application:
        found = next((a for a in self.applications if a.id == application), None)
        if found is None:
            raise Rejected(f"No application {application} in the programme of the {self.meeting}.")
        return found

    def to_book(self) -> list[Application]:
        return [a for a in self.applications if a.status is Status.GRANTED and a.booking is None]

    def count(self, status: Status) -> int:
        return sum(1 for a in self.applications if a.status is status)


# The rules. Each checks a decision against the state and returns what it changes and its summary, or raises
# Rejected; the workflow's validator and handler both run them.


def _open(s: SponsorshipState) -> None:
    if s.report is not None:
        raise Rejected(
            f"The programme of the {s.meeting} has ended with its report; nothing more is recorded."
        )


def contribute(s: SponsorshipState, d: Contribute) -> tuple[Contribution, str]:
    _open(s)
    if len(s.contributions) >= MAX_CONTRIBUTIONS:
        raise Rejected(f"The programme of the {s.meeting} holds at most {MAX_CONTRIBUTIONS} contributions.")
    c = Contribution(decision_id=d.decision_id, donor=d.donor, amount=d.amount)
    return c, f"contribution of {chf(d.amount)} from {d.donor}; balance {chf(s.balance + d.amount)}"


def apply(s: SponsorshipState, d: Apply, today: date) -> tuple[Application, str]:
    _open(s)
    if today >= s.closes_on:
        raise Rejected(
            f"Applications for the {s.meeting} closed on {s.closes_on}, {s.rules.close_weeks} weeks before its "
            f"first day ({s.first_day})."
        )
    if len(s.applications) >= MAX_APPLICATIONS:
        raise Rejected(f"The programme of the {s.meeting} takes at most {MAX_APPLICATIONS} applications.")
    same = next(
        (
            a
            for a in s.applications
            if name_key(a.delegate) == name_key(d.delegate) and name_key(a.state) == name_key(d.state)
        ),
        None,
    )
    if same is not None:
        raise Rejected(f"This delegate of {d.state} has applied already: application {same.id}.")
    a = Application(
        id=d.decision_id,
        state=d.state,
        delegate=d.delegate,
        function=d.function,
        travel_cost=d.travel_cost,
        applied_on=today,
    )
    return a, f"application {a.id} from {d.state} ({d.function}), travel estimated at {chf(d.travel_cost)}"


def _undecided(s: SponsorshipState, application: str, doing: str) -> Application:
    a = s.find(application)
    if a.status is not Status.APPLIED:
        raise Rejected(f"Application {a.id} from {a.state} is {a.status.value}: it cannot be {doing}.")
    return a


def waiting_states(s: SponsorshipState) -> list[str]:
    """Applying States with no sponsored delegate yet (an application still undecided, none granted)."""
    served = {name_key(a.state) for a in s.applications if a.status in COMMITTED}
    waiting: dict[str, str] = {}
    for a in s.applications:
        if a.status is Status.APPLIED and name_key(a.state) not in served:
            waiting.setdefault(name_key(a.state), a.state)
    return list(waiting.values())


def grant(s: SponsorshipState, d: Grant) -> tuple[str, str]:
    """The application to grant and the summary; never more than the balance, and (with ``one_per_state_first``)
    no State's second delegate while another applying State has none."""
    _open(s)
    a = _undecided(s, d.application, "granted")
    if a.travel_cost > s.balance:
        raise Rejected(
            f"Granting application {a.id} ({a.state}) would commit {chf(a.travel_cost)}; the programme's balance "
            f"is {chf(s.balance)}."
        )
    if (
        s.rules.one_per_state_first
        and any(name_key(b.state) == name_key(a.state) and b.status in COMMITTED for b in s.applications)
        and (waiting := waiting_states(s))
    ):
        shown = ", ".join(waiting[:3]) + (f" and {len(waiting) - 3} more" if len(waiting) > 3 else "")
        raise Rejected(
            f"{a.state} has a sponsored delegate already, and {shown} none yet: one delegate per State until "
            "every applying State has one (grant theirs, or decline them, first)."
        )
    return a.id, (
        f"application {a.id} granted: {a.state}, {chf(a.travel_cost)} committed; "
        f"balance {chf(s.balance - a.travel_cost)}"
    )


def decline(s: SponsorshipState, d: Decline) -> tuple[str, str]:
    _open(s)
    a = _undecided(s, d.application, "declined")
    return a.id, f"application {a.id} from {a.state} declined" + (f": {d.reason}" if d.reason else "")


def appoint(s: SponsorshipState, d: AppointCoordinator, today: date) -> tuple[Coordinator, str]:
    _open(s)
    c = Coordinator(name=d.coordinator, webhook=d.webhook, appointed_on=today)
    return c, f"a coordinator appointed for the programme of the {s.meeting} (notified at `{d.webhook}`)"


def set_status(s: SponsorshipState, application: str, status: Status, booking: str | None, note: str) -> None:
    a = s.find(application)
    a.status, a.booking, a.note = status, booking, note


def report(s: SponsorshipState) -> Report:
    booked = [a for a in s.applications if a.status is Status.BOOKED]
    spent = sum(a.travel_cost for a in booked)
    return Report(
        meeting=s.meeting,
        delegates=len(booked),
        states=sorted({a.state for a in booked}, key=name_key),
        donors=sorted({c.donor for c in s.contributions}, key=name_key),
        contributed=s.contributed,
        spent=spent,
        carried_over=s.contributed - spent,
        applications=len(s.applications),
        declined=s.count(Status.DECLINED),
        refused_by_agent=s.count(Status.REFUSED_BY_AGENT),
    )


def report_text(r: Report) -> str:
    """The report in one paragraph, as the seed gives its figures."""
    return (
        f"Sponsorship Programme of the {r.meeting}: {r.delegates} delegates sponsored from {len(r.states)} States; "
        f"{chf(r.contributed)} from {len(r.donors)} donors; {chf(r.spent)} spent; {chf(r.carried_over)} carried "
        f"over. {r.applications} applications, {r.declined} declined, {r.refused_by_agent} refused by the travel "
        "agent."
    )


def by_state(s: SponsorshipState) -> list[tuple[str, int, int]]:
    """Per applying State: applications and delegates sponsored (granted or booked), in the order they applied."""
    apps: Counter[str] = Counter()
    sponsored: Counter[str] = Counter()
    names: dict[str, str] = {}
    for a in s.applications:
        key = name_key(a.state)
        names.setdefault(key, a.state)
        apps[key] += 1
        sponsored[key] += a.status in COMMITTED
    return [(names[k], apps[k], sponsored[k]) for k in names]


def details(s: SponsorshipState, today: date, waiting_for: str) -> str:
    """Current details (markdown): figures and States, never a delegate's name."""
    r = s.report
    lines = [
        f"## Sponsorship Programme of the {md(s.meeting)}",
        f"**Phase:** {s.phase(today).value}; applications close on {s.closes_on} "
        f"({s.rules.close_weeks} weeks before the first day, {s.first_day})  ",
        f"**Balance:** {chf(s.balance)} of {chf(s.contributed)} from {len(s.contributions)} contributions  ",
        f"**Applications:** {len(s.applications)}: {s.count(Status.APPLIED)} undecided, "
        f"{s.count(Status.GRANTED)} being booked, {s.count(Status.BOOKED)} booked, {s.count(Status.DECLINED)} "
        f"declined, {s.count(Status.REFUSED_BY_AGENT)} refused by the travel agent  ",
        f"**Coordinator:** {'appointed on ' + str(s.coordinator.appointed_on) if s.coordinator else 'none'}  ",
        f"**Waiting for:** {md(waiting_for)}",
    ]
    if r is not None:
        lines += [
            "",
            f"**Report:** {md(report_text(r))}",
            f"States represented: {md(', '.join(r.states)) or 'none'}",
        ]
    rows = by_state(s)
    if rows:
        lines += ["", "**By State** (applications, sponsored)"]
        lines += [f"- {md(state)}: {n}, {k}" for state, n, k in rows[:30]]
        if len(rows) > 30:
            lines.append(f"... and {len(rows) - 30} more")
    return "\n".join(lines)
