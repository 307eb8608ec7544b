"""Reads a meeting as its workflow shows it, for a workflow that must know whether the meeting sits now."""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.extensions import LOOK_UP_MEETING, MeetingLookup, MeetingSeen
from domain.ids import meeting_label_id
from domain.meeting import MeetingState

log = structlog.get_logger("activities.meetings")


class MeetingReader:
    def __init__(self, client: Client) -> None:
        self.client = client

    @activity.defn(name=LOOK_UP_MEETING)
    async def look_up_meeting(self, m: MeetingLookup) -> MeetingSeen:
        wid = meeting_label_id(m.convention, m.meeting)
        try:
            state = await self.client.get_workflow_handle(wid).query("state", result_type=MeetingState)
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                log.info("meeting not convened", workflow_id=wid)
                return MeetingSeen(meeting=m.meeting)
            raise
        closed_on = state.closed.closed_on if state.closed else None
        return MeetingSeen(meeting=m.meeting, plan=state.plan, closed_on=closed_on)
