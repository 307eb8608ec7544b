"""Decisions of the Presidency, as the `msp` command, the Updates and their validators all see them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.bounds import Day
from domain.bounds import Reference as Reference
from domain.models import MeetingFormat, Name, President

DecisionId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[\w.:/@+-]+$")
]

# The detail of a refusal that is not about the decision itself: the workflow cannot take decisions for a moment
# (the Presidency is being handed over), and the same decision sent again shortly is decided then. `msp` sends it
# again by itself.
SEND_AGAIN = "send-again"


class Decision(BaseModel):
    """What every decision carries: an id (sending it twice applies it once) and the text that adopted it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision_id: DecisionId
    reference: Reference


# Meeting decisions (Updates on the MeetingWorkflow). Each targets the next part that has not begun.


class SetDates(Decision):
    start: Day
    duration_days: int | None = Field(default=None, ge=1, le=10)
    place: Name | None = None
    host_covering_extra_cost: Name | None = None


class Postpone(Decision):
    new_start: Day
    reason: Name | None = None


class ChangeFormat(Decision):
    format: MeetingFormat


class AddPart(Decision):
    """Split the meeting: schedule one more part after the last one."""

    start: Day
    duration_days: int = Field(ge=1, le=10)
    place: Name | None = None
    host_covering_extra_cost: Name | None = None
    format: MeetingFormat = MeetingFormat.IN_PERSON


class ExtendByDay(Decision):
    pass


class CloseMeeting(Decision):
    successor: President | None = None


# Presidency decisions (Updates on the PresidencyWorkflow).


class Designate(Decision):
    """Designate the President of the next meeting that has none yet."""

    president: President


class ReplaceDesignate(Decision):
    """Replace the President-designate for the n-th upcoming meeting (1 = the next one)."""

    position: int = Field(default=1, ge=1, le=5)
    president: President


class DecideIntersessional(Decision):
    held: bool


class DecisionOutcome(BaseModel):
    """What the Presidency is told when a decision is accepted."""

    model_config = ConfigDict(frozen=True)

    decision_id: str
    accepted: bool = True
    summary: str
    duplicate: bool = False


class DecisionRecord(BaseModel):
    """One line of a decision log."""

    model_config = ConfigDict(frozen=True)

    decision_id: str
    kind: str
    reference: str
    summary: str
    at: datetime
