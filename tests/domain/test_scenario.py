"""The scenario file of `msp simulate`: how its dates move onto the test server's clock (no server)."""

from __future__ import annotations

from datetime import date

from domain.scenario import parse_scenario, shift, shifted_config
from tests.support.devserver import REPO


def test_dates_move_by_whole_years_and_29_february_becomes_the_28th():
    assert shift(date(2019, 9, 3), 8) == date(2027, 9, 3)
    assert shift(date(2027, 9, 3), -8) == date(2019, 9, 3)
    assert shift(date(2020, 2, 29), 1) == date(2021, 2, 28)


def test_the_configuration_moves_with_its_review_conference_year_and_its_services_at_the_receiver():
    parsed = parse_scenario((REPO / "examples" / "ninth-msp.toml").read_text())
    assert parsed.config is not None
    moved = shifted_config(parsed.config, 8, "http://127.0.0.1:1")
    assert moved.presidency.term_began_on == date(2026, 9, 5)
    assert [(p.start, p.end) for p in moved.meeting.parts] == [(date(2027, 9, 2), date(2027, 9, 4))]
    # The next Review Conference stays as far ahead of the 9th MSP as it was (the cadence counts from this year).
    assert moved.presidency.last_review_conference.year == 2023
    assert moved.money.conference_services_url == "http://127.0.0.1:1"
    assert [d.decision.decision_id for d in parsed.scenario.decisions] == ["sim-1"]
