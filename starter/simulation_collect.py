"""What an `msp simulate` run did, read back once it is over: handovers, meeting days, documents and deadlines from
the workflows (and what the simulation kept as they ran), notifications from the local receiver's files."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from domain.calendar import local_date
from domain.documents import DocumentState
from domain.meeting import MeetingState
from domain.models import Language
from starter.simulation_report import Deadline, DocumentIssue, Handover, MeetingDay, Sent
from workflows.document import DocumentWorkflow
from workflows.meeting import MeetingWorkflow

if TYPE_CHECKING:
    from starter.simulation import Simulation


async def collect(sim: Simulation, end: date) -> None:
    """What happened, from the workflows and what the simulation kept as they ran."""
    r = sim.result
    s = await sim.presidency_state()
    for t in s.history:
        r.handovers.append(
            Handover(
                day=sim.back(t.handed_over_on),
                meeting=t.meeting,
                outgoing=t.president.state,
                incoming=t.successor.state,
            )
        )
    labels = [*(t.meeting for t in s.history), *([s.meeting.ref.label] if s.meeting_started else [])]
    # Ended workflows answer a query by replaying their history: only those not answered for while they ran.
    asked = [label for label in labels if not _whole(sim.meetings.get(label))]
    answers = await asyncio.gather(
        *(sim.meeting_handle(label).query(MeetingWorkflow.state) for label in asked)
    )
    meetings: dict[str, MeetingState] = {**sim.meetings, **dict(zip(asked, answers, strict=True))}
    for label in labels:
        r.meeting_days += [
            MeetingDay(meeting=label, day=sim.back(d.date), interpretation=d.interpretation)
            for d in meetings[label].days_held
        ]
    # A document issued in every language was answered for as it went: its grants, then its deliveries.
    asked = [d for d in sim.docs if len(sim.issued.get(d, {})) < len(Language) - 1]
    docs = await asyncio.gather(*(sim.docs[d].query(DocumentWorkflow.state) for d in asked))
    states: dict[str, DocumentState] = dict(zip(asked, docs, strict=True))
    for d in sim.scenario.documents:
        issue = DocumentIssue(symbol=d.symbol, meeting=d.meeting, priority=d.priority, due=d.due)
        if d.symbol in sim.docs and d.symbol not in states:
            issue.funded = sim.back(sim.funded[d.symbol])
            issue.issued = sim.back(max(sim.issued[d.symbol].values()))
            issue.late_days = max((issue.issued - d.due).days, 0)
        elif (state := states.get(d.symbol)) is not None:
            granted = [t.granted_at for t in state.translations.values()]
            if all(granted):
                issue.funded = sim.back(max(local_date(g, sim.defaults) for g in granted if g))
            issued = [t.issued_at for t in state.translations.values()]
            if all(issued):
                issue.issued = sim.back(max(local_date(i, sim.defaults) for i in issued if i))
                issue.late_days = max((issue.issued - d.due).days, 0)
        r.documents.append(issue)
        if d.due <= end:
            r.deadlines.append(
                Deadline(
                    day=d.due,
                    what=f"{d.symbol} due",
                    met=issue.issued is not None and issue.issued <= d.due,
                )
            )
    for spec in sim.cfg0.reviews:
        if spec.due.on <= end:
            r.deadlines.append(Deadline(day=spec.due.on, what=f"review {spec.subject} due", met=None))
    r.deadlines.sort(key=lambda x: x.day)


def read_notifications(sim: Simulation, directory: Path) -> None:
    """The notifications the receiver stored, dates moved back."""
    for path in sorted((directory / "notifications").glob("*.json")):
        body = json.loads(path.read_text()).get("body", {})
        due = body.get("due", "")
        sim.result.sent.append(
            Sent(
                kind=str(body.get("kind", "")),
                subject=str(body.get("subject") or body.get("review") or ""),
                due=sim.back_text(str(due)),
                text=sim.back_text(str(body.get("text", ""))),
            )
        )
    sim.result.sent.sort(key=lambda s: (s.due, s.kind, s.subject))


def _whole(m: MeetingState | None) -> bool:
    """Whether a meeting's state, taken late on its last day, holds every day."""
    return m is not None and bool(m.days_held) and m.days_held[-1].date == m.plan.last_day
