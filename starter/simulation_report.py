"""What `msp simulate` found, in the scenario's dates: the result (JSON as it is), a plain table, and the marks of
the timeline picture (starter/timeline.py)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from starter.cli.common import table as cli_table
from starter.timeline import Mark


class Handover(BaseModel):
    day: date
    meeting: str
    outgoing: str
    incoming: str


class MeetingDay(BaseModel):
    meeting: str
    day: date
    interpretation: bool


class DocumentIssue(BaseModel):
    symbol: str
    meeting: str
    priority: int
    due: date
    # The day its last translation was funded (money granted); None: not all funded by the end of the run.
    funded: date | None = None
    # The day its last language was issued; None: not issued by the end of the run.
    issued: date | None = None
    late_days: int | None = None


class PaymentDone(BaseModel):
    day: date
    state: str
    amount: int
    meeting: str
    outcome: str = ""


class DecisionDone(BaseModel):
    day: date
    kind: str
    outcome: str


class Sent(BaseModel):
    """A notification the receiver recorded (a reminder, an escalation...): what it was about and its due date."""

    kind: str
    subject: str
    due: str
    text: str


class Deadline(BaseModel):
    day: date
    what: str
    # Whether it was met (a document issued by then); None where the simulation cannot say.
    met: bool | None = None


class SimulationResult(BaseModel):
    start: date
    end: date
    handovers: list[Handover] = Field(default_factory=list)
    meeting_days: list[MeetingDay] = Field(default_factory=list)
    documents: list[DocumentIssue] = Field(default_factory=list)
    payments: list[PaymentDone] = Field(default_factory=list)
    decisions: list[DecisionDone] = Field(default_factory=list)
    sent: list[Sent] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def _section(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [f"{title} ({len(rows)})"]
    if not rows:
        return [*lines, "  none", ""]
    lines += ["  " + line for line in cli_table([tuple(r) for r in rows], tuple(header))]
    return [*lines, ""]


def table(r: SimulationResult) -> str:
    """The plain report; the caller escapes it for the terminal."""
    out = [f"simulated {r.start} to {r.end}", ""]
    out += _section(
        "handovers",
        ["DAY", "MEETING", "FROM", "TO"],
        [[str(h.day), h.meeting, h.outgoing, h.incoming] for h in r.handovers],
    )
    out += _section(
        "meeting days",
        ["DAY", "MEETING", "INTERPRETATION"],
        [
            [str(d.day), d.meeting, "yes" if d.interpretation else "NO (informal consultations)"]
            for d in r.meeting_days
        ],
    )
    out += _section(
        "documents",
        ["SYMBOL", "MEETING", "PRIORITY", "DUE", "FUNDED", "ISSUED", "LATE"],
        [
            [
                d.symbol,
                d.meeting,
                str(d.priority),
                str(d.due),
                str(d.funded) if d.funded else "not funded",
                str(d.issued) if d.issued else "not issued",
                f"{d.late_days} days" if d.late_days else ("-" if d.issued else "?"),
            ]
            for d in r.documents
        ],
    )
    out += _section(
        "payments",
        ["DAY", "STATE", "AMOUNT", "MEETING", "OUTCOME"],
        [[str(p.day), p.state, str(p.amount), p.meeting, p.outcome] for p in r.payments],
    )
    out += _section(
        "decisions", ["DAY", "DECISION", "OUTCOME"], [[str(d.day), d.kind, d.outcome] for d in r.decisions]
    )
    out += _section(
        "reminders and escalations sent",
        ["DUE", "KIND", "SUBJECT"],
        [[s.due, s.kind, s.subject] for s in r.sent],
    )
    out += _section(
        "deadlines reached",
        ["DAY", "WHAT", "MET"],
        [[str(d.day), d.what, "-" if d.met is None else ("yes" if d.met else "NO")] for d in r.deadlines],
    )
    out += [f"note: {n}" for n in r.notes]
    return "\n".join(out).rstrip() + "\n"


def marks(r: SimulationResult) -> list[Mark]:
    out = [Mark(day=h.day, kind="handover", label=f"{h.outgoing} to {h.incoming}") for h in r.handovers]
    out += [
        Mark(
            day=d.day,
            kind="meeting",
            label=f"{d.meeting}" + ("" if d.interpretation else ": no interpretation"),
            late=not d.interpretation,
        )
        for d in r.meeting_days
    ]
    out += [
        Mark(
            day=d.issued or d.due,
            kind="document",
            label=f"{d.symbol}" + (f" ({d.late_days} days late)" if d.late_days else ""),
            late=bool(d.late_days) or d.issued is None,
        )
        for d in r.documents
    ]
    out += [Mark(day=p.day, kind="payment", label=f"{p.state} CHF {p.amount}") for p in r.payments]
    out += [Mark(day=d.day, kind="deadline", label=d.what, late=d.met is False) for d in r.deadlines]
    return out
