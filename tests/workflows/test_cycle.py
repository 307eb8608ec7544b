"""The presidential cycle end to end on the time-skipping test server: terms, handovers, meetings that move."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain import decisions as dec
from domain.models import MeetingFormat, MeetingKind, Phase, President
from tests.support.cycle_helpers import (
    AUSTRIA,
    CHILE,
    MEXICO,
    NORWAY,
    Cycle,
    initial_state,
    part,
    refused,
    rejection,
)
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow

_codes = itertools.count(1)


@pytest.fixture
async def cycle_factory(ts_env: WorkflowEnvironment, ts_worker: Worker) -> AsyncIterator[object]:
    started: list[Cycle] = []

    async def make(**kw: object) -> Cycle:
        today = (await ts_env.get_current_time()).date()
        parts = kw.pop("parts", None) or [part(today + timedelta(days=20))]
        state = initial_state(f"t{next(_codes)}", today, parts, **kw)  # type: ignore[arg-type]
        c = await Cycle(ts_env, ts_worker, state).start()
        started.append(c)
        return c

    yield make
    for c in started:
        await c.stop()


async def assert_no_failed_tasks(c: Cycle) -> None:
    """A workflow whose tasks fail looks Running while stuck; its history tells."""
    for handle in (c.handle, await c.meeting_handle()):
        async for event in handle.fetch_history_events():
            assert event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, handle.id


async def test_three_terms_hand_over_on_each_meetings_last_day(cycle_factory):
    c: Cycle = await cycle_factory()
    successors = [MEXICO, NORWAY, President(state="Peru")]
    expected = []
    for term, successor in enumerate(successors, start=1):
        state = await c.presidency()
        assert state.term == term
        await c.decide_presidency(
            PresidencyWorkflow.designate,
            dec.Designate(decision_id=f"designate-{term}", reference=f"term {term}", president=successor),
        )
        plan = state.meeting
        expected.append((plan.ref.label, plan.last_day))
        await c.sleep_past_end_of(plan.last_day)
        meeting = await c.meeting(plan.ref.label)
        assert meeting.phase is Phase.CLOSED
        assert meeting.closed is not None and "automatically" in meeting.closed.how
        assert [d.day for d in meeting.days_held] == list(range(1, plan.parts[0].days + 1))

    state = await c.presidency()
    assert state.term == 4
    assert [(h.meeting, h.handed_over_on) for h in state.history] == expected
    assert [h.president.state for h in state.history] == ["Austria", "Chile", "Mexico"]
    assert [h.successor.state for h in state.history] == ["Chile", "Mexico", "Norway"]
    # Each term begins on the day the previous one ended.
    assert [h.began_on for h in state.history[1:]] == [h.handed_over_on for h in state.history[:-1]]
    assert state.president == NORWAY and state.outgoing == MEXICO
    assert state.designates == [President(state="Peru")]
    assert [h.meeting for h in state.history] == ["14MSP", "15MSP", "16MSP"]
    assert state.meeting.ref.label == "17MSP" and state.meeting.parts[0].provisional
    await assert_no_failed_tasks(c)


async def test_postponed_meeting_stretches_the_term(cycle_factory):
    c: Cycle = await cycle_factory()
    plan = (await c.presidency()).meeting
    new_start = plan.first_day + timedelta(days=45)
    outcome = await c.decide_meeting(
        MeetingWorkflow.postpone,
        dec.Postpone(decision_id="p1", reference="President's letter", new_start=new_start, reason="funds"),
    )
    assert "postponed" in outcome.summary
    await c.sleep_past_end_of(plan.last_day)
    meeting = await c.meeting("14MSP")
    assert meeting.phase is Phase.SCHEDULED
    assert (await c.presidency()).meeting.first_day == new_start  # the Presidency follows the meeting
    await c.sleep_past_end_of(new_start + timedelta(days=3))
    state = await c.presidency()
    assert state.term == 2
    assert state.history[-1].handed_over_on == new_start + timedelta(days=3)


async def test_postponed_and_made_hybrid_is_one_act_applied_whole_or_not_at_all(cycle_factory):
    c: Cycle = await cycle_factory()
    # The Presidency starts its meeting as a child: decide once it runs.
    while not (await c.presidency()).meeting_started:
        await asyncio.sleep(0.05)
    plan = (await c.presidency()).meeting
    later = plan.first_day + timedelta(days=30)
    # Away from Geneva without a host: the combined act is refused, and neither its dates nor its format apply.
    assert "must name the host" in await refused(
        c.decide_meeting(
            MeetingWorkflow.postpone,
            dec.Postpone(
                decision_id="p-away",
                reference="r",
                new_start=later,
                format=MeetingFormat.HYBRID,
                place="Lausanne",
            ),
        )
    )
    meeting = await c.meeting()
    assert meeting.plan == plan and meeting.decisions.records == []
    outcome = await c.decide_meeting(
        MeetingWorkflow.postpone,
        dec.Postpone(decision_id="p-hybrid", reference="r", new_start=later, format=MeetingFormat.HYBRID),
    )
    assert "held hybrid" in outcome.summary
    moved = (await c.meeting()).plan.parts[0]
    assert (moved.start, moved.format) == (later, MeetingFormat.HYBRID)
    await c.sleep_past_end_of(plan.last_day)
    assert (await c.presidency()).meeting.parts[0] == moved  # the Presidency follows the meeting


async def test_meeting_extended_by_a_day_hands_over_a_day_later(cycle_factory):
    c: Cycle = await cycle_factory()
    plan = (await c.presidency()).meeting
    await c.sleep_until_day(plan.last_day, hour=15)
    assert (await c.meeting()).status == "in session, day 4 of 4"
    await c.decide_meeting(
        MeetingWorkflow.extend_by_day, dec.ExtendByDay(decision_id="x1", reference="plenary")
    )
    await c.sleep_past_end_of(plan.last_day)
    meeting = await c.meeting("14MSP")
    assert meeting.phase is Phase.IN_SESSION and meeting.status == "in session, day 4 of 5"
    await c.sleep_past_end_of(plan.last_day + timedelta(days=1))
    state = await c.presidency()
    assert state.history[-1].handed_over_on == plan.last_day + timedelta(days=1)


async def test_review_conference_in_two_parts_hands_over_on_the_last_day_of_part_two(cycle_factory):
    # The 2nd Review Conference: part 1 virtual, part 2 planned some months later and then postponed.
    c: Cycle = await cycle_factory(kind=MeetingKind.RC)
    plan = (await c.presidency()).meeting
    assert plan.ref.label == "4RC"
    await c.decide_meeting(
        MeetingWorkflow.change_format,
        dec.ChangeFormat(decision_id="virtual", reference="CCM/CONF/2020/1", format=MeetingFormat.VIRTUAL),
    )
    part2 = plan.last_day + timedelta(days=80)
    await c.decide_meeting(
        MeetingWorkflow.add_part,
        dec.AddPart(decision_id="split", reference="CCM/CONF/2020/2", start=part2, duration_days=2),
    )
    await c.sleep_until_day(plan.last_day, hour=12)
    assert "last day of its last part" in await refused(
        c.decide_meeting(MeetingWorkflow.close, dec.CloseMeeting(decision_id="early", reference="r"))
    )
    await c.sleep_past_end_of(plan.last_day)
    meeting = await c.meeting()
    assert meeting.phase is Phase.ADJOURNED and meeting.status.startswith("adjourned until part 2")
    # Part 2 is postponed by seven months, as in 2021.
    later = part2 + timedelta(days=210)
    await c.decide_meeting(
        MeetingWorkflow.postpone, dec.Postpone(decision_id="p2", reference="CCM/CONF/2021/1", new_start=later)
    )
    await c.sleep_past_end_of(part2 + timedelta(days=1))
    assert (await c.presidency()).term == 1
    await c.sleep_until_day(later + timedelta(days=1), hour=11)
    await c.decide_meeting(
        MeetingWorkflow.close, dec.CloseMeeting(decision_id="close", reference="final report")
    )
    await c.sleep_until_day(later + timedelta(days=1), hour=17)
    state = await c.presidency()
    assert state.term == 2
    assert state.history[-1].handed_over_on == later + timedelta(days=1)
    assert state.history[-1].meeting == "4RC"
    meeting = await c.meeting("4RC")
    assert [(d.part, d.day) for d in meeting.days_held] == [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2)]
    assert meeting.plan.parts[0].format is MeetingFormat.VIRTUAL
    # After a Review Conference, the next meeting is the next MSP.
    assert state.meeting.ref.label == "14MSP"
    assert state.counters.last_review_conference_number == 4


async def test_close_by_decision_names_the_successor(cycle_factory):
    c: Cycle = await cycle_factory(designates=[])
    plan = (await c.presidency()).meeting
    await c.sleep_until_day(plan.first_day + timedelta(days=1), hour=12)
    assert "cannot close without a President-designate" in await refused(
        c.decide_meeting(MeetingWorkflow.close, dec.CloseMeeting(decision_id="c0", reference="r"))
    )
    await c.decide_meeting(
        MeetingWorkflow.close, dec.CloseMeeting(decision_id="c1", reference="final report", successor=MEXICO)
    )
    await c.sleep_until_day(plan.first_day + timedelta(days=1), hour=16)
    state = await c.presidency()
    assert state.term == 2 and state.president == MEXICO and state.outgoing == AUSTRIA
    assert state.history[-1].handed_over_on == plan.first_day + timedelta(days=1)


async def test_meeting_without_successor_stays_open_until_one_is_designated(cycle_factory):
    c: Cycle = await cycle_factory(designates=[])
    plan = (await c.presidency()).meeting
    await c.sleep_until_day(plan.last_day + timedelta(days=1), hour=12)
    meeting = await c.meeting()
    assert meeting.phase is Phase.IN_SESSION and meeting.overrun
    assert (await c.presidency()).term == 1
    await c.decide_presidency(
        PresidencyWorkflow.designate, dec.Designate(decision_id="d", reference="r", president=CHILE)
    )
    await c.env.sleep(timedelta(hours=1))
    state = await c.presidency()
    assert state.term == 2 and state.president == CHILE
    assert state.history[-1].handed_over_on == plan.last_day + timedelta(days=1)


async def test_designations_follow_the_order_of_meetings(cycle_factory):
    c: Cycle = await cycle_factory()
    await c.decide_presidency(
        PresidencyWorkflow.designate, dec.Designate(decision_id="d2", reference="r", president=MEXICO)
    )
    await c.decide_presidency(
        PresidencyWorkflow.replace_designate,
        dec.ReplaceDesignate(
            decision_id="r1",
            reference="r",
            position=1,
            president=President(state="Chile", representative="Ambassador C"),
        ),
    )
    await c.decide_presidency(
        PresidencyWorkflow.decide_intersessional,
        dec.DecideIntersessional(decision_id="i", reference="r", held=False),
    )
    state = await c.presidency()
    assert [str(p) for p in state.designates] == ["Chile (Ambassador C)", "Mexico"]
    assert state.intersessional_next_cycle is False
    # A scheduled meeting that knows of a successor is not told of another (it cannot act on it yet): no signal,
    # and no workflow task that the next decision would wait on. It learns of it once in session.
    await c.env.sleep(timedelta(minutes=1))
    meeting_handle = await c.meeting_handle()

    async def successor_signals() -> int:
        return len(
            [
                e
                async for e in meeting_handle.fetch_history_events()
                if e.workflow_execution_signaled_event_attributes.signal_name == "successor_changed"
            ]
        )

    # (Chile: with Ambassador C only if the replacement came before the meeting was started with it.)
    successor = (await c.meeting()).successor
    assert successor is not None and successor.state == "Chile" and await successor_signals() == 0
    await c.sleep_until_day(state.meeting.first_day, hour=12)
    assert (await c.meeting()).successor == state.designates[0] and await successor_signals() == 1
    await c.sleep_past_end_of(state.meeting.last_day)
    state = await c.presidency()
    assert state.president.representative == "Ambassador C"
    assert state.designates == [MEXICO] and state.intersessional_this_cycle is False


async def test_invalid_decisions_are_rejected_and_change_nothing(cycle_factory):
    c: Cycle = await cycle_factory()
    today = await c.today()
    plan = (await c.presidency()).meeting
    cases: list[tuple[Any, Any, str]] = [
        (
            MeetingWorkflow.postpone,
            dec.Postpone(decision_id="a", reference="r", new_start=plan.first_day - timedelta(days=1)),
            "must move",
        ),
        (
            MeetingWorkflow.set_dates,
            dec.SetDates(decision_id="b", reference="r", start=today - timedelta(days=3)),
            "in the past",
        ),
        (
            MeetingWorkflow.set_dates,
            dec.SetDates(decision_id="c", reference="r", start=plan.first_day, place="Lausanne"),
            "must name the host",
        ),
        (
            MeetingWorkflow.close,
            dec.CloseMeeting(decision_id="d", reference="r"),
            "only be closed while in session",
        ),
        (
            MeetingWorkflow.change_format,
            dec.ChangeFormat(decision_id="e", reference="r", format=MeetingFormat.IN_PERSON),
            "already",
        ),
        (
            MeetingWorkflow.add_part,
            dec.AddPart(decision_id="f", reference="r", start=plan.last_day, duration_days=2),
            "must start after",
        ),
        (
            PresidencyWorkflow.designate,
            dec.Designate(decision_id="g", reference="r", president=President(state="austria")),
            "cannot be its own successor",
        ),
        (
            PresidencyWorkflow.designate,
            dec.Designate(decision_id="h", reference="r", president=CHILE),
            "already President-designate",
        ),
        (
            PresidencyWorkflow.replace_designate,
            dec.ReplaceDesignate(decision_id="i", reference="r", position=2, president=MEXICO),
            "no President-designate",
        ),
    ]
    for _ in range(6):
        await c.decide_meeting(
            MeetingWorkflow.extend_by_day, dec.ExtendByDay(decision_id=f"ext{_}", reference="r")
        )
    cases.append(
        (MeetingWorkflow.extend_by_day, dec.ExtendByDay(decision_id="j", reference="r"), "1 to 10 days")
    )
    await c.env.sleep(
        timedelta(minutes=1)
    )  # what the extensions set off (e.g. interpretation requests) settles
    before = ((await c.presidency()).model_dump(), (await c.meeting()).model_dump())
    for update, decision, message in cases:
        with pytest.raises(WorkflowUpdateFailedError) as err:
            if update.__qualname__.startswith("Meeting"):
                await c.decide_meeting(update, decision)
            else:
                await c.decide_presidency(update, decision)
        assert message in rejection(err.value), (decision, rejection(err.value))
    after = ((await c.presidency()).model_dump(), (await c.meeting()).model_dump())
    assert after == before
    await assert_no_failed_tasks(c)


async def test_a_decision_sent_twice_is_applied_once(cycle_factory):
    c: Cycle = await cycle_factory()
    plan = (await c.presidency()).meeting
    decision = dec.Postpone(decision_id="once", reference="r", new_start=plan.first_day + timedelta(days=7))
    first = await c.decide_meeting(MeetingWorkflow.postpone, decision)
    again = await c.decide_meeting(MeetingWorkflow.postpone, decision)
    assert first == again
    # The same decision id under another update id (e.g. re-sent by hand) is still recognised.
    handle = await c.meeting_handle()
    third = await handle.execute_update(MeetingWorkflow.postpone, decision, id="another-update-id")
    assert third.duplicate and third.summary == first.summary
    meeting = await c.meeting()
    assert [d.decision_id for d in meeting.decisions.records] == ["once"]
    assert meeting.plan.first_day == plan.first_day + timedelta(days=7)


async def test_a_meeting_decision_resent_after_the_handover_is_not_applied_again(cycle_factory):
    c: Cycle = await cycle_factory()
    plan = (await c.presidency()).meeting
    await c.sleep_until_day(plan.first_day, hour=12)
    extend = dec.ExtendByDay(decision_id="extend-once", reference="plenary")
    await c.decide_meeting(MeetingWorkflow.extend_by_day, extend)
    await c.sleep_until_day(plan.last_day + timedelta(days=1), hour=12)
    await c.decide_meeting(
        MeetingWorkflow.close, dec.CloseMeeting(decision_id="close-once", reference="report")
    )
    await c.sleep_until_day(plan.last_day + timedelta(days=2), hour=12)
    state = await c.presidency()
    assert state.term == 2
    # Re-sent to what is now the current meeting, both are recognised as already applied.
    for decision, update in (
        (extend, MeetingWorkflow.extend_by_day),
        (dec.CloseMeeting(decision_id="close-once", reference="report"), MeetingWorkflow.close),
    ):
        outcome = await c.decide_meeting(update, decision)
        assert outcome.duplicate
    meeting = await c.meeting()
    assert meeting.plan.ref != plan.ref and meeting.decisions.records == []
    assert meeting.plan.parts[0].days == 4
