"""Article 7 transparency reports on the time-skipping server: reminders, receipt, a missed deadline, rejections."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain import search_attributes as sa
from domain.decisions import DecisionOutcome, Rejected
from domain.ids import report_id
from domain.models import Defaults
from domain.reports import (
    ReportReceived,
    ReportRecord,
    ReportsInput,
    ReportsState,
    ReportStatus,
    apply_received,
    check_received,
    deadline,
    first_year,
    initial_state,
    schedule,
)
from domain.views import report_details
from tests.support.cycle_helpers import rejection
from tests.support.reminding import received, sleep_until, today, until, webhook_worker
from workflows.reports import Article7Workflow

D = Defaults()
_n = itertools.count(1)


async def start(env: WorkflowEnvironment, worker: Worker, year: int) -> WorkflowHandle[Any, Any]:
    # A State per test: each gets its own workflow id on the module's server.
    state = f"Testland {next(_n)}"
    return await env.client.start_workflow(
        Article7Workflow.run,
        ReportsInput(convention="ccm", state=state, year=year),
        id=report_id("ccm", state),
        task_queue=worker.task_queue,
    )


async def state(h: WorkflowHandle[Any, Any]) -> ReportsState:
    st: ReportsState = await h.query(Article7Workflow.state)
    return st


async def receive(h: WorkflowHandle[Any, Any], r: ReportReceived, **kw: Any) -> DecisionOutcome:
    outcome: DecisionOutcome = await h.execute_update(Article7Workflow.report_received, r, **kw)
    return outcome


async def phase(h: WorkflowHandle[Any, Any]) -> str | None:
    return (await h.describe()).typed_search_attributes.get(sa.PHASE)


async def test_reminders_then_a_report_on_time_no_overdue_notice_and_the_next_year(ts_env, tmp_path):
    # Next year's deadline is always more than 60 days away, whatever the real date.
    year = (await today(ts_env)).year + 1
    due = deadline(year)
    async with webhook_worker(ts_env, tmp_path) as (worker, _):
        h = await start(ts_env, worker, year)
        await sleep_until(ts_env, due - timedelta(days=14))
        st = await state(h)
        assert [(r.kind, r.on) for r in st.sent] == [
            ("reminder", due - timedelta(days=60)),
            ("reminder", due - timedelta(days=14)),
        ]
        assert st.status is ReportStatus.PENDING and st.upcoming is not None and st.upcoming.kind == "overdue"
        receipt = ReportReceived(
            decision_id="isu-receipt-1", year=year, received_on=await today(ts_env), reference="CCM/ART7/1"
        )
        outcome = await receive(h, receipt, id=receipt.decision_id)
        assert not outcome.duplicate and "received on" in outcome.summary and "late" not in outcome.summary
        st = await state(h)
        assert st.status is ReportStatus.RECEIVED and st.upcoming is None
        assert await phase(h) == "received"
        await sleep_until(ts_env, due + timedelta(days=2))
        # The next run watches the following year; the receipt and its id come with it.
        st = await until(lambda: state(h), lambda s: s.year == year + 1)
        assert st.year == year + 1 and st.status is ReportStatus.PENDING and st.outstanding == []
        assert [(r.year, r.late) for r in st.received] == [(year, False)]
        assert (await receive(h, receipt)).duplicate
        bodies = received(tmp_path)
        assert [b["body"]["kind"] for b in bodies] == ["reminder", "reminder"]  # no overdue notice
        assert len({b["idempotency_key"] for b in bodies}) == 2
        assert all(b["body"]["subject"] == h.id and b["body"]["due"] == due.isoformat() for b in bodies)
        await h.terminate("test over")


async def test_a_missed_deadline_is_overdue_until_the_late_report_is_recorded(ts_env, tmp_path):
    year = (await today(ts_env)).year + 1
    due = deadline(year)
    async with webhook_worker(ts_env, tmp_path) as (worker, _):
        h = await start(ts_env, worker, year)
        await sleep_until(ts_env, due + timedelta(days=1))
        bodies = received(tmp_path)
        assert [b["body"]["kind"] for b in bodies] == ["reminder", "reminder", "overdue"]
        assert f"covering {year - 1} was due on {due}" in bodies[-1]["body"]["text"]
        # The next year's run: its own report is pending, the missed one keeps the State overdue.
        st = await until(lambda: state(h), lambda s: s.year == year + 1)
        assert st.year == year + 1 and st.outstanding == [year] and st.status is ReportStatus.OVERDUE
        assert await phase(h) == "overdue"
        assert (await h.describe()).typed_search_attributes.get(sa.ATTENTION) == [sa.OVERDUE]
        await sleep_until(ts_env, due + timedelta(days=20))
        # Still missing: reminded of weekly from the notice (the default cadence), by the next year's run.
        follow_ups = [b for b in received(tmp_path)][3:]
        assert [(b["body"]["kind"], b["idempotency_key"].split(":", 1)[1]) for b in follow_ups] == [
            ("overdue", f"art7:{year}:overdue:1"),
            ("overdue", f"art7:{year}:overdue:2"),
        ]
        assert all(
            b["body"]["due"] == due.isoformat() and "Still overdue" in b["body"]["text"] for b in follow_ups
        )
        late = ReportReceived(
            decision_id="late-1", year=year, received_on=await today(ts_env), reference="ISU receipt note 7"
        )
        outcome = await receive(h, late, id=late.decision_id)
        assert outcome.summary.endswith(", late")
        st = await state(h)
        assert st.outstanding == [] and st.status is ReportStatus.PENDING
        assert st.received == [
            ReportRecord(year=year, received_on=late.received_on, reference=late.reference, late=True)
        ]
        assert await phase(h) == "pending"
        assert (await h.describe()).typed_search_attributes.get(sa.ATTENTION) is None
        await sleep_until(ts_env, due + timedelta(days=60))
        assert len(received(tmp_path)) == 5  # nothing more once the report is recorded
        await h.terminate("test over")


async def test_notices_the_webhook_refuses_are_recorded_and_carried_into_the_next_year(ts_env, tmp_path):
    year = (await today(ts_env)).year + 1
    due = deadline(year)
    async with webhook_worker(ts_env, tmp_path, path="nowhere") as (worker, receiver):
        h = await start(ts_env, worker, year)
        await sleep_until(ts_env, due + timedelta(days=1))
        # The overdue notice is sent on 1 May, and the run continues as new for the next year right after.
        st = await until(lambda: state(h), lambda s: s.year == year + 1)
        assert st.year == year + 1 and st.outstanding == [year] and st.status is ReportStatus.OVERDUE
        assert [u.kind for u in st.undeliverable] == ["reminder", "reminder", "overdue"]
        assert all(f"refused by {receiver.url}/nowhere: 404" in u.reason for u in st.undeliverable)
        assert (await h.describe()).typed_search_attributes.get(sa.ATTENTION) == [
            sa.OVERDUE,
            sa.UNDELIVERABLE,
        ]
        assert "**Undeliverable notifications (3)**" in report_details(st)
    assert received(tmp_path) == []
    await h.terminate("test over")


async def test_rejected_receipts_change_nothing_and_a_resent_receipt_is_a_duplicate(ts_env, worker):
    now = await today(ts_env)
    year = now.year + 1
    h = await start(ts_env, worker, year)

    async def refused(r: ReportReceived) -> str:
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await receive(h, r, id=r.decision_id)
        return rejection(err.value)

    def receipt(n: str, y: int, on: date) -> ReportReceived:
        return ReportReceived(decision_id=n, year=y, received_on=on, reference="CCM/ART7/X")

    assert "before 1 January" in await refused(receipt("early", year, now))
    assert "not due yet" in await refused(receipt("next", year + 1, now))
    assert "not watched here" in await refused(receipt("past", year - 1, now))
    await sleep_until(ts_env, date(year, 2, 1))
    on = await today(ts_env)
    assert "in the future" in await refused(receipt("future", year, on + timedelta(days=1)))
    first = receipt("r1", year, on)
    assert not (await receive(h, first, id=first.decision_id)).duplicate
    assert f"already received on {on}" in await refused(receipt("r2", year, on))
    assert (await receive(h, first)).duplicate  # the same receipt id again, under a new update id
    st = await state(h)
    assert st.decisions.ids() == ["r1"] and [r.year for r in st.received] == [year]
    assert st.status is ReportStatus.RECEIVED and st.sent == []
    await h.terminate("test over")


# Pure rules.


def test_ids_deadlines_and_the_first_year_watched():
    assert report_id("ccm", "Côte d'Ivoire") == "ccm-art7-cote-d-ivoire"
    assert deadline(2027) == date(2027, 4, 30)
    assert first_year(date(2027, 4, 30)) == 2027
    assert first_year(date(2027, 5, 1)) == 2028


def test_schedule_reminds_before_the_deadline_then_notes_overdue_on_1_may():
    out = schedule("Chile", 2027, (14, 60))
    assert [(r.key, r.on, r.kind) for r in out] == [
        ("art7:2027:reminder:60d", date(2027, 3, 1), "reminder"),
        ("art7:2027:reminder:14d", date(2027, 4, 16), "reminder"),
        ("art7:2027:overdue", date(2027, 5, 1), "overdue"),
    ]
    assert "Chile's Article 7 transparency report covering 2026" in out[0].text
    assert [r.kind for r in schedule("Chile", 2027, (60, 14), after=date(2027, 3, 1))] == [
        "reminder",
        "overdue",
    ]


def test_check_received_names_the_rule_broken():
    s = initial_state(ReportsInput(state="Chile", year=2027, outstanding=[2025]))
    assert s.status is ReportStatus.OVERDUE and s.deadline == date(2027, 4, 30)
    today_ = date(2027, 3, 10)

    def r(year: int, on: date) -> ReportReceived:
        return ReportReceived(decision_id="d", year=year, received_on=on, reference="ref")

    with pytest.raises(Rejected, match="in the future"):
        check_received(s, r(2027, date(2027, 3, 11)), today_)
    with pytest.raises(Rejected, match="not due yet"):
        check_received(s, r(2028, today_), today_)
    with pytest.raises(Rejected, match="not watched here"):
        check_received(s, r(2026, today_), today_)
    with pytest.raises(Rejected, match="before 1 January 2027"):
        check_received(s, r(2027, date(2026, 12, 31)), today_)
    check_received(s, r(2025, date(2026, 1, 5)), today_)  # outstanding: accepted
    s, summary = apply_received(s, r(2025, date(2026, 1, 5)), today_)
    assert s.received[-1].late and summary.endswith(", late") and s.outstanding == []
    assert s.status is ReportStatus.PENDING
    s, _ = apply_received(s, r(2027, today_), today_)
    assert not s.received[-1].late and s.status is ReportStatus.RECEIVED
    with pytest.raises(Rejected, match="already received on 2027-03-10"):
        check_received(s, r(2027, today_), today_)
    assert "**Status:** received" in report_details(s)
