"""The Coordination Committee on the time-skipping test server: its composition follows the Presidency across two
handovers, mandates that end are flagged for renewal, a task is reminded, becomes overdue and escalates (to a real
webhook on 127.0.0.1), and decisions the rules refuse change nothing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain import search_attributes as sa
from domain.committee_models import (
    AddGroupMember,
    Appoint,
    AssignTask,
    CommitteeState,
    CompleteTask,
    PresidencyView,
    RecordMeeting,
    RemoveGroupMember,
    Renew,
    ScheduleMeeting,
    TaskStatus,
    Theme,
)
from domain.decisions import Designate
from domain.extensions import Article
from domain.ids import committee_id
from domain.models import Money, President
from domain.views import workload
from tests.scenario import AUSTRIA, CHILE, MEXICO, decide, initial_state, part
from tests.support.cycle_helpers import Cycle, refused
from tests.support.reminding import received, sleep_until, today, until, webhook_worker
from workflows.committee import CommitteeWorkflow
from workflows.presidency import COMMITTEE_BATCH, PresidencyWorkflow

PERU = President(state="Peru")


def committee_of(code: str, president: President = AUSTRIA, designates: list[President] | None = None) -> Any:
    return CommitteeState(
        convention=code,
        isu_director="Director D. Example",
        presidency=PresidencyView(
            term=1, president=president, designates=designates or [CHILE], meeting="14MSP"
        ),
    )


async def start(env: WorkflowEnvironment, worker: Worker, state: CommitteeState) -> WorkflowHandle[Any, Any]:
    return await env.client.start_workflow(
        CommitteeWorkflow.run, state, id=committee_id(state.convention), task_queue=worker.task_queue
    )


async def state_of(h: WorkflowHandle[Any, Any]) -> CommitteeState:
    s: CommitteeState = await h.query(CommitteeWorkflow.state)
    return s


async def attention(h: WorkflowHandle[Any, Any]) -> list[str]:
    desc = await h.describe()
    return list(desc.typed_search_attributes.get(sa.ATTENTION) or [])


def last_notification(directory: Path) -> Any:
    async def get() -> dict[str, Any]:
        bodies = received(directory)
        return dict(bodies[-1]["body"]) if bodies else {}

    return get


async def term(h: WorkflowHandle[Any, Any], n: int) -> CommitteeState:
    return await until(lambda: state_of(h), lambda s: s.term == n)


async def test_the_committee_follows_the_presidency_across_two_handovers(ts_env, tmp_path: Path):
    code = f"c{uuid.uuid4().hex[:6]}"
    day0 = await today(ts_env)
    first_day = day0 + timedelta(days=20)
    async with webhook_worker(ts_env, tmp_path, every_activity=True) as (worker, receiver):
        h = await start(ts_env, worker, committee_of(code))
        money = Money(conference_services_url=receiver.url)
        cycle = await Cycle(ts_env, worker, initial_state(code, day0, [part(first_day)], money=money)).start()
        try:
            # The Presidency tells the committee at the start of its term, then of its changes, a minute after the
            # first of them at most.
            await ts_env.sleep(timedelta(minutes=1))
            await cycle.decide_presidency(
                PresidencyWorkflow.designate,
                Designate(decision_id="d1", reference="MSP/14/7", president=MEXICO),
            )
            assert len((await state_of(h)).presidency.designates) == 1
            await ts_env.sleep(COMMITTEE_BATCH)
            s = await until(lambda: state_of(h), lambda s: len(s.presidency.designates) == 2)
            assert s.presidency.designates == [CHILE, MEXICO]

            async def ok(update: Any, d: Any) -> str:
                return str((await decide(h, update, d)).summary)

            await ok(
                CommitteeWorkflow.appoint,
                Appoint(
                    decision_id="a1", reference="MSP/14 para 30", theme=Theme.TRANSPARENCY, states=["Peru"]
                ),
            )
            summary = await ok(
                CommitteeWorkflow.appoint,
                Appoint(
                    decision_id="a2",
                    reference="MSP/14 para 30",
                    theme=Theme.VICTIM_ASSISTANCE,
                    states=["Chile", "Norway"],
                ),
            )
            assert "for two years (to the end of term 2)" in summary
            due = day0 + timedelta(days=10)
            await ok(
                CommitteeWorkflow.assign_task,
                AssignTask(
                    decision_id="t1",
                    reference="CC 1",
                    theme=Theme.VICTIM_ASSISTANCE,
                    title="Draft a plan",
                    due=due,
                ),
            )
            meets = day0 + timedelta(days=5)
            await ok(
                CommitteeWorkflow.schedule_meeting,
                ScheduleMeeting(decision_id="m1", reference="letter", on=meets, agenda="Extension requests."),
            )
            assert f"Meeting 1 is on {meets}" in await refused(
                decide(
                    h,
                    CommitteeWorkflow.record_meeting,
                    RecordMeeting(
                        decision_id="r0", reference="x", meeting=1, attended=["Austria"], conclusions="None."
                    ),
                )
            )

            # The task: a reminder three days before (the one 14 days before had passed when it was given), then
            # the escalation on the day after it was due.
            await sleep_until(ts_env, due + timedelta(days=1))
            s = await until(lambda: state_of(h), lambda s: s.tasks[0].status is TaskStatus.OVERDUE)
            assert s.tasks[0].sent == ["task-1:reminder:3d", "task-1:escalation"]
            assert await attention(h) == [sa.OVERDUE]
            [load] = [w for w in workload(s) if w.theme is Theme.VICTIM_ASSISTANCE]
            assert (load.open, load.overdue) == (1, 1)
            bodies = [b["body"] for b in received(tmp_path)]
            assert [b["kind"] for b in bodies] == ["invitation", "reminder", "escalation"]
            assert "Director D. Example" in bodies[0]["text"] and "UNODA" in bodies[0]["text"]
            assert "For the attention of the President and the ISU Director" in bodies[2]["text"]
            await ok(
                CommitteeWorkflow.record_meeting,
                RecordMeeting(
                    decision_id="r1",
                    reference="CC/1",
                    meeting=1,
                    attended=["Austria", "ICRC"],
                    conclusions="Noted.",
                ),
            )

            # First handover: Chile presides, Austria is outgoing; the one-year mandate ended and is flagged.
            await cycle.sleep_past_end_of(first_day + timedelta(days=3))
            s = await term(h, 2)
            assert (s.presidency.president, s.presidency.outgoing) == (CHILE, AUSTRIA)
            assert s.presidency.designates == [MEXICO] and s.presidency.meeting == "15MSP"
            assert s.renewals == [Theme.TRANSPARENCY]
            assert [t.number for t in s.open_tasks()] == [1]
            assert sorted(await until(lambda: attention(h), lambda a: sa.RENEWAL in a)) == [
                sa.OVERDUE,
                sa.RENEWAL,
            ]
            renewal = await until(last_notification(tmp_path), lambda b: b["kind"] == "renewal")
            assert "transparency measures" in renewal["text"]
            summary = await ok(
                CommitteeWorkflow.renew, Renew(decision_id="n1", reference="CC 2", theme=Theme.TRANSPARENCY)
            )
            assert "to the end of term 2" in summary
            await ok(
                CommitteeWorkflow.complete_task, CompleteTask(decision_id="c1", reference="CC 2", task=1)
            )
            assert await until(lambda: attention(h), lambda a: a == []) == []

            # Second handover: Mexico presides; both mandates end with term 2.
            label = (await cycle.presidency()).meeting
            await cycle.sleep_past_end_of(label.last_day)
            s = await term(h, 3)
            assert (s.presidency.president, s.presidency.outgoing, s.presidency.designates) == (
                MEXICO,
                CHILE,
                [],
            )
            assert s.renewals == [Theme.VICTIM_ASSISTANCE, Theme.TRANSPARENCY]
            assert [m.number for m in s.meetings] == [1]
            # A decision of an earlier term sent again is a repeat, not applied twice.
            again = await decide(
                h, CommitteeWorkflow.complete_task, CompleteTask(decision_id="c1", reference="CC 2", task=1)
            )
            assert again.duplicate
            bodies = [b["body"] for b in received(tmp_path)]
            assert [b["kind"] for b in bodies].count("renewal") == 2
            assert len({b["idempotency_key"] for b in received(tmp_path)}) == len(bodies)
        finally:
            await cycle.stop()
            await h.terminate("test over")


async def test_decisions_the_rules_refuse_change_nothing(ts_env: WorkflowEnvironment, tmp_path: Path):
    code = f"c{uuid.uuid4().hex[:6]}"
    day0: date = await today(ts_env)

    def task(decision_id: str, theme: Theme, due: date) -> AssignTask:
        return AssignTask(decision_id=decision_id, reference="r", theme=theme, title="T", due=due)

    async with webhook_worker(ts_env, tmp_path) as (worker, _):
        h = await start(ts_env, worker, committee_of(code))
        try:
            await decide(
                h,
                CommitteeWorkflow.appoint,
                Appoint(decision_id="a1", reference="r", theme=Theme.UNIVERSALISATION, states=["Chile"]),
            )
            await decide(
                h,
                CommitteeWorkflow.add_group_member,
                AddGroupMember(decision_id="g1", reference="r", article=Article.ART4, member="Switzerland"),
            )
            before = await state_of(h)
            refusals = [
                (
                    CommitteeWorkflow.renew,
                    Renew(decision_id="x1", reference="r", theme=Theme.UNIVERSALISATION),
                    "is not renewed",
                ),
                (
                    CommitteeWorkflow.appoint,
                    Appoint(decision_id="x2", reference="r", theme=Theme.UNIVERSALISATION, states=["Peru"]),
                    "until the end of term 2",
                ),
                (
                    CommitteeWorkflow.assign_task,
                    task("x3", Theme.CLEARANCE, day0 + timedelta(days=9)),
                    "No one coordinates clearance",
                ),
                (CommitteeWorkflow.assign_task, task("x4", Theme.UNIVERSALISATION, day0), "due after today"),
                (
                    CommitteeWorkflow.complete_task,
                    CompleteTask(decision_id="x5", reference="r", task=7),
                    "no task 7",
                ),
                (
                    CommitteeWorkflow.remove_group_member,
                    RemoveGroupMember(
                        decision_id="x6", reference="r", article=Article.ART3, member="Switzerland"
                    ),
                    "not a member of the Article 3 Analysis Group",
                ),
                (
                    CommitteeWorkflow.schedule_meeting,
                    ScheduleMeeting(
                        decision_id="x7", reference="r", on=day0 - timedelta(days=1), agenda="Late."
                    ),
                    "which has passed",
                ),
            ]
            for update, d, reason in refusals:
                assert reason in await refused(decide(h, update, d)), d
            assert (await state_of(h)).model_dump() == before.model_dump()
            assert received(tmp_path) == []
        finally:
            await h.terminate("test over")
