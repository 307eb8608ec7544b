"""A meeting as its workflow holds it: the input it starts from and the state it shows."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.decisions import DecisionLog
from domain.models import Convention, MeetingPlan, Phase, President
from domain.presidency import MeetingClosed


class MeetingInput(BaseModel):
    convention: Convention
    plan: MeetingPlan
    president: President
    successor: President | None = None
    # The Presidency to tell of changes and of the close; None for a meeting run on its own.
    presidency_id: str | None = None
    # Decision ids applied before this meeting (earlier meetings, earlier terms): a re-sent one applies once.
    applied_ids: list[str] = Field(default_factory=list)
    # The meeting's ledger, asked for each day's interpretation; None: no interpretation is tracked.
    funds_id: str | None = None


class HeldDay(BaseModel):
    date: date
    part: int
    day: int
    # False: no interpretation money by the day's start, so it ran as informal consultations (as at the 9th MSP).
    interpretation: bool = True

    def describe(self) -> str:
        note = "" if self.interpretation else ", informal consultations without interpretation"
        return f"{self.date} (day {self.day}{note})"


class Interpretation(StrEnum):
    REQUESTED = "requested"
    GRANTED = "granted"
    BOOKED = "booked"
    NOT_FUNDED = "not_funded"


class MeetingState(BaseModel):
    convention: Convention
    plan: MeetingPlan
    president: President
    successor: President | None = None
    phase: Phase = Phase.SCHEDULED
    status: str = "scheduled"
    overrun: bool = False
    days_held: list[HeldDay] = Field(default_factory=list)
    # The meeting's decisions; the ids of those applied before it (MeetingInput.applied_ids) as applied.
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    closed: MeetingClosed | None = None
    interpretation: dict[date, Interpretation] = Field(default_factory=dict)

    @property
    def last_day_held(self) -> date | None:
        return self.days_held[-1].date if self.days_held else None
