"""What an extension request tells people, in plain sentences: notifications and the answers to decisions."""

from __future__ import annotations

from domain.calendar import describe_months
from domain.extension_rules import who
from domain.extensions import DecisionTaken, ExtensionState, due_by


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
