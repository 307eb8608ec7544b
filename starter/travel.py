"""The local receiver's stand-in for a travel agent (``POST /travel-bookings``, stored like the other kinds): it
refuses a booking above what it may book without approval, so that a test, or an operator trying `make run`, can
see a refused booking release its money."""

from __future__ import annotations

from typing import Any

TRAVEL_BOOKINGS = "travel-bookings"
# Above this, in CHF, the stand-in agent refuses the booking (422).
LIMIT_CHF = 20_000


def refusal(kind: str, body: dict[str, Any]) -> str | None:
    """Why the stand-in refuses this request; None for anything it takes."""
    if kind != TRAVEL_BOOKINGS:
        return None
    cost = body.get("travel_cost")
    if not isinstance(cost, int) or cost > LIMIT_CHF:
        return f"a fare of CHF {cost} is above the CHF {LIMIT_CHF:,} this agent may book without approval"
    return None
