"""`msp sponsorship` against the dev server, with the worker as its own process and the travel agent a real receiver
on 127.0.0.1: the programme the meeting started is funded, applied to and granted through `msp`; the worker is
killed while travel is being booked, and each booking is still made once; a grant beyond the balance is refused in
one line; the report adds up; the programme is listed by its search attributes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain import search_attributes as sa
from domain.ids import sponsorship_id
from domain.sponsorship import Contribute, Grant, SponsorshipState, Status
from starter.receiver import Receiver
from tests.support.devserver import MspCycle, Server, config_text, eventually, one_line_error, worker_cycle
from tests.support.sponsorship import expert
from workflows.sponsorship import SponsorshipWorkflow


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[tuple[MspCycle, Path]]:
    received = tmp_path / "received"
    with Receiver(received, log=None) as receiver:

        def config(code: str, today: date) -> str:
            # The meeting is 30 days away: applications close a week before it.
            extra = f'\n[money]\ntravel_agent_url = "{receiver.url}"\n\n[sponsorship]\nclose_weeks = 1\n'
            return config_text(code, today, extra)

        hook = {"CCM_WEBHOOK_URL": f"{receiver.url}/notifications"}
        async with worker_cycle(server, tmp_path, MspCycle, config, config_in_env=True, worker_env=hook) as c:
            yield c, received


def stored(received: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in (received / kind).glob("*.json")]


async def test_msp_runs_the_programme_and_a_killed_worker_books_each_delegate_once(
    cycle: tuple[MspCycle, Path],
) -> None:
    c, received = cycle
    await c.ok("cycle", "start")
    wid = sponsorship_id(c.code, "14MSP")
    h = c.client.get_workflow_handle(wid)

    async def opened() -> None:
        status = (await c.ok("sponsorship", "status", "--json")).json()
        assert status["id"] == wid and status["balance"] == 0, status

    await eventually(opened, seconds=20)
    await c.ok(
        "sponsorship", "appoint-coordinator", "--name", "C. Oordinator", "--ref", "letter", "--id", "co"
    )
    await c.ok(
        "sponsorship", "contribute", "--donor", "Norway", "--amount", "10000", "--ref", "bank 1", "--id", "c1"
    )
    await h.execute_update(
        SponsorshipWorkflow.contribute,
        Contribute(decision_id="c2", reference="bank 2", donor="Australia", amount=8_000),
        id="c2",
    )
    out = await c.ok(
        "sponsorship", "apply", "--state", "Peru", "--delegate", "P. Eru", "--function", "Head of delegation",
        "--travel-cost", "3000", "--ref", "form 1", "--id", "app-peru",
    )  # fmt: skip
    assert "accepted: application app-peru from Peru" in out.out and "P. Eru" not in out.out
    states = ["Chad", "Fiji", "Ghana", "Mali", "Niger", "Samoa", "Cuba"]
    for n, state in enumerate(states):
        cost = 4_000 if state == "Cuba" else 2_500
        d = expert(f"app-{n}", state, f"D {n}", cost, reference="form")
        await h.execute_update(SponsorshipWorkflow.apply, d, id=d.decision_id)

    await c.ok("sponsorship", "grant", "app-peru", "--ref", "ISU", "--id", "g-peru")
    again = await c.ok("sponsorship", "grant", "app-peru", "--ref", "ISU", "--id", "g-peru")
    assert again.out.strip().endswith("(already applied)"), again
    await c.ok("sponsorship", "decline", "app-5", "--ref", "ISU", "--reason", "late form", "--id", "d-5")

    # Five grants accepted, their bookings on their way... and the worker dies.
    for n in range(5):
        g = Grant(decision_id=f"g-{n}", reference="ISU", application=f"app-{n}")
        await h.execute_update(SponsorshipWorkflow.grant, g, id=g.decision_id)
    await c.worker.kill()
    await c.worker.start(c.client)

    # CHF 18,000 in, 15,500 committed: Cuba's 4,000 does not fit.
    line = one_line_error(await c.msp("sponsorship", "grant", "app-6", "--ref", "ISU", "--id", "g-6"))
    assert " ".join(line.split()) == (
        "rejected: Granting application app-6 (Cuba) would commit CHF 4,000; the programme's balance is CHF 2,500."
    ), line

    async def all_booked() -> None:
        s: SponsorshipState = await h.query(SponsorshipWorkflow.state)
        assert s.count(Status.BOOKED) == 6 and not s.to_book(), [(a.id, a.status) for a in s.applications]

    # A booking in flight on the killed worker is retried once its start-to-close timeout (30 s) has passed.
    await eventually(all_booked, seconds=90)
    bookings = stored(received, "travel-bookings")
    keys = sorted(b["idempotency_key"] for b in bookings)
    assert keys == sorted(f"{wid}/{a}" for a in ["app-peru", *(f"app-{n}" for n in range(5))]), keys
    assert sorted(b["reference"] for b in bookings) == [f"UNOG-B-{n:06d}" for n in range(1, 7)]

    report = (await c.ok("sponsorship", "report", "--json")).json()
    assert (report["final"], report["delegates"], report["contributed"]) == (False, 6, 18_000), report
    assert report["spent"] + report["carried_over"] == 18_000 and report["spent"] == 15_500
    text = (await c.ok("sponsorship", "report")).out
    assert "6 delegates sponsored from 6 States" in text and "(so far" in text

    # Listed by its search attributes, with its balance; the coordinator was told of each booking.
    query = f"{sa.query(sa.Kind.SPONSORSHIP, c.code)} AND {sa.BALANCE.name} = 2500"

    async def listed() -> None:
        found = [wf.id async for wf in c.client.list_workflows(query)]
        assert found == [wid], found

    await eventually(listed, seconds=20)
    texts = [n["body"]["text"] for n in stored(received, "notifications")]
    assert sum("Travel booked" in t for t in texts) == 6 and not any("P. Eru" in t for t in texts), texts
    await c.no_failed_tasks(wid, f"{c.code}-meeting-14MSP")
