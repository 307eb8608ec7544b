"""The small rules several workflows share: a workflow id carried by a signal, and reminders ahead of a due date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.bounds import WORKFLOW_ID_MAX
from domain.config import ConfigError, parse_config
from domain.ids import is_workflow_id
from domain.reviews import DEFAULT_CADENCE, WEEKLY, Cadence, ahead

CONFIG = Path(__file__).parents[2] / "config" / "cycle.toml"


def test_a_workflow_id_is_one_word_within_the_servers_limit():
    assert is_workflow_id("ccm-extension-art4-chile-2027")
    assert is_workflow_id("x" * WORKFLOW_ID_MAX)
    for not_an_id in ("", " ", "two words", "tab\there", "x" * (WORKFLOW_ID_MAX + 1), None, 7, ["a"]):
        assert not is_workflow_id(not_an_id), not_an_id


def test_reminders_ahead_come_earliest_first_keyed_by_their_lead():
    due = date(2027, 4, 30)
    got = ahead("art7:2027:reminder", due, {14, 60}, lambda lead: f"in {lead} days")
    assert [(r.key, r.on, r.kind, r.text) for r in got] == [
        ("art7:2027:reminder:60d", date(2027, 3, 1), "reminder", "in 60 days"),
        ("art7:2027:reminder:14d", date(2027, 4, 16), "reminder", "in 14 days"),
    ]


def test_overdue_reminders_go_weekly_for_four_weeks_then_monthly_unless_the_mandate_says_otherwise():
    assert [DEFAULT_CADENCE.offset(n) for n in range(1, 8)] == [7, 14, 21, 28, 58, 88, 118]
    assert [WEEKLY.offset(n) for n in range(1, 4)] == [7, 14, 21]  # reviews begun before the cadence existed
    fortnightly_then_quarterly = Cadence(every_days=14, for_days=42, then_every_days=91)
    assert [fortnightly_then_quarterly.offset(n) for n in range(1, 6)] == [14, 28, 42, 133, 224]
    assert Cadence(every_days=10, for_days=5, then_every_days=30).offset(1) == 30  # too short a first period
    assert DEFAULT_CADENCE.describe() == "every 7 days for 28 days, then every 30 days"


def test_a_run_begun_late_is_owed_the_first_reminder_from_its_first_day_not_all_it_missed():
    # 400 days on, at the default cadence: the 17th (28 + 13 x 30 = 418 days), not the 1st to the 16th.
    assert DEFAULT_CADENCE.first_from(0, 400) == 17 and DEFAULT_CADENCE.offset(17) == 418
    assert DEFAULT_CADENCE.first_from(0, 3) == 1 and DEFAULT_CADENCE.first_from(5, 3) == 6
    odd = Cadence(every_days=10, for_days=5, then_every_days=30)
    for cadence in (DEFAULT_CADENCE, WEEKLY, Cadence(every_days=14, for_days=42, then_every_days=91), odd):
        for after in (0, 3, 9):
            for days in range(-5, 800):
                n = cadence.first_from(after, days)
                # Never one already sent; on that day or after; and none between skipped that was on or after it.
                assert n > after and cadence.offset(n) >= days, (cadence, after, days, n)
                assert n == after + 1 or cadence.offset(n - 1) < days, (cadence, after, days, n)


def test_a_cadence_is_bounded_and_set_per_review_in_the_config():
    for bad in ({"every_days": 0}, {"then_every_days": 367}, {"for_days": -1}, {"monthly": True}):
        with pytest.raises(ValidationError):
            Cadence.model_validate(bad)
    due = 'due = { kind = "at_meeting", meeting = "4RC", on = 2031-09-15 }\n'
    cadence = "overdue_reminders = { every_days = 14, for_days = 56, then_every_days = 91 }\n"
    text = CONFIG.read_text().replace(due, due + cadence, 1)
    first, *others = parse_config(text).reviews
    assert first.overdue_reminders == Cadence(every_days=14, for_days=56, then_every_days=91)
    assert others and all(r.overdue_reminders is None for r in others)  # the default cadence
    with pytest.raises(ConfigError, match="overdue_reminders"):
        parse_config(text.replace("every_days = 14", "every_days = 0"))
