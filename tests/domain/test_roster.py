"""The register, compact (``domain/roster.py``): who is a State Party on a day, from the two dates of each State, as
the Presidency, its meeting and ledger, and a silence procedure check it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from domain import presidency as pres
from domain.decisions import Designate, Rejected
from domain.models import Convention, President
from domain.obligations import initial_reports
from domain.register import parse_register
from domain.silence import BreakSilence, SilenceStatus, check_break
from starter.cli.common import load_config
from starter.cli.register import initial_reports_line

REPO = Path(__file__).parents[2]
REGISTER = parse_register((REPO / "config" / "register.csv").read_text(encoding="utf-8"))
ROSTER = REGISTER.compact()


def test_the_roster_gives_the_states_parties_of_any_day_as_the_register_does():
    for day in (date(2010, 7, 31), date(2010, 8, 1), date(2025, 3, 5), date(2025, 3, 6), date(2026, 11, 30)):
        assert ROSTER.parties(day) == REGISTER.roster(day), day
    # Lithuania: a State Party the day before its withdrawal took effect, not from that day.
    assert "Lithuania" in ROSTER.parties(date(2025, 3, 5)) and "Lithuania" not in ROSTER.parties(
        date(2025, 3, 6)
    )
    assert ROSTER.left_on("Lithuania") == date(2025, 3, 6)
    assert len(ROSTER.parties(date(2026, 11, 30))) == 112 and len(ROSTER.attending()) == 125
    # Small enough to signal and to carry in every input: a few kilobytes.
    assert len(ROSTER.model_dump_json()) < 12_000


def test_a_convention_with_a_roster_checks_the_day_of_the_decision():
    convention = Convention(states_parties=["Austria"]).with_roster(ROSTER, date(2025, 3, 1))
    assert "Lithuania" in convention.states_parties  # as of the day it came
    state = load_config(REPO / "config" / "cycle.toml").initial_state()
    state = state.model_copy(update={"convention": convention})
    d = Designate(decision_id="d", reference="r", president=President(state="Lithuania"))
    assert pres.designate(state, d, date(2025, 3, 5))[0][-1].state == "Lithuania"
    with pytest.raises(Rejected, match="'Lithuania' is not a State Party"):
        pres.designate(state, d, date(2025, 3, 6))
    # The configuration read with its register carries the roster to the Presidency.
    assert load_config(REPO / "config" / "cycle.toml").convention_settings().roster == ROSTER


def test_a_state_whose_withdrawal_took_effect_during_a_procedure_cannot_break_silence():
    deadline = datetime(2025, 4, 1, 12, tzinfo=UTC)
    b = BreakSilence(decision_id="b", state="Lithuania", reason="objects")
    listed = REGISTER.roster(date(2025, 3, 1))
    before, after = datetime(2025, 3, 5, 12, tzinfo=UTC), datetime(2025, 3, 6, 12, tzinfo=UTC)
    assert check_break(SilenceStatus.OPEN, deadline, listed, b, before, roster=ROSTER) == "Lithuania"
    with pytest.raises(Rejected, match=r"withdrawal took effect on 2025-03-06 \(Art. 20\)"):
        check_break(SilenceStatus.OPEN, deadline, listed, b, after, roster=ROSTER)
    # A procedure begun without the roster checks the list it began with.
    assert check_break(SilenceStatus.OPEN, deadline, listed, b, after) == "Lithuania"


def test_initial_reports_due_before_the_first_import_are_not_recorded_and_later_ones_are_chased():
    today = date(2026, 11, 30)
    since, unrecorded = initial_reports(REGISTER, today, today)
    assert since == [] and len(unrecorded) == 112 and "Lithuania" not in unrecorded
    # Imported first on 1 August 2026: Vanuatu's initial report (in force 1 March 2026, due 28 August) is chased.
    since, unrecorded = initial_reports(REGISTER, today, date(2026, 8, 1))
    assert since == ["Vanuatu"] and len(unrecorded) == 111
    line = initial_reports_line(REGISTER, today, date(2026, 8, 1))
    assert line.startswith("initial Art. 7 reports: 1 fell due since the register's first import (Vanuatu)")
    assert "`msp reports list --overdue`" in line and "111 due before 2026-08-01 not recorded" in line
