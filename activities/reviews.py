"""Tells the reviews due at a meeting that the meeting moved: found by search attribute, so no list is kept."""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.client import Client

from domain.reviews import MEETING_MOVED, TELL_REVIEWS_MEETING_MOVED, MeetingMoved, ReviewsOfMeeting
from domain.search_attributes import Kind, query

log = structlog.get_logger("activities.reviews")


class ReviewsFinder:
    def __init__(self, client: Client) -> None:
        self.client = client

    @activity.defn(name=TELL_REVIEWS_MEETING_MOVED)
    async def tell_reviews_meeting_moved(self, m: ReviewsOfMeeting) -> int:
        told = 0
        async for wf in self.client.list_workflows(
            query(Kind.REVIEW, m.convention, meeting=m.meeting, running=True)
        ):
            # A signal is idempotent here: a review already on that date ignores it.
            await self.client.get_workflow_handle(wf.id).signal(
                MEETING_MOVED, MeetingMoved(meeting=m.meeting, first_day=m.first_day)
            )
            told += 1
        log.info(
            "reviews told of a meeting's new date", meeting=m.meeting, first_day=str(m.first_day), told=told
        )
        return told
