"""Extension requests under Article 3 (stockpile destruction) and Article 4 (clearance): the treaty's limits.

A request goes: submitted, analysed by the Analysis Group of its article, decided (at a meeting in session, or
between meetings by silence procedure), then the deadline it leaves is watched until a declaration of completion
or a further request. Here: the request, its state and the decisions on it, and the rules of its submission. The
rules of the decisions are in ``domain.extension_rules``, what the request tells people in ``domain.extension_texts``,
months counted on dates and put in words in ``domain.calendar``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.bounds import (
    MAX_BENCHMARKS,
    Aliases,
    Benchmark,
    Day,
    Instant,
    Name,
    Text,
    Value,
    WorkflowId,
)
from domain.calendar import describe_months as describe_months
from domain.calendar import months_later as months_later
from domain.calendar import years_later
from domain.decisions import Decision, DecisionLog, Reference, Rejected
from domain.models import Defaults, MeetingPlan, StatesList
from domain.notifications import DEFAULT_WEBHOOK, Undeliverable, WebhookName
from domain.reviews import MeetingLabel, Reminder
from domain.roster import Roster
from domain.states import check_state

# The signal an earlier request of the same State gets when a further one is submitted: the new one's workflow id.
SUPERSEDED = "superseded"
# The activity that reads the meeting considering a request (a MeetingLookup), to know whether it is in session.
LOOK_UP_MEETING = "look_up_meeting"


class Article(StrEnum):
    ART3 = "3"
    ART4 = "4"

    @property
    def obligation(self) -> str:
        return "destroy its stockpiles" if self is Article.ART3 else "clear its contaminated areas"


# Years after entry into force for the State (Art. 3(2), Art. 4(1)(a)).
ORIGINAL_YEARS = {Article.ART3: 8, Article.ART4: 10}
# The longest extension one request can obtain (Art. 3(3): up to four years; Art. 4(5): up to five).
MAX_MONTHS = {Article.ART3: 48, Article.ART4: 60}
# A request reaches the ISU at least this many months before the meeting that considers it.
MONTHS_AHEAD = 9
# Reminders before a deadline: two meetings ahead (24), the last moment to be on time for the meeting a year
# before it (15 = 9 months ahead of a meeting 6 months before the deadline), then 12, 6 and 1.
DEADLINE_LEADS_MONTHS = (24, 15, 12, 6, 1)


def original_deadline(article: Article, entry_into_force: date) -> date:
    return years_later(entry_into_force, ORIGINAL_YEARS[article])


class MeetingSlot(BaseModel):
    """A meeting as a request knows it: its label and first day (provisional until the meeting is scheduled)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: MeetingLabel
    first_day: Day


class ExtensionRequest(BaseModel):
    """The request as the State Party submitted it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: Name
    article: Article
    entry_into_force: Day
    # The deadline the request would extend: the original one, or the end of the last extension granted.
    current_deadline: Day
    submitted_on: Day
    # Up to ten years, so that a request over the treaty's limit arrives and is rejected by the rule that says why.
    requested_months: int = Field(ge=1, le=120)
    plan: Text
    # The request's document, e.g. CCM/MSP/2019/4.
    reference: Reference

    @model_validator(mode="after")
    def _dates(self) -> ExtensionRequest:
        if self.current_deadline < original_deadline(self.article, self.entry_into_force):
            raise ValueError(
                f"the deadline {self.current_deadline} is earlier than the one Article {self.article.value} "
                f"sets ({original_deadline(self.article, self.entry_into_force)})"
            )
        return self

    @property
    def requested_until(self) -> date:
        return months_later(self.current_deadline, self.requested_months)


def check_request(
    req: ExtensionRequest,
    meeting: MeetingSlot,
    today: date,
    listed: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> str:
    """The treaty's limits on a request as submitted; raises Rejected naming the rule. Returns the State as the
    list of States Parties names it."""
    state = check_state(req.state, listed, aliases=aliases)
    art = req.article
    if req.submitted_on > today:
        raise Rejected(f"The request cannot be submitted on {req.submitted_on}, a day still to come.")
    if req.requested_months > MAX_MONTHS[art]:
        raise Rejected(
            f"Article {art.value} allows an extension of at most {describe_months(MAX_MONTHS[art])} per request; "
            f"{req.state} asks for {describe_months(req.requested_months)}."
        )
    if art is Article.ART4 and req.submitted_on >= req.current_deadline:
        raise Rejected(
            f"Article 4(5): a request must be submitted before the deadline expires; {req.state}'s deadline "
            f"was {req.current_deadline} and the request is dated {req.submitted_on}."
        )
    if meeting.first_day <= req.submitted_on:
        raise Rejected(
            f"The {meeting.label} opens on {meeting.first_day}, not after the request ({req.submitted_on}): "
            "name a meeting still to come."
        )
    return state


def due_by(meeting: MeetingSlot) -> date:
    """The last day a request can reach the ISU on time for ``meeting``."""
    return months_later(meeting.first_day, -MONTHS_AHEAD)


def is_late(submitted_on: date, meeting: MeetingSlot) -> bool:
    return submitted_on > due_by(meeting)


class Status(StrEnum):
    IN_ANALYSIS = "in_analysis"
    ANALYSED = "analysed"
    UNDER_SILENCE = "under_silence"
    GRANTED = "granted"
    NOT_GRANTED = "not_granted"
    EXPIRED = "expired"
    COMPLETED = "completed"
    SUPERSEDED = "superseded"
    # The request broke a rule of the treaty at submission (sent past `msp`, which checks first).
    REJECTED = "rejected"


OPEN = (Status.IN_ANALYSIS, Status.ANALYSED, Status.UNDER_SILENCE)
WATCHING = (Status.GRANTED, Status.NOT_GRANTED)
ENDED = (Status.COMPLETED, Status.SUPERSEDED, Status.REJECTED)


class Analysis(Decision):
    """The Analysis Group's report on a request."""

    summary: Text
    # What the group recommends the meeting grant; None: it makes no recommendation on the period.
    recommended_months: int | None = Field(default=None, ge=1, le=120)
    # The member of the group who reported, as the Coordination Committee lists its members (`msp` checks it there).
    reported_by: Name | None = None


class Grant(BaseModel):
    """What is proposed or decided: granted for a period with benchmarks, or not granted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    granted: bool
    # The period granted; None: the period requested.
    months: int | None = Field(default=None, ge=1, le=120)
    benchmarks: list[Benchmark] = Field(default_factory=list, max_length=MAX_BENCHMARKS)


class Decide(Grant, Decision):
    """A decision entered while the meeting that considers the request is in session."""


class KeepAtMeeting(Decision):
    """The Presidency keeps a late request at the meeting it was submitted for."""


class DeclareCompletion(Decision):
    completed_on: Day


class ProposeBySilence(Grant, Decision):
    """Puts a decision on the request to a silence procedure between meetings."""

    procedure_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,80}$")]
    initiator: Name
    deadline: Instant
    states_parties: StatesList = Field(min_length=1)
    # The register's other names of a State (alias -> short name): who breaks silence may be named by one.
    aliases: Aliases = Field(default_factory=dict)
    # The register, compact: passed to the procedure (``SilenceInput.roster``).
    roster: Roster | None = None


class MeetingLookup(Value):
    convention: str
    meeting: MeetingLabel


class MeetingSeen(Value):
    """A meeting as its workflow showed it when asked; no plan: its workflow does not exist (yet)."""

    meeting: MeetingLabel
    plan: MeetingPlan | None = None
    closed_on: date | None = None


class DecisionTaken(Value):
    granted: bool
    months: int | None
    new_deadline: date | None
    benchmarks: list[str]
    by: str  # "the 9MSP" or "silence procedure ccm-silence-…"
    reference: str
    on: date


class ExtensionInput(BaseModel):
    convention: str = "ccm"
    request: ExtensionRequest
    # The meeting asked to consider it, and the one after (where a late request goes).
    meeting: MeetingSlot
    next_meeting: MeetingSlot
    # The webhook target notifications go to, by name: the worker knows its URL (a ``webhook_url`` of earlier
    # requests is ignored).
    webhook: WebhookName = DEFAULT_WEBHOOK
    # The workflow of the request this one follows: it stops watching the deadline once this one is submitted.
    previous: WorkflowId | None = None
    # The States Parties (`[states_parties].names`): the State must be one of them; empty: any well-formed name.
    states_parties: StatesList = Field(default_factory=list)
    # The register's other names of a State (alias -> short name): the State may be named by one.
    aliases: Aliases = Field(default_factory=dict)
    defaults: Defaults = Defaults()


class ExtensionState(BaseModel):
    request: ExtensionRequest
    status: Status = Status.IN_ANALYSIS
    group: str = ""
    meeting: MeetingSlot
    late: bool = False
    # The meeting a late request was submitted for, before it moved to the next one.
    moved_from: MeetingSlot | None = None
    analysis: Analysis | None = None
    silence: str | None = None
    silence_log: list[str] = Field(default_factory=list)
    decision: DecisionTaken | None = None
    deadline: date
    completed_on: date | None = None
    superseded_by: str | None = None
    rejected: str | None = None
    sent: list[Reminder] = Field(default_factory=list)
    upcoming: Reminder | None = None
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    # Notifications the webhook refused.
    undeliverable: list[Undeliverable] = Field(default_factory=list)


def analysis_group(article: Article) -> str:
    return f"the Article {article.value} Analysis Group"


def assign(inp: ExtensionInput) -> ExtensionState:
    """The state of a request just submitted: with its Analysis Group, at its meeting or the next one if late."""
    req = inp.request
    late = is_late(req.submitted_on, inp.meeting)
    return ExtensionState(
        request=req,
        group=analysis_group(req.article),
        meeting=inp.next_meeting if late else inp.meeting,
        late=late,
        moved_from=inp.meeting if late else None,
        deadline=req.current_deadline,
    )
