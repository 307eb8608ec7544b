"""The Coordination Committee's models: its themes and bounds, the decisions it takes, and its state (the rules
are in ``domain/committee.py``, which names all of these too)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from domain.bounds import Day, Name, Reason, Text, Title, Value
from domain.decisions import Decision, DecisionLog
from domain.extensions import Article
from domain.models import Defaults, President
from domain.notifications import DEFAULT_WEBHOOK, KEEP_UNDELIVERABLE, Undeliverable, WebhookName


class Theme(StrEnum):
    """The coordinators' themes: the areas each meeting monitors (seed ¶8), and general status and operation."""

    GENERAL_STATUS = "general-status"
    UNIVERSALISATION = "universalisation"
    STOCKPILES = "stockpile-destruction"
    CLEARANCE = "clearance"
    VICTIM_ASSISTANCE = "victim-assistance"
    COOPERATION = "cooperation"
    TRANSPARENCY = "transparency"
    NATIONAL_IMPLEMENTATION = "national-implementation"

    @property
    def words(self) -> str:
        return _TITLES[self]

    @property
    def terms(self) -> int:
        """How many presidential terms a mandate covers: two years for a main theme, one (renewable) otherwise."""
        return 1 if self in ONE_YEAR else 2


_TITLES = {
    Theme.GENERAL_STATUS: "general status and operation",
    Theme.UNIVERSALISATION: "universalisation",
    Theme.STOCKPILES: "stockpile destruction and retention",
    Theme.CLEARANCE: "clearance and risk reduction education",
    Theme.VICTIM_ASSISTANCE: "victim assistance",
    Theme.COOPERATION: "international cooperation and assistance",
    Theme.TRANSPARENCY: "transparency measures",
    Theme.NATIONAL_IMPLEMENTATION: "national implementation measures",
}
# One renewable year (DOMAIN.md); the six others are two-year mandates.
ONE_YEAR = frozenset({Theme.TRANSPARENCY, Theme.NATIONAL_IMPLEMENTATION})

# Invited to take part (¶14), and called upon to assist: listed apart from the members.
INVITED = ("the Cluster Munition Coalition (CMC)", "the ICRC", "the United Nations (UNODA)")
CALLED_ON = ("the GICHD", "mine action operators")

MAX_SEAT_STATES = 3  # States sharing one theme
MAX_GROUP_MEMBERS = 20
MAX_ATTENDED = 60
MAX_OPEN_MEETINGS = 12
MAX_OPEN_TASKS = 100
KEEP_DONE = 20  # meetings recorded and tasks completed kept across a handover
TASK_LEADS = (14, 3)  # a task's reminders, days before it is due
ESCALATE_TO = ("the President", "the ISU Director")
Number = Annotated[int, Field(ge=1, le=1_000_000)]

# The signal the Presidency sends the committee, with a PresidencyView, at the start of each term and whenever its
# designates change.
PRESIDENCY_CHANGED = "presidency_changed"


class PresidencyView(Value):
    term: int = Field(ge=1)
    president: President
    outgoing: President | None = None
    designates: list[President] = Field(default_factory=list, max_length=5)
    # The meeting that ends the term (its label).
    meeting: str = Field(max_length=20)


# Decisions (Updates on the CommitteeWorkflow).


class Appoint(Decision):
    theme: Theme
    states: list[Name] = Field(min_length=1, max_length=MAX_SEAT_STATES)
    person: Name | None = None


class Renew(Decision):
    theme: Theme


class ScheduleMeeting(Decision):
    on: Day
    agenda: Text


class RecordMeeting(Decision):
    meeting: Number
    attended: list[Name] = Field(min_length=1, max_length=MAX_ATTENDED)
    conclusions: Text


class AssignTask(Decision):
    theme: Theme
    title: Title
    due: Day


class CompleteTask(Decision):
    task: Number
    outcome: Reason | None = None


class AddGroupMember(Decision):
    article: Article
    member: Name


class RemoveGroupMember(Decision):
    article: Article
    member: Name


# State.


class Coordinator(Value):
    theme: Theme
    states: list[str]
    person: str | None = None
    from_term: int
    until_term: int
    reference: str

    def who(self) -> str:
        names = " and ".join(self.states)
        return f"{names} ({self.person})" if self.person else names


class CommitteeMeeting(Value):
    number: int
    on: date
    agenda: str
    term: int
    attended: list[str] = Field(default_factory=list)
    conclusions: str | None = None
    recorded_on: date | None = None


class TaskStatus(StrEnum):
    OPEN = "open"
    OVERDUE = "overdue"
    DONE = "done"


class Task(Value):
    number: int
    theme: Theme
    title: str
    due: date
    assigned_on: date
    status: TaskStatus = TaskStatus.OPEN
    sent: list[str] = Field(default_factory=list)
    completed_on: date | None = None
    outcome: str | None = None


class Notice(Value):
    """A notification the committee owes (an invitation, a renewal notice): sent once, by its key."""

    key: str
    kind: str
    text: str
    due: str = ""


class CommitteeState(BaseModel):
    """Everything a term of the committee needs; its start input, carried whole across continue-as-new."""

    convention: str = "ccm"
    webhook: WebhookName = DEFAULT_WEBHOOK
    defaults: Defaults = Defaults()
    isu_director: Name = "the ISU Director"
    presidency: PresidencyView
    coordinators: list[Coordinator] = Field(default_factory=list, max_length=len(Theme))
    # Themes whose mandate ended at a handover and was neither renewed nor given to new coordinators.
    renewals: list[Theme] = Field(default_factory=list)
    meetings: list[CommitteeMeeting] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    next_meeting: int = 1
    next_task: int = 1
    groups: dict[Article, list[str]] = Field(default_factory=lambda: {a: list[str]() for a in Article})
    notices: list[Notice] = Field(default_factory=list)
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    undeliverable: list[Undeliverable] = Field(default_factory=list, max_length=KEEP_UNDELIVERABLE)

    @property
    def term(self) -> int:
        return self.presidency.term

    def seat(self, theme: Theme) -> Coordinator | None:
        return next((c for c in self.coordinators if c.theme is theme), None)

    def open_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.status is not TaskStatus.DONE]
