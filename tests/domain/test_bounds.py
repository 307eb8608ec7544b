"""The bounds every input is held to (domain/bounds.py), the one State matcher (domain/states.py), and date arithmetic
that stays total on the window of dates the engine handles."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from domain import funds
from domain import meeting_rules as rules
from domain import presidency as pres
from domain.assessments import SharesError, parse_shares
from domain.bounds import (
    EARLIEST,
    HEADROOM_YEARS,
    LATEST,
    MAX_CHF,
    MAX_PARTS,
    MAX_STATES,
    QUOTE_MAX,
    Day,
    Name,
    Text,
    escape_controls,
    quote,
)
from domain.calendar import clock, day_end, day_start, local_instant, next_change, years_later
from domain.config import ConfigError, parse_config
from domain.decisions import AddPart, CloseMeeting, Designate, Postpone, Rejected, SetDates
from domain.documents import DocumentSpec
from domain.extensions import (
    MAX_MONTHS,
    ORIGINAL_YEARS,
    Article,
    ExtensionRequest,
    MeetingSlot,
    check_request,
    months_later,
    original_deadline,
)
from domain.models import Convention, Defaults, MeetingPlan, MeetingRef, Part, President, name_key
from domain.presidency import Counters, PresidencyState
from domain.reports import ReportReceived
from domain.reports import schedule as report_schedule
from domain.reviews import (
    MAX_LEAD_DAYS,
    DueKind,
    DuePoint,
    Mandate,
    Periodicity,
    ReviewSpec,
    next_due,
    overdue_reminder,
)
from domain.reviews import schedule as review_schedule
from domain.silence import BreakSilence, SilenceStatus, check_break
from domain.states import check_state, check_states
from tests.support.requests import art4

D = Defaults()
LISTED = ["Austria", "Chile", "Lao People's Democratic Republic", "Mexico", "Norway"]


class Named(BaseModel):
    name: Name


class Written(BaseModel):
    text: Text


class Dated(BaseModel):
    day: Day


def error(model: type[BaseModel], **fields: Any) -> str:
    with pytest.raises(ValidationError) as e:
        model.model_validate(fields)
    return str(e.value.errors()[0]["msg"])


# Texts


def test_names_are_nfc_stripped_and_spaced_once():
    assert Named(name="  Co\u0302te   d'Ivoire ").name == "C\u00f4te d'Ivoire"
    assert Named(name="Lao\u00a0People's Democratic Republic").name == "Lao People's Democratic Republic"


@pytest.mark.parametrize(
    "bad", ["Mex\x00ico", "\x1b]0;pwned\x07Chile", "Chi\nle", "Aus\ttria", "\u202eairtsuA", "a\x9bb"]
)
def test_control_characters_are_refused_in_names(bad: str):
    assert "control character" in error(Named, name=bad)


def test_free_text_may_span_lines_but_not_carry_escapes():
    assert Written(text="First line.\r\nSecond line.\tEnd ").text == "First line.\nSecond line.\tEnd"
    assert "control character U+001B" in error(Written, text="a \x1b[31m red plan")


def test_each_text_has_its_length():
    assert "at most 200 characters" in error(Named, name="x" * 201)
    assert "at least 1 character" in error(Named, name="   ")
    assert "at most 4000 characters" in error(Written, text="x" * 4001)
    assert Named(name="x" * 200).name == "x" * 200


def test_a_rejection_quotes_at_most_about_80_characters():
    long = quote("x" * 3_000_000)
    assert long.startswith("'xxx") and long.endswith("(3,000,000 characters)")
    assert len(long) < QUOTE_MAX + 30
    assert quote("Mex\x00ico") == "'Mex\\u0000ico'"
    assert quote(date(9999, 12, 31)) == "9999-12-31"


def test_escaped_output_keeps_lines_and_stays_json():
    shown = escape_controls("a\x1b]0;title\x07b\nc\u009bd", keep="\n")
    assert shown == "a\\u001b]0;title\\u0007b\nc\\u009bd"
    raw = json.dumps({"name": "x\u009b\u202ey"}, ensure_ascii=False)
    assert json.loads(escape_controls(raw, keep="\n")) == {"name": "x\u009b\u202ey"}


# Dates and money


@pytest.mark.parametrize("day", [EARLIEST, LATEST, date(2027, 9, 13)])
def test_dates_in_the_window(day: date):
    assert Dated(day=day).day == day


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2007-12-31", "2201-01-01"])
def test_dates_outside_the_window_are_refused_naming_it(day: str):
    assert f"outside the dates the engine handles ({EARLIEST} to {LATEST})" in error(Dated, day=day)


def test_the_issue_inputs_are_refused_by_the_models_msp_and_the_validators_share():
    spec = {"symbol": "CCM/MSP/2027/3", "title": "t", "pages": 1, "meeting": "14MSP"}
    assert "outside the dates" in error(DocumentSpec, **spec, due="0001-01-01")
    req = {
        "state": "Chile",
        "article": "4",
        "current_deadline": "2020-08-01",
        "submitted_on": "2019-01-01",
        "requested_months": 60,
        "plan": "A plan",
        "reference": "CCM/MSP/2019/4",
    }
    assert "outside the dates" in error(ExtensionRequest, **req, entry_into_force="9990-01-01")
    assert "outside the dates" in error(SetDates, decision_id="d", reference="r", start="9999-12-31")
    assert "outside the dates" in error(Postpone, decision_id="d", reference="r", new_start="9999-12-31")
    assert "at most 500 characters" in error(
        funds.Payment, payment_id="p", reference="x" * 3_000_000, state="Chile", amount=1
    )
    assert f"less than or equal to {MAX_CHF}" in error(
        funds.Payment, payment_id="p", reference="r", state="Chile", amount=MAX_CHF + 1
    )
    shares = {f"State {i}": 0.1 for i in range(MAX_STATES + 1)}
    assert f"at most {MAX_STATES} items" in error(
        funds.Assess, decision_id="a", reference="r", shares=shares, due="2027-06-30"
    )
    assert "outside the dates" in error(
        ReportReceived, decision_id="r", reference="r", year=2027, received_on="0001-01-01"
    )


# Date arithmetic is total on the window, with the headroom the rules need


def test_the_longest_periods_the_rules_add_fit_in_the_headroom():
    # A deadline ten years after entry into force, then the longest a request may ask (ten years, before the
    # treaty's limit of four or five rejects it).
    with pytest.raises(ValidationError):
        ExtensionRequest.model_validate({"requested_months": 121})
    assert HEADROOM_YEARS >= max(ORIGINAL_YEARS.values()) + 120 // 12 >= max(MAX_MONTHS.values()) // 12
    # A review every 20 years at most, and Review Conferences at most 20 years apart.
    with pytest.raises(ValidationError):
        Periodicity(every_years=21)
    with pytest.raises(ValidationError):
        Defaults(review_conference_cadence_years=21)
    assert HEADROOM_YEARS >= 20
    assert MAX_LEAD_DAYS < 366 * HEADROOM_YEARS


def test_date_arithmetic_at_the_ends_of_the_window_never_overflows():
    far = date(LATEST.year + HEADROOM_YEARS, 12, 31)
    for day in (EARLIEST, LATEST, far):
        assert months_later(day, 120) > day > months_later(day, -24)
        assert years_later(day, 20) > day
        for article in Article:
            original_deadline(article, day)
        assert day_start(day, D) < day_end(day, D)
        local_instant(day, 23, 59, D)
        assert Defaults(day_end_hour=24) is not None and day_end(day, Defaults(day_end_hour=24))
    end_plan = MeetingPlan(ref=MeetingRef(number=99, kind="MSP"), parts=[Part(start=LATEST, end=LATEST)])
    assert pres.provisional_start(end_plan).year == LATEST.year + 1
    counters = Counters(
        last_msp_number=98, last_review_conference_number=9, last_review_conference_year=LATEST.year
    )
    later = pres.provisional_plan(end_plan, counters, Convention())
    assert clock(later, datetime(2030, 1, 1, tzinfo=UTC), D).phase.value == "scheduled"
    assert next_change(later, datetime(2030, 1, 1, tzinfo=UTC), D) is not None


def test_reminders_around_the_ends_of_the_window_never_overflow():
    spec = ReviewSpec(
        subject="hosting-agreement",
        title="t",
        mandate=Mandate(decided_by="x", reference="r"),
        due=DuePoint(kind=DueKind.DATE, on=LATEST),
        reminder_days=(MAX_LEAD_DAYS, 1),
    )
    for due in (EARLIEST, LATEST):
        assert len(review_schedule(spec, due, 1)) == 3
        overdue_reminder(spec, due, 1, 52 * HEADROOM_YEARS)
    for year in (EARLIEST.year, LATEST.year + HEADROOM_YEARS):
        assert report_schedule("Chile", year, (365, 1))
    req = ExtensionRequest(
        state="Chile",
        article=Article.ART4,
        entry_into_force=date(2190, 1, 1),
        current_deadline=LATEST,
        submitted_on=date(2199, 1, 1),
        requested_months=120,
        plan="A plan",
        reference="r",
    )
    assert req.requested_until == date(2210, 12, 31)


def test_a_decision_whose_dates_would_leave_the_window_is_rejected():
    near_end = MeetingPlan(
        ref=MeetingRef(number=99, kind="MSP"), parts=[Part(start=date(2200, 6, 1), end=date(2200, 6, 4))]
    )
    now = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(Rejected, match="after 2200-12-31, the last date the engine handles"):
        rules.set_dates(
            near_end, SetDates(decision_id="d", reference="r", start=LATEST, duration_days=4), now, D
        )
    with pytest.raises(Rejected, match="after 2200-12-31"):
        rules.postpone(
            near_end, Postpone(decision_id="d", reference="r", new_start=date(2200, 12, 30)), now, D
        )
    spec = ReviewSpec(
        subject="synergies",
        title="t",
        mandate=Mandate(decided_by="x", reference="r"),
        due=DuePoint(kind=DueKind.AT_MEETING, on=date(2199, 9, 1), meeting="40RC"),
    )
    with pytest.raises(Rejected, match="after 2200-12-31"):
        next_due(spec, date(2199, 9, 1), Periodicity(at_every_review_conference=True), 5)


def test_a_meeting_has_at_most_so_many_parts():
    start = date(2030, 1, 1)
    parts = [
        Part(start=start + timedelta(days=10 * i), end=start + timedelta(days=10 * i))
        for i in range(MAX_PARTS)
    ]
    full = MeetingPlan(ref=MeetingRef(number=20, kind="MSP"), parts=parts)
    add = AddPart(decision_id="d", reference="r", start=date(2031, 1, 1), duration_days=1)
    with pytest.raises(Rejected, match=f"already has {MAX_PARTS} parts"):
        rules.add_part(full, add, datetime(2029, 1, 1, tzinfo=UTC), D)


# Names of States


def test_names_match_in_any_case_width_and_spacing():
    assert name_key("ＭＥＸＩＣＯ") == name_key(" mexico ") == "mexico"
    assert check_state("ＭＥＸＩＣＯ", LISTED) == "Mexico"
    assert check_state("lao  people's democratic republic", LISTED) == "Lao People's Democratic Republic"


def test_a_name_not_listed_is_refused_with_the_closest_one():
    with pytest.raises(
        Rejected,
        match=r"^'Mexco' is not a State Party listed in \[states_parties\]: did you mean 'Mexico'\?$",
    ):
        check_state("Mexco", LISTED)
    with pytest.raises(Rejected, match=r"^'Atlantis' is not a State Party listed in \[states_parties\]\.$"):
        check_state("Atlantis", LISTED)
    with pytest.raises(
        Rejected,
        match="3 States are not States Parties.*'Canada', 'Australia' \\(did you mean 'Austria'\\?\\), 'Sweden'",
    ):
        check_states(["Canada", "Australia", "Chile", "Sweden"], LISTED)


def test_without_a_list_any_well_formed_name_is_taken():
    assert check_state("Atlantis", []) == "Atlantis"


def presidency(listed: list[str]) -> PresidencyState:
    plan = MeetingPlan(
        ref=MeetingRef(number=14, kind="MSP"), parts=[Part(start=date(2027, 9, 13), end=date(2027, 9, 16))]
    )
    return PresidencyState(
        convention=Convention(states_parties=listed),
        president=President(state="Austria"),
        began_on=date(2026, 9, 18),
        meeting=plan,
        counters=Counters(
            last_msp_number=13, last_review_conference_number=3, last_review_conference_year=2026
        ),
    )


def test_designations_and_the_successor_at_a_close_name_listed_states():
    s = presidency(LISTED)
    with pytest.raises(Rejected, match="'Atlantis' is not a State Party"):
        pres.designate(s, Designate(decision_id="d", reference="r", president=President(state="Atlantis")))
    designates, summary = pres.designate(
        s, Designate(decision_id="d", reference="r", president=President(state="ＣＨＩＬＥ"))
    )
    assert designates[-1].state == "Chile" and summary.startswith("Chile")
    with pytest.raises(Rejected, match="'ＡＵＳＴＲＩＡ'|holds the Presidency"):
        pres.designate(
            s, Designate(decision_id="d", reference="r", president=President(state="ＡＵＳＴＲＩＡ"))
        )
    close = CloseMeeting(decision_id="c", reference="r", successor=President(state="Atlantis"))
    with pytest.raises(Rejected, match="'Atlantis' is not a State Party"):
        rules.named_successor(close, LISTED)
    assert pres.designate(
        presidency([]), Designate(decision_id="d", reference="r", president=President(state="Atlantis"))
    )


def test_assessments_and_payments_name_listed_states():
    ledger = funds.LedgerState(meeting="14MSP", states_parties=LISTED, estimate=100_000)
    assess = funds.Assess(
        decision_id="a",
        reference="r",
        shares={"Canada": 10, "Australia": 10, "Sweden": 10},
        due=date(2027, 6, 30),
    )
    with pytest.raises(Rejected, match="3 States are not States Parties listed"):
        funds.assess(ledger, assess)
    ok = funds.assess(ledger, assess.model_copy(update={"shares": {"ＭＥＸＩＣＯ": 40.0}}))
    assert list(ok.assessments) == ["Mexico"]
    with pytest.raises(Rejected, match="'Atlantis' is not a State Party"):
        funds.record_payment(ok, funds.Payment(payment_id="p", reference="r", state="Atlantis", amount=1))
    paid = funds.record_payment(ok, funds.Payment(payment_id="p", reference="r", state="mexico", amount=1))
    assert paid.paid == {"Mexico": 1}


def test_silence_is_broken_by_a_listed_state_in_any_width():
    deadline = datetime(2030, 1, 1, tzinfo=UTC)
    b = BreakSilence(decision_id="b", state="ＮＯＲＷＡＹ", reason="needs a plenary")
    assert check_break(SilenceStatus.OPEN, deadline, LISTED, b, deadline - timedelta(days=1)) == "Norway"


def test_an_extension_request_names_a_listed_state():
    req = art4("Atlantis", date(2011, 1, 1), date(2019, 1, 1), "A plan", "r")
    meeting = MeetingSlot(label="9MSP", first_day=date(2019, 9, 2))
    with pytest.raises(Rejected, match="'Atlantis' is not a State Party"):
        check_request(req, meeting, date(2019, 2, 1), LISTED)
    assert (
        check_request(req.model_copy(update={"state": "norway"}), meeting, date(2019, 2, 1), LISTED)
        == "Norway"
    )


# Files


def test_an_assessment_file_has_at_most_one_row_per_state():
    rows = "".join(f"State {i},0.1\n" for i in range(MAX_STATES + 1))
    with pytest.raises(SharesError, match=rf"^s\.csv:{MAX_STATES + 2}: more than {MAX_STATES} States"):
        parse_shares("state,share_percent\n" + rows, "s.csv")
    with pytest.raises(
        SharesError, match=r"^s\.csv:3: state: ＭＥＸＩＣＯ appears twice \(first as 'Mexico' on line 2\)"
    ):
        parse_shares("state,share_percent\nMexico,1\nＭＥＸＩＣＯ,2\n", "s.csv")
    with pytest.raises(SharesError, match=r"^s\.csv:2: state: control character U\+0000 is not allowed"):
        parse_shares("state,share_percent\nMex\x00ico,1\n", "s.csv")


def test_the_config_names_listed_states_and_dates_in_the_window():
    text = """
[presidency]
term_began_on = 2026-09-18
president = { state = "Atlantis" }
last_msp_number = 13
last_review_conference = { number = 3, year = 2026 }
[meeting]
number = 14
kind = "MSP"
[[meeting.parts]]
start = 2027-09-13
end = 2201-09-16
[states_parties]
names = ["Chile", "Austria"]
"""
    with pytest.raises(ConfigError) as e:
        parse_config(text, "c.toml")
    assert str(e.value).splitlines() == [
        "c.toml:12: meeting.parts[0].end: 2201-09-16 is outside the dates the engine handles (2008-01-01 to 2200-12-31)",
        "c.toml:4: presidency.president.state: Atlantis is not in states_parties.names",
    ]
    fine = parse_config(text.replace("Atlantis", "Chile").replace("2201-09-16", "2027-09-16"), "c.toml")
    assert fine.convention_settings().states_parties == ["Chile", "Austria"]
