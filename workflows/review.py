"""ReviewWorkflow: one mandated review, reminding ahead of its due point and escalating once it has passed."""

from __future__ import annotations

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import reviews as rules
    from domain import search_attributes as sa
    from domain.calendar import day_start, local_date
    from domain.notifications import Notification
    from domain.reviews import (
        MEETING_MOVED,
        Conclude,
        ConclusionRecord,
        MeetingMoved,
        Reminder,
        ReviewInput,
        ReviewState,
        ReviewStatus,
        WithdrawReview,
    )
    from domain.views import review_details
    from workflows.common import (
        ATTENTION_ALL,
        FAIL_ON_INVALID_INPUT,
        from_start,
        notify,
        reminder_due,
        signal_payload,
        start_input,
    )
    from workflows.decisions import Rule, Shows, decision

OPEN = (ReviewStatus.PENDING, ReviewStatus.OVERDUE)
LONG_OVERDUE = "review-overdue-continues-as-new"
# From this patch on, an overdue review is reminded of at its mandate's cadence (weekly for four weeks, then monthly,
# unless its spec says otherwise); before it, every week (issue 16). Asked at the first overdue reminder of a run.
OVERDUE_CADENCE = "review-overdue-cadence"


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class ReviewWorkflow(Shows[ReviewState]):
    @workflow.init
    def __init__(self, inp: ReviewInput) -> None:
        self.inp = start_input(inp, ReviewInput)
        s = ReviewState(
            spec=inp.spec,
            due=inp.spec.due.on,
            cycle=inp.cycle,
            history=list(inp.history),
            decisions=inp.decisions.model_copy(deep=True),
            sent=list(inp.sent),
            undeliverable=list(inp.undeliverable),
        )
        super().__init__(s)
        if any(r.kind == "escalation" for r in inp.sent):
            self.s.status = ReviewStatus.OVERDUE
        self.defaults = inp.defaults
        self.next_input: ReviewInput | None = None
        self.cadence: rules.Cadence | None = None

    @workflow.run
    async def run(self, inp: ReviewInput) -> ReviewState:
        self.attends = workflow.patched(ATTENTION_ALL)
        # Reminders whose day had passed before this review existed are not owed.
        started = local_date(workflow.now(), self.defaults)
        while self.s.status in OPEN:
            reminder = self._next_reminder(started)
            self.s.upcoming = reminder
            self._refresh()
            version = self.version
            if not await reminder_due(reminder, self.defaults, lambda v=version: self.version != v):  # type: ignore[misc]
                continue
            if reminder.kind == "escalation":
                self.s.status = ReviewStatus.OVERDUE
            await self._send(reminder)
            # Overdue for years, a review sends a reminder a week: its history is cut before the server asks.
            if (
                self.s.status is ReviewStatus.OVERDUE
                and self._history_long()
                and workflow.patched(LONG_OVERDUE)
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    self.inp.model_copy(
                        update={
                            "spec": self.s.spec,
                            "history": self.s.history,
                            "decisions": self.s.decisions,
                            "sent": rules.carried(self.s.sent),
                            "undeliverable": self.s.undeliverable,
                        }
                    )
                )
        self.s.upcoming = None
        self._refresh()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.next_input is not None:
            # The conclusion's own record with it, so that sent again to the next review it is a repeat.
            workflow.continue_as_new(self.next_input.model_copy(update={"decisions": self.s.decisions}))
        return self.s

    def _next_reminder(self, started: date) -> Reminder:
        sent = {r.key for r in self.s.sent}
        owed = [
            r
            for r in rules.schedule(self.s.spec, self.s.due, self.s.cycle)
            if r.key not in sent and (r.on >= started or r.kind == "escalation")
        ]
        if owed:
            return owed[0]
        s, cadence = self.s, self._cadence()
        return from_start(
            rules.next_overdue(s.spec, s.due, s.cycle, s.sent, cadence),
            started,
            lambda: rules.next_overdue(s.spec, s.due, s.cycle, s.sent, cadence, not_before=started),
        )

    def _cadence(self) -> rules.Cadence:
        if self.cadence is None:
            self.cadence = (
                (self.s.spec.overdue_reminders or rules.DEFAULT_CADENCE)
                if workflow.patched(OVERDUE_CADENCE)
                else rules.WEEKLY
            )
        return self.cadence

    async def _send(self, r: Reminder) -> None:
        note = Notification(
            webhook=self.inp.webhook,
            idempotency_key=f"{workflow.info().workflow_id}:{r.key}",
            text=r.text,
            review=self.s.spec.subject,
            kind=r.kind,
            due=self.s.due.isoformat(),
        )
        # Refused by the webhook, it is recorded as undeliverable and counts as sent: it is not sent again.
        await notify(note, f"{r.kind}: {self.s.spec.subject}", self.s.undeliverable)
        self.s.sent.append(r)

    # Decisions.

    @decision
    def conclude(self, d: Conclude) -> Rule[ReviewInput | None]:
        return Rule(lambda: self._conclusion(d), lambda nxt: self._concluded(d, nxt))

    def _concluded(self, d: Conclude, nxt: ReviewInput | None) -> str:
        self.s.history.append(self._record(d))
        self.s.status = ReviewStatus.CONCLUDED
        self.next_input = nxt
        summary = f"review of {self.s.spec.title} concluded ({d.reference})"
        if nxt is not None:
            summary += f"; the next is due {nxt.spec.due.describe()}"
        return summary

    def _conclusion(self, d: Conclude) -> ReviewInput | None:
        """The next review's input, or None when no periodicity is set; raises Rejected if it cannot be."""
        rules.check_conclude(self.s.status, d)
        periodicity = d.next or self.s.spec.periodicity
        if periodicity is None:
            return None
        today = local_date(workflow.now(), self.defaults)
        due = rules.next_due(self.s.spec, today, periodicity, self.inp.cadence_years)
        spec = self.s.spec.model_copy(update={"due": due, "periodicity": periodicity})
        return self.inp.model_copy(
            update={
                "spec": spec,
                "cycle": self.s.cycle + 1,
                "history": [*self.s.history, self._record(d)],
                "undeliverable": self.s.undeliverable,
            }
        )

    def _record(self, d: Conclude) -> ConclusionRecord:
        return ConclusionRecord(
            cycle=self.s.cycle,
            due=self.s.due,
            concluded_on=local_date(workflow.now(), self.defaults),
            outcome=d.outcome,
            reference=d.reference,
            next=d.next or self.s.spec.periodicity,
        )

    @decision
    def withdraw(self, d: WithdrawReview) -> Rule[None]:
        return Rule(lambda: rules.check_open(self.s.status), lambda _: self._withdrawn())

    def _withdrawn(self) -> str:
        self.s.status = ReviewStatus.WITHDRAWN
        return f"review of {self.s.spec.title} withdrawn"

    @workflow.signal(name=MEETING_MOVED)
    def meeting_moved(self, moved: MeetingMoved) -> None:
        if not signal_payload(moved, MeetingMoved, MEETING_MOVED):
            return
        if (
            self.s.spec.due.meeting != moved.meeting
            or self.s.due == moved.first_day
            or self.s.status not in OPEN
        ):
            return
        workflow.logger.info(
            "%s moved: review due %s instead of %s", moved.meeting, moved.first_day, self.s.due
        )
        self.s.due = moved.first_day
        # The due point itself moves, so "at every Review Conference" counts from the date the meeting is held.
        self.s.spec = self.s.spec.model_copy(
            update={"due": self.s.spec.due.model_copy(update={"on": moved.first_day})}
        )
        if self.s.status is ReviewStatus.OVERDUE and moved.first_day >= local_date(
            workflow.now(), self.defaults
        ):
            self.s.status = ReviewStatus.PENDING
        self._changed()

    def _history_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self.inp.continue_after_events
        )

    @workflow.query
    def state(self) -> ReviewState:
        return self.s

    def _refresh(self) -> None:
        meeting = self.s.spec.due.meeting
        self._upsert_kind(
            sa.Kind.REVIEW,
            self.inp.convention,
            sa.PHASE.value_set(self.s.status.value),
            sa.DUE_DATE.value_set(day_start(self.s.due, self.defaults)),
            *([sa.MEETING.value_set(meeting)] if meeting else []),
            undeliverable=bool(self.s.undeliverable),
            flags={sa.OVERDUE: self.s.status is ReviewStatus.OVERDUE} if self.attends else None,
        )
        workflow.set_current_details(review_details(self.s))
