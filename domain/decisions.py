"""Decisions, as the `msp` command, the Updates and their validators all see them: what every decision carries,
the refusal of one (``Rejected``), the answer to one (``DecisionOutcome``) and the log a workflow keeps of them
(``DecisionLog``). The Presidency's and the meeting's decisions are defined here; the others next to their rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.bounds import Day, Name, Value
from domain.bounds import Reference as Reference
from domain.models import MeetingFormat, President


class Rejected(ValueError):
    """A decision that cannot be applied; the message says why, in words a diplomat understands."""


# The type of the error a workflow answers a rejected decision with (workflows.decisions.rejected): `msp`, the
# metrics interceptor and the tests tell a refusal from a failure by it.
DECISION_REJECTED = "DecisionRejected"

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
    # One act may re-date and change the format ("moved on line and re-dated"): both apply, or neither.
    format: MeetingFormat | None = None


class Postpone(Decision):
    new_start: Day
    reason: Name | None = None
    # "Postponed and made hybrid" is one act: the postponed part's format and place change with its dates.
    format: MeetingFormat | None = None
    place: Name | None = None
    host_covering_extra_cost: Name | None = None


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


class DecisionOutcome(Value):
    """What the Presidency is told when a decision is accepted."""

    decision_id: str
    accepted: bool = True
    summary: str
    duplicate: bool = False


class DecisionRecord(Value):
    """One line of a decision log."""

    decision_id: str
    kind: str
    reference: str
    summary: str
    at: datetime


# What a decision log keeps: the last KEEP_RECORDS decisions whole (shown by `msp`, and their outcome is the answer
# to a decision sent again), and the ids of KEEP_IDS more (applied before this run: an earlier term, meeting, cycle
# or year; or records dropped past KEEP_RECORDS), so that a decision sent again is still applied once.
KEEP_RECORDS = 200
KEEP_IDS = 2000


class DecisionLog(BaseModel):
    """The decisions a workflow applied: one shape for every workflow's state, carried across continue-as-new.

    Before it, workflows kept a list of records, a list or set of ids, or both (``decisions``, ``applied_ids``,
    ``log``): a log given in any of those shapes (a list of records and ids, or a set of ids) is read as one.
    """

    # How many of each it keeps (a log that must remember more says so in a subclass: the ledger's).
    keep_records: ClassVar[int] = KEEP_RECORDS
    keep_ids: ClassVar[int] = KEEP_IDS

    records: list[DecisionRecord] = Field(default_factory=list)
    # Ids of decisions applied whose record is not kept here.
    applied: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _old_shapes(cls, data: Any) -> Any:
        if isinstance(data, set | frozenset):
            return {"applied": sorted(data)}  # a set's order differs between processes: sorted, it does not
        if isinstance(data, list | tuple):
            return {
                "records": [e for e in data if not isinstance(e, str)],
                "applied": [e for e in data if isinstance(e, str)],
            }
        return data

    @model_validator(mode="after")
    def _capped(self) -> DecisionLog:
        recorded = {r.decision_id for r in self.records}
        self.applied = [i for i in dict.fromkeys(self.applied) if i not in recorded]
        self._cap()
        return self

    def _cap(self) -> None:
        if len(self.records) > self.keep_records:
            dropped, self.records = self.records[: -self.keep_records], self.records[-self.keep_records :]
            self.applied += [r.decision_id for r in dropped]
        del self.applied[: -self.keep_ids]

    def find(self, decision_id: str) -> DecisionRecord | None:
        return next((r for r in reversed(self.records) if r.decision_id == decision_id), None)

    def repeat(self, decision_id: str, earlier: str = "already applied") -> DecisionOutcome | None:
        """The answer to a decision sent again: a repeat with the first outcome's summary (``earlier`` when only
        its id is kept); None for a decision not applied."""
        if (first := self.find(decision_id)) is not None:
            return DecisionOutcome(decision_id=decision_id, summary=first.summary, duplicate=True)
        if decision_id in self.applied:
            return DecisionOutcome(decision_id=decision_id, summary=earlier, duplicate=True)
        return None

    def __contains__(self, decision_id: object) -> bool:
        return isinstance(decision_id, str) and self.knows(decision_id)

    def knows(self, decision_id: str) -> bool:
        """Whether the decision was applied (or is being applied: ``hold``)."""
        return decision_id in self.applied or self.find(decision_id) is not None

    def hold(self, decision_id: str) -> None:
        """Marks a decision applied before its outcome is known (its handler waits on something), so that the same
        decision sent meanwhile is answered as a repeat; ``add`` then records it."""
        if not self.knows(decision_id):
            self.applied.append(decision_id)

    def add(self, record: DecisionRecord) -> None:
        if record.decision_id in self.applied:
            self.applied.remove(record.decision_id)
        self.records.append(record)
        self._cap()

    def ids(self) -> list[str]:
        """Every decision id applied, the oldest first."""
        return [*self.applied, *(r.decision_id for r in self.records)]

    def handed_on(self, more: Iterable[str] = (), keep: int = KEEP_IDS) -> DecisionLog:
        """The log a next run starts from: the ids of every decision applied (and ``more``), without records."""
        return DecisionLog(applied=[*self.ids(), *more][-keep:])


def old_shapes(*old: str) -> Any:
    """The before-validator of a state that kept its decisions in other fields (``old``) before the DecisionLog:
    ``_old_shapes = old_shapes("applied_ids")`` in its class body (see ``folded``)."""

    def fold(cls: type, data: Any) -> Any:
        return folded(data, *old)

    return model_validator(mode="before")(fold)


def folded(data: Any, *old: str) -> Any:
    """A state as given, with the fields that held its decisions before the DecisionLog (``old``, e.g. ``applied_ids``)
    folded into ``decisions``, which the log's own validator then reads."""
    if not isinstance(data, dict) or not any(name in data for name in old):
        return data
    data = dict(data)
    entries: list[Any] = []
    for part in [data.get("decisions", []), *(data.pop(name) for name in old if name in data)]:
        if isinstance(part, DecisionLog):
            part = part.model_dump()
        if isinstance(part, dict):
            entries += [*part.get("applied", []), *part.get("records", [])]
        else:
            entries += sorted(part) if isinstance(part, set | frozenset) else list(part)
    data["decisions"] = entries
    return data
