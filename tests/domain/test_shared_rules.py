"""The small rules several workflows share: a workflow id carried by a signal, and reminders ahead of a due date."""

from __future__ import annotations

from datetime import date

from domain.bounds import WORKFLOW_ID_MAX
from domain.ids import is_workflow_id
from domain.reviews import ahead


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
