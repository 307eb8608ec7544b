"""The calendar (`msp calendar`, the board's /calendar.ics) from a fixed set of facts, read back with the icalendar
library's own parser: every event is there, days are DATE values, instants are UTC, and a meeting that moves
keeps its events' UIDs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar import Calendar

from domain.meeting import HeldDay, Interpretation, MeetingState
from domain.models import Convention, MeetingKind, MeetingPlan, MeetingRef, Part, President
from starter.board.gather import Dated, days, meeting_dated
from starter.board.ics import calendar
from starter.timeline import Mark, svg

CONV = Convention(code="ccm")
STAMP = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
REF = MeetingRef(number=14, kind=MeetingKind.MSP)


def plan(start: date, *more: tuple[date, date]) -> MeetingPlan:
    parts = [Part(start=start, end=start + timedelta(days=3))] + [Part(start=s, end=e) for s, e in more]
    return MeetingPlan(ref=REF, parts=parts)


def facts(p: MeetingPlan, meet: MeetingState | None = None) -> list[Dated]:
    return [
        *meeting_dated(CONV, p, days(p, meet)),
        Dated("ccm-review-hosting-agreement", "due", "review", date(2027, 9, 13), "review <hosting> due"),
        Dated("ccm-art7-chile", "due", "report", date(2027, 4, 30), "Art. 7 report of Chile due"),
        Dated(
            "ccm-silence-p1",
            "deadline",
            "silence",
            date(2027, 3, 31),
            "silence p1 closes",
            at=datetime(2027, 3, 31, 21, 59, tzinfo=UTC),
        ),
    ]


def events(p: MeetingPlan, meet: MeetingState | None = None) -> dict[str, dict[str, object]]:
    cal = Calendar.from_ical(calendar(facts(p, meet), "CCM calendar", STAMP))
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    found: dict[str, dict[str, object]] = {}
    for ev in cal.walk("VEVENT"):
        assert ev.decoded("DTSTAMP") == STAMP
        start: Any = ev["DTSTART"]
        found[str(ev["UID"])] = {
            "summary": str(ev["SUMMARY"]),
            "start": ev.decoded("DTSTART"),
            "end": ev.decoded("DTEND"),
            "value": start.params.get("VALUE"),
        }
    return found


def by_summary(found: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(e["summary"]): e for e in found.values()}


def test_the_calendar_parses_back_with_every_event_days_as_dates_and_instants_in_utc() -> None:
    found = by_summary(events(plan(date(2027, 9, 13))))
    assert sorted(found) == sorted(
        [
            "14MSP day 1",
            "14MSP day 2",
            "14MSP day 3",
            "14MSP day 4",
            "handover of the Presidency at the close of the 14MSP",
            "extension requests due for the 14MSP",
            "review <hosting> due",
            "Art. 7 report of Chile due",
            "silence p1 closes",
        ]
    )
    day2 = found["14MSP day 2"]
    assert (day2["start"], day2["end"]) == (date(2027, 9, 14), date(2027, 9, 15))
    assert type(day2["start"]) is date and day2["value"] == "DATE"
    assert found["handover of the Presidency at the close of the 14MSP"]["start"] == date(2027, 9, 16)
    assert found["extension requests due for the 14MSP"]["start"] == date(2026, 12, 13)
    assert found["silence p1 closes"]["start"] == datetime(2027, 3, 31, 21, 59, tzinfo=UTC)


def test_a_meeting_moved_keeps_its_events_uids_with_new_dates() -> None:
    before = events(plan(date(2027, 9, 13)))
    after = events(plan(date(2027, 10, 4)))
    assert set(before) == set(after) and len(before) == 9
    moved = [uid for uid in before if before[uid]["start"] != after[uid]["start"]]
    # The four days, the handover and the requests' due date moved; the review, the report, the silence did not.
    assert len(moved) == 6
    assert by_summary(after)["14MSP day 1"]["start"] == date(2027, 10, 4)


def test_a_day_without_interpretation_money_says_so() -> None:
    p = plan(date(2027, 9, 13))
    meet = MeetingState(
        convention=CONV,
        plan=p,
        president=President(state="Austria"),
        days_held=[HeldDay(date=date(2027, 9, 13), part=1, day=1, interpretation=False)],
        interpretation={
            date(2027, 9, 14): Interpretation.GRANTED,
            date(2027, 9, 15): Interpretation.REQUESTED,
        },
    )
    assert [(d.funded, d.money) for d in days(p, meet)] == [
        (False, "held without interpretation"),
        (True, "funded (granted)"),
        (None, "requested"),
        (None, "not requested yet"),
    ]
    found = by_summary(events(p, meet))
    assert "14MSP day 1, no interpretation money" in found


def test_the_timeline_escapes_labels_and_holds_no_script() -> None:
    picture = svg(
        [
            Mark(date(2027, 9, 13), "meeting", "14MSP <script>alert(1)</script>", end=date(2027, 9, 16)),
            Mark(date(2027, 4, 30), "report", "Chile & co", late=True),
            Mark(date(2030, 1, 1), "review", "beyond the picture"),
        ],
        date(2027, 1, 1),
        24,
        "The next 24 months",
    )
    assert picture.startswith("<svg") and picture.endswith("</svg>")
    assert "<script" not in picture and "&lt;script&gt;" in picture
    assert "Chile &amp; co" in picture and "beyond the picture" not in picture
    assert "href" not in picture
