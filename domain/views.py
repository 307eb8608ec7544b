"""What operators read in the Web UI (current details, markdown) and what `msp status` prints."""

from __future__ import annotations

from domain.decisions import DecisionRecord
from domain.meeting import MeetingState
from domain.models import MeetingPlan, describe_part
from domain.presidency import PresidencyState


def _plan_lines(plan: MeetingPlan) -> list[str]:
    many = len(plan.parts) > 1
    return [
        f"- {'Part ' + str(i) + ': ' if many else ''}{describe_part(p)}"
        + (
            f" (host covering the extra cost: {p.host_covering_extra_cost})"
            if p.host_covering_extra_cost
            else ""
        )
        for i, p in enumerate(plan.parts, start=1)
    ]


def _log_lines(decisions: list[DecisionRecord], last: int = 5) -> list[str]:
    if not decisions:
        return ["_No decisions yet._"]
    return [f"- {d.at:%Y-%m-%d} `{d.decision_id}` {d.summary} ({d.reference})" for d in decisions[-last:]]


def meeting_details(s: MeetingState, waiting_for: str) -> str:
    plan = s.plan
    lines = [
        f"## {plan.ref.title()} ({plan.ref.label})",
        f"**Phase:** {s.status}  ",
        f"**President:** {s.president}  ",
        f"**Successor designated:** {s.successor or 'none yet: the meeting cannot close without one'}",
        "",
        "**Dates**",
        *_plan_lines(plan),
        "",
        f"**Waiting for:** {waiting_for}",
    ]
    if s.days_held:
        lines += ["", "**Days held:** " + ", ".join(f"{d.date} (day {d.day})" for d in s.days_held)]
    if s.closed:
        lines += ["", f"**Closed** on {s.closed.closed_on}, {s.closed.how}."]
    lines += ["", "**Recent decisions**", *_log_lines(s.decisions)]
    return "\n".join(lines)


def presidency_details(s: PresidencyState, waiting_for: str) -> str:
    designates = [f"{i}. {p}" for i, p in enumerate(s.designates, start=1)] or ["none yet"]
    lines = [
        f"## Presidency of the {s.convention.name}, term {s.term}",
        f"**President:** {s.president} since {s.began_on}  ",
        f"**Outgoing President:** {s.outgoing or '-'}  ",
        f"**Meeting:** {s.meeting.ref.title()} ({s.meeting.ref.label}), {s.meeting_status}",
        *_plan_lines(s.meeting),
        "",
        "**Presidents-designate** (one per upcoming meeting)",
        *designates,
        "",
        f"**Intersessional meeting next cycle:** {_yes_no(s.intersessional_next_cycle)}",
        "",
        f"**Waiting for:** {waiting_for}",
        "",
        "**Recent decisions**",
        *_log_lines(s.decisions),
    ]
    if s.history:
        h = s.history[-1]
        lines += [
            "",
            f"**Last handover:** {h.president} to {h.successor} on {h.handed_over_on} ({h.meeting})",
        ]
    return "\n".join(lines)


def _yes_no(value: bool | None) -> str:
    return "not decided" if value is None else ("held" if value else "not held")
