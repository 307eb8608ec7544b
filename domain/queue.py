"""A requester's place in a ledger's queue: what the board lists, what the ledger tells each waiting document, and
which requests still waiting have become too late to fund in time (the order of need).

One rule for both, read from the ledger's state: the place of the requester's first request in the order the ledger
grants (``domain.funds.queue``), the money asked for ahead of it, and what all its waiting requests together need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import Field

from domain.bounds import Value, chf, md
from domain.calendar import local_text
from domain.funds import FundsRequest, LedgerState, queue

# The signal the ledger sends a waiting document (from the patch ``ledger-tells-queue-places`` on) when its place,
# the money ahead of it, what it needs or what the ledger holds has changed since it was last told. Only documents
# are told: the meeting, which asks the same ledger for interpretation money, has no handler for it.
QUEUE_PLACE = "queue_place"


@dataclass(frozen=True)
class Waiting:
    """A requester in the ledger's queue: the place of its first request, the money asked for ahead of it, and
    what all its requests together need."""

    wid: str
    place: int
    ahead: int
    amount: int
    purpose: str


def waiting(ledger: LedgerState, prefix: str = "") -> list[Waiting]:
    """The requesters whose id begins with ``prefix``, in the order the ledger grants them."""
    ahead = 0
    found: dict[str, Waiting] = {}
    for place, r in enumerate(queue(ledger), start=1):
        if r.requester.startswith(prefix):
            w = found.get(r.requester) or Waiting(r.requester, place, ahead, 0, r.purpose)
            found[r.requester] = Waiting(w.wid, w.place, w.ahead, w.amount + r.amount, w.purpose)
        ahead += r.amount
    return list(found.values())


class QueuePlace(Value):
    """What the ledger tells a waiting document (QUEUE_PLACE): its place in the queue of ``meeting``'s ledger, the
    money asked for ahead of it, what it needs, what the ledger holds (its balance), and when it was told."""

    meeting: str
    place: int = Field(ge=1)
    ahead: int = Field(ge=0)
    needed: int = Field(ge=0)
    available: int = Field(ge=0)
    at: datetime


Told = tuple[int, int, int, int]


def told(p: QueuePlace) -> Told:
    """What a document was told, without the time it was told: the same again is not sent again."""
    return (p.place, p.ahead, p.needed, p.available)


def places(ledger: LedgerState, prefix: str, at: datetime) -> dict[str, QueuePlace]:
    """Every waiting requester whose id begins with ``prefix`` (the documents), with its place as of ``at``."""
    return {
        w.wid: QueuePlace(
            meeting=ledger.meeting,
            place=w.place,
            ahead=w.ahead,
            needed=w.amount,
            available=max(ledger.balance, 0),
            at=at,
        )
        for w in waiting(ledger, prefix)
    }


def to_tell(
    ledger: LedgerState, prefix: str, at: datetime, before: dict[str, Told], most: int
) -> tuple[list[tuple[str, QueuePlace]], dict[str, Told], bool]:
    """The first ``most`` waiting documents whose place changed since ``before`` (what each was last told), what
    the ledger will have told once it tells them (a document no longer waiting forgotten), and whether more are
    still to be told."""
    now = places(ledger, prefix, at)
    changed = [(wid, p) for wid, p in now.items() if before.get(wid) != told(p)]
    batch = changed[:most]
    after = {wid: before[wid] for wid in now if wid in before}
    after.update((wid, told(p)) for wid, p in batch)
    return batch, after, len(changed) > len(batch)


def place_text(p: QueuePlace, name: Callable[[object], str] = md) -> str:
    """A document's place, in words, for its current details (``name``: md, escaping the ledger's name for
    markdown) and `msp docs status` (``str``)."""
    return (
        f"money. Place {p.place} in the ledger's queue of the {name(p.meeting)}, {chf(p.ahead)} asked for ahead "
        f"of it; it needs {chf(p.needed)} and the ledger holds {chf(p.available)} (as of {local_text(p.at)})."
    )


def too_late(ledger: LedgerState, today: date) -> tuple[LedgerState, list[FundsRequest]]:
    """The requests still waiting after their ``needed_by`` and not yet reported; the ledger noting them reported
    (and forgetting those no longer waiting)."""
    waiting = {r.request_id for r in ledger.pending}
    reported = [i for i in ledger.too_late if i in waiting]
    late = [
        r
        for r in ledger.pending
        if r.needed_by is not None and r.needed_by < today and r.request_id not in reported
    ]
    if not late and reported == ledger.too_late:
        return ledger, []
    return ledger.model_copy(update={"too_late": [*reported, *(r.request_id for r in late)]}), late


def next_too_late(ledger: LedgerState) -> date | None:
    """The day the next request still waiting becomes too late to fund in time, if any will."""
    days = [
        r.needed_by for r in ledger.pending if r.needed_by is not None and r.request_id not in ledger.too_late
    ]
    return min(days) + timedelta(days=1) if days else None
