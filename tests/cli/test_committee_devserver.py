"""`msp committee` end to end on the real dev server, and the check `msp extensions analyse --reported-by` makes
against the committee's Analysis Groups before anything is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from domain.ids import committee_id
from tests.support.devserver import MspCycle, Run, Server, config_text, worker_cycle
from tests.support.requests import LAO, submit_art4

EXTRA = """
[states_parties]
names = ["Austria", "Chile", "Lao People's Democratic Republic", "Switzerland"]

[committee]
isu_director = "Director E. Example"
"""


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[MspCycle]:
    async with worker_cycle(
        server, tmp_path, MspCycle, lambda code, today: config_text(code, today, EXTRA), config_in_env=True
    ) as c:
        yield c


def error(run: Run, code: int) -> str:
    assert run.code == code, run
    assert "Traceback" not in run.err and "accepted" not in run.out, run
    return run.err.strip()


async def test_the_committee_through_msp_and_an_analysis_reported_by_a_group_member(cycle: MspCycle) -> None:
    started = await cycle.ok("cycle", "start")
    assert f"started {committee_id(cycle.code)}: the Coordination Committee of term 1" in started.out, started
    status = await cycle.ok("committee", "status")
    assert "ISU Director, assisting the President  Director E. Example" in status.out, status
    assert "Invited: the Cluster Munition Coalition (CMC), the ICRC, the United Nations (UNODA)" in status.out

    ref = ("--ref", "CCM/MSP/2027/30")
    appointed = await cycle.ok("committee", "appoint", "--theme", "transparency", "--state", "Peru", *ref)
    assert "accepted: Peru appointed coordinator for transparency measures, for one year" in appointed.out
    assert "--theme: Input should be" in error(
        await cycle.msp("committee", "renew", "--theme", "nope", *ref), 2
    )
    renew = await cycle.msp("committee", "renew", "--theme", "universalisation", *ref)
    assert "rejected: No one coordinates universalisation" in error(renew, 1)
    due = str(cycle.today + timedelta(days=30))
    assigned = await cycle.ok(
        "committee", "assign", "--theme", "transparency", "--title", "Guide", "--due", due, *ref
    )
    assert f"accepted: task 1 assigned to Peru (transparency measures), due {due}" in assigned.out
    workload = await cycle.ok("committee", "workload")
    assert f"transparency  Peru          1     0        1: Guide (due {due})" in workload.out, workload
    await cycle.ok("committee", "group", "add", "--article", "4", "--member", "Switzerland", *ref)

    eif = cycle.today - timedelta(days=365 * 9)
    submit = submit_art4(LAO, eif, "--years", "5")
    await cycle.ok(*submit, "--plan", "Survey and clearance.", "--ref", "CCM/MSP/2027/4")
    analyse = ("extensions", "analyse", "--state", LAO, "--article", "4", "--summary", "Well founded.", *ref)
    outsider = await cycle.msp(*analyse, "--reported-by", "Peru")
    message = error(outsider, 1)
    assert message == (
        "rejected: --reported-by: Peru is not a member of the Article 4 Analysis Group (members: Switzerland)."
    )
    shown = (await cycle.ok("extensions", "show", "--state", LAO, "--article", "4", "--json")).json()
    assert shown["analysis"] is None and shown["status"] == "in_analysis"
    member = await cycle.ok(*analyse, "--reported-by", "switzerland")
    assert "reported by switzerland" in member.out, member
    shown = (await cycle.ok("extensions", "show", "--state", LAO, "--article", "4", "--json")).json()
    assert shown["analysis"]["reported_by"] == "switzerland"
    await cycle.no_failed_tasks(committee_id(cycle.code))
