"""The calendar (`msp calendar`, the board's /calendar.ics): every dated thing of the board as an iCalendar event.

Each event's UID is its workflow's id and what the event is (``ccm-meeting-14MSP/day-1-2``), never its date: a
calendar that subscribed updates the event in place when a meeting moves. Days are all-day events (DATE values);
an instant (a silence deadline) is a timed event in UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from hashlib import sha256

from icalendar import Calendar, Event

from starter.board.gather import Dated

PRODID = "-//ccm-machinery//board//EN"
UID_DOMAIN = "ccm-machinery"


def uid(d: Dated) -> str:
    """Stable: from the workflow id and what the event is; hashed, since an id may hold any character."""
    return sha256(f"{d.wid}\n{d.what}".encode()).hexdigest()[:32] + f"@{UID_DOMAIN}"


def calendar(
    dated: Iterable[Dated], name: str, stamp: datetime, link: Callable[[str], str] | None = None
) -> bytes:
    """``link``: a workflow's page in the Temporal UI, from its id (each event's URL, when given). ``stamp``:
    DTSTAMP, the moment the calendar was made."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for d in dated:
        ev = Event()
        ev.add("uid", uid(d))
        ev.add("dtstamp", stamp.astimezone(UTC))
        ev.add("summary", d.label)
        if d.at is not None:
            ev.add("dtstart", d.at.astimezone(UTC))
            ev.add("dtend", d.at.astimezone(UTC))
        else:
            ev.add("dtstart", d.day)
            ev.add("dtend", d.day + timedelta(days=1))
        ev.add("categories", [d.kind])
        ev.add("description", f"workflow {d.wid}")
        if link is not None:
            ev.add("url", link(d.wid))
        cal.add_component(ev)
    return bytes(cal.to_ical())
