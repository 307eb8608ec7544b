"""What a meeting tells others as it changes: the reviews due at it, its ledger, its Sponsorship Programme and the
Presidency. Each is told in the background or once per change, so none of them holds up the meeting; the
MeetingWorkflow owns one ``MeetingNotices`` and calls it from its main loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.ids import sponsorship_id
    from domain.meeting import MeetingState
    from domain.meeting_costs import HOST_SURPLUS, MEETING_VENUE, Venue, venue_of
    from domain.models import Defaults
    from domain.presidency import MEETING_CHANGED, MeetingView
    from domain.reviews import TELL_REVIEWS_MEETING_MOVED, ReviewsOfMeeting
    from domain.sponsorship import MEETING_DATES, START_SPONSORSHIP, MeetingDates, SponsorshipState


class MeetingNotices:
    """Who was last told what; ``changed`` wakes the meeting."""

    def __init__(
        self,
        s: MeetingState,
        funds_id: str | None,
        presidency_id: str | None,
        defaults: Defaults,
        changed: Callable[[], None],
    ) -> None:
        self.s = s
        self.funds_id = funds_id
        self.presidency_id = presidency_id
        self.defaults = defaults
        self.changed = changed
        self.published: MeetingView | None = None
        # The first day reviews were last told of: they move with it.
        self.announced_first_day: date | None = None
        # Where the ledger was last told the meeting is held away from Geneva (at first: nowhere).
        self.venue_told = Venue()
        # What the Sponsorship Programme was last told (None: the meeting has none).
        self.sponsorship_told: MeetingDates | None = None

    async def tell_reviews(self) -> None:
        """Reviews due at this meeting follow it when its first day moves (the 2nd Review Conference's part 2).

        In the background: finding and telling the reviews must never hold up the meeting itself.
        """
        first = self.s.plan.first_day
        if first == self.announced_first_day or not workflow.patched("reviews-follow-meeting"):
            return
        self.announced_first_day = first
        asyncio.get_running_loop().create_task(self._tell_reviews_of(first))

    async def _tell_reviews_of(self, first: date) -> None:
        try:
            await workflow.execute_activity(
                TELL_REVIEWS_MEETING_MOVED,
                ReviewsOfMeeting(
                    convention=self.s.convention.code, meeting=self.s.plan.ref.label, first_day=first
                ),
                result_type=int,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=10), maximum_attempts=20),
                summary=f"tell the reviews due at the {self.s.plan.ref.label} of its first day, {first}",
            )
        except ActivityError as e:
            workflow.logger.warning(
                "reviews due at %s not told of %s: %s", self.s.plan.ref.label, first, e.cause
            )

    async def tell_ledger_venue(self) -> None:
        """The ledger invoices the host of a part away from Geneva the surplus: it learns where, and who hosts it,
        whenever that changes (back in Geneva: an empty venue, and the surplus is withdrawn)."""
        if self.funds_id is None:
            return
        venue = venue_of(self.s.plan, self.defaults)
        if venue == self.venue_told or not workflow.patched(HOST_SURPLUS):
            return
        self.venue_told = venue
        try:
            await workflow.get_external_workflow_handle(self.funds_id).signal(MEETING_VENUE, venue)
        except Exception as e:  # the ledger has ended: no surplus to invoice
            workflow.logger.warning("ledger %s not told of the venue: %s", self.funds_id, e)

    def dates(self) -> MeetingDates:
        closed = self.s.closed.closed_on if self.s.closed else None
        plan = self.s.plan
        return MeetingDates(
            meeting=plan.ref.label, first_day=plan.first_day, last_day=plan.last_day, closed_on=closed
        )

    async def start_sponsorship(self, dates: MeetingDates) -> None:
        conv = self.s.convention
        try:
            await workflow.execute_activity(
                START_SPONSORSHIP,
                SponsorshipState(
                    convention=conv.code,
                    meeting=dates.meeting,
                    first_day=dates.first_day,
                    last_day=dates.last_day,
                    defaults=conv.defaults,
                    rules=conv.sponsorship,
                    travel_agent_url=conv.money.travel_agent_url,
                ),
                result_type=int,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=20),
                summary=f"start the Sponsorship Programme of the {dates.meeting}",
            )
        except ActivityError as e:
            workflow.logger.warning("sponsorship programme of %s not started: %s", dates.meeting, e.cause)
            return
        self.sponsorship_told = dates
        self.changed()  # the main loop tells it of any change since these dates

    async def tell_sponsorship(self) -> None:
        """The programme's applications close weeks before the first day, and it reports once the meeting closed."""
        dates = self.dates()
        if self.sponsorship_told is None or dates == self.sponsorship_told:
            return
        self.sponsorship_told = dates
        wid = sponsorship_id(self.s.convention.code, dates.meeting)
        try:
            await workflow.get_external_workflow_handle(wid).signal(MEETING_DATES, dates)
        except Exception as e:  # a programme that has ended has nothing more to learn
            workflow.logger.info("sponsorship programme %s not told: %s", wid, e)

    async def publish(self) -> None:
        """Tell the Presidency what changed, so its own view and search attributes follow the meeting."""
        if not self.presidency_id:
            return
        view = MeetingView(plan=self.s.plan, phase=self.s.phase, status=self.s.status)
        if view == self.published:
            return
        self.published = view
        await workflow.get_external_workflow_handle(self.presidency_id).signal(MEETING_CHANGED, view)
