"""The Coordination Committee (seed ¶14-17): who sits on it, the coordinators' mandates, its meetings, the tasks it
gives its coordinators, and the membership of its two Analysis Groups (¶15).

Its composition is derived, not typed: the President, the President-designate(s) and the outgoing President come
from the Presidency, which tells the committee at each change (``PresidencyView``); the ISU Director, who assists
the President, from the cycle's configuration. Only the thematic coordinators are appointed, by decision. A mandate
is counted in presidential terms: it covers the term it is given in and, for the six main themes, the next one; it
ends at the handover that closes its last term, and is then flagged for renewal.
"""

from __future__ import annotations

from datetime import date

from domain.committee_models import (
    ESCALATE_TO,
    INVITED,
    KEEP_DONE,
    MAX_GROUP_MEMBERS,
    MAX_OPEN_MEETINGS,
    MAX_OPEN_TASKS,
    ONE_YEAR,
    TASK_LEADS,
    AddGroupMember,
    Appoint,
    AssignTask,
    CommitteeMeeting,
    CommitteeState,
    CompleteTask,
    Coordinator,
    Notice,
    PresidencyView,
    RecordMeeting,
    RemoveGroupMember,
    Renew,
    ScheduleMeeting,
    Task,
    TaskStatus,
    Theme,
)
from domain.decisions import Rejected
from domain.extensions import Article
from domain.models import name_key
from domain.reviews import Reminder, reminders

# Composition.


def members(s: CommitteeState) -> list[tuple[str, str]]:
    """Who sits on the committee, as (role, who): derived from the Presidency, the configuration and the seats."""
    p = s.presidency
    out = [("President", str(p.president)), ("ISU Director, assisting the President", s.isu_director)]
    out += [(f"President-designate {i}", str(d)) for i, d in enumerate(p.designates, start=1)]
    if p.outgoing is not None:
        out.append(("Outgoing President", str(p.outgoing)))
    out += [(f"Coordinator, {c.theme.words}", c.who()) for c in s.coordinators]
    return out


def mandate_text(s: CommitteeState, c: Coordinator) -> str:
    if c.until_term < s.term:
        return f"ended with term {c.until_term}: renewal due"
    last = " (its last)" if c.until_term == s.term else ""
    return f"terms {c.from_term} to {c.until_term}{last}"


def handover(s: CommitteeState, view: PresidencyView) -> CommitteeState:
    """The committee of the next term: the Presidency's new composition, the mandates that end flagged for renewal
    (with a notice), the meetings not yet recorded and the tasks still open carried over."""
    ended = [c.theme for c in s.coordinators if c.until_term < view.term and c.theme not in s.renewals]
    notices = list(s.notices)
    if ended:
        titles = ", ".join(t.words for t in ended)
        notices.append(
            Notice(
                key=f"term-{view.term}:renewal",
                kind="renewal",
                text=f"Coordination Committee, term {view.term} ({view.president}): the mandates of the coordinators "
                f"for {titles} ended at the handover. Renew them (one-year themes) or appoint their coordinators.",
            )
        )
    recorded = [m for m in s.meetings if m.recorded_on is not None][-KEEP_DONE:]
    done = [t for t in s.tasks if t.status is TaskStatus.DONE][-KEEP_DONE:]
    return s.model_copy(
        update={
            "presidency": view,
            "renewals": [*s.renewals, *ended],
            "notices": notices,
            "meetings": recorded + [m for m in s.meetings if m.recorded_on is None],
            "tasks": done + s.open_tasks(),
            "decisions": s.decisions.handed_on(),
        }
    )


# The decisions' rules: each returns what changes (and a summary), or raises Rejected.


def appoint(s: CommitteeState, d: Appoint) -> tuple[Coordinator, str]:
    held = s.seat(d.theme)
    if held is not None and held.until_term >= s.term:
        raise Rejected(
            f"{d.theme.words.capitalize()} has coordinators ({held.who()}) until the end of term {held.until_term}; "
            "appoint the next ones once that mandate has ended."
        )
    keys = [name_key(n) for n in d.states]
    if len(set(keys)) != len(keys):
        raise Rejected("A State is named twice among the coordinators.")
    c = Coordinator(
        theme=d.theme,
        states=list(d.states),
        person=d.person,
        from_term=s.term,
        until_term=s.term + d.theme.terms - 1,
        reference=d.reference,
    )
    years = "two years" if d.theme.terms == 2 else "one year"
    return (
        c,
        f"{c.who()} appointed coordinator for {d.theme.words}, for {years} (to the end of term {c.until_term})",
    )


def renew(s: CommitteeState, d: Renew) -> tuple[Coordinator, str]:
    held = s.seat(d.theme)
    if held is None:
        raise Rejected(f"No one coordinates {d.theme.words}: appoint its coordinators.")
    if d.theme not in ONE_YEAR:
        raise Rejected(
            f"A mandate for {d.theme.words} is for two years and is not renewed: appoint its next coordinators."
        )
    if held.until_term > s.term:
        raise Rejected(
            f"The mandate for {d.theme.words} already runs to the end of term {held.until_term}; it is renewed in "
            "its last term or after it ended."
        )
    c = held.model_copy(update={"until_term": max(held.until_term + 1, s.term), "reference": d.reference})
    return (
        c,
        f"mandate of {c.who()} for {d.theme.words} renewed for one year (to the end of term {c.until_term})",
    )


def seated(s: CommitteeState, c: Coordinator) -> CommitteeState:
    """``s`` with ``c`` in its theme's seat, no longer flagged for renewal."""
    others = [x for x in s.coordinators if x.theme is not c.theme]
    order = list(Theme)
    coordinators = sorted([*others, c], key=lambda x: order.index(x.theme))
    renewals = [t for t in s.renewals if t is not c.theme or c.until_term < s.term]
    return s.model_copy(update={"coordinators": coordinators, "renewals": renewals})


def schedule_meeting(
    s: CommitteeState, d: ScheduleMeeting, today: date
) -> tuple[CommitteeMeeting, Notice, str]:
    if d.on < today:
        raise Rejected(f"A meeting cannot be scheduled on {d.on}, which has passed (today is {today}).")
    if len([m for m in s.meetings if m.recorded_on is None]) >= MAX_OPEN_MEETINGS:
        raise Rejected(
            f"{MAX_OPEN_MEETINGS} meetings wait for their record; record them before scheduling more."
        )
    m = CommitteeMeeting(number=s.next_meeting, on=d.on, agenda=d.agenda, term=s.term)
    who = "; ".join(f"{role}: {name}" for role, name in members(s))
    notice = Notice(
        key=f"meeting-{m.number}:invitation",
        kind="invitation",
        text=f"The Coordination Committee meets on {m.on} (meeting {m.number}). Agenda: {' '.join(m.agenda.split())}"
        f" Members: {who}. Invited: {', '.join(INVITED)}.",
        due=m.on.isoformat(),
    )
    return m, notice, f"meeting {m.number} of the committee scheduled on {m.on}; invitations sent"


def record_meeting(s: CommitteeState, d: RecordMeeting, today: date) -> tuple[CommitteeMeeting, str]:
    m = next((x for x in s.meetings if x.number == d.meeting), None)
    if m is None:
        raise Rejected(f"The committee has no meeting {d.meeting} (scheduled: {_numbers(s.meetings)}).")
    if m.recorded_on is not None:
        raise Rejected(f"Meeting {m.number} was recorded on {m.recorded_on}.")
    if today < m.on:
        raise Rejected(
            f"Meeting {m.number} is on {m.on}: its record is entered once it has met (today is {today})."
        )
    done = m.model_copy(
        update={"attended": list(d.attended), "conclusions": d.conclusions, "recorded_on": today}
    )
    return done, f"record of meeting {m.number} ({m.on}) entered: {len(d.attended)} attended"


def assign_task(s: CommitteeState, d: AssignTask, today: date) -> tuple[Task, str]:
    held = s.seat(d.theme)
    if held is None:
        raise Rejected(
            f"No one coordinates {d.theme.words}: appoint its coordinators before giving them a task."
        )
    if d.due <= today:
        raise Rejected(f"A task is due after today ({today}), not on {d.due}.")
    if len(s.open_tasks()) >= MAX_OPEN_TASKS:
        raise Rejected(f"{MAX_OPEN_TASKS} tasks are open; complete some before assigning more.")
    t = Task(number=s.next_task, theme=d.theme, title=d.title, due=d.due, assigned_on=today)
    return t, f"task {t.number} assigned to {held.who()} ({d.theme.words}), due {d.due}"


def complete_task(s: CommitteeState, d: CompleteTask, today: date) -> tuple[Task, str]:
    t = next((x for x in s.tasks if x.number == d.task), None)
    if t is None:
        raise Rejected(f"The committee has no task {d.task} (open: {_numbers(s.open_tasks())}).")
    if t.status is TaskStatus.DONE:
        raise Rejected(f"Task {t.number} was completed on {t.completed_on}.")
    done = t.model_copy(update={"status": TaskStatus.DONE, "completed_on": today, "outcome": d.outcome})
    late = f", {(today - t.due).days} days late" if today > t.due else ""
    return done, f"task {t.number} ({t.title}) completed{late}"


def add_member(s: CommitteeState, d: AddGroupMember) -> tuple[list[str], str]:
    group = s.groups.get(d.article, [])
    if _find(group, d.member) is not None:
        raise Rejected(f"{d.member} is already in the Article {d.article.value} Analysis Group.")
    if len(group) >= MAX_GROUP_MEMBERS:
        raise Rejected(
            f"The Article {d.article.value} Analysis Group has {MAX_GROUP_MEMBERS} members, the most kept."
        )
    return [*group, d.member], f"{d.member} joins the Article {d.article.value} Analysis Group"


def remove_member(s: CommitteeState, d: RemoveGroupMember) -> tuple[list[str], str]:
    group = s.groups.get(d.article, [])
    name = group_member(s, d.article, d.member)
    return [m for m in group if m != name], f"{name} leaves the Article {d.article.value} Analysis Group"


def group_member(s: CommitteeState, article: Article, name: str) -> str:
    """The member of the article's Analysis Group so named (any case and spacing); Rejected when there is none."""
    group = s.groups.get(article, [])
    found = _find(group, name)
    if found is None:
        listed = ", ".join(group) or "none yet"
        raise Rejected(
            f"{name} is not a member of the Article {article.value} Analysis Group (members: {listed})."
        )
    return found


def _find(group: list[str], name: str) -> str | None:
    return next((m for m in group if name_key(m) == name_key(name)), None)


def _numbers(items: list[CommitteeMeeting] | list[Task]) -> str:
    return ", ".join(str(i.number) for i in items) or "none"


# Tasks: their reminders and escalation follow the reviews' rule.


def task_reminders(t: Task) -> list[Reminder]:
    """The reminders a task owes (not sent; none whose day had passed when it was assigned), then its escalation."""
    every = reminders(
        f"task-{t.number}",
        f"task {t.number} of the Coordination Committee ({t.title}, {t.theme.words})",
        t.due,
        f"by {t.due}",
        TASK_LEADS,
        ESCALATE_TO,
        undone="completed",
    )
    return [r for r in every if r.key not in t.sent and (r.on >= t.assigned_on or r.kind == "escalation")]


def next_reminder(s: CommitteeState) -> tuple[int, Reminder] | None:
    """The earliest reminder any open task owes, with the task's number."""
    owed = [(r.on, t.number, r) for t in s.open_tasks() for r in task_reminders(t)[:1]]
    if not owed:
        return None
    _, number, r = min(owed, key=lambda x: (x[0], x[1]))
    return number, r


def phase(s: CommitteeState) -> str:
    return "meeting_scheduled" if any(m.recorded_on is None for m in s.meetings) else "between_meetings"
