"""The rules in domain/, as plain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from domain import meeting_rules as rules
from domain import presidency as pres
from domain.calendar import clock, day_end, day_start, local_date, next_change, years_later
from domain.config import ConfigError, parse_config
from domain.decisions import (
    AddPart,
    ChangeFormat,
    CloseMeeting,
    Designate,
    ExtendByDay,
    Postpone,
    Rejected,
    ReplaceDesignate,
    SetDates,
)
from domain.models import (
    Defaults,
    MeetingFormat,
    MeetingKind,
    MeetingPlan,
    MeetingRef,
    Part,
    Phase,
    President,
)

D = Defaults()
SWISS = President(state="Switzerland")
UK = President(state="United Kingdom")
IRAQ = President(state="Iraq")


def plan(*parts: Part, kind: MeetingKind = MeetingKind.MSP, number: int = 9) -> MeetingPlan:
    return MeetingPlan(ref=MeetingRef(number=number, kind=kind), parts=list(parts))


MSP9 = plan(Part(start=date(2019, 9, 2), end=date(2019, 9, 4)))
RC2 = plan(
    Part(start=date(2020, 11, 25), end=date(2020, 11, 27), format="virtual"),
    Part(start=date(2021, 2, 8), end=date(2021, 2, 9)),
    kind=MeetingKind.RC,
    number=2,
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant given in Geneva time."""
    return day_start(day, D) + timedelta(hours=hour - D.day_start_hour, minutes=minute)


# Calendar


def test_meeting_days_are_geneva_days_in_summer_and_winter():
    assert day_start(date(2019, 9, 2), D) == datetime(2019, 9, 2, 8, tzinfo=UTC)  # CEST, UTC+2
    assert day_end(date(2020, 11, 27), D) == datetime(2020, 11, 27, 17, tzinfo=UTC)  # CET, UTC+1
    assert local_date(datetime(2019, 9, 1, 23, 30, tzinfo=UTC), D) == date(2019, 9, 2)
    midnight = Defaults(day_end_hour=24)
    assert day_end(date(2019, 9, 4), midnight) == datetime(2019, 9, 4, 22, tzinfo=UTC)


def test_years_later_keeps_the_day_but_29_february():
    assert years_later(date(2021, 9, 20), 5) == date(2026, 9, 20)
    assert years_later(date(2028, 2, 29), 3) == date(2031, 2, 28)


def test_clock_walks_through_a_meeting_held_in_parts():
    assert clock(RC2, at(date(2020, 11, 1), 12), D).phase is Phase.SCHEDULED
    c = clock(RC2, at(date(2020, 11, 26), 12), D)
    assert (c.phase, c.part, c.day) == (Phase.IN_SESSION, 0, 2)
    assert c.describe(RC2) == "in session, part 1, day 2 of 3"
    c = clock(RC2, at(date(2020, 12, 15), 12), D)
    assert (c.phase, c.part) == (Phase.ADJOURNED, 1)
    assert c.describe(RC2) == "adjourned until part 2 on 2021-02-08"
    assert clock(RC2, at(date(2021, 2, 9), 17, 59), D).phase is Phase.IN_SESSION
    assert clock(RC2, at(date(2021, 2, 9), 18), D).overrun


def test_next_change_is_the_next_day_opening_or_closing():
    when, what = next_change(MSP9, at(date(2019, 8, 1), 12), D)  # type: ignore[misc]
    assert (when, what) == (day_start(date(2019, 9, 2), D), "day 1 opens")
    when, what = next_change(MSP9, at(date(2019, 9, 4), 11), D)  # type: ignore[misc]
    assert (when, what) == (day_end(date(2019, 9, 4), D), "last scheduled day ends")
    assert next_change(MSP9, at(date(2019, 9, 4), 19), D) is None


# Meeting decisions


NOW = at(date(2019, 6, 1), 12)


def test_a_meeting_away_from_geneva_must_name_who_pays_the_difference():
    d = SetDates(decision_id="a", reference="r", start=date(2019, 9, 2), place="Lausanne")
    with pytest.raises(Rejected, match="must name the host"):
        rules.set_dates(MSP9, d, NOW, D)
    ok = d.model_copy(update={"host_covering_extra_cost": "Switzerland"})
    new, summary = rules.set_dates(MSP9, ok, NOW, D)
    assert new.parts[0].place == "Lausanne" and "Switzerland covering the extra cost" in summary


def test_set_dates_keeps_the_duration_unless_given_and_checks_its_range():
    new, _ = rules.set_dates(MSP9, SetDates(decision_id="a", reference="r", start=date(2019, 10, 7)), NOW, D)
    assert (new.parts[0].start, new.parts[0].end) == (date(2019, 10, 7), date(2019, 10, 9))
    with pytest.raises(Rejected, match="in the past"):
        rules.set_dates(MSP9, SetDates(decision_id="a", reference="r", start=date(2019, 5, 1)), NOW, D)
    with pytest.raises(ValueError):
        SetDates(decision_id="a", reference="r", start=date(2019, 10, 7), duration_days=11)


def test_postponing_part_two_moves_only_what_follows():
    between = at(date(2020, 12, 15), 12)
    new, summary = rules.postpone(
        RC2, Postpone(decision_id="p", reference="r", new_start=date(2021, 9, 20)), between, D
    )
    assert new.parts[0] == RC2.parts[0]
    assert (new.parts[1].start, new.parts[1].end) == (date(2021, 9, 20), date(2021, 9, 21))
    assert "part 2 of the 2RC postponed" in summary
    with pytest.raises(Rejected, match="every part .* has already begun"):
        rules.postpone(
            RC2,
            Postpone(decision_id="p", reference="r", new_start=date(2021, 9, 20)),
            at(date(2021, 2, 8), 12),
            D,
        )


def test_moved_on_line_and_re_dated_is_one_decision():
    d = SetDates(decision_id="a", reference="r", start=date(2019, 10, 7), format=MeetingFormat.VIRTUAL)
    new, summary = rules.set_dates(MSP9, d, NOW, D)
    assert (new.parts[0].start, new.parts[0].format) == (date(2019, 10, 7), MeetingFormat.VIRTUAL)
    assert summary.endswith("held virtual")
    # The format alone is a change; the same dates, place and format are not.
    same_dates = d.model_copy(update={"start": date(2019, 9, 2)})
    assert rules.set_dates(MSP9, same_dates, NOW, D)[0].parts[0].format is MeetingFormat.VIRTUAL
    with pytest.raises(Rejected, match="already 2019-10-07, Geneva, virtual"):
        rules.set_dates(new, d, NOW, D)


def test_postponed_and_made_hybrid_is_one_decision_with_the_host_rule():
    between = at(date(2020, 12, 15), 12)
    d = Postpone(decision_id="p", reference="r", new_start=date(2021, 9, 20), format=MeetingFormat.HYBRID)
    new, summary = rules.postpone(RC2, d, between, D)
    assert (new.parts[1].start, new.parts[1].format, new.parts[1].place) == (
        date(2021, 9, 20),
        MeetingFormat.HYBRID,
        "Geneva",
    )
    assert new.parts[0] == RC2.parts[0] and "held hybrid" in summary
    away = d.model_copy(update={"place": "Lausanne"})
    with pytest.raises(Rejected, match="must name the host"):
        rules.postpone(RC2, away, between, D)
    new, summary = rules.postpone(
        RC2, away.model_copy(update={"host_covering_extra_cost": "Switzerland"}), between, D
    )
    assert (new.parts[1].place, new.parts[1].host_covering_extra_cost) == ("Lausanne", "Switzerland")
    assert "in Lausanne, Switzerland covering the extra cost" in summary


def test_a_decision_recorded_before_the_combined_act_still_reads():
    """Payloads in histories have no format, place or host on a postponement: they default to unchanged."""
    old = Postpone.model_validate({"decision_id": "p", "reference": "r", "new_start": "2021-09-20"})
    assert (old.format, old.place, old.host_covering_extra_cost) == (None, None, None)
    assert (
        SetDates.model_validate({"decision_id": "a", "reference": "r", "start": "2019-10-07"}).format is None
    )


def test_parts_cannot_overlap_and_a_day_added_must_fit():
    with pytest.raises(Rejected, match="must start after the last part ends"):
        rules.add_part(
            MSP9, AddPart(decision_id="s", reference="r", start=date(2019, 9, 4), duration_days=2), NOW, D
        )
    day3 = at(date(2019, 9, 4), 12)
    new, _ = rules.extend_by_day(MSP9, ExtendByDay(decision_id="x", reference="r"), day3, D)
    assert new.last_day == date(2019, 9, 5)
    ten = plan(Part(start=date(2019, 9, 2), end=date(2019, 9, 11)))
    with pytest.raises(Rejected, match="1 to 10 days"):
        rules.extend_by_day(ten, ExtendByDay(decision_id="x", reference="r"), day3, D)
    during_part1 = at(date(2020, 11, 27), 12)
    tight = plan(
        RC2.parts[0], Part(start=date(2020, 11, 28), end=date(2020, 11, 29)), kind=MeetingKind.RC, number=2
    )
    with pytest.raises(Rejected, match="when part 2 has already begun"):
        rules.extend_by_day(tight, ExtendByDay(decision_id="x", reference="r"), during_part1, D)


def test_closing_needs_a_session_and_a_successor_other_than_the_president():
    day2 = at(date(2019, 9, 3), 12)
    close = CloseMeeting(decision_id="c", reference="r")
    with pytest.raises(Rejected, match="only be closed while in session"):
        rules.check_close(MSP9, close, NOW, D, SWISS, UK)
    with pytest.raises(Rejected, match="without a President-designate"):
        rules.check_close(MSP9, close, day2, D, SWISS, None)
    with pytest.raises(Rejected, match="cannot be the current President"):
        rules.check_close(MSP9, close.model_copy(update={"successor": SWISS}), day2, D, SWISS, None)
    assert "United Kingdom takes over" in rules.check_close(MSP9, close, day2, D, SWISS, UK)


# The presidential cycle


def _state(**kw: object) -> pres.PresidencyState:
    values: dict[str, object] = {
        "convention": {"code": "ccm"},
        "president": SWISS,
        "began_on": date(2019, 9, 4),
        "designates": [UK],
        "meeting": RC2,
        "counters": pres.Counters(
            last_msp_number=9, last_review_conference_number=1, last_review_conference_year=2015
        ),
    }
    values.update(kw)
    return pres.PresidencyState.model_validate(values)


def test_designates_form_an_ordered_list_one_per_meeting():
    s = _state()
    designates, summary = pres.designate(s, Designate(decision_id="d", reference="r", president=IRAQ))
    assert designates == [UK, IRAQ] and summary.endswith("designated for the 11MSP"), summary
    with pytest.raises(Rejected, match="cannot be its own successor"):
        pres.designate(s, Designate(decision_id="d", reference="r", president=President(state="switzerland")))
    with pytest.raises(Rejected, match="already President-designate"):
        pres.designate(s, Designate(decision_id="d", reference="r", president=UK))
    baumann = President(state="United Kingdom", representative="Ambassador Aidan Liddle")
    replaced, _ = pres.replace_designate(
        s, ReplaceDesignate(decision_id="r", reference="r", president=baumann)
    )
    assert replaced == [baumann]
    with pytest.raises(Rejected, match="no President-designate for the 11MSP"):
        pres.replace_designate(
            s, ReplaceDesignate(decision_id="r", reference="r", position=2, president=IRAQ)
        )


def test_a_review_conference_comes_five_years_after_the_last_one_ended():
    c = pres.Counters(last_msp_number=13, last_review_conference_number=2, last_review_conference_year=2021)
    assert pres.next_meeting_ref(c, 2025, 5).label == "14MSP"
    assert pres.next_meeting_ref(c, 2026, 5).label == "3RC"


def test_handover_starts_the_next_term_on_the_closing_day():
    s = _state()
    closed = pres.MeetingClosed(meeting="2RC", closed_on=date(2021, 9, 21), how="by decision")
    nxt = pres.handover(s, closed)
    assert (nxt.term, nxt.president, nxt.outgoing, nxt.began_on) == (2, UK, SWISS, date(2021, 9, 21))
    assert nxt.history[-1].handed_over_on == date(2021, 9, 21)
    assert nxt.counters.last_review_conference_year == 2021
    assert nxt.meeting.ref.label == "10MSP" and nxt.meeting.parts[0].provisional
    # A year after part 2 began, on the same weekday.
    assert nxt.meeting.first_day.weekday() == RC2.parts[-1].start.weekday()
    assert nxt.meeting.first_day == date(2022, 2, 7)  # the Monday nearest 8 February 2022


def test_handover_prefers_the_successor_named_at_the_close():
    closed = pres.MeetingClosed(meeting="2RC", closed_on=date(2021, 9, 21), successor_named=IRAQ, how="d")
    assert pres.handover(_state(), closed).president == IRAQ
    with pytest.raises(Rejected):
        pres.handover(_state(designates=[]), closed.model_copy(update={"successor_named": None}))


# Configuration


CONFIG = Path(__file__).parents[2] / "config" / "cycle.toml"


def test_the_default_config_describes_a_plausible_current_cycle():
    cfg = parse_config(CONFIG.read_text(), str(CONFIG))
    state = cfg.initial_state()
    assert state.meeting.ref.label == "14MSP"
    assert state.convention.defaults.place == "Geneva" and state.convention.defaults.duration_days == 4
    assert state.designates and not state.designates[0].same_state(state.president)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("end = 2027-09-16", "end = 2027-09-10"), ":31: meeting.parts[0].end: a part cannot end"),
        (('format = "in_person"', 'format = "zoom"'), ":33: meeting.parts[0].format:"),
        (("duration_days = 4", "duration_days = 40"), ":10: defaults.duration_days:"),
        (("number = 14", "number = 15"), ":26: meeting.number: the next MSP is number 14"),
        (('code = "ccm"', 'code = "CCM!"'), ":5: convention.code:"),
        (("[meeting]", "[meeting"), "not valid TOML"),
        (("term_began_on = 2026-09-18", "term_began_on = 'soon'"), ":18: presidency.term_began_on:"),
    ],
)
def test_a_bad_config_names_the_field_and_line(change, expected):
    text = CONFIG.read_text().replace(*change)
    with pytest.raises(ConfigError) as err:
        parse_config(text, "cycle.toml")
    assert expected in str(err.value)
    assert str(err.value).startswith("cycle.toml")


def test_a_format_already_decided_is_refused_naming_the_meeting_as_written() -> None:
    same = ChangeFormat(decision_id="f", reference="r", format=MSP9.parts[0].format)
    with pytest.raises(Rejected, match=r"^The 9MSP is already to be held in person\.$"):
        rules.change_format(MSP9, same, NOW, D)
