"""Article7Workflow: one State Party's Art. 7 transparency reports, one deadline year per run.

A run reminds ahead of 30 April, records the report's receipt, and on 1 May marks a missing report overdue
(it stays outstanding until received); then it continues as new for the next year.
"""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import reports as rules
    from domain import search_attributes as sa
    from domain.calendar import day_start, local_date
    from domain.decisions import DecisionOutcome, Rejected
    from domain.ids import report_id
    from domain.notifications import Notification
    from domain.reports import ReportReceived, ReportsInput, ReportsState, ReportStatus
    from domain.reviews import DEFAULT_CADENCE, Reminder
    from domain.states import check_state
    from domain.views import report_details
    from workflows.common import (
        ATTENTION_ALL,
        FAIL_ON_INVALID_INPUT,
        notify,
        refused,
        reminder_due,
        sleep_until_or,
        start_input,
    )
    from workflows.deadlines import END_BY_WITHDRAWAL, Withdraws
    from workflows.decisions import Shows

# From this patch on, last year's report, still missing after its overdue notice, is reminded of at a cadence (by
# default weekly for four weeks, then every 30 days) by this year's run until received; before it, the notice alone
# (issue 16). Asked once per run, before its first reminder.
OVERDUE_CADENCE = "art7-overdue-cadence"


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class Article7Workflow(Shows[ReportsState], Withdraws[ReportsState]):
    @workflow.init
    def __init__(self, inp: ReportsInput) -> None:
        self.inp = start_input(inp, ReportsInput)
        super().__init__(rules.initial_state(inp))
        self.defaults = inp.defaults
        self.cadence: bool | None = None

    @workflow.run
    async def run(self, inp: ReportsInput) -> ReportsState:
        self.attends = workflow.patched(ATTENTION_ALL)
        try:
            self.s.state = check_state(inp.state, inp.states_parties, aliases=inp.aliases)
        except Rejected as e:
            raise refused(str(e)) from None
        self.ends = workflow.patched(END_BY_WITHDRAWAL)
        # Reminders whose day had passed before this run began are not owed; the overdue notice always is.
        started = local_date(workflow.now(), self.defaults)
        while not self._arm() and (reminder := self._next_reminder(started)) is not None:
            self.s.upcoming = reminder
            self._refresh()
            version = self.version
            if not await reminder_due(reminder, self.defaults, lambda v=version: self.version != v):  # type: ignore[misc]
                continue
            if reminder.kind == "overdue" and reminder.key.startswith("art7:initial:"):
                self.s.initial_outstanding = True
                self._changed()
            elif reminder.kind == "overdue" and not rules.is_follow_up(reminder):
                self.s.outstanding = sorted({*self.s.outstanding, self.s.year})
                self._changed()
            await self._send(reminder)
        self.s.upcoming = None
        self._refresh()
        # The report arrived: nothing more to send this year; the next year's watch begins on 1 May.
        end = day_start(self.s.deadline + timedelta(days=1), self.defaults)
        summary = f"the watch of {self.s.year + 1} begins on 1 May"
        if self.ends:
            while not self._arm() and end > workflow.now():
                version = self.version
                await sleep_until_or(end, lambda v=version: self.version != v, summary)  # type: ignore[misc]
        elif end > workflow.now():
            await workflow.sleep(end - workflow.now(), summary=summary)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.s.status == ReportStatus.WITHDRAWN:
            return self.s
        workflow.continue_as_new(rules.next_input(self.inp, self.s))

    def _ended(self) -> bool:
        return self.s.status == ReportStatus.WITHDRAWN

    def _withdraw(self) -> None:
        self.s.status = ReportStatus.WITHDRAWN
        self.s.upcoming = None

    def _next_reminder(self, started: date) -> Reminder | None:
        if self.cadence is None:
            self.cadence = workflow.patched(OVERDUE_CADENCE)
        cadence = (self.inp.overdue_reminders or DEFAULT_CADENCE) if self.cadence else None
        # An overdue notice is owed even when its day had passed; a reminder after it, only from its day.
        owed = [
            r
            for r in rules.owed(self.s, cadence)
            if r.on >= started or (r.kind == "overdue" and not rules.is_follow_up(r))
        ]
        # Nothing is owed from the day a withdrawal takes effect.
        owed = [r for r in owed if self.s.ends_on is None or r.on < self.s.ends_on]
        return owed[0] if owed else None

    async def _send(self, r: Reminder) -> None:
        initial = r.key.startswith("art7:initial:") and self.s.initial_due is not None
        due = self.s.initial_due if initial and self.s.initial_due else self.s.deadline
        if rules.is_follow_up(r):  # last year's report, still overdue
            due = rules.deadline(int(r.key.split(":")[1]))
        note = Notification(
            webhook=self.inp.webhook,
            idempotency_key=f"{workflow.info().workflow_id}:{r.key}",
            text=r.text,
            subject=report_id(self.inp.convention, self.s.state),
            kind=r.kind,
            due=due.isoformat(),
        )
        # Refused by the webhook, it is recorded as undeliverable and counts as sent: it is not sent again.
        what = "initial Art. 7 report" if initial else "Art. 7 report"
        await notify(note, f"{r.kind}: {what} of {self.s.state} due {due}", self.s.undeliverable)
        self.s.sent.append(r)
        self._refresh()

    # Receipts.

    @workflow.update
    def report_received(self, r: ReportReceived) -> DecisionOutcome:
        return self.decisions.decide(r, lambda: rules.apply_received(self.s, r, self._today()), self._applied)

    @report_received.validator
    def _check_received(self, r: ReportReceived) -> None:
        self.decisions.validate(r, lambda: rules.check_received(self.s, r, self._today()))

    def _today(self) -> date:
        return local_date(workflow.now(), self.defaults)

    @workflow.query
    def state(self) -> ReportsState:
        return self.s

    def _changed(self) -> None:
        self.s.status = rules.status_of(self.s)
        super()._changed()

    def _refresh(self) -> None:
        self._upsert_kind(
            sa.Kind.REPORT,
            self.inp.convention,
            sa.STATE.value_set(self.s.state),
            sa.ARTICLE.value_set("7"),
            sa.PHASE.value_set(self.s.status.value),
            sa.DUE_DATE.value_set(day_start(self.s.deadline, self.defaults)),
            undeliverable=bool(self.s.undeliverable),
            flags={sa.OVERDUE: self.s.status is ReportStatus.OVERDUE} if self.attends else None,
        )
        workflow.set_current_details(report_details(self.s))
