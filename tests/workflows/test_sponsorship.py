"""A Sponsorship Programme shaped like the seed's averages, on the time-skipping server, its travel booked at a real
receiver on 127.0.0.1: started with the meeting, funded by four donors, about 40 applications granted in order
within the balance, a booking refused and its money released, applications closing and moving with the meeting,
and the report after the close adding up."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.conference_services import ConferenceServices
from domain.decisions import Postpone
from domain.ids import sponsorship_id
from domain.models import Money
from domain.sponsorship import Apply, AppointCoordinator, Grant, Report, SponsorshipState, Status
from starter.receiver import Receiver
from tests.scenario import decide
from tests.support.cycle_helpers import Cycle, initial_state, part, refused, rejection
from tests.support.reminding import until
from tests.support.sponsorship import DONORS, applications, contributions, expert
from worker import activities, build_worker
from workflows.meeting import MeetingWorkflow
from workflows.sponsorship import SponsorshipWorkflow


@pytest.fixture
async def cycle(ts_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Cycle]:
    """Austria's term ending with the 14MSP, 120 days on; conference services, the travel agent and the webhook
    all the local receiver."""
    with Receiver(tmp_path, log=None) as receiver:
        async with ConferenceServices() as services:
            engine = activities(ts_env.client, services, {"default": f"{receiver.url}/notifications"})
            worker = build_worker(ts_env.client, services, f"tq-{uuid.uuid4()}", only_activities=engine)
            async with worker:
                today = (await ts_env.get_current_time()).date()
                money = Money(conference_services_url=receiver.url, travel_agent_url=receiver.url)
                state = initial_state("ccm", today, [part(today + timedelta(days=120))], money=money)
                c = await Cycle(ts_env, worker, state).start()
                try:
                    yield c
                finally:
                    await c.stop()


def stored(tmp_path: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((tmp_path / kind).glob("*.json"))]


async def programme(h: WorkflowHandle[Any, Any]) -> SponsorshipState:
    s: SponsorshipState = await h.query(SponsorshipWorkflow.state)
    return s


async def test_a_seed_shaped_programme_sponsors_about_17_delegates_books_each_once_and_reports(
    cycle: Cycle, tmp_path: Path
) -> None:
    c = cycle
    h = c.client.get_workflow_handle(sponsorship_id("ccm", "14MSP"), result_type=Report)

    async def started() -> bool:
        try:
            await programme(h)
        except Exception:
            return False
        return True

    assert await until(started, bool), "the meeting did not start its programme"
    await decide(
        h,
        SponsorshipWorkflow.appoint_coordinator,
        AppointCoordinator(decision_id="coord", reference="President's letter", coordinator="C. Oordinator"),
    )
    for gift in contributions():
        await decide(h, SponsorshipWorkflow.contribute, gift)

    # A fare above what the agent books without approval: refused, and its money comes back.
    big = Apply(
        decision_id="app-big", reference="form", state="Tuvalu", delegate="B. Ig", function="Minister",
        travel_cost=24_000,
    )  # fmt: skip
    await decide(h, SponsorshipWorkflow.apply, big)
    await decide(
        h, SponsorshipWorkflow.grant, Grant(decision_id="g-big", reference="ISU", application="app-big")
    )
    s = await until(lambda: programme(h), lambda s: s.find("app-big").status is Status.REFUSED_BY_AGENT)
    assert s.find("app-big").status is Status.REFUSED_BY_AGENT and s.balance == sum(DONORS.values())

    # About 40 applications, granted in order as far as the balance and one delegate per State allow.
    apps = applications()
    for d in apps:
        await decide(h, SponsorshipWorkflow.apply, d)
    refusals = []
    for d in apps:
        g = Grant(decision_id=f"g-{d.decision_id}", reference="ISU", application=d.decision_id)
        try:
            await decide(h, SponsorshipWorkflow.grant, g)
        except WorkflowUpdateFailedError as e:
            refusals.append(rejection(e))
    assert any("the programme's balance is CHF" in r for r in refusals)
    # Sent again (as `msp` does, under an update id of its own): answered from the log, applied once.
    g0 = Grant(decision_id="g-app-00", reference="ISU", application="app-00")
    again = await h.execute_update(SponsorshipWorkflow.grant, g0, id="g-app-00-again")
    assert again.duplicate
    s = await until(lambda: programme(h), lambda s: not s.to_book())
    granted = [a for a in s.applications if a.status is Status.BOOKED]
    assert 14 <= len(granted) <= 20, len(granted)
    assert s.balance >= 0 and s.committed <= s.contributed == 52_800

    # The meeting is postponed three weeks: applications close three weeks later too.
    closes = s.closes_on
    new_start = c.state0.meeting.first_day + timedelta(weeks=3)
    await c.decide_meeting(
        MeetingWorkflow.postpone, Postpone(decision_id="p1", reference="r", new_start=new_start)
    )
    s = await until(lambda: programme(h), lambda s: s.first_day == new_start)
    assert s.closes_on == closes + timedelta(weeks=3)
    await c.sleep_until_day(s.closes_on)
    late = expert("late", "Peru", "L. Ate", 1, reference="form")
    assert f"closed on {s.closes_on}" in await refused(decide(h, SponsorshipWorkflow.apply, late))

    # The meeting sits and closes; the programme reports and ends.
    await c.sleep_past_end_of(new_start + timedelta(days=3))
    report: Report = await h.result()
    assert report.delegates == len(granted) and report.refused_by_agent == 1
    assert report.spent + report.carried_over == report.contributed == 52_800
    assert report.spent == sum(a.travel_cost for a in granted) and report.donors == sorted(DONORS)
    assert len(report.states) == len(granted)  # one per State first: every State got one before any a second

    # Each granted delegate's travel was booked once, under the key of the programme and the application.
    bookings = stored(tmp_path, "travel-bookings")
    assert sorted(b["body"]["application"] for b in bookings) == sorted(a.id for a in granted)
    assert sorted(b["reference"] for b in bookings) == [f"UNOG-B-{n:06d}" for n in range(1, len(granted) + 1)]
    # The coordinator heard of every booking, the refusal, the closing and the report; never a delegate's name.
    texts = [n["body"]["text"] for n in stored(tmp_path, "notifications")]
    assert sum("Travel booked" in t for t in texts) == len(granted)
    assert any("refused application app-big" in t for t in texts)
    assert any(t.startswith("Applications for the 14MSP closed") for t in texts)
    assert any(t.startswith("Sponsorship Programme of the 14MSP") for t in texts)
    assert not any("Delegate " in t or "B. Ig" in t for t in texts)
