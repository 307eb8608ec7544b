"""Starts the obligation workflows of States the register names: each State Party's Article 7 reports (its initial
report and annual updates) and, for a State that declared stockpiles or contamination, the watch of its Art. 3/4
deadline. Each start is by workflow id, so one already running (or ended) is left as it is: the activity may be
retried, and an import sent again starts nothing twice."""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from domain import search_attributes as sa
from domain.bounds import md
from domain.calendar import day_start
from domain.ids import report_id, watch_id
from domain.obligations import START_OBLIGATIONS, StartObligations
from domain.register import Row, initial_report_due
from domain.reports import ReportsInput, ReportStatus, deadline, first_annual_year
from domain.watch import WatchInput, WatchStatus, request_due, watched

log = structlog.get_logger("activities.obligations")


class ObligationsStarter:
    def __init__(self, client: Client) -> None:
        self.client = client

    @activity.defn(name=START_OBLIGATIONS)
    async def start_obligations(self, o: StartObligations) -> int:
        started = 0
        for row in o.rows:
            started += await self._article7(o, row)
            if o.meeting_on is not None:
                for article, due in watched(row):
                    started += await self._watch(o, row, article, due, o.meeting_on)
            activity.heartbeat(row.state)
        log.info("obligations started", states=len(o.rows), started=started)
        return started

    async def _start(self, workflow: str, arg: Any, wid: str, summary: str, attrs: list[Any]) -> int:
        try:
            await self.client.start_workflow(
                workflow,
                arg,
                id=wid,
                task_queue=activity.info().task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                static_summary=md(summary),  # rendered as markdown by the Web UI
                search_attributes=TypedSearchAttributes(attrs),
            )
        except WorkflowAlreadyStartedError:
            return 0
        except RPCError as e:
            # The server is away (restarting, unreachable): the activity is retried, and starts are by id. Benign, so
            # the SDK logs no traceback for what is a wait; one line says what happened.
            log.warning("obligation not started yet; retried", workflow_id=wid, error=e.message)
            raise ApplicationError(
                f"could not start {wid}: {e.message}",
                type="TemporalUnavailable",
                category=ApplicationErrorCategory.BENIGN,
            ) from None
        return 1

    async def _article7(self, o: StartObligations, row: Row) -> int:
        eif = row.entry_into_force
        if eif is None:
            return 0
        due = initial_report_due(eif)
        year = first_annual_year(o.today, due)
        inp = ReportsInput(
            convention=o.convention,
            state=row.state,
            year=year,
            reminder_days=o.reminder_days,
            webhook=o.webhook,
            states_parties=o.states_parties,
            aliases=o.aliases,
            defaults=o.defaults,
            initial_due=due,
            # The register cannot say which initial reports came before it was first imported: those are listed
            # as not recorded, not chased, until the ISU records them.
            initial_unrecorded=o.first_import is not None and due < o.first_import,
            ends_on=row.withdrawal_effective,
        )
        attrs = sa.started_with(
            sa.Kind.REPORT,
            o.convention,
            SearchAttributePair(sa.STATE, row.state),
            SearchAttributePair(sa.ARTICLE, "7"),
            SearchAttributePair(
                sa.PHASE,
                (ReportStatus.NOT_RECORDED if inp.initial_unrecorded else ReportStatus.PENDING).value,
            ),
            SearchAttributePair(sa.DUE_DATE, day_start(min(due, deadline(year)), o.defaults)),
        )
        summary = f"Article 7 reports of {row.state}: initial report due {due}, then 30 April each year"
        return await self._start("Article7Workflow", inp, report_id(o.convention, row.state), summary, attrs)

    async def _watch(self, o: StartObligations, row: Row, article: str, due: date, meeting_on: date) -> int:
        inp = WatchInput(
            convention=o.convention,
            state=row.state,
            article=article,
            deadline=due,
            meeting_on=meeting_on,
            webhook=o.webhook,
            defaults=o.defaults,
            ends_on=row.withdrawal_effective,
        )
        attrs = sa.started_with(
            sa.Kind.DEADLINE,
            o.convention,
            SearchAttributePair(sa.STATE, row.state),
            SearchAttributePair(sa.ARTICLE, article),
            SearchAttributePair(sa.PHASE, WatchStatus.WATCHING.value),
            SearchAttributePair(sa.DUE_DATE, day_start(request_due(due, meeting_on), o.defaults)),
        )
        summary = f"Art. {article} deadline of {row.state}: {due}"
        wid = watch_id(o.convention, article, row.state)
        return await self._start("DeadlineWatchWorkflow", inp, wid, summary, attrs)
