"""A payment after the meeting closes settles that meeting's arrears (issue 18, item 2), through the real `msp`.

On the dev server, with the worker and `msp` as processes. The 14th MSP sits today (its days run from midnight to
midnight here) and is closed by decision: the Presidency hands over to the 15th MSP, whose ledger becomes the
default one. A payment without `--meeting` then settles the State's arrears at the 14th MSP first, and the rest goes
to the 15th's; the split is printed, recorded in each ledger, and a payment sent again completes it, never twice.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.arrears import parts, split_payment
from domain.funds import LedgerState, Payment, chf
from domain.ids import funds_id, presidency_id
from domain.models import Convention
from starter.receiver import Receiver
from tests.support.devserver import (
    MspCycle,
    Server,
    WorkerProcess,
    eventually,
    process_env,
    sitting_today,
)
from workflows.funds import MeetingFundsWorkflow
from workflows.presidency import PresidencyWorkflow


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[MspCycle]:
    code = f"t{uuid.uuid4().hex[:10]}"
    env = process_env(server.address, f"tq-{code}", convention=code)
    today = datetime.now(ZoneInfo("Europe/Zurich")).date()
    config = tmp_path / "cycle.toml"
    with Receiver(tmp_path / "received", log=None) as receiver:
        config.write_text(
            sitting_today(code, today) + f'\n[money]\nconference_services_url = "{receiver.url}"\n'
        )
        worker = await WorkerProcess(env, tmp_path / "worker.log").start(server.client)
        try:
            yield MspCycle(server, code, env, config, worker, today)
        finally:
            await worker.stop()


async def ledger(c: MspCycle, label: str) -> LedgerState:
    state: LedgerState = await c.client.get_workflow_handle(funds_id(c.code, label)).query(
        MeetingFundsWorkflow.ledger
    )
    return state


async def test_a_payment_after_the_meeting_closes_settles_its_arrears_and_shows_the_split(
    cycle: MspCycle, tmp_path: Path
) -> None:
    c = cycle
    shares = tmp_path / "shares.csv"
    shares.write_text("state,share_percent\nChile,40\nNorway,60\n")
    await c.ok("cycle", "start", "--config", str(c.config))

    async def sitting() -> None:
        assert (await c.ok("status", "--json")).json()["meeting"]["phase"] == "in_session"

    await eventually(sitting, seconds=20)
    yesterday = str(c.today - timedelta(days=1))
    await c.ok("funds", "estimate", "--amount", "100000", "--ref", "CCM/MSP/2027/2", "--meeting", "14MSP")
    await c.ok(
        "funds", "assess", "--file", str(shares), "--due", yesterday, "--ref", "r", "--meeting", "14MSP"
    )

    # The 14th MSP closes; the Presidency hands over and the 15th MSP's ledger is the default one.
    await c.ok("decide", "close", "--ref", "final report para 40", "--meeting", "14MSP")
    presidency = c.client.get_workflow_handle(presidency_id(Convention(code=c.code)))

    async def handed_over() -> None:
        state = await presidency.query(PresidencyWorkflow.state)
        assert state.term == 2 and state.meeting.ref.label == "15MSP" and state.meeting_started, state
        await ledger(c, "15MSP")

    await eventually(handed_over, seconds=30)
    await c.ok("funds", "estimate", "--amount", "50000", "--ref", "CCM/MSP/2028/2")
    await c.ok(
        "funds", "assess", "--file", str(shares), "--due", str(c.today + timedelta(days=90)), "--ref", "r"
    )

    # Chile owes 40,000 to the 14th MSP and 20,000 to the 15th: 50,000 settles the 14th, the rest goes to the 15th.
    arrears = (await c.ok("funds", "arrears", "--state", "chile")).out
    assert f"Arrears of chile (as of {c.today}): {chf(60_000)} outstanding" in arrears, arrears
    rows = [line.split() for line in arrears.splitlines()[2:]]
    assert [(r[0], r[-1]) for r in rows] == [
        ("14MSP", "OVERDUE"),
        ("15MSP", str(c.today + timedelta(days=90))),
    ]

    pay = (
        "funds",
        "pay",
        "--state",
        "Chile",
        "--amount",
        "50000",
        "--ref",
        "bank advice 7",
        "--id",
        "late-1",
    )
    run = await c.ok(*pay)
    lines = run.out.splitlines()
    assert lines[:2] == [
        "payment late-1",
        f"split oldest arrears first: 14MSP {chf(40_000)}, 15MSP {chf(10_000)}",
    ]
    whole = f"part of payment late-1 ({chf(50_000)}, oldest arrears first: 14MSP {chf(40_000)}, 15MSP {chf(10_000)})"
    assert lines[2:] == [
        f"accepted: {chf(40_000)} from Chile, {whole}",
        f"accepted: {chf(10_000)} from Chile, {whole}",
    ], run
    fourteenth, fifteenth = await ledger(c, "14MSP"), await ledger(c, "15MSP")
    assert (fourteenth.paid["Chile"], fifteenth.paid["Chile"]) == (40_000, 10_000)
    assert [r.decision_id for r in fourteenth.decisions.records if r.kind == "Payment"] == ["late-1:14MSP"]
    assert [r.decision_id for r in fifteenth.decisions.records if r.kind == "Payment"] == ["late-1:15MSP"]
    assert fourteenth.splits["late-1"] == fifteenth.splits["late-1"]
    owed = (await c.ok("funds", "arrears", "--state", "Chile", "--json")).json()
    assert [(m["meeting"], m["outstanding"]) for m in owed["meetings"]] == [("14MSP", 0), ("15MSP", 10_000)]

    # Sent again: the same split, each part answered by its ledger's log as a repeat with its first outcome,
    # nothing counted twice.
    again = await c.ok(*pay)
    assert again.out.splitlines() == [*lines[:2], *(f"{line} (already applied)" for line in lines[2:])], again
    assert (await ledger(c, "14MSP")).payments_total == fourteenth.payments_total
    assert (await ledger(c, "15MSP")).payments_total == fifteenth.payments_total

    # A payment whose first part was recorded and whose second was lost: sent again, it completes the same split.
    norway = Payment(decision_id="late-2", reference="bank advice 8", state="Norway", amount=70_000)
    split = split_payment(norway, [fourteenth, fifteenth], "15MSP", c.today)
    first = parts(norway, split)[0]
    handle = c.client.get_workflow_handle(funds_id(c.code, "14MSP"))
    await handle.execute_update(MeetingFundsWorkflow.record_payment, first, id=first.decision_id)
    run = await c.ok(
        "funds", "pay", "--state", "Norway", "--amount", "70000", "--ref", "bank advice 8", "--id", "late-2"
    )
    assert f"split oldest arrears first: 14MSP {chf(60_000)}, 15MSP {chf(10_000)}" in run.out, run
    assert len(run.out.splitlines()) == 4, run
    fourteenth, fifteenth = await ledger(c, "14MSP"), await ledger(c, "15MSP")
    assert (fourteenth.paid["Norway"], fifteenth.paid["Norway"]) == (60_000, 10_000)
    assert (fourteenth.payments_total, fifteenth.payments_total) == (100_000, 20_000)

    # --meeting still chooses the ledger, as before.
    run = await c.ok(
        "funds", "pay", "--state", "Chile", "--amount", "1000", "--ref", "r", "--meeting", "15MSP"
    )
    assert f"accepted: {chf(1_000)} from Chile" in run.out and "split" not in run.out, run
    assert (await ledger(c, "15MSP")).paid["Chile"] == 11_000
