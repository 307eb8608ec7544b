"""A meeting's interpretation, paid day by day from its ledger: asked for before each day, booked once granted.

Each day of the meeting still to come is one request for money (``request_funds``) at the interpretation priority,
needed by the day itself, asked for ``interpretation_booking_days`` ahead of it (from the patch AT_BOOKING_LEAD on;
before it, every day was asked for at once when the meeting started); a granted day is booked with conference
services. A day that moves away gives its request or its money back; a day that begins without money (or that the
ledger reports too late to fund) runs as informal consultations, as the 9th MSP's second day did, and its request
leaves the queue. The MeetingWorkflow owns one ``InterpretationFunding`` and calls it from its main loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.calendar import day_start, meeting_days
    from domain.conference import BOOK_INTERPRETATION, InterpretationBooking, Receipt
    from domain.funds import CANCEL_REQUEST, RELEASE, REQUEST_FUNDS, FundsRequest
    from domain.meeting import Interpretation, MeetingState
    from domain.models import Defaults, Language
    from workflows.common import call_services


# From this patch on, a day's interpretation is asked for at its booking lead time, not when the meeting starts: the
# meeting wakes for it (a timer it did not set before), so histories from before it replay on the old path.
AT_BOOKING_LEAD = "interpretation-at-booking-lead"


class InterpretationFunding:
    """The interpretation of one meeting (its state in ``s.interpretation``); ``changed`` wakes the meeting."""

    def __init__(
        self, s: MeetingState, funds_id: str | None, defaults: Defaults, changed: Callable[[], None]
    ) -> None:
        self.s = s
        self.funds_id = funds_id
        self.defaults = defaults
        self.changed = changed
        # Off for a meeting without a ledger, and for meetings started before the ledger existed.
        self.on = False
        # Each day asked for at its booking lead time (AT_BOOKING_LEAD), not all at once.
        self.at_lead = False
        # Grants for days that are gone or began without interpretation: their money goes back.
        self.late_grants: list[str] = []
        # Days that began without interpretation money: their requests leave the ledger's queue.
        self.unfunded_days: list[date] = []
        self.booking: set[date] = set()

    def request_id(self, day: date) -> str:
        return f"interpretation:{self.s.plan.ref.label}:{day}"

    def granted(self, request_id: str) -> None:
        """The ledger granted a request (the signal ``funds_granted``, or one of ``funds_granted_all``)."""
        day = next((d for d in self.s.interpretation if self.request_id(d) == request_id), None)
        if day is not None and self.s.interpretation[day] is Interpretation.REQUESTED:
            self.s.interpretation[day] = Interpretation.GRANTED
            self.changed()
        elif day is None or self.s.interpretation[day] is Interpretation.NOT_FUNDED:
            self.late_grants.append(request_id)
            self.changed()

    def ask_at(self, day: date) -> datetime:
        """When a day's interpretation is asked for: its booking lead time ahead of it."""
        lead = timedelta(days=self.s.convention.money.interpretation_booking_days)
        return day_start(day - lead, self.defaults)

    def next_ask(self, now: datetime) -> tuple[datetime, date] | None:
        """The next day still to be asked for, and when (at its booking lead time)."""
        if not self.at_lead:
            return None
        days = sorted(
            d for d in set(meeting_days(self.s.plan)) - self.s.interpretation.keys() if self.ask_at(d) > now
        )
        return (self.ask_at(days[0]), days[0]) if days else None

    def too_late(self, request_id: str) -> None:
        """The ledger says a day still waiting can no longer be funded in time: it is left unfunded now."""
        day = next((d for d in self.s.interpretation if self.request_id(d) == request_id), None)
        if day is not None and self.s.interpretation[day] is Interpretation.REQUESTED:
            self.s.interpretation[day] = Interpretation.NOT_FUNDED
            self.unfunded_days.append(day)
            workflow.logger.info("%s: interpretation can no longer be funded in time", day)
            self.changed()

    def day_begins(self, today: date) -> bool:
        """Whether the day beginning has interpretation; one without its money is marked so."""
        if not self.on or self.s.interpretation.get(today) in (Interpretation.GRANTED, Interpretation.BOOKED):
            return True
        if self.s.interpretation.get(today) is Interpretation.NOT_FUNDED:
            return False  # reported too late by the ledger: its request has left the queue
        self.s.interpretation[today] = Interpretation.NOT_FUNDED
        self.unfunded_days.append(today)
        workflow.logger.info("%s: no interpretation money; informal consultations", today)
        return False

    async def sync(self, now: datetime) -> None:
        """Asks the ledger for each coming day's interpretation, gives back what moved days no longer need."""
        if not self.on or self.funds_id is None:
            return
        ledger = workflow.get_external_workflow_handle(self.funds_id)
        money = self.s.convention.money
        days = set(meeting_days(self.s.plan))
        try:
            for day in sorted(days - self.s.interpretation.keys()):
                if day_start(day, self.defaults) <= now or (self.at_lead and self.ask_at(day) > now):
                    continue
                self.s.interpretation[day] = Interpretation.REQUESTED
                await ledger.signal(
                    REQUEST_FUNDS,
                    FundsRequest(
                        request_id=self.request_id(day),
                        requester=workflow.info().workflow_id,
                        purpose=f"interpretation, {self.s.plan.ref.label}, {day}",
                        amount=money.interpretation_per_day,
                        priority=money.interpretation_priority,
                        needed_by=day,
                    ),
                )
            for day in sorted(self.s.interpretation.keys() - days):
                status = self.s.interpretation.pop(day)
                if status is Interpretation.REQUESTED:
                    await ledger.signal(CANCEL_REQUEST, self.request_id(day))
                elif status in (Interpretation.GRANTED, Interpretation.BOOKED):
                    await ledger.signal(RELEASE, self.request_id(day))
            while self.unfunded_days:
                await ledger.signal(CANCEL_REQUEST, self.request_id(self.unfunded_days.pop()))
            while self.late_grants:
                await ledger.signal(RELEASE, self.late_grants.pop())
        except Exception as e:  # the ledger is gone: the meeting goes on, without interpretation money
            workflow.logger.warning("ledger %s unreachable: %s", self.funds_id, e)
        for day, status in self.s.interpretation.items():
            if status is Interpretation.GRANTED and day not in self.booking:
                self.booking.add(day)
                asyncio.get_running_loop().create_task(self._book(day))

    async def _book(self, day: date) -> None:
        label = self.s.plan.ref.label
        money = self.s.convention.money
        booking = InterpretationBooking(
            base_url=money.conference_services_url,
            idempotency_key=f"{workflow.info().workflow_id}:{day}",
            meeting=label,
            day=day,
            languages=list(Language),
            amount_granted=money.interpretation_per_day,
        )
        try:
            await call_services(
                BOOK_INTERPRETATION, booking, Receipt, f"book interpretation for {label}, {day}"
            )
        except ActivityError as e:
            workflow.logger.warning("interpretation for %s refused: %s", day, e.cause)
        else:
            if self.s.interpretation.get(day) is Interpretation.GRANTED:
                self.s.interpretation[day] = Interpretation.BOOKED
                self.changed()
