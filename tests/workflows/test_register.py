"""From the register to the watches, on the time-skipping server: an import of a new State starts its Article 7
workflow (initial report chased, overdue on day 181) and its Art. 4 watch (reminded ahead of the day a request is due,
nine months before the meeting before its deadline); a bad import is refused with its place and changes nothing."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.extensions import DeclareCompletion
from domain.ids import register_id, report_id, watch_id
from domain.obligations import ImportRegister, RegisterInput
from domain.register import COLUMNS, entry_into_force, initial_report_due
from domain.reports import ReportsState, ReportStatus
from domain.watch import WatchInput, WatchState, WatchStatus
from tests.support.cycle_helpers import rejection
from tests.support.reminding import notifier_worker, sleep_until, today
from workflows.register import RegisterWorkflow
from workflows.reports import Article7Workflow
from workflows.watch import DeadlineWatchWorkflow

UN = "http://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-6.en.xml"
_n = itertools.count(1)


def _file(*lines: str) -> str:
    return "\n".join([",".join(COLUMNS), *lines]) + "\n"


async def _started(env: WorkflowEnvironment, wid: str, query: Any) -> Any:
    """The workflow's state once the register's activity has started it."""
    handle: WorkflowHandle[Any, Any] = env.client.get_workflow_handle(wid)
    for _ in range(200):
        try:
            return await handle.query(query)
        except RPCError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{wid} was not started")


# First in the module: a later test leaves workflows whose worker has gone, and time cannot skip past their timers.
async def test_a_passed_deadline_is_reminded_of_at_its_cadence_until_completion_ends_the_watch(
    ts_env: WorkflowEnvironment,
):
    code = f"regt{next(_n)}"
    async with notifier_worker(ts_env) as worker:
        now = await today(ts_env)
        deadline = now + timedelta(days=3)
        wh = await ts_env.client.start_workflow(
            DeadlineWatchWorkflow.run,
            WatchInput(
                convention=code, state="Newland", article="4", deadline=deadline, meeting_on=now, leads=(1,)
            ),
            id=watch_id(code, "4", "Newland"),
            task_queue=worker.task_queue,
        )
        await sleep_until(ts_env, deadline + timedelta(days=28 + 30))
        w: WatchState = await wh.query(DeadlineWatchWorkflow.state)
        # The deadline's notice, then weekly for four weeks and every 30 days after (the default cadence).
        assert w.status == WatchStatus.PASSED
        assert [k for k in w.sent if "passed" in k or k.endswith("deadline")] == [
            "art4:deadline",
            *(f"art4:passed:{n}" for n in range(1, 6)),
        ]
        await wh.execute_update(
            DeadlineWatchWorkflow.declare_completion,
            DeclareCompletion(decision_id="done", reference="test", completed_on=now + timedelta(days=50)),
        )
        assert (await wh.result()).status == WatchStatus.COMPLETED


async def test_a_watch_begun_long_after_its_deadline_sends_its_notice_then_reminds_from_that_day(
    ts_env: WorkflowEnvironment,
):
    code = f"regt{next(_n)}"
    async with notifier_worker(ts_env) as worker:
        now = await today(ts_env)
        deadline = now - timedelta(days=400)
        wh = await ts_env.client.start_workflow(
            DeadlineWatchWorkflow.run,
            WatchInput(
                convention=code,
                state="Oldland",
                article="3",
                deadline=deadline,
                meeting_on=deadline,
                leads=(1,),
            ),
            id=watch_id(code, "3", "Oldland"),
            task_queue=worker.task_queue,
        )
        await sleep_until(ts_env, now + timedelta(days=31))
        w: WatchState = await wh.query(DeadlineWatchWorkflow.state)
        # The notice that the deadline passed, at once; then the cadence's next reminder from today (418 days after
        # the deadline), not the 16 before it in one burst.
        assert w.status == WatchStatus.PASSED
        assert w.sent == ["art3:deadline", "art3:passed:17"]
        await wh.terminate("test over")


async def test_an_import_starts_a_new_states_obligations(ts_env: WorkflowEnvironment):
    code = f"regt{next(_n)}"
    async with notifier_worker(ts_env, every_activity=True) as worker:
        now = await today(ts_env)
        meeting_on = date(now.year + 1, 9, 13)
        h = await ts_env.client.start_workflow(
            RegisterWorkflow.run,
            RegisterInput(convention=code, meeting_on=meeting_on),
            id=register_id(code),
            task_queue=worker.task_queue,
        )
        # A bad file: refused with its place, and nothing changes.
        bad = ImportRegister(
            decision_id="bad",
            reference="test",
            source="bad.csv",
            text=_file(f"Newland,,,{now},,,,yes,,yes,{UN},{now},"),
        )
        with pytest.raises(WorkflowUpdateFailedError) as e:
            await h.execute_update(RegisterWorkflow.import_register, bad)
        assert rejection(e.value).startswith("bad.csv:2: "), rejection(e.value)
        assert (await h.query(RegisterWorkflow.register)).rows == []

        text = _file(
            f"Newland,New Land,,{now},accession,fr,,yes,,yes,{UN},{now},deposited in the test",
            f"Signland,,{now},,,,,,,yes,{UN},{now},",
        )
        d = ImportRegister(decision_id="good", reference="test", source="new.csv", text=text)
        outcome = await h.execute_update(RegisterWorkflow.import_register, d)
        assert (
            "2 added: Newland, Signland" in outcome.summary
            and "obligations to start for 1 States" in outcome.summary
        )

        eif = entry_into_force(now)
        due = initial_report_due(eif)
        reports: ReportsState = await _started(ts_env, report_id(code, "Newland"), Article7Workflow.state)
        assert reports.initial_due == due and (due - eif).days == 180
        assert reports.year > due.year or (reports.year == due.year and date(due.year, 4, 30) > due)
        # A signatory has no Art. 7 workflow.
        with pytest.raises(RPCError):
            await ts_env.client.get_workflow_handle(report_id(code, "Signland")).describe()

        # Day 180: not yet overdue; day 181: overdue.
        await sleep_until(ts_env, due)
        s: ReportsState = await ts_env.client.get_workflow_handle(report_id(code, "Newland")).query(
            Article7Workflow.state
        )
        assert not s.initial_outstanding and "art7:initial:reminder:14d" in {r.key for r in s.sent}
        await sleep_until(ts_env, due + timedelta(days=1))
        s = await ts_env.client.get_workflow_handle(report_id(code, "Newland")).query(Article7Workflow.state)
        assert s.initial_outstanding and s.status == ReportStatus.OVERDUE

        # The Art. 4 watch: the deadline is 10 years after entry into force; the meeting before it is the last
        # one a year apart from the planned one; a request is due nine months before it.
        watch: WatchState = await _started(
            ts_env, watch_id(code, "4", "Newland"), DeadlineWatchWorkflow.state
        )
        assert watch.deadline == eif.replace(year=eif.year + 10)
        assert (
            watch.meeting < watch.deadline
            and watch.meeting.replace(year=watch.meeting.year + 1) >= watch.deadline
        )
        assert watch.request_due == watch.meeting.replace(year=watch.meeting.year - 1, month=12)
        wh = ts_env.client.get_workflow_handle(watch_id(code, "4", "Newland"), result_type=WatchState)
        await sleep_until(ts_env, watch.request_due - timedelta(days=365))
        w: WatchState = await wh.query(DeadlineWatchWorkflow.state)
        assert w.sent == ["art4:request:365d"] and w.status == WatchStatus.WATCHING
        # A request takes it over, as one request takes over from another.
        await wh.signal("superseded", f"ccm-extension-art4-newland-{w.request_due.year}")
        assert (await wh.result()).status == WatchStatus.REQUESTED

        # The same import again: applied once, nothing more started.
        again = await h.execute_update(RegisterWorkflow.import_register, d)
        assert again.duplicate
