"""The presidential cycle: terms, designations, the handover on a meeting's last day, the meeting that follows.

A term runs from the last day of one meeting to the last day of the next (seed ¶6).
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.bounds import HEADROOM_YEARS, LATEST, DerivedDay, Value
from domain.calendar import years_later
from domain.decisions import (
    DecideIntersessional,
    DecisionLog,
    Designate,
    Rejected,
    ReplaceDesignate,
    old_shapes,
)
from domain.models import Convention, MeetingKind, MeetingPlan, MeetingRef, Part, Phase, President
from domain.states import check_state

MAX_DESIGNATES = 3
HISTORY_KEPT = 30
# Decision ids kept across a continue-as-new, so a decision re-sent after a handover still applies once.
IDS_KEPT = 500


class Counters(BaseModel):
    """Where the numbering of meetings stands, to name the meeting after this one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    last_msp_number: int = Field(ge=0)
    last_review_conference_number: int = Field(ge=0)
    # The year the last Review Conference ended (its last part), from which the cadence counts.
    last_review_conference_year: int = Field(ge=1990, le=LATEST.year + HEADROOM_YEARS)


class TermRecord(Value):
    term: int
    president: President
    meeting: str
    began_on: date
    handed_over_on: date
    successor: President
    intersessional_next_cycle: bool | None = None


# The signals a meeting sends its Presidency: MEETING_CHANGED with a MeetingView whenever what the Presidency shows
# of it changes, MEETING_CLOSED with a MeetingClosed when it closes.
MEETING_CHANGED = "meeting_changed"
MEETING_CLOSED = "meeting_closed"


class MeetingClosed(Value):
    """Sent by a meeting to its Presidency when it closes."""

    meeting: str
    closed_on: date
    successor_named: President | None = None
    how: str
    # The meeting's decision ids, so a decision re-sent after the handover is recognised as applied.
    decision_ids: list[str] = Field(default_factory=list)


class MeetingView(Value):
    """What the Presidency shows of its meeting; the meeting itself is the source of truth."""

    plan: MeetingPlan
    phase: Phase
    status: str


class PresidencyState(BaseModel):
    """Everything a term needs; carried whole across continue-as-new."""

    convention: Convention
    term: int = Field(default=1, ge=1)
    president: President
    outgoing: President | None = None
    began_on: DerivedDay
    designates: list[President] = Field(default_factory=list, max_length=MAX_DESIGNATES)
    meeting: MeetingPlan
    meeting_phase: Phase = Phase.SCHEDULED
    meeting_status: str = "scheduled"
    meeting_started: bool = False
    counters: Counters
    intersessional_this_cycle: bool | None = None
    intersessional_next_cycle: bool | None = None
    # This term's decisions; the ids of earlier terms' (and their meetings') as applied.
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    history: list[TermRecord] = Field(default_factory=list)
    closed: MeetingClosed | None = None

    _old_shapes = old_shapes("applied_ids")


def _listed(state: PresidencyState, president: President, on: date | None) -> President:
    """The President named, its State as the list of States Parties (on ``on``, by the register's dates) names it."""
    c = state.convention
    listed = c.states_parties if on is None else c.parties_on(on)
    return president.model_copy(update={"state": check_state(president.state, listed, aliases=c.aliases)})


def designate(state: PresidencyState, d: Designate, on: date | None = None) -> tuple[list[President], str]:
    president = _listed(state, d.president, on)
    _not_president(state, president)
    for i, p in enumerate(state.designates, start=1):
        if p.same_state(president):
            raise Rejected(f"{president.state} is already President-designate ({_upcoming(state, i)}).")
    if len(state.designates) >= MAX_DESIGNATES:
        raise Rejected(
            f"Presidents are already designated for the next {MAX_DESIGNATES} meetings; "
            "replace one instead of designating another."
        )
    position = len(state.designates) + 1
    return [*state.designates, president], f"{president} designated for {_upcoming(state, position)}"


def replace_designate(
    state: PresidencyState, d: ReplaceDesignate, on: date | None = None
) -> tuple[list[President], str]:
    if d.position > len(state.designates):
        have = len(state.designates)
        raise Rejected(
            f"There is no President-designate for {_upcoming(state, d.position)} to replace "
            f"({have} designated); designate one instead."
        )
    president = _listed(state, d.president, on)
    _not_president(state, president)
    old = state.designates[d.position - 1]
    if old == president:
        raise Rejected(f"{president} is already President-designate for {_upcoming(state, d.position)}.")
    for i, p in enumerate(state.designates, start=1):
        if i != d.position and p.same_state(president):
            raise Rejected(f"{president.state} is already President-designate ({_upcoming(state, i)}).")
    new = list(state.designates)
    new[d.position - 1] = president
    return new, f"{president} replaces {old} as President-designate for {_upcoming(state, d.position)}"


def decide_intersessional(state: PresidencyState, d: DecideIntersessional) -> tuple[bool, str]:
    if state.intersessional_next_cycle is d.held:
        raise Rejected(f"It is already decided that an intersessional meeting is {_held(d.held)} next cycle.")
    return d.held, f"an intersessional meeting is {_held(d.held)} in the next cycle"


def _held(held: bool) -> str:
    return "held" if held else "not held"


def _not_president(state: PresidencyState, candidate: President) -> None:
    if candidate.same_state(state.president):
        raise Rejected(f"{candidate.state} holds the Presidency now and cannot be its own successor.")


def _upcoming(state: PresidencyState, position: int) -> str:
    """The meeting the President-designate at ``position`` is to preside, by its label ("the 15MSP"), counted on
    provisional dates from the meeting of this term."""
    plan, counters = state.meeting, state.counters
    for _ in range(position):
        counters = advance_counters(counters, plan.ref, plan.last_day)
        plan = provisional_plan(plan, counters, state.convention)
    return f"the {plan.ref.label}"


def next_meeting_ref(counters: Counters, year: int, cadence: int) -> MeetingRef:
    """A Review Conference replaces the MSP once ``cadence`` years have passed since the last one ended."""
    if year - counters.last_review_conference_year >= cadence:
        return MeetingRef(number=counters.last_review_conference_number + 1, kind=MeetingKind.RC)
    return MeetingRef(number=counters.last_msp_number + 1, kind=MeetingKind.MSP)


def advance_counters(counters: Counters, held: MeetingRef, closed_on: date) -> Counters:
    if held.kind is MeetingKind.RC:
        return counters.model_copy(
            update={
                "last_review_conference_number": held.number,
                "last_review_conference_year": closed_on.year,
            }
        )
    return counters.model_copy(update={"last_msp_number": held.number})


def provisional_start(previous: MeetingPlan) -> date:
    """A year after the last part began, on the same weekday: a date to plan with until one is set."""
    began = previous.parts[-1].start
    anniversary = years_later(began, 1)
    return anniversary + timedelta(days=(began.weekday() - anniversary.weekday() + 3) % 7 - 3)


def provisional_plan(previous: MeetingPlan, counters: Counters, convention: Convention) -> MeetingPlan:
    """The meeting after ``previous``, on provisional dates in the default place, until the Presidency decides."""
    start = provisional_start(previous)
    ref = next_meeting_ref(counters, start.year, convention.defaults.review_conference_cadence_years)
    days = convention.defaults.duration_days
    part = Part(
        start=start,
        end=start + timedelta(days=days - 1),
        place=convention.defaults.place,
        provisional=True,
    )
    return MeetingPlan(ref=ref, parts=[part])


def handover(state: PresidencyState, closed: MeetingClosed) -> PresidencyState:
    """The state of the next term, beginning on the day the meeting closed."""
    designates = list(state.designates)
    if closed.successor_named is not None:
        if designates:
            designates[0] = closed.successor_named
        else:
            designates = [closed.successor_named]
    if not designates:
        # The meeting checks this before closing; reaching here means the two disagree.
        raise Rejected("The meeting closed without a President-designate to hand over to.")
    successor, *later = designates
    record = TermRecord(
        term=state.term,
        president=state.president,
        meeting=state.meeting.ref.label,
        began_on=state.began_on,
        handed_over_on=closed.closed_on,
        successor=successor,
        intersessional_next_cycle=state.intersessional_next_cycle,
    )
    counters = advance_counters(state.counters, state.meeting.ref, closed.closed_on)
    plan = provisional_plan(state.meeting, counters, state.convention)
    return PresidencyState(
        convention=state.convention,
        term=state.term + 1,
        president=successor,
        outgoing=state.president,
        began_on=closed.closed_on,
        designates=later,
        meeting=plan,
        counters=counters,
        intersessional_this_cycle=state.intersessional_next_cycle,
        history=[*state.history, record][-HISTORY_KEPT:],
        decisions=state.decisions.handed_on(closed.decision_ids, keep=IDS_KEPT),
    )
