"""Tells the reviews due at a meeting that the meeting moved: found by search attribute, so no list is kept."""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.client import Client

from domain.reviews import MeetingMoved, ReviewsOfMeeting

log = structlog.get_logger("activities.reviews")


class ReviewsFinder:
    def __init__(self, client: Client) -> None:
        self.client = client

    @activity.defn(name="tell_reviews_meeting_moved")
    async def tell_reviews_meeting_moved(self, m: ReviewsOfMeeting) -> int:
        query = (
            f"CcmKind = 'review' AND CcmConvention = '{m.convention}' AND CcmMeeting = '{m.meeting}' "
            "AND ExecutionStatus = 'Running'"
        )
        told = 0
        async for wf in self.client.list_workflows(query):
            # A signal is idempotent here: a review already on that date ignores it.
            await self.client.get_workflow_handle(wf.id).signal(
                "meeting_moved", MeetingMoved(meeting=m.meeting, first_day=m.first_day)
            )
            told += 1
        log.info(
            "reviews told of a meeting's new date", meeting=m.meeting, first_day=str(m.first_day), told=told
        )
        return told
