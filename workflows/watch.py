"""DeadlineWatchWorkflow: one State's Art. 3 or Art. 4 deadline, watched from its entry into force.

It reminds ahead of the day an extension request is due (nine months before the meeting that would decide it), marks
that day and the deadline, and ends when completion is declared (Update ``declare_completion``) or when the State's
first extension request takes over (signal ``superseded``, sent by the request's workflow as one request tells the
one before it).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from domain import search_attributes as sa
    from domain import watch as rules
    from domain.bounds import md
    from domain.calendar import day_start, local_date
    from domain.extensions import DeclareCompletion
    from domain.ids import watch_id
    from domain.notifications import Notification
    from domain.reviews import DEFAULT_CADENCE, Reminder
    from domain.watch import ENDED, WatchInput, WatchState, WatchStatus
    from workflows.common import (
        ATTENTION_ALL,
        FAIL_ON_INVALID_INPUT,
        attention,
        from_start,
        notify,
        sleep_until_or,
        start_input,
        upsert_changed,
    )
    from workflows.deadlines import END_BY_WITHDRAWAL, DeadlineEnds, Withdraws
    from workflows.decisions import Shows

# From this patch on, a deadline passed with neither completion nor a request is reminded of at a cadence (by default
# weekly for four weeks, then every 30 days) until one of them, or a withdrawal, ends the watch; before it, once
# (issue 16). Asked when the deadline's notice has gone and nothing else is owed.
PASSED_CADENCE = "watch-passed-cadence"


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class DeadlineWatchWorkflow(DeadlineEnds, Shows[WatchState], Withdraws[WatchState]):
    @workflow.init
    def __init__(self, inp: WatchInput) -> None:
        self.inp = start_input(inp, WatchInput)
        super().__init__(rules.initial_state(inp))
        self.defaults = inp.defaults
        self.passed_cadence: bool | None = None

    @workflow.run
    async def run(self, inp: WatchInput) -> WatchState:
        self.attends = workflow.patched(ATTENTION_ALL)
        self.ends = workflow.patched(END_BY_WITHDRAWAL)
        started = self._today()
        while not self._arm() and (reminder := self._next(started)) is not None:
            self._refresh()
            version = self.version
            if not await sleep_until_or(
                day_start(reminder.on, self.inp.defaults),
                lambda v=version: self.version != v,  # type: ignore[misc]
                f"{reminder.kind} on {reminder.on}",
            ):
                continue
            if reminder.kind == "overdue":
                self.s.status = WatchStatus.PASSED
            await self._send(reminder)
        self._refresh()
        # Past its deadline, it waits for completion, a request, or the State's withdrawal: each ends it.
        await workflow.wait_condition(lambda: self._arm() or self.s.status in ENDED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.s

    def _next(self, started: date) -> Reminder | None:
        owed = [r for r in rules.schedule(self.s, self.inp.leads) if r.on >= started or r.kind == "overdue"]
        if not owed and self.s.status is WatchStatus.PASSED and self._passed_cadence():
            cadence = self.inp.overdue_reminders or DEFAULT_CADENCE
            owed = [
                from_start(
                    rules.still_passed(self.s, cadence),
                    started,
                    lambda: rules.still_passed(self.s, cadence, not_before=started),
                )
            ]
        owed = [r for r in owed if self.s.ends_on is None or r.on < self.s.ends_on]
        return owed[0] if owed else None

    def _passed_cadence(self) -> bool:
        """Whether a passed deadline is reminded of at a cadence (asked once, when first it could be)."""
        if self.passed_cadence is None:
            self.passed_cadence = workflow.patched(PASSED_CADENCE)
        return self.passed_cadence

    def _ended(self) -> bool:
        return self.s.status in ENDED

    def _withdraw(self) -> None:
        self.s.status = WatchStatus.WITHDRAWN

    async def _send(self, r: Reminder) -> None:
        wid = watch_id(self.inp.convention, self.s.article, self.s.state)
        note = Notification(
            webhook=self.inp.webhook,
            idempotency_key=f"{workflow.info().workflow_id}:{r.key}",
            text=r.text,
            subject=wid,
            kind=r.kind,
            due=self.s.request_due.isoformat(),
        )
        await notify(note, f"{r.kind}: Art. {self.s.article} of {self.s.state}", self.s.undeliverable)
        self.s.sent.append(r.key)
        self._changed()

    def _completion_rule(self, c: DeclareCompletion) -> None:
        rules.check_completion(self.s, c, self._today())

    def _completed(self, c: DeclareCompletion) -> str:
        self.s.status = WatchStatus.COMPLETED
        self.s.completed_on = c.completed_on
        return f"{self.s.state} declared completion under Art. {self.s.article} on {c.completed_on} ({c.reference})"

    def _superseded(self, by: str) -> None:
        # The State's first extension request under this article takes over.
        if self.s.status not in ENDED:
            self.s.status = WatchStatus.REQUESTED
            self.s.request = by
            self._changed()

    @workflow.query
    def state(self) -> WatchState:
        return self.s

    def _today(self) -> date:
        return local_date(workflow.now(), self.inp.defaults)

    def _refresh(self) -> None:
        updates: list[SearchAttributeUpdate[Any]] = [
            sa.KIND.value_set(sa.Kind.DEADLINE),
            sa.CONVENTION.value_set(self.inp.convention),
            sa.STATE.value_set(self.s.state),
            sa.ARTICLE.value_set(self.s.article),
            sa.PHASE.value_set(self.s.status.value),
            sa.DUE_DATE.value_set(day_start(self.s.request_due, self.inp.defaults)),
            *attention(
                self.upserted,
                undeliverable=bool(self.s.undeliverable),
                **({sa.OVERDUE: self.s.status is WatchStatus.PASSED} if self.attends else {}),
            ),
        ]
        self.upserted = upsert_changed(self.upserted, updates)
        workflow.set_current_details(
            f"**{md(rules.what(self.s))}**\n\nRequest due by {self.s.request_due} (meeting of {md(self.s.meeting)}); "
            f"status: {self.s.status.value}"
            + (f"; completed on {self.s.completed_on}" if self.s.completed_on else "")
            + (f"; handed to {md(self.s.request)}" if self.s.request else "")
        )
