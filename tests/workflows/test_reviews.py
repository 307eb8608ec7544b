"""Mandated reviews on the time-skipping server: reminders, a meeting that moves, escalation, the next review."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain import search_attributes as sa
from domain.decisions import Rejected
from domain.ids import review_id
from domain.models import Defaults
from domain.reviews import (
    WEEKLY,
    Cadence,
    Conclude,
    DueKind,
    DuePoint,
    Mandate,
    MeetingMoved,
    Periodicity,
    ReviewInput,
    ReviewSpec,
    ReviewState,
    ReviewStatus,
    WithdrawReview,
    check_conclude,
)
from domain.views import review_details
from starter.receiver import Receiver
from tests.support.cycle_helpers import refused
from tests.support.reminding import notifier_worker, received, sleep_until, today, until, webhook_worker
from workflows.review import ReviewWorkflow

D = Defaults()
_n = itertools.count(1)


def spec(due: DuePoint, **kw: Any) -> ReviewSpec:
    return ReviewSpec(
        subject=f"hosting-agreement-{next(_n)}",
        title="the agreement hosting the ISU",
        mandate=Mandate(decided_by="2nd Review Conference", reference="CCM/CONF/2021/6 para 42"),
        due=due,
        **kw,
    )


async def start(env: WorkflowEnvironment, worker: Worker, s: ReviewSpec) -> WorkflowHandle[Any, Any]:
    return await env.client.start_workflow(
        ReviewWorkflow.run,
        ReviewInput(convention="ccm", spec=s),
        id=review_id("ccm", s.subject),
        task_queue=worker.task_queue,
    )


async def state(h: WorkflowHandle[Any, Any]) -> ReviewState:
    st: ReviewState = await h.query(ReviewWorkflow.state)
    return st


async def begun_and_run(
    env: WorkflowEnvironment, worker: Worker, due: date, until: date
) -> tuple[WorkflowHandle[Any, Any], ReviewState]:
    """A review due on ``due``, begun now, and its state on ``until``."""
    h = await start(env, worker, spec(DuePoint(kind=DueKind.DATE, on=due)))
    await sleep_until(env, until)
    return h, await state(h)


async def test_reminders_escalation_and_weekly_reminders_on_their_dates(ts_env, tmp_path):
    due = await today(ts_env) + timedelta(days=200)
    async with webhook_worker(ts_env, tmp_path) as (worker, _):
        h, st = await begun_and_run(ts_env, worker, due, due + timedelta(days=16))
        assert [(r.kind, r.on) for r in st.sent] == [
            *(("reminder", due - timedelta(days=days)) for days in (180, 90, 30, 7)),
            ("escalation", due + timedelta(days=1)),
            ("overdue", due + timedelta(days=8)),
            ("overdue", due + timedelta(days=15)),
        ]
        assert st.status is ReviewStatus.OVERDUE
        # What one query of the Web UI finds: CcmAttention IS NOT NULL.
        assert (await h.describe()).typed_search_attributes.get(sa.ATTENTION) == [sa.OVERDUE]
        bodies = received(tmp_path)
        assert len(bodies) == 7 and len({b["idempotency_key"] for b in bodies}) == 7
        escalation = next(b for b in bodies if b["body"]["kind"] == "escalation")
        assert "the President and the ISU Director" in escalation["body"]["text"]
        await h.terminate("test over")


async def test_overdue_reminders_follow_the_cadence_the_mandate_sets(ts_env, tmp_path):
    due = await today(ts_env) + timedelta(days=3)
    default = spec(DuePoint(kind=DueKind.DATE, on=due), reminder_days=(1,))
    set_by_mandate = spec(
        DuePoint(kind=DueKind.DATE, on=due),
        reminder_days=(1,),
        overdue_reminders=Cadence(every_days=14, for_days=14, then_every_days=60),
    )
    async with webhook_worker(ts_env, tmp_path) as (worker, _):
        handles = [await start(ts_env, worker, s) for s in (default, set_by_mandate)]
        await sleep_until(ts_env, due + timedelta(days=1 + 28 + 60 + 1))
        sent = [
            [(r.on - due).days - 1 for r in (await state(h)).sent if r.kind == "overdue"] for h in handles
        ]
        # Days after the escalation: weekly for four weeks, then every 30 days; or as the mandate says.
        assert sent == [[7, 14, 21, 28, 58, 88], [14, 74]]
        for h in handles:
            assert (await state(h)).status is ReviewStatus.OVERDUE
            await h.terminate("test over")


async def test_a_review_begun_long_after_its_due_date_escalates_once_then_reminds_from_that_day(
    ts_env, tmp_path
):
    t = await today(ts_env)
    due = t - timedelta(days=400)
    async with webhook_worker(ts_env, tmp_path) as (worker, _):
        h, st = await begun_and_run(ts_env, worker, due, t + timedelta(days=31))
        # The escalation at once; then the cadence's next reminder from today (418 days after the escalation), not
        # the 16 before it in one burst.
        assert [(r.kind, r.on) for r in st.sent] == [
            ("escalation", due + timedelta(days=1)),
            ("overdue", due + timedelta(days=1 + 418)),
        ]
        assert len(received(tmp_path)) == 2
        await h.terminate("test over")


async def test_a_review_overdue_for_long_continues_as_new_without_repeating_or_skipping_a_week(
    ts_env, tmp_path
):
    due = await today(ts_env) + timedelta(days=10)
    s = spec(DuePoint(kind=DueKind.DATE, on=due), overdue_reminders=WEEKLY)  # a mandate may keep them weekly
    async with webhook_worker(ts_env, tmp_path) as (worker, _):
        h = await ts_env.client.start_workflow(
            ReviewWorkflow.run,
            # A small bound, so that a few months overdue stand for years.
            ReviewInput(spec=s, continue_after_events=100),
            id=review_id("ccm", s.subject),
            task_queue=worker.task_queue,
        )
        await sleep_until(ts_env, due + timedelta(days=1 + 7 * 18))
        st = await until(lambda: state(h), lambda st: len(received(tmp_path)) >= 20)
        weekly = [b for b in received(tmp_path) if b["body"]["kind"] == "overdue"]
        # Weeks 1 to 18, each once and in order, across the runs.
        assert [b["idempotency_key"].rsplit(":", 1)[1] for b in weekly][:18] == [str(w) for w in range(1, 19)]
        assert len({b["idempotency_key"] for b in received(tmp_path)}) == len(received(tmp_path))
        assert [b["body"]["kind"] for b in received(tmp_path)].count("escalation") == 1
        desc = await h.describe()
        assert desc.run_id != h.result_run_id, "the review continued as new"
        assert st.status is ReviewStatus.OVERDUE
        history = await ts_env.client.get_workflow_handle(h.id).fetch_history()
        assert len(history.events) < 130
        await h.terminate("test over")


async def test_a_review_conference_postponed_seven_months_moves_the_due_date_and_reminders(ts_env, tmp_path):
    # The 2nd Review Conference's part 2: planned for February 2021, held in September 2021.
    planned = await today(ts_env) + timedelta(days=100)
    held = planned + timedelta(days=212)
    s = spec(DuePoint(kind=DueKind.AT_MEETING, on=planned, meeting="4RC"))
    async with webhook_worker(ts_env, tmp_path) as (worker, _):
        h = await start(ts_env, worker, s)
        await sleep_until(ts_env, planned - timedelta(days=89))
        assert [r.on for r in (await state(h)).sent] == [planned - timedelta(days=90)]
        await h.signal(ReviewWorkflow.meeting_moved, MeetingMoved(meeting="4RC", first_day=held))
        await h.signal(
            ReviewWorkflow.meeting_moved, MeetingMoved(meeting="9MSP", first_day=planned)
        )  # not ours
        await sleep_until(ts_env, planned + timedelta(days=10))
        st = await state(h)
        assert st.due == held and st.status is ReviewStatus.PENDING  # not overdue on the old date
        await sleep_until(ts_env, held - timedelta(days=6))
        st = await state(h)
        # The 90-day reminder is not sent twice; the others follow the new date, the 180-day one included.
        assert [(r.kind, r.on) for r in st.sent] == [
            ("reminder", planned - timedelta(days=90)),
            *(("reminder", held - timedelta(days=days)) for days in (180, 30, 7)),
        ]
        assert st.upcoming is not None and st.upcoming.on == held + timedelta(days=1)
        await h.terminate("test over")


async def test_a_conclusion_every_three_years_starts_the_next_review_and_bad_ones_are_refused(ts_env, worker):
    due = await today(ts_env) + timedelta(days=40)
    h = await start(ts_env, worker, spec(DuePoint(kind=DueKind.DATE, on=due)))
    assert "due at a Review Conference" in await refused(
        h.execute_update(
            ReviewWorkflow.conclude,
            Conclude(
                decision_id="c0",
                reference="r",
                outcome="assessed",
                next=Periodicity(at_every_review_conference=True),
            ),
        )
    )
    await sleep_until(ts_env, due - timedelta(days=2))
    concluded_on = await today(ts_env)
    outcome = await h.execute_update(
        ReviewWorkflow.conclude,
        Conclude(
            decision_id="c1",
            reference="CCM/CONF/2026/5 para 30",
            outcome="The agreement is fit for purpose; assess it every three years.",
            next=Periodicity(every_years=3),
        ),
    )
    assert "next is due by" in outcome.summary
    await ts_env.sleep(timedelta(minutes=1))
    st = await state(h)  # the next review of the same subject: a new run of the same workflow
    assert st.cycle == 2 and st.status is ReviewStatus.PENDING
    assert st.due == concluded_on.replace(year=concluded_on.year + 3)
    assert st.history[-1].outcome.startswith("The agreement is fit")
    await h.execute_update(ReviewWorkflow.withdraw, WithdrawReview(decision_id="w", reference="r"))
    assert (await h.result()).status is ReviewStatus.WITHDRAWN  # a withdrawn review ends
    with pytest.raises(Rejected, match="already withdrawn"):
        check_conclude(ReviewStatus.WITHDRAWN, Conclude(decision_id="c2", reference="r", outcome="too late"))


async def test_reminders_sent_while_the_webhook_is_down_arrive_once_it_is_back(ts_env, tmp_path):
    due = await today(ts_env) + timedelta(days=40)
    first = Receiver(tmp_path, log=None).start()
    port, url = first.port, first.url + "/notifications"
    async with notifier_worker(ts_env, webhook=url) as worker:
        h = await start(ts_env, worker, spec(DuePoint(kind=DueKind.DATE, on=due), reminder_days=(30, 7)))
        await sleep_until(ts_env, due - timedelta(days=31))
        first.stop()
        # Down from here: the 30-day and 7-day reminders fall due while nobody answers.
        await sleep_until(ts_env, due - timedelta(days=5))
        assert (await state(h)).sent == []
        with Receiver(tmp_path, port=port, log=None):
            await ts_env.sleep(timedelta(hours=3))
            st = await state(h)
    assert [r.kind for r in st.sent] == ["reminder", "reminder"]
    assert [r.on for r in st.sent] == [due - timedelta(days=30), due - timedelta(days=7)]
    bodies = received(tmp_path)
    assert sorted(b["body"]["text"].rsplit(", in ", 1)[1] for b in bodies) == ["30 days.", "7 days."]
    assert len({b["idempotency_key"] for b in bodies}) == len(bodies) == 2
    await h.terminate("test over")


async def test_a_conclusion_resent_after_it_took_effect_is_not_applied_to_the_next_review(ts_env, worker):
    planned = await today(ts_env) + timedelta(days=30)
    held = planned + timedelta(days=200)
    h = await start(ts_env, worker, spec(DuePoint(kind=DueKind.AT_MEETING, on=planned, meeting="4RC")))
    await h.signal(ReviewWorkflow.meeting_moved, MeetingMoved(meeting="4RC", first_day=held))
    # A signal is applied in a workflow task of its own: an update sent right after may be handled first.
    await until(lambda: state(h), lambda st: st.due == held)
    conclusion = Conclude(
        decision_id="once",
        reference="r",
        outcome="assessed",
        next=Periodicity(at_every_review_conference=True),
    )
    await h.execute_update(ReviewWorkflow.conclude, conclusion)
    await ts_env.sleep(timedelta(minutes=1))
    again = await h.execute_update(ReviewWorkflow.conclude, conclusion)
    assert again.duplicate
    st = await state(h)
    assert st.cycle == 2 and len(st.history) == 1
    # The next Review Conference is counted from the date this one is held, not the first estimate.
    assert st.spec.due.meeting == "5RC" and st.due == held.replace(year=held.year + 5)
    await h.terminate("test over")


async def test_reminders_the_webhook_refuses_are_recorded_the_review_goes_on_and_the_next_one_keeps_them(
    ts_env, tmp_path
):
    due = await today(ts_env) + timedelta(days=40)
    async with webhook_worker(ts_env, tmp_path, path="nowhere") as (worker, receiver):
        h = await start(ts_env, worker, spec(DuePoint(kind=DueKind.DATE, on=due), reminder_days=(30, 7)))
        await sleep_until(ts_env, due - timedelta(days=6))
        st = await until(lambda: state(h), lambda st: len(st.undeliverable) == 2)
        # Refused once, not resent: each counts as sent, and the review waits for its due date as before.
        assert [r.on for r in st.sent] == [due - timedelta(days=30), due - timedelta(days=7)]
        assert (
            st.status is ReviewStatus.PENDING and st.upcoming is not None and st.upcoming.kind == "escalation"
        )
        assert [(u.kind, u.webhook) for u in st.undeliverable] == [("reminder", "default")] * 2
        assert all(f"refused by {receiver.url}/nowhere: 404" in u.reason for u in st.undeliverable)
        assert (await h.describe()).typed_search_attributes.get(sa.ATTENTION) == [sa.UNDELIVERABLE]
        assert "**Undeliverable notifications (2)**" in review_details(st)
        # Concluded, it continues as new for the next review of the subject: what was refused stays on record.
        conclusion = Conclude(decision_id="c", reference="r", outcome="fit", next=Periodicity(every_years=3))
        await h.execute_update(ReviewWorkflow.conclude, conclusion)
        st = await until(lambda: state(h), lambda st: st.cycle == 2)
        assert st.cycle == 2 and len(st.undeliverable) == 2
        assert (await h.describe()).typed_search_attributes.get(sa.ATTENTION) == [sa.UNDELIVERABLE]
    assert received(tmp_path) == []
    await h.terminate("test over")
