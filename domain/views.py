"""What operators read in the Web UI (current details, markdown) and what `msp status` prints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain import committee
from domain.bounds import Value, md
from domain.calendar import local_text, meeting_days
from domain.committee_models import CALLED_ON, INVITED, CommitteeState, TaskStatus, Theme
from domain.decisions import DecisionLog
from domain.documents import DocumentState, risk_text
from domain.extensions import ExtensionState, describe_months
from domain.funds import LedgerState, arrears, chf
from domain.funds import queue as funds_queue
from domain.meeting import Interpretation, MeetingState
from domain.models import MeetingPlan, describe_part
from domain.notifications import Undeliverable
from domain.presidency import PresidencyState
from domain.queue import place_text
from domain.reports import ReportsState
from domain.reviews import Reminder, ReviewState
from domain.silence import SilenceState, SilenceStatus


def _plan_lines(plan: MeetingPlan) -> list[str]:
    many = len(plan.parts) > 1
    return [
        f"- {'Part ' + str(i) + ': ' if many else ''}{md(describe_part(p))}"
        + (
            f" (host covering the extra cost: {md(p.host_covering_extra_cost)})"
            if p.host_covering_extra_cost
            else ""
        )
        for i, p in enumerate(plan.parts, start=1)
    ]


def _recent_decisions(log: DecisionLog, last: int = 5) -> list[str]:
    """The section of a workflow's latest decisions, after a blank line."""
    lines = [
        f"- {local_text(d.at)}: {md(d.summary)} ({md(d.reference)}; decision {md(d.decision_id)})"
        for d in log.records[-last:]
    ]
    return ["", "**Recent decisions**", *(lines or ["_No decisions yet._"])]


def _next_notification(upcoming: Reminder | None) -> str:
    return f"**Next notification:** {f'{upcoming.kind} on {upcoming.on}' if upcoming else 'none'}"


def undeliverable_lines(records: list[Undeliverable], last: int = 5) -> list[str]:
    """Notifications the webhook refused: when, what, to which target, and what it answered (markdown)."""
    if not records:
        return []
    lines = [
        "",
        f"**Undeliverable notifications ({len(records)})**: the webhook refused them; they are not resent",
    ]
    lines += [
        f"- {local_text(u.at)} {md(u.kind)} to {md(u.webhook)}: {md(u.reason)}" for u in records[-last:]
    ]
    return lines


def meeting_details(s: MeetingState, waiting_for: str) -> str:
    plan = s.plan
    lines = [
        f"## {plan.ref.title()} ({plan.ref.label})",
        f"**Phase:** {s.status}  ",
        f"**President:** {md(s.president)}  ",
        f"**Successor designated:** {md(s.successor) if s.successor else 'none yet: the meeting cannot close without one'}",
        "",
        "**Dates**",
        *_plan_lines(plan),
        "",
        f"**Waiting for:** {md(waiting_for)}",
    ]
    if s.days_held:
        lines += ["", "**Days held:** " + ", ".join(md(d.describe()) for d in s.days_held)]
    lines += ["", "**Interpretation, day by day**", *interpretation_lines(s)]
    if s.closed:
        lines += ["", f"**Closed** on {s.closed.closed_on}, {md(s.closed.how)}."]
    lines += _recent_decisions(s.decisions)
    return "\n".join(lines)


def interpretation_lines(s: MeetingState) -> list[str]:
    """Each day of the meeting: whether its interpretation is funded, and what is missing if not."""
    per_day = chf(s.convention.money.interpretation_per_day)
    words = {
        Interpretation.REQUESTED: f"waiting for money: {per_day} missing",
        Interpretation.GRANTED: "funded",
        Interpretation.BOOKED: "funded and booked",
        Interpretation.NOT_FUNDED: f"not funded ({per_day} missing): informal consultations without interpretation",
    }
    return [
        f"- {day}: " + (words[s.interpretation[day]] if day in s.interpretation else "not yet asked for")
        for day in meeting_days(s.plan)
    ]


def presidency_details(s: PresidencyState, waiting_for: str) -> str:
    designates = [f"{i}. {md(p)}" for i, p in enumerate(s.designates, start=1)] or ["none yet"]
    lines = [
        f"## Presidency of the {s.convention.name}, term {s.term}",
        f"**President:** {md(s.president)} since {s.began_on}  ",
        f"**Outgoing President:** {md(s.outgoing) if s.outgoing else 'none'}  ",
        f"**Meeting:** {s.meeting.ref.title()} ({s.meeting.ref.label}), {s.meeting_status}",
        *_plan_lines(s.meeting),
        "",
        "**Presidents-designate** (one per upcoming meeting)",
        *designates,
        "",
        f"**Intersessional meeting next cycle:** {_yes_no(s.intersessional_next_cycle)}",
        "",
        f"**Waiting for:** {md(waiting_for)}",
        *_recent_decisions(s.decisions),
    ]
    if s.history:
        h = s.history[-1]
        lines += [
            "",
            f"**Last handover:** {md(h.president)} to {md(h.successor)} on {h.handed_over_on} ({md(h.meeting)})",
        ]
    return "\n".join(lines)


def _yes_no(value: bool | None) -> str:
    return "not decided" if value is None else ("held" if value else "not held")


def funds_details(s: LedgerState, today: date) -> str:
    lines = [
        f"## Funds of the {s.meeting}",
        f"**Balance:** {chf(s.balance)}  ",
        f"**Cost estimate:** {chf(s.estimate) if s.estimate is not None else 'not yet adopted'}  ",
        f"**Paid:** {chf(s.payments_total)} in {s.payments_count} payments; **granted:** {chf(s.granted_total)}; "
        f"**released:** {chf(s.released_total)}  ",
        f"**Waiting:** {len(s.pending)} requests for {chf(s.waiting_total)}; **shortfall:** {chf(s.shortfall)}",
        "",
        "**Queue** (granted in this order as money arrives)",
    ]
    queue = funds_queue(s)
    lines += [
        f"{i}. P{r.priority} {chf(r.amount)}: {md(r.purpose)}"
        + (f", needed by {r.needed_by}" if r.needed_by else "")
        for i, r in enumerate(queue[:15], start=1)
    ]
    if len(queue) > 15:
        lines.append(f"... and {len(queue) - 15} more")
    if not queue:
        lines.append("_Nothing waits for money._")
    late = [r for r in s.pending if r.request_id in s.too_late]
    if late:
        lines += ["", "**Too late to fund in time** (still waiting; their requesters were told)"]
        lines += [f"- {md(r.purpose)}: needed by {r.needed_by}" for r in late[:15]]
    if s.surplus:
        lines += ["", "**Surplus invoiced to the host** (a meeting away from Geneva)"]
        lines += [
            f"- {md(inv.host)} ({md(', '.join(inv.places))}): {chf(inv.amount)}, paid {chf(inv.paid)}"
            + (", withdrawn" if inv.withdrawn else f", due {inv.due}")
            for inv in s.surplus.values()
        ]
    if s.participants:
        lines += ["", f"**States not party taking part:** {md(', '.join(s.participants[:15]))}"]
    overdue = [a for a in arrears(s, today) if a.overdue]
    if overdue:
        lines += ["", "**Arrears overdue**"]
        lines += [f"- {md(a.state)}: {chf(a.outstanding)} due {a.due}" for a in overdue[:15]]
    return "\n".join(lines)


def document_details(s: DocumentState) -> str:
    spec = s.spec
    lines = [
        f"## {md(spec.symbol)}: {md(spec.title)}",
        f"For the {md(spec.meeting)}, due {spec.due}; original in {spec.original_language.value}, {spec.pages} "
        f"pages, priority {spec.priority} · **{risk_text(s)}**",
        "",
        "**Translations**",
    ]
    # A list, not a table: the Web UI draws a table's cells without spacing ("waiting for funds2,160").
    for lang, t in s.translations.items():
        status = t.status.value.replace("_", " ") + (f" ({md(t.error)})" if t.error else "")
        ref = f", reference {md(t.job_reference)}" if t.job_reference else ""
        lines.append(f"- **{lang.value}**: {status}, {chf(t.amount)}{ref}")
    lines += ["", f"**Held back by:** {held_back(s)}"]
    lines += ["", "**Log**", *[f"- {line}" for line in s.log[-6:]]]
    return "\n".join(lines)


def held_back(s: DocumentState, name: Callable[[object], str] = md) -> str:
    """What holds a document back, in words: its place in the ledger's queue once the ledger has told it (``name``
    writes the meeting's name: md for markdown, str for a terminal)."""
    waiting = s.waiting_languages
    if not waiting:
        return "nothing: no language waits for money"
    if s.queue is not None:
        return place_text(s.queue, name)
    # A ledger begun before it told places (the patch ledger-tells-queue-places), or one that has not told it yet.
    return (
        f"waiting for the ledger of the {name(s.spec.meeting)} to grant {chf(s.waiting_for_funds)} "
        f"({', '.join(waiting)}): it grants by priority, then in order of request, as money arrives"
    )


def review_details(s: ReviewState) -> str:
    spec = s.spec
    due = spec.due.model_copy(update={"on": s.due}).describe()
    lines = [
        f"## Review: {md(spec.title)}",
        f"**Status:** {s.status.value} · **due** {due} · review number {s.cycle}  ",
        f"**Mandate:** {md(spec.mandate.decided_by)}, {md(spec.mandate.reference)}  ",
        f"**Periodicity:** {md(spec.periodicity.describe()) if spec.periodicity else 'not decided'}",
        "",
        _next_notification(s.upcoming),
        "",
        "**Sent**",
        *([f"- {r.on} {r.kind}" for r in s.sent[-6:]] or ["_nothing yet_"]),
    ]
    if s.history:
        h = s.history[-1]
        lines += ["", f"**Last conclusion** ({h.concluded_on}, {md(h.reference)}): {md(h.outcome)}"]
    lines += undeliverable_lines(s.undeliverable)
    return "\n".join(lines)


def report_details(s: ReportsState) -> str:
    outstanding = ", ".join(f"{y} (covering {y - 1})" for y in s.outstanding) or "none"
    lines = [
        f"## Article 7 reports: {md(s.state)}",
        f"**Status:** {s.status.value} · **watching** the report due {s.deadline} (covering {s.year - 1})  ",
        f"**Outstanding deadline years:** {outstanding}",
        "",
        _next_notification(s.upcoming),
        "",
        "**Last receipts**",
        *(
            [
                f"- {r.year} (covering {r.year - 1}): received {r.received_on}, {md(r.reference)}"
                + (" · late" if r.late else "")
                for r in s.received[-5:]
            ]
            or ["_none yet_"]
        ),
        *undeliverable_lines(s.undeliverable),
    ]
    return "\n".join(lines)


def silence_details(s: SilenceState) -> str:
    """A silence procedure: the proposal, who circulated it, its deadline in Geneva time, who broke silence and why."""
    status = {
        SilenceStatus.OPEN: "open: adopted at the deadline unless a State Party breaks silence",
        SilenceStatus.ADOPTED: "adopted",
        SilenceStatus.NOT_ADOPTED: "not adopted: silence was broken",
        SilenceStatus.WITHDRAWN: "withdrawn by the initiator",
    }[s.status]
    lines = [
        f"## Silence procedure {md(s.procedure_id)}",
        f"**Status:** {status}  ",
        f"**Circulated by:** {md(s.initiator)} ({md(s.reference)})  ",
        f"**Deadline:** {local_text(s.deadline)}  ",
        f"**States Parties:** {len(s.states_parties)}",
        "",
        "**Proposal**",
        "",
        md(s.proposal if len(s.proposal) <= 1500 else s.proposal[:1499] + "…"),
    ]
    if s.broken_by:
        at = f" on {local_text(s.ended_at)}" if s.ended_at else ""
        lines += ["", f"**Silence broken by {md(s.broken_by)}**{at}: {md(s.reason or '')}"]
    if s.concerns:
        if s.delivered:
            told = "told"
        else:
            told = f"not told ({md(s.delivery_error)})" if s.delivery_error else "not yet told"
        lines += ["", f"**Concerns:** {md(s.concerns)} ({told})"]
    lines += undeliverable_lines(s.undeliverable)
    lines += _recent_decisions(s.decisions)
    return "\n".join(lines)


def extension_details(s: ExtensionState) -> str:
    req = s.request
    lines = [
        f"## Extension request: {md(req.state)}, Article {req.article.value}",
        f"**Status:** {s.status.value.replace('_', ' ')} · **deadline** {s.deadline} · "
        f"**requested** {describe_months(req.requested_months)} ({md(req.reference)}, dated {req.submitted_on})  ",
        f"**Before:** the {s.meeting.label} (first day {s.meeting.first_day})"
        + (f", moved from the {s.moved_from.label}: submitted late" if s.moved_from else "")
        + f" · **analysis:** {md(s.group)}, "
        + (f"reported ({md(s.analysis.reference)})" if s.analysis else "pending"),
    ]
    if s.silence:
        lines.append(f"**Under silence procedure** {md(s.silence)}")
    if s.decision:
        d = s.decision
        granted = (
            f"granted {describe_months(d.months or 0)} to {d.new_deadline}" if d.granted else "not granted"
        )
        lines.append(f"**Decision** ({d.on}, {md(d.by)}, {md(d.reference)}): {granted}")
        lines += [f"- benchmark: {md(b)}" for b in d.benchmarks[:10]]
    if s.rejected:
        lines.append(f"**Rejected at submission:** {md(s.rejected)}")
    if s.completed_on:
        lines.append(f"**Completion declared** on {s.completed_on}")
    if s.superseded_by:
        lines.append(f"**Superseded by** {md(s.superseded_by)}")
    lines += [
        "",
        _next_notification(s.upcoming),
        *undeliverable_lines(s.undeliverable),
    ]
    return "\n".join(lines)


class Workload(Value):
    theme: Theme
    coordinators: str
    open: int
    overdue: int
    tasks: list[str]


def workload(s: CommitteeState) -> list[Workload]:
    """Each seat's open tasks (and how many are overdue), seat by seat: the uneven load of ¶17 made visible."""
    out = []
    for c in s.coordinators:
        mine = [t for t in s.open_tasks() if t.theme is c.theme]
        out.append(
            Workload(
                theme=c.theme,
                coordinators=c.who(),
                open=len(mine),
                overdue=sum(t.status is TaskStatus.OVERDUE for t in mine),
                tasks=[
                    f"{t.number}: {t.title} (due {t.due}{', overdue' if t.status is TaskStatus.OVERDUE else ''})"
                    for t in mine
                ],
            )
        )
    return out


def committee_details(s: CommitteeState) -> str:
    """The committee's current details (markdown), for the Web UI."""
    p = s.presidency
    lines = [f"## Coordination Committee, term {p.term} (to the {p.meeting})", "**Members**"]
    lines += [f"- {md(role)}: {md(who)}" for role, who in committee.members(s)]
    lines += [
        "",
        f"**Invited:** {', '.join(INVITED)}  ",
        f"**Called on:** {', '.join(CALLED_ON)}",
        "",
        "**Mandates**",
    ]
    lines += [
        f"- {c.theme.words}: {md(c.who())}, {md(committee.mandate_text(s, c))}" for c in s.coordinators
    ] or ["- none yet"]
    if s.renewals:
        lines += ["", f"**Renewal due:** {', '.join(t.words for t in s.renewals)}"]
    waiting = [m for m in s.meetings if m.recorded_on is None]
    lines += ["", "**Meetings waiting for their record**"]
    lines += [f"- {m.number}: {m.on}, {md(' '.join(m.agenda.split())[:120])}" for m in waiting] or ["- none"]
    lines += ["", "**Open tasks**"]
    lines += [
        f"- {t.number} ({t.theme.words}): {md(t.title)}, due {t.due}{' — overdue' if t.status is TaskStatus.OVERDUE else ''}"
        for t in s.open_tasks()
    ] or ["- none"]
    groups = [
        f"- Article {a.value}: {md(', '.join(g)) or 'no members yet'}" for a, g in sorted(s.groups.items())
    ]
    lines += ["", "**Analysis Groups**", *groups]
    if s.undeliverable:
        lines += ["", f"**Undeliverable notifications:** {len(s.undeliverable)}"]
    return "\n".join(lines)
