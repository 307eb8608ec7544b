"""The Article 4 extension request the tests build: submitted by one State, its ten years counted from its entry into
force."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.extensions import Article, ExtensionInput, ExtensionRequest, MeetingSlot

LAO = "Lao People's Democratic Republic"


def submit_art4(state: str, entry_into_force: date, *more: str) -> tuple[str, ...]:
    """`msp extensions submit` for ``state``'s Article 4 request, in force since ``entry_into_force``: the words
    after `msp`, ``more`` last."""
    return (
        "extensions",
        "submit",
        "--state",
        state,
        "--article",
        "4",
        "--entry-into-force",
        str(entry_into_force),
        *more,
    )


def art4(
    state: str, entry_into_force: date, submitted_on: date, plan: str, reference: str, months: int = 60
) -> ExtensionRequest:
    """``state`` asks on ``submitted_on`` for ``months`` more than the ten years from ``entry_into_force``."""
    return ExtensionRequest(
        state=state,
        article=Article.ART4,
        entry_into_force=entry_into_force,
        current_deadline=entry_into_force.replace(year=entry_into_force.year + 10),
        submitted_on=submitted_on,
        requested_months=months,
        plan=plan,
        reference=reference,
    )


def at_the_14msp(
    convention: str, request: ExtensionRequest, today: date, days: int, next_days: int, **kw: Any
) -> ExtensionInput:
    """``request`` to be decided at the 14MSP, ``days`` from ``today`` (or the 15MSP, ``next_days`` from it)."""
    return ExtensionInput(
        convention=convention,
        request=request,
        meeting=MeetingSlot(label="14MSP", first_day=today + timedelta(days=days)),
        next_meeting=MeetingSlot(label="15MSP", first_day=today + timedelta(days=next_days)),
        **kw,
    )
