"""The register of States: Art. 17 and Art. 20 on real rows of the shipped register, the file's checks, who may act,
and the Article 7 initial report's rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.decisions import Rejected
from domain.register import (
    COLUMNS,
    Change,
    Register,
    RegisterError,
    Standing,
    Who,
    changes,
    describe_changes,
    entry_into_force,
    initial_report_due,
    newly_obliged,
    obligations,
    parse_register,
    to_csv,
)
from domain.reports import (
    INITIAL,
    ReportReceived,
    ReportsInput,
    apply_received,
    check_received,
    initial_state,
    owed,
)
from domain.states import check_state
from domain.watch import deciding_meeting, request_due

SHIPPED = Path(__file__).parents[2] / "config" / "register.csv"
UN = "http://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-6.en.xml"


@pytest.fixture(scope="module")
def register() -> Register:
    return parse_register(SHIPPED.read_text(encoding="utf-8"), str(SHIPPED))


def test_entry_into_force_on_real_rows(register: Register):
    lao = register.find("Lao PDR")  # by its alias
    assert lao is not None and lao.state == "Lao People's Democratic Republic"
    assert lao.deposited == date(2009, 3, 18) and lao.entry_into_force == date(2010, 8, 1)
    chile = register.find("chile")
    assert chile is not None and chile.deposited == date(2010, 12, 16)
    assert chile.entry_into_force == date(2011, 6, 1)
    iraq = register.find("Iraq")
    assert iraq is not None and iraq.deposited == date(2013, 5, 14)
    assert iraq.entry_into_force == date(2013, 11, 1)
    # The thirtieth instrument (16 February 2010) and the first after it.
    assert entry_into_force(date(2010, 2, 16)) == date(2010, 8, 1)
    assert entry_into_force(date(2010, 2, 17)) == date(2010, 8, 1)
    assert entry_into_force(date(2010, 3, 1)) == date(2010, 9, 1)


def test_lithuania_withdrawal_takes_effect_six_months_after_notification(register: Register):
    lt = register.find("Lithuania")
    assert lt is not None and lt.entry_into_force == date(2011, 9, 1)
    assert lt.withdrawal_effective == date(2025, 3, 6)
    assert lt.standing(date(2025, 3, 5)) == Standing.PARTY
    assert lt.standing(date(2025, 3, 6)) == Standing.WITHDRAWN
    assert "Lithuania" in register.roster(date(2025, 3, 5))
    assert "Lithuania" not in register.roster(date(2025, 3, 6))
    # It may still take part in and pay for a meeting (Art. 14), as a State not party.
    assert "Lithuania" in register.roster(date(2026, 1, 1), Who.ATTENDING)
    # Its history stays, but no obligation begins with an import.
    assert newly_obliged(Register(), register, date(2026, 1, 1)).count(lt) == 0


def test_signatories_have_no_obligations_and_unverified_rows_stay_out(register: Register):
    angola = register.find("Angola")
    assert angola is not None and angola.standing(date(2026, 1, 1)) == Standing.SIGNATORY
    assert obligations(angola) == [] and "Angola" not in register.roster(date(2026, 1, 1))
    assert "Angola" in register.roster(date(2026, 1, 1), Who.ATTENDING)
    # A row whose dates could not be verified stays out of every computation, whatever it says.
    unverified = parse_register(
        _file(f"Atlantis,,2008-12-03,2009-05-06,ratification,,yes,yes,,no,{UN},2026-11-30,")
    )
    row = unverified.rows[0]
    assert (
        row.entry_into_force is None
        and obligations(row) == []
        and row.standing(date(2026, 1, 1)) == Standing.UNVERIFIED
    )
    assert unverified.roster(date(2026, 1, 1)) == [] and unverified.roster(
        date(2026, 1, 1), Who.ATTENDING
    ) == ["Atlantis"]


def test_the_shipped_register_holds_every_participant_verified(register: Register):
    """112 States Parties on 30 November 2026 (Lithuania withdrawn, Vanuatu in force on 1 March 2026) and 12
    signatories: the counts the depositary's page gives, less Lithuania and plus Vanuatu."""
    on = date(2026, 11, 30)
    assert len(register.rows) == 125 and all(r.verified for r in register.rows)
    assert len(register.roster(on)) == 112
    assert sum(r.standing(on) == Standing.SIGNATORY for r in register.rows) == 12
    # States the 2016-2025 record names as Presidents and hosts are States Parties.
    for name in ("Mexico", "Switzerland", "Spain", "Norway", "Iraq", "Netherlands", "Croatia"):
        assert name in register.roster(date(2016, 1, 1)), name
    # The Philippines deposited on 3 January 2019: a State Party from 1 July 2019.
    assert "Philippines" in register.roster(date(2019, 7, 1))
    assert "Philippines" not in register.roster(date(2019, 6, 30))
    south_africa = register.find("South Africa")
    assert south_africa is not None and south_africa.deposited == date(2015, 5, 28)
    assert south_africa.entry_into_force == date(2015, 11, 1)
    assert [o.due for o in obligations(south_africa) if o.article == "3"] == [date(2023, 11, 1)]
    japan = register.find("Japan")
    assert (
        japan is not None and japan.instrument == "acceptance" and japan.entry_into_force == date(2010, 8, 1)
    )
    vanuatu = register.find("Vanuatu")
    assert vanuatu is not None and vanuatu.signed is None and vanuatu.entry_into_force == date(2026, 3, 1)


def test_every_row_has_a_source_and_art4_declarations_are_cited(register: Register):
    assert len(register.rows) >= 50
    assert all(r.source.startswith("http") and r.read_on for r in register.rows)
    assert sum(r.source == UN for r in register.rows) >= 30
    lao = register.find("Lao PDR")
    assert lao is not None and [o.due for o in obligations(lao) if o.article == "4"] == [date(2020, 8, 1)]
    lebanon = register.find("Lebanon")
    assert lebanon is not None and [o.due for o in obligations(lebanon) if o.article == "4"] == [
        date(2021, 5, 1)
    ]


def test_names_not_in_the_register_are_refused_with_a_suggestion(register: Register):
    parties = register.roster(date(2026, 11, 30))
    assert check_state("CHILE", parties) == "Chile"
    with pytest.raises(Rejected, match="'Chiel' is not a State Party .*did you mean 'Chile'"):
        check_state("Chiel", parties)
    with pytest.raises(Rejected, match="'Lithuania' is not a State Party"):
        check_state("Lithuania", parties)


def test_the_file_round_trips_and_changes_are_found(register: Register):
    again = parse_register(to_csv(register))
    assert again == register
    assert changes(register, again) == []
    fewer = Register(rows=[r for r in register.rows if r.state != "Chile"])
    assert [(c.state, c.kind) for c in changes(fewer, register)] == [("Chile", "added")]


def _file(*lines: str) -> str:
    return "\n".join([",".join(COLUMNS), *lines]) + "\n"


def test_bad_files_are_refused_with_each_place():
    good = f"Chile,,2008-12-03,2010-12-16,ratification,es,,,,yes,{UN},2026-11-30,"
    text = _file(
        good,
        f"Atlantis,,2009-01-01,2008-01-01,ratification,,,,,yes,{UN},2026-11-30,",  # deposited before signed
        f"Utopia,,,2012-01-01,,,,,,yes,{UN},2026-11-30,",  # no instrument
        f"chile,,,,,,,,,yes,{UN},2026-11-30,",  # twice
        "Erewhon,,,,,xx,maybe,,,yes,not-a-url,2026-11-30,",
        "Too,few",
    )
    with pytest.raises(RegisterError) as e:
        parse_register(text, "new.csv")
    problems = e.value.problems
    assert any(p.startswith("new.csv:3: ") and "before signed" in p for p in problems), problems
    assert any(p.startswith("new.csv:4: ") and "instrument" in p for p in problems), problems
    assert any(p.startswith("new.csv:5: ") and "already on line 2" in p for p in problems), problems
    assert {p.split(": ")[1] for p in problems if p.startswith("new.csv:6:")} >= {
        "language",
        "art3_stockpiles",
        "source",
    }
    assert any(p.startswith("new.csv:7: ") for p in problems), problems
    with pytest.raises(RegisterError, match="^other.csv:1: the header"):
        parse_register("state,signed\n", "other.csv")


def test_initial_report_due_180_days_after_entry_into_force_and_overdue_on_day_181():
    eif = date(2027, 6, 1)
    due = initial_report_due(eif)
    assert due == date(2027, 11, 28)
    s = initial_state(ReportsInput(state="Newland", year=2028, initial_due=due, reminder_days=(60, 14)))
    first = owed(s)
    assert [r.key for r in first[:3]] == [
        "art7:initial:reminder:60d",
        "art7:initial:reminder:14d",
        "art7:initial:overdue",
    ]
    assert first[2].on == date(2027, 11, 29) and (first[2].on - eif).days == 181
    # Received: the initial report's reminders are no longer owed; a second receipt is refused.
    r = ReportReceived(decision_id="r1", reference="CCM/7/NEW", initial=True, received_on=date(2027, 12, 1))
    after, summary = apply_received(s, r, date(2027, 12, 2))
    assert "late" in summary and after.received[-1].year == INITIAL
    assert all(not x.key.startswith("art7:initial") for x in owed(after))
    with pytest.raises(Rejected, match="already received"):
        check_received(after, r, date(2027, 12, 2))
    # Runs without an initial report chased (started before the register) refuse one.
    old = initial_state(ReportsInput(state="Oldland", year=2028))
    with pytest.raises(Rejected, match="No initial report"):
        check_received(old, r, date(2027, 12, 2))
    with pytest.raises(ValueError, match="either"):
        ReportReceived(decision_id="r2", reference="x", initial=True, year=2027, received_on=date(2027, 1, 1))


def test_an_art4_request_is_due_nine_months_before_the_last_meeting_before_the_deadline():
    # Meetings a year apart from 13 September 2027; a deadline of 1 June 2037: the 2036 meeting decides.
    assert deciding_meeting(date(2037, 6, 1), date(2027, 9, 13)) == date(2036, 9, 13)
    assert request_due(date(2037, 6, 1), date(2027, 9, 13)) == date(2035, 12, 13)
    # A deadline after the year's meeting: that year's meeting decides.
    assert deciding_meeting(date(2037, 10, 1), date(2027, 9, 13)) == date(2037, 9, 13)


def test_what_an_import_changes_is_one_short_line_however_many_rows():
    many = [Change(state=f"State {i}", kind="added") for i in range(125)]
    text = describe_changes([*many, Change(state="Chile", kind="changed", fields=["deposited"])], most=3)
    assert text == "125 added: State 0, State 1, State 2 and 122 more; 1 changed: Chile (deposited)"
    assert describe_changes([]) == "no change"
