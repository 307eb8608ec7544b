"""CommitteeWorkflow: the Coordination Committee (`ccm-committee`), one run per presidential term.

The Presidency tells it, by signal, who presides and who is designated at the start of each term and after each
change (a minute after, at most); a term later than its own is the handover: the committee flags the mandates
that end and continues as new.
"""

from __future__ import annotations

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import committee as rules
    from domain import committee_models as cm
    from domain import search_attributes as sa
    from domain.calendar import local_date
    from domain.notifications import Notification
    from domain.reviews import Reminder
    from domain.views import committee_details
    from workflows.common import (
        FAIL_ON_INVALID_INPUT,
        attention,
        notify,
        reminder_due,
        signal_payload,
        start_input,
        upsert_changed,
    )
    from workflows.decisions import Rule, Shows, decision


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class CommitteeWorkflow(Shows[cm.CommitteeState]):
    @workflow.init
    def __init__(self, state: cm.CommitteeState) -> None:
        super().__init__(start_input(state, cm.CommitteeState), earlier="applied in an earlier term")
        # The Presidency of the next term, once it has told: the handover.
        self.next_term: cm.PresidencyView | None = None

    @workflow.run
    async def run(self, state: cm.CommitteeState) -> None:
        self._refresh()
        while self.next_term is None and not workflow.info().is_continue_as_new_suggested():
            if self.s.notices:
                await self._send_notice(self.s.notices[0])
                continue
            changed = self._since(self.version)
            due = rules.next_reminder(self.s)
            if due is None:
                await workflow.wait_condition(changed)
                continue
            number, reminder = due
            if await reminder_due(reminder, self.s.defaults, changed):
                await self._remind(number, reminder)
        await workflow.wait_condition(workflow.all_handlers_finished)
        nxt = self.s if self.next_term is None else rules.handover(self.s, self.next_term)
        workflow.continue_as_new(nxt)

    async def _send_notice(self, n: cm.Notice) -> None:
        await self._notify(n.key, n.kind, n.text, n.due)
        self.s.notices = [x for x in self.s.notices if x.key != n.key]
        self._refresh()

    async def _remind(self, number: int, r: Reminder) -> None:
        task = next(t for t in self.s.tasks if t.number == number)
        await self._notify(r.key, r.kind, r.text, task.due.isoformat())
        # The task may have been completed while the reminder was on its way: its status then stands.
        task = next(t for t in self.s.tasks if t.number == number)
        status = (
            cm.TaskStatus.OVERDUE
            if r.kind == "escalation" and task.status is cm.TaskStatus.OPEN
            else task.status
        )
        self._put_task(task.model_copy(update={"sent": [*task.sent, r.key], "status": status}))
        self._refresh()

    async def _notify(self, key: str, kind: str, text: str, due: str) -> None:
        note = Notification(
            webhook=self.s.webhook,
            idempotency_key=f"{workflow.info().workflow_id}:{key}",
            text=text,
            kind=kind,
            due=due,
            subject="coordination-committee",
        )
        await notify(note, f"{kind}: Coordination Committee", self.s.undeliverable)

    # What the Presidency tells.

    @workflow.signal(name=cm.PRESIDENCY_CHANGED)
    def presidency_changed(self, view: cm.PresidencyView) -> None:
        if not signal_payload(view, cm.PresidencyView, cm.PRESIDENCY_CHANGED):
            return
        if view.term == self.s.term:
            self.s.presidency = view
        elif view.term > self.s.term and (self.next_term is None or view.term >= self.next_term.term):
            self.next_term = view
        self._changed()

    # Decisions.

    @decision
    def appoint(self, d: cm.Appoint) -> Rule[tuple[cm.Coordinator, str]]:
        return Rule(lambda: rules.appoint(self.s, d), self._seat)

    @decision
    def renew(self, d: cm.Renew) -> Rule[tuple[cm.Coordinator, str]]:
        return Rule(lambda: rules.renew(self.s, d), self._seat)

    @decision
    def schedule_meeting(self, d: cm.ScheduleMeeting) -> Rule[tuple[cm.CommitteeMeeting, cm.Notice, str]]:
        return Rule(lambda: rules.schedule_meeting(self.s, d, self._today()), self._scheduled)

    @decision
    def record_meeting(self, d: cm.RecordMeeting) -> Rule[tuple[cm.CommitteeMeeting, str]]:
        return Rule(lambda: rules.record_meeting(self.s, d, self._today()), self._recorded)

    @decision
    def assign_task(self, d: cm.AssignTask) -> Rule[tuple[cm.Task, str]]:
        return Rule(lambda: rules.assign_task(self.s, d, self._today()), self._assigned)

    @decision
    def complete_task(self, d: cm.CompleteTask) -> Rule[tuple[cm.Task, str]]:
        return Rule(lambda: rules.complete_task(self.s, d, self._today()), self._task_done)

    @decision
    def add_group_member(self, d: cm.AddGroupMember) -> Rule[tuple[list[str], str]]:
        return Rule(lambda: rules.add_member(self.s, d), lambda r: self._group(d, r))

    @decision
    def remove_group_member(self, d: cm.RemoveGroupMember) -> Rule[tuple[list[str], str]]:
        return Rule(lambda: rules.remove_member(self.s, d), lambda r: self._group(d, r))

    @workflow.query
    def state(self) -> cm.CommitteeState:
        return self.s

    # What each decision changes.

    def _seat(self, result: tuple[cm.Coordinator, str]) -> str:
        self.s = rules.seated(self.s, result[0])
        return result[1]

    def _scheduled(self, result: tuple[cm.CommitteeMeeting, cm.Notice, str]) -> str:
        meeting, notice, summary = result
        self.s.meetings.append(meeting)
        self.s.notices.append(notice)
        self.s.next_meeting = meeting.number + 1
        return summary

    def _recorded(self, result: tuple[cm.CommitteeMeeting, str]) -> str:
        done, summary = result
        self.s.meetings = [done if m.number == done.number else m for m in self.s.meetings]
        return summary

    def _assigned(self, result: tuple[cm.Task, str]) -> str:
        task, summary = result
        self.s.tasks.append(task)
        self.s.next_task = task.number + 1
        return summary

    def _task_done(self, result: tuple[cm.Task, str]) -> str:
        self._put_task(result[0])
        return result[1]

    def _group(self, d: cm.AddGroupMember | cm.RemoveGroupMember, result: tuple[list[str], str]) -> str:
        self.s.groups = {**self.s.groups, d.article: result[0]}
        return result[1]

    def _put_task(self, task: cm.Task) -> None:
        self.s.tasks = [task if t.number == task.number else t for t in self.s.tasks]

    def _today(self) -> date:
        return local_date(workflow.now(), self.s.defaults)

    def _refresh(self) -> None:
        s = self.s
        overdue = any(t.status is cm.TaskStatus.OVERDUE for t in s.tasks)
        self.upserted = upsert_changed(
            self.upserted,
            [
                sa.KIND.value_set(sa.Kind.COMMITTEE),
                sa.CONVENTION.value_set(s.convention),
                sa.MEETING.value_set(s.presidency.meeting),
                sa.PHASE.value_set(rules.phase(s)),
                sa.PRESIDENT.value_set(s.presidency.president.state),
                sa.TERM.value_set(s.term),
                *attention(
                    self.upserted,
                    overdue=overdue,
                    renewal=bool(s.renewals),
                    undeliverable=bool(s.undeliverable),
                ),
            ],
        )
        workflow.set_current_details(committee_details(s))
