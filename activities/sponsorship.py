"""The Sponsorship Programme's activities: its start, by the meeting's workflow, and the travel agent.

The programme is started by an activity rather than as the meeting's child: it outlives the meeting (it reports
after the close, and may still be booking), and a child completing after its parent has closed stalls the
time-skipping test server's clock.

The travel agent books a sponsored delegate's travel, over HTTP with httpx (``POST <url>/travel-bookings``).

One booking per application: the idempotency key is the programme's id and the application's, so a retry after a
lost answer, or after a worker died mid-call, books nothing twice. Answers are read as conference services' are
(activities/conference_services.py): 5xx, 408, 429 and no answer are retried; another 4xx is the agent's refusal,
``REFUSED_BY_AGENT`` and not retried, upon which the programme releases the money. The delegate's name goes to the
agent (who needs it) in the request body, never into a log line.
"""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.common import SearchAttributePair

from activities.conference_services import HttpActivities
from activities.obligations import ObligationsStarter
from domain import search_attributes as sa
from domain.conference import Receipt
from domain.ids import sponsorship_id
from domain.sponsorship import (
    BOOK_TRAVEL,
    REFUSED_BY_AGENT,
    START_SPONSORSHIP,
    Phase,
    SponsorshipState,
    TravelBooking,
)

log = structlog.get_logger("activities.travel")


class ProgrammeStarter(ObligationsStarter):
    @activity.defn(name=START_SPONSORSHIP)
    async def start_sponsorship(self, s: SponsorshipState) -> int:
        """Starts the meeting's programme, by id: one already running (or ended) is left as it is."""
        attrs = [
            SearchAttributePair(sa.KIND, sa.Kind.SPONSORSHIP.value),
            SearchAttributePair(sa.CONVENTION, s.convention),
            SearchAttributePair(sa.MEETING, s.meeting),
            SearchAttributePair(sa.PHASE, Phase.OPEN.value),
        ]
        summary = f"Sponsorship Programme of the {s.meeting}"
        wid = sponsorship_id(s.convention, s.meeting)
        return await self._start("SponsorshipWorkflow", s, wid, summary, attrs)


class TravelAgent(HttpActivities):
    @activity.defn(name=BOOK_TRAVEL)
    async def book_travel(self, b: TravelBooking) -> Receipt:
        bound = log.bind(meeting=b.meeting, application=b.application, idempotency_key=b.idempotency_key)
        return await self._post(
            b.base_url,
            "travel-bookings",
            b,
            b.idempotency_key,
            "travel booking",
            bound,
            peer="the travel agent",
            refused_type=REFUSED_BY_AGENT,
        )
