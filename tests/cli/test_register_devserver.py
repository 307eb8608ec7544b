"""`msp register import|show` end to end on the real dev server: `msp cycle start` imports the configured register,
a good import prints what changed, a bad file exits 2 naming file:line and changes nothing, and a State's page (by
an alias) lists its obligations with dates and status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from domain.ids import register_id
from domain.register import COLUMNS, entry_into_force, initial_report_due
from tests.support.devserver import (
    MspCycle,
    Run,
    Server,
    config_text,
    eventually,
    one_line_error,
    worker_cycle,
)
from workflows.register import RegisterWorkflow

REPO = Path(__file__).parents[2]
SHIPPED = (REPO / "config" / "register.csv").read_text(encoding="utf-8").splitlines()
ROWS = [line for line in SHIPPED[1:] if line.startswith(("Austria,", "Chile,", "Lao People"))]
UN = "http://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-6.en.xml"


@dataclass
class Cycle(MspCycle):
    def file(self, name: str, *rows: str) -> Path:
        path = self.config.parent / name
        path.write_text("\n".join([",".join(COLUMNS), *rows]) + "\n", encoding="utf-8")
        return path

    async def show(self, state: str) -> Run:
        return await self.ok("register", "show", state, "--config", str(self.config))

    async def rows(self) -> int:
        handle = self.client.get_workflow_handle(register_id(self.code))
        return len((await handle.query(RegisterWorkflow.register)).rows)


def _config(code: str, today: date) -> str:
    return config_text(code, today, '\n[states_parties]\nregister_file = "register.csv"\n')


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[Cycle]:
    async with worker_cycle(server, tmp_path, Cycle, _config) as c:
        yield c


async def test_register_import_and_show_through_msp(cycle: Cycle):
    assert len(ROWS) == 3
    cycle.file("register.csv", *ROWS)
    start = await cycle.ok("cycle", "start", "--config", str(cycle.config))
    assert f"started {register_id(cycle.code)}: register of 3 States imported: 3 added" in start.out, start
    assert "initial Art. 7 reports: none overdue; 3 due before" in start.out, start

    # Lao PDR by an alias: its record, its standing, its obligations with dates and status (once its workflows run).
    lao_due = initial_report_due(entry_into_force(date(2009, 3, 18)))

    async def lao_page() -> None:
        out = (await cycle.show("Lao PDR")).out
        assert "state: Lao People's Democratic Republic" in out and "standing: State Party" in out, out
        assert f"Art. 7: initial transparency report, due {lao_due}: not recorded" in out, out
        assert "Art. 4: contaminated areas cleared, due 2020-08-01: " in out and "not watched" not in out, out

    await eventually(lao_page, 20)

    # A good import prints what changed.
    newland = f"Newland,,,{cycle.today},accession,,,,,yes,{UN},{cycle.today},"
    good = cycle.file("new.csv", *ROWS, newland)
    run = await cycle.ok("register", "import", str(good), "--ref", "depositary notification")
    assert "accepted: register of 4 States imported: 1 added: Newland" in run.out, run
    assert "obligations to start for 1 States" in run.out, run
    assert await cycle.rows() == 4

    # A bad file: exit 2, one line naming file:line, nothing sent.
    bad = cycle.file("bad.csv", *ROWS[:2], f"Oldland,,,2009-13-01,accession,,,,,yes,{UN},2026-01-01,")
    line = one_line_error(await cycle.msp("register", "import", str(bad), "--ref", "typo"), 2)
    assert line.startswith(f"{bad}:4: deposited: "), line
    assert await cycle.rows() == 4
    out = (await cycle.show("Newland")).out
    assert "standing: deposited, not yet in force" in out, out
