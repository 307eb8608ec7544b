"""`msp isu` end to end on the real dev server: the worker and `msp` as subprocesses, the receiver as the mail gateway
and the webhook. One convention, one budget year: adopted from the ISU's file, invoiced, paid, stated; the reserve
contributed to and drawn on."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from domain.funds import chf
from domain.ids import isu_reserve_id
from domain.reserve import ReserveState
from starter.mailbox import listing
from starter.receiver import Receiver
from tests.support.devserver import MspCycle, Server, config_text, eventually, worker_cycle
from tests.support.devserver import one_line_error as one_line
from workflows.reserve import CapitalReserveWorkflow

STATES = '\n[states_parties]\nnames = ["Austria", "Chile", "Senegal"]\n'
BUDGET = "state,contribution_chf,category\nAustria,120000,B\nchile,80000,B\nSenegal,20000,A\n"


@dataclass
class Cycle(MspCycle):
    receiver: Receiver
    tmp: Path


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[Cycle]:
    with Receiver(tmp_path / "received", log=None) as receiver:
        worker_env = {
            "CCM_MAIL_URL": receiver.url + "/mail",
            "CCM_WEBHOOK_URL": receiver.url + "/notifications",
        }

        def config(code: str, today: date) -> str:
            return config_text(code, today) + STATES

        async with worker_cycle(
            server,
            tmp_path,
            Cycle,
            config,
            config_in_env=True,
            worker_env=worker_env,
            receiver=receiver,
            tmp=tmp_path,
        ) as c:
            yield c


async def test_msp_isu_adopts_invoices_pays_states_and_draws(cycle: Cycle) -> None:
    c = cycle
    year = str(c.today.year + 1)
    due = str(date(c.today.year + 1, 3, 31))
    bad = c.tmp / "bad.csv"
    bad.write_text(BUDGET.replace("80000", "80 000"))
    assert one_line(
        await c.msp("isu", "budget", "adopt", str(bad), "--year", year, "--due", due, "--ref", "r"), 2
    ) == (f"{bad}:3: contribution_chf: not a whole number of francs from 1 to 1,000,000,000 ('80 000')")
    unknown = c.tmp / "unknown.csv"
    unknown.write_text(BUDGET.replace("Senegal", "Senegall"))
    error = one_line(
        await c.msp("isu", "budget", "adopt", str(unknown), "--year", year, "--due", due, "--ref", "r")
    )
    assert error == "rejected: 'Senegall' is not a State Party in the register: did you mean 'Senegal'?"

    budget = c.tmp / "budget.csv"
    budget.write_text(BUDGET)
    wrong = await c.msp(
        "isu", "budget", "adopt", str(budget), "--year", year, "--due", due, "--total", "1", "--ref", "r"
    )
    assert one_line(wrong, 2) == f"--total: CHF 1, but the contributions in {budget} add up to {chf(220_000)}"
    adopt = (
        "isu",
        "budget",
        "adopt",
        str(budget),
        "--year",
        year,
        "--due",
        due,
        "--ref",
        "CCM/MSP/2026/9",
        "--id",
        "b1",
    )
    run = await c.ok(*adopt)
    assert f"accepted: ISU budget {year} adopted: {chf(220_000)} from 3 States" in run.out, run
    assert "(already applied)" in (await c.ok(*adopt)).out

    async def invoiced() -> None:
        mail = listing(c.receiver.directory)["mail"]
        assert sorted(m["to"] for m in mail) == ["Austria", "Chile", "Senegal"], mail

    await eventually(invoiced, seconds=30)

    await c.ok("isu", "pay", "--state", "SENEGAL", "--amount", "20000", "--year", year, "--ref", "bank 1")
    assert f"Senegal owes {chf(0)}" in one_line(
        await c.msp("isu", "pay", "--state", "Senegal", "--amount", "1", "--year", year, "--ref", "bank 2")
    )
    text = (await c.ok("isu", "statement", "--state", "chile", "--year", year)).out
    for row in [
        f"Payment reference +ISU-{year}-CHILE",
        f"Invoiced +{chf(80_000)}",
        "Paid +CHF 0",
        f"Outstanding +{chf(80_000)} ",
    ]:
        assert re.search(f"^{row}", text, re.M), text
    assert "--state: 'Mexico'" in one_line(
        await c.msp("isu", "statement", "--state", "Mexico", "--year", year), 2
    )

    await c.ok(
        "isu", "commit-expense", "--amount", "100000", "--purpose", "salaries", "--year", year, "--ref", "r"
    )
    await c.ok("isu", "contribute-reserve", "--donor", "Norway", "--amount", "400000", "--ref", "letter")
    await c.ok("isu", "reserve-target", "--amount", "450000", "--ref", "CCM/MSP/2027/9 para 12")
    refused = one_line(
        await c.msp(
            "isu",
            "draw",
            "--amount",
            "10000",
            "--year",
            year,
            "--purpose",
            "to pay for a meeting",
            "--ref",
            "r",
        )
    )
    assert "may only cover a cash-flow shortfall" in refused, refused

    reserve = c.client.get_workflow_handle(isu_reserve_id(c.code))

    async def shortfall_seen() -> None:
        r: ReserveState = await reserve.query(CapitalReserveWorkflow.state)
        assert r.positions[int(year)].committed == 100_000, r

    await eventually(shortfall_seen, seconds=20)
    await c.ok("isu", "draw", "--amount", "80000", "--year", year, "--ref", "ISU note", "--id", "draw-1")
    await c.ok("isu", "pay", "--state", "Austria", "--amount", "50000", "--year", year, "--ref", "bank 3")

    async def repaid() -> None:
        r: ReserveState = await reserve.query(CapitalReserveWorkflow.state)
        assert r.balance == 400_000 - 80_000 + 50_000, r

    await eventually(repaid, seconds=20)
    out = (await c.ok("isu", "status", "--year", year)).out
    for row in [
        "Invoices sent +3 of 3",
        f"Received +{chf(70_000)} in 2 payments",
        f"Reserve +{chf(370_000)} of a",
    ]:
        assert re.search(f"^{row}", out, re.M), out
    assert re.search(f"^Chile +{chf(80_000)}$", out, re.M), out
    assert "no ISU budget for 2099" in one_line(await c.msp("isu", "status", "--year", "2099"), 4)
