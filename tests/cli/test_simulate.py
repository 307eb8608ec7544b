"""`msp simulate`, run as a person runs it: the 9th MSP's funding year on the real workflows (one time-skipping run
for the module), and scenario files refused with their place."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from starter.simulation_report import SimulationResult, table
from tests.support.devserver import REPO, Run, msp

NINTH = REPO / "examples" / "ninth-msp.toml"
PRIORITY_1 = [f"CCM/MSP/2019/{i}" for i in range(1, 5)]
PRIORITY_3 = [f"CCM/MSP/2019/{i}" for i in range(5, 11)]


@pytest.fixture(scope="module")
async def ninth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    picture = tmp_path_factory.mktemp("svg") / "ninth.svg"
    run = await msp(dict(os.environ), "simulate", str(NINTH), "--json", "--svg", str(picture))
    assert run.code == 0, run
    return run, picture


async def test_the_ninth_msp_runs_day_2_without_interpretation(ninth):
    result = SimulationResult.model_validate(ninth[0].json())
    assert [(d.day, d.interpretation) for d in result.meeting_days] == [
        (date(2019, 9, 2), True),
        (date(2019, 9, 3), False),
        (date(2019, 9, 4), True),
    ]
    assert [(h.day, h.outgoing, h.incoming) for h in result.handovers] == [
        (date(2019, 9, 4), "Sri Lanka", "Switzerland")
    ]
    assert "2019-09-03  9MSP     NO (informal consultations)" in table(result)


async def test_the_ninth_msps_documents_are_issued_as_money_arrives(ninth):
    result = SimulationResult.model_validate(ninth[0].json())
    docs = {d.symbol: (d.funded, d.issued, d.late_days) for d in result.documents}
    # Austria's CHF 18 000 on 10 June funds the four priority-1 documents, issued ten days later; the rest wait
    # behind day 2's interpretation until Norway pays during day 2, and are issued 42 days after they were due.
    assert docs == {
        **{s: (date(2019, 6, 10), date(2019, 6, 20), 0) for s in PRIORITY_1},
        **{s: (date(2019, 9, 3), date(2019, 9, 13), 42) for s in PRIORITY_3},
    }
    assert {d.funded for d in result.documents} <= {p.day for p in result.payments}
    assert all(p.outcome.startswith("accepted") for p in result.payments)


async def test_the_timeline_is_drawn_without_scripts(ninth):
    picture = ninth[1].read_text()
    assert picture.startswith("<svg") and "<script" not in picture and "href" not in picture
    assert "CCM/MSP/2019/5 (42 days late)" in picture


BAD = """years = 1
config = "config.toml"

[[documents]]
symbol = "CCM/MSP/2019/1"
pages = 0
due = 2019-08-02
meeting = "9MSP"
"""


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if line.startswith(needle))


TEXT = NINTH.read_text()


@pytest.mark.parametrize(
    ("text", "place"),
    [
        (BAD, "6: documents[0].pages: Input should be greater than or equal to 1"),
        (BAD.replace("years = 1", "years = 11"), "1: years: Input should be less than or equal to 10"),
        (
            TEXT.replace("number = 9\n", "number = 12\n"),
            f"{line_of(TEXT, 'number = 9')}: config.meeting.number: the next MSP is number 9, after the last one held",
        ),
        (
            TEXT.replace("designate = { reference", "designat = { reference"),
            f"{line_of(TEXT, 'designate =')}: decisions[0].designat: Extra inputs are not permitted",
        ),
        (BAD.replace("pages = 0", "pages = 5"), " config: no configuration file at"),
    ],
)
async def test_a_bad_scenario_is_refused_with_its_place(tmp_path, text, place):
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    run = await msp(dict(os.environ), "simulate", str(path))
    assert run.code == 2, run
    assert f"{path}:{place}" in run.err, run
    assert run.out == ""
