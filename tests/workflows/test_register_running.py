"""The register reaches running workflows, on the time-skipping server: an import that changes who is a State Party
reaches the Presidency, its meeting and its ledger, which check a State by the register's dates on the day of each
decision (a withdrawal taking effect later needs no new message); an imported withdrawal ends the State's Article 7
workflow and Art. 3/4 watch on the day it takes effect; an initial report due before the first import is listed as
not recorded and not chased."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain import search_attributes as sa
from domain.decisions import Designate
from domain.funds import LedgerState
from domain.ids import funds_id, meeting_label_id, presidency_id, register_id, report_id, watch_id
from domain.meeting import MeetingState
from domain.models import Convention, President
from domain.obligations import ImportRegister, RegisterInput
from domain.presidency import PresidencyState
from domain.register import COLUMNS, entry_into_force, initial_report_due, withdrawal_effective
from domain.reports import ReportsState, ReportStatus
from domain.watch import WatchState, WatchStatus
from tests.scenario import initial_state, part
from tests.support.cycle_helpers import refused
from tests.support.reminding import notifier_worker, sleep_until, today
from workflows.funds import MeetingFundsWorkflow
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow
from workflows.register import RegisterWorkflow
from workflows.reports import Article7Workflow
from workflows.watch import DeadlineWatchWorkflow

UN = "http://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-6.en.xml"
_n = itertools.count(1)
T = TypeVar("T")


def _file(*lines: str) -> str:
    return "\n".join([",".join(COLUMNS), *lines]) + "\n"


def _party(state: str, deposited: date, now: date, art4: str = "", withdrawal: str = "") -> str:
    return f"{state},,,{deposited},accession,,,{art4},{withdrawal},yes,{UN},{now},"


async def _until(get: Callable[[], Awaitable[T]], ok: Callable[[T], bool]) -> T:
    """``get()`` once ``ok`` of it, polled (a workflow the register's activity starts, a signal on its way)."""
    for _ in range(300):
        try:
            value = await get()
            if ok(value):
                return value
        except RPCError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("not reached")


async def _terminate(env: WorkflowEnvironment, *wids: str) -> None:
    """Ends what a test leaves running: the time-skipping server cannot skip past a task no worker takes."""
    for wid in wids:
        with contextlib.suppress(RPCError):
            await env.client.get_workflow_handle(wid).terminate("test over")


async def _import(h: WorkflowHandle[Any, Any], did: str, text: str) -> str:
    d = ImportRegister(decision_id=did, reference="test", source=f"{did}.csv", text=text)
    return (await h.execute_update(RegisterWorkflow.import_register, d)).summary


async def test_the_presidency_its_meeting_and_ledger_follow_the_register_by_its_dates(
    ts_env: WorkflowEnvironment,
):
    c = f"regrun{next(_n)}"
    async with notifier_worker(ts_env, every_activity=True) as worker:
        now = await today(ts_env)
        state0 = initial_state(c, now, [part(now + timedelta(days=400))])
        state0 = state0.model_copy(
            update={"convention": Convention(code=c, states_parties=["Austria", "Chile", "Mexico"])}
        )
        presidency = await ts_env.client.start_workflow(
            PresidencyWorkflow.run, state0, id=presidency_id(state0.convention), task_queue=worker.task_queue
        )

        def designate(did: str, state: str) -> Any:
            d = Designate(decision_id=did, reference="para 20", president=President(state=state))
            return presidency.execute_update(PresidencyWorkflow.designate, d, id=did)

        # Before the register reaches it, the Presidency has only the list it started with.
        assert "'Newland' is not a State Party" in await refused(designate("d0", "Newland"))

        register = await ts_env.client.start_workflow(
            RegisterWorkflow.run,
            RegisterInput(convention=c, meeting_on=now + timedelta(days=400)),
            id=register_id(c),
            task_queue=worker.task_queue,
        )
        # Leaveland notified its withdrawal a month ago: it takes effect in five months.
        notified = now - timedelta(days=30)
        left = withdrawal_effective(notified)
        summary = await _import(
            register,
            "first",
            _file(
                _party("Austria", date(2009, 4, 2), now),
                _party("Chile", date(2010, 12, 16), now),
                _party("Newland", now - timedelta(days=400), now),
                _party("Leaveland", now - timedelta(days=400), now, withdrawal=str(notified)),
                f"Signland,,{now},,,,,,,yes,{UN},{now},",
            ),
        )
        assert "5 added" in summary

        s: PresidencyState = await _until(
            lambda: presidency.query(PresidencyWorkflow.state), lambda s: s.convention.roster is not None
        )
        assert s.convention.roster is not None and len(s.convention.roster.members) == 5
        assert (await designate("d1", "Newland")).summary
        assert "Leaveland" in (await designate("d2", "Leaveland")).summary

        # The meeting and the ledger have it too: the ledger takes any State in the register (Art. 14).
        meeting = ts_env.client.get_workflow_handle(meeting_label_id(c, "14MSP"))
        m: MeetingState = await _until(
            lambda: meeting.query(MeetingWorkflow.state), lambda m: m.convention.roster is not None
        )
        assert m.convention.parties_on(now) == ["Austria", "Chile", "Newland", "Leaveland"]
        ledger = ts_env.client.get_workflow_handle(funds_id(c, "14MSP"))
        led: LedgerState = await _until(
            lambda: ledger.query(MeetingFundsWorkflow.ledger), lambda led: "Signland" in led.states_parties
        )
        assert "Mexico" not in led.states_parties

        # The day Leaveland's withdrawal takes effect, no new message: it is no State Party from then on.
        await sleep_until(ts_env, left)
        assert "'Leaveland' is not a State Party" in await refused(designate("d3", "Leaveland"))
        assert "Leaveland" not in (await meeting.query(MeetingWorkflow.state)).convention.parties_on(left)

        reports = [report_id(c, state) for state in ("Austria", "Chile", "Newland", "Leaveland")]
        await _terminate(
            ts_env,
            register_id(c),
            funds_id(c, "14MSP"),
            meeting_label_id(c, "14MSP"),
            presidency.id,
            *reports,
        )


async def test_a_withdrawal_ends_the_states_obligations_on_the_day_it_takes_effect(
    ts_env: WorkflowEnvironment,
):
    c = f"regwd{next(_n)}"
    async with notifier_worker(ts_env, every_activity=True) as worker:
        now = await today(ts_env)
        h = await ts_env.client.start_workflow(
            RegisterWorkflow.run,
            RegisterInput(convention=c, meeting_on=date(now.year + 1, 9, 13)),
            id=register_id(c),
            task_queue=worker.task_queue,
        )
        long_ago = now - timedelta(days=500)
        rows = [_party("Leaveland", long_ago, now, art4="yes"), _party("Newland", now, now)]
        await _import(h, "first", _file(*rows))

        # Leaveland's initial report fell due before this first import: not recorded, not chased.
        art7 = ts_env.client.get_workflow_handle(report_id(c, "Leaveland"), result_type=ReportsState)
        leave: ReportsState = await _until(lambda: art7.query(Article7Workflow.state), lambda s: True)
        assert initial_report_due(entry_into_force(long_ago)) < now
        assert leave.status == ReportStatus.NOT_RECORDED and not leave.initial_outstanding
        assert not any(r.key.startswith("art7:initial:") for r in leave.sent)
        # Newland's falls due after it: chased.
        new = await _until(
            lambda: ts_env.client.get_workflow_handle(report_id(c, "Newland")).query(Article7Workflow.state),
            lambda s: True,
        )
        assert new.status == ReportStatus.PENDING and new.initial_due == initial_report_due(
            entry_into_force(now)
        )
        watch = ts_env.client.get_workflow_handle(watch_id(c, "4", "Leaveland"), result_type=WatchState)
        await _until(lambda: watch.query(DeadlineWatchWorkflow.state), lambda s: True)

        # Its withdrawal is notified today: effective in six months.
        left = withdrawal_effective(now)
        summary = await _import(
            h, "withdrawal", _file(_party("Leaveland", long_ago, now, "yes", str(now)), rows[1])
        )
        assert "1 changed: Leaveland (withdrawal_notified)" in summary
        s: ReportsState = await _until(
            lambda: art7.query(Article7Workflow.state), lambda s: s.ends_on == left
        )
        assert s.status == ReportStatus.NOT_RECORDED
        w: WatchState = await _until(
            lambda: watch.query(DeadlineWatchWorkflow.state), lambda w: w.ends_on == left
        )
        assert w.status == WatchStatus.WATCHING

        await sleep_until(ts_env, left - timedelta(days=1))
        assert (await art7.query(Article7Workflow.state)).status != ReportStatus.WITHDRAWN
        await sleep_until(ts_env, left)
        ended = await art7.result()
        assert ended.status == ReportStatus.WITHDRAWN
        assert (await watch.result()).status == WatchStatus.WITHDRAWN
        # Seen as such by `msp reports list` and `msp register show`, which read the phase of an ended workflow.
        for handle in (art7, watch):
            desc = await handle.describe()
            assert desc.typed_search_attributes.get(sa.PHASE) == "ended by withdrawal"
        # Newland goes on.
        desc = await ts_env.client.get_workflow_handle(report_id(c, "Newland")).describe()
        assert desc.status is not None and desc.status.name == "RUNNING"
        await _terminate(ts_env, h.id, report_id(c, "Newland"))
