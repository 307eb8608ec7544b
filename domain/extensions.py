"""Extension requests under Article 3 (stockpile destruction) and Article 4 (clearance): the treaty's limits.

A request goes: submitted, analysed by the Analysis Group of its article, decided (at a meeting in session, or
between meetings by silence procedure), then the deadline it leaves is watched until a declaration of completion
or a further request.
"""

from __future__ import annotations

import calendar as cal
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.bounds import (
    MAX_BENCHMARKS,
    TEXT_MAX,
    Benchmark,
    Day,
    Instant,
    Name,
    Text,
    WorkflowId,
)
from domain.calendar import clock, years_later
from domain.decisions import DecisionId, Reference
from domain.meeting_rules import Rejected
from domain.models import Defaults, MeetingPlan, Phase, StatesList, state_slug
from domain.notifications import DEFAULT_WEBHOOK, Undeliverable, WebhookName
from domain.reviews import MeetingLabel, Reminder
from domain.states import check_state


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


def months_later(day: date, months: int) -> date:
    """The same day ``months`` on (or back, when negative); the 31st becomes the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, cal.monthrange(year, month)[1]))


def describe_months(months: int) -> str:
    years, rest = divmod(months, 12)
    parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
    if rest:
        parts.append(f"{rest} month{'s' if rest != 1 else ''}")
    return " and ".join(parts) or "0 months"


def original_deadline(article: Article, entry_into_force: date) -> date:
    return years_later(entry_into_force, ORIGINAL_YEARS[article])


def extension_id(code: str, article: Article, state: str, year: int) -> str:
    return f"{code}-extension-art{article.value}-{state_slug(state)}-{year}"


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
    req: ExtensionRequest, meeting: MeetingSlot, today: date, listed: Sequence[str] = ()
) -> str:
    """The treaty's limits on a request as submitted; raises Rejected naming the rule. Returns the State as the
    list of States Parties names it."""
    state = check_state(req.state, listed)
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


class Analysis(BaseModel):
    """The Analysis Group's report on a request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision_id: DecisionId
    reference: Reference
    summary: Text
    # What the group recommends the meeting grant; None: it makes no recommendation on the period.
    recommended_months: int | None = Field(default=None, ge=1, le=120)


class Grant(BaseModel):
    """What is proposed or decided: granted for a period with benchmarks, or not granted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    granted: bool
    # The period granted; None: the period requested.
    months: int | None = Field(default=None, ge=1, le=120)
    benchmarks: list[Benchmark] = Field(default_factory=list, max_length=MAX_BENCHMARKS)


class Decide(Grant):
    """A decision entered while the meeting that considers the request is in session."""

    decision_id: DecisionId
    reference: Reference


class KeepAtMeeting(BaseModel):
    """The Presidency keeps a late request at the meeting it was submitted for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision_id: DecisionId
    reference: Reference


class DeclareCompletion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    decision_id: DecisionId
    reference: Reference
    completed_on: Day


class ProposeBySilence(Grant):
    """Puts a decision on the request to a silence procedure between meetings."""

    decision_id: DecisionId
    reference: Reference
    procedure_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,80}$")]
    initiator: Name
    deadline: Instant
    states_parties: StatesList = Field(min_length=1)


class MeetingLookup(BaseModel):
    model_config = ConfigDict(frozen=True)

    convention: str
    meeting: MeetingLabel


class MeetingSeen(BaseModel):
    """A meeting as its workflow showed it when asked; no plan: its workflow does not exist (yet)."""

    model_config = ConfigDict(frozen=True)

    meeting: MeetingLabel
    plan: MeetingPlan | None = None
    closed_on: date | None = None


class DecisionTaken(BaseModel):
    model_config = ConfigDict(frozen=True)

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
    decisions: list[str] = Field(default_factory=list)
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


def check_analysis(s: ExtensionState, a: Analysis) -> None:
    if s.status not in (Status.IN_ANALYSIS, Status.ANALYSED):
        raise Rejected(f"The request is {_status_text(s)}: an analysis comes before the decision.")
    if a.recommended_months is not None:
        _within_limits(s, a.recommended_months, "recommend")


def check_keep(s: ExtensionState, today: date) -> None:
    if s.moved_from is None:
        raise Rejected(f"The request was on time for the {s.meeting.label}: it has not been moved.")
    if s.status not in OPEN:
        raise Rejected(f"The request is {_status_text(s)} already.")
    if s.moved_from.first_day < today:
        raise Rejected(
            f"The {s.moved_from.label} opened on {s.moved_from.first_day}: it is too late to keep it there."
        )


def check_decide(s: ExtensionState, d: Decide) -> None:
    """A decision at the meeting, before the meeting itself is looked at; raises Rejected naming the rule."""
    _decidable(s, d)


def check_in_session(s: ExtensionState, seen: MeetingSeen, now: datetime, defaults: Defaults) -> None:
    """The meeting that considers the request sits now: only then is a decision entered there."""
    if seen.plan is not None and seen.closed_on is None:
        if clock(seen.plan, now, defaults).phase is Phase.IN_SESSION:
            return
        where = (
            f"{clock(seen.plan, now, defaults).phase.value.replace('_', ' ')}: {seen.plan.describe_dates()}"
        )
    elif seen.closed_on is not None:
        where = f"it closed on {seen.closed_on}"
    else:
        where = f"it has not been convened yet; first day expected {s.meeting.first_day}"
    raise Rejected(
        f"The {s.meeting.label} is not in session ({where}). A decision on the request is entered while the "
        "meeting that considers it sits, or taken between meetings by silence procedure."
    )


def check_silence(s: ExtensionState, p: ProposeBySilence, now: datetime) -> None:
    _decidable(s, p)
    if p.deadline <= now:
        raise Rejected(f"The deadline of a silence procedure must be still to come, not {p.deadline}.")
    if (length := len(silence_proposal(s, p)) + 1) > TEXT_MAX:
        raise Rejected(
            f"The proposal would run to {length:,} characters, more than the {TEXT_MAX:,} a silence procedure "
            "circulates: shorten the benchmarks."
        )


def _decidable(s: ExtensionState, g: Grant) -> None:
    if s.status is Status.IN_ANALYSIS:
        raise Rejected(
            f"{s.group[:1].upper()}{s.group[1:]} has not reported on this request yet: the decision comes after its "
            "analysis (msp extensions analyse)."
        )
    if s.status is Status.UNDER_SILENCE:
        raise Rejected(f"The request is under silence procedure {s.silence}: wait for its outcome.")
    if s.status is not Status.ANALYSED:
        raise Rejected(f"The request is {_status_text(s)} already.")
    if g.granted:
        months = g.months or s.request.requested_months
        _within_limits(s, months, "grant")
    elif g.months is not None or g.benchmarks:
        raise Rejected("A request not granted has no period and no benchmarks.")


def _within_limits(s: ExtensionState, months: int, verb: str) -> None:
    art = s.request.article
    if months > MAX_MONTHS[art]:
        raise Rejected(
            f"Article {art.value} allows an extension of at most {describe_months(MAX_MONTHS[art])}; "
            f"cannot {verb} {describe_months(months)}."
        )
    if months > s.request.requested_months:
        raise Rejected(
            f"{s.request.state} asked for {describe_months(s.request.requested_months)}: the meeting may grant "
            f"a shorter period, not a longer one ({describe_months(months)})."
        )


def taken(s: ExtensionState, g: Grant, by: str, reference: str, on: date) -> DecisionTaken:
    months = (g.months or s.request.requested_months) if g.granted else None
    return DecisionTaken(
        granted=g.granted,
        months=months,
        new_deadline=months_later(s.request.current_deadline, months) if months else None,
        benchmarks=list(g.benchmarks),
        by=by,
        reference=reference,
        on=on,
    )


def check_completion(s: ExtensionState, c: DeclareCompletion, today: date) -> None:
    if s.status in ENDED:
        raise Rejected(f"The request is {_status_text(s)} already.")
    if c.completed_on > today:
        raise Rejected(f"Completion cannot be declared for {c.completed_on}, a day still to come.")


def deadline_reminders(s: ExtensionState, after: date | None = None) -> list[Reminder]:
    """Reminders before the deadline in force, then the notice that it has passed; keys make each one once."""
    req, deadline = s.request, s.deadline
    what = f"{req.state}'s deadline under Article {req.article.value} to {req.article.obligation}"
    out = [
        Reminder(
            key=f"deadline:{deadline}:{lead}m",
            on=months_later(deadline, -lead),
            kind="deadline-reminder",
            text=f"{what} is {deadline}, in {describe_months(lead)}. A further request must reach the ISU at "
            f"least {MONTHS_AHEAD} months before the meeting that considers it"
            + (", and before the deadline." if req.article is Article.ART4 else "."),
        )
        for lead in DEADLINE_LEADS_MONTHS
    ]
    out.append(
        Reminder(
            key=f"deadline:{deadline}:passed",
            on=deadline,
            kind="deadline-passed",
            text=f"{what} ({deadline}) has passed without a declaration of completion.",
        )
    )
    return [r for r in out if after is None or r.on >= after]


def _status_text(s: ExtensionState) -> str:
    return s.status.value.replace("_", " ")


# What the request tells people (notifications, decision summaries), in plain sentences.


def who(req: ExtensionRequest) -> str:
    return f"{req.state} (Article {req.article.value})"


def submitted_text(s: ExtensionState) -> str:
    req = s.request
    text = (
        f"Extension request received from {who(req)}, dated {req.submitted_on}: "
        f"{describe_months(req.requested_months)} beyond {req.current_deadline} "
        f"({req.reference}). Assigned to {s.group}"
    )
    if s.late and s.moved_from is not None:
        return text + (
            f". LATE: it reached the ISU after {due_by(s.moved_from)}, nine months before the "
            f"{s.moved_from.label}; it goes to the {s.meeting.label} unless the Presidency decides otherwise."
        )
    return text + f", for the {s.meeting.label} ({s.meeting.first_day})."


def silence_proposal(s: ExtensionState, g: Grant) -> str:
    """What a silence procedure on the request proposes (without the final full stop)."""
    what = "grant " + describe_months(g.months or s.request.requested_months) if g.granted else "not grant"
    proposal = f"To {what} the extension requested by {who(s.request)} ({s.request.reference})"
    if g.benchmarks:
        proposal += ", with benchmarks: " + "; ".join(g.benchmarks)
    return proposal


def decided_summary(s: ExtensionState, t: DecisionTaken) -> str:
    """The Presidency's answer when the decision is accepted."""
    if t.granted:
        return (
            f"extension granted to {who(s.request)} for {describe_months(t.months or 0)} by {t.by}: "
            f"new deadline {t.new_deadline}"
        )
    return f"extension not granted to {who(s.request)} by {t.by}; the deadline stays {s.deadline}"


def decided_text(s: ExtensionState, t: DecisionTaken) -> str:
    """The notification of a decision taken, at the meeting or by silence procedure."""
    if not t.granted:
        return f"Extension not granted to {who(s.request)} by {t.by} ({t.reference}); the deadline stays {s.deadline}."
    text = (
        f"Extension granted to {who(s.request)} by {t.by} ({t.reference}): "
        f"{describe_months(t.months or 0)}, new deadline {t.new_deadline}"
    )
    return text + (f"; benchmarks: {'; '.join(t.benchmarks)}." if t.benchmarks else ".")


def silence_broken_text(s: ExtensionState, procedure: str, broken_by: str | None, reason: str | None) -> str:
    return (
        f"Silence procedure {procedure} on the request of {who(s.request)} was not adopted: silence broken by "
        f"{broken_by}: {reason}. The request awaits a decision of the {s.meeting.label}."
    )
