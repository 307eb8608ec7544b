"""A requester's place in a ledger's queue (domain/queue.py): what the board lists and what a document is told."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.funds import FundsRequest, LedgerState, grant_in_order
from domain.queue import QueuePlace, Waiting, place_text, to_tell, told, waiting

AT = datetime(2027, 3, 1, 13, 0, tzinfo=UTC)


def request(rid: str, requester: str, amount: int, priority: int) -> FundsRequest:
    return FundsRequest(request_id=rid, requester=requester, purpose=rid, amount=amount, priority=priority)


LEDGER = LedgerState(
    meeting="14MSP",
    pending=[
        request("doc-b-fr", "ccm-doc-B", 900, 2),
        request("day-1", "ccm-meeting-14MSP", 28_000, 1),
        request("doc-a-fr", "ccm-doc-A", 500, 2),
        request("doc-b-es", "ccm-doc-B", 900, 2),
        request("day-2", "ccm-meeting-14MSP", 28_000, 1),
    ],
)


def test_each_document_waiting_has_its_place_in_the_queue_and_the_money_ahead_of_it() -> None:
    assert waiting(LEDGER, "ccm-doc-") == [
        Waiting("ccm-doc-B", 3, 56_000, 1_800, "doc-b-fr"),
        Waiting("ccm-doc-A", 4, 56_900, 500, "doc-a-fr"),
    ]
    # Every requester, the meeting's interpretation days first (priority 1).
    assert [(w.wid, w.place, w.ahead) for w in waiting(LEDGER)] == [
        ("ccm-meeting-14MSP", 1, 0),
        ("ccm-doc-B", 3, 56_000),
        ("ccm-doc-A", 4, 56_900),
    ]


def test_only_documents_are_told_and_only_when_their_place_changed() -> None:
    batch, after, more = to_tell(LEDGER, "ccm-doc-", AT, {}, 100)
    assert [wid for wid, _ in batch] == ["ccm-doc-B", "ccm-doc-A"] and not more
    b = batch[0][1]
    assert (b.meeting, b.place, b.ahead, b.needed, b.available, b.at) == ("14MSP", 3, 56_000, 1_800, 0, AT)
    assert after == {"ccm-doc-B": told(b), "ccm-doc-A": told(batch[1][1])}
    # Nothing changed: nothing is sent again, even later.
    assert to_tell(LEDGER, "ccm-doc-", AT.replace(hour=15), after, 100) == ([], after, False)
    # A payment grants the two days: both documents move up and the balance changes; told again.
    paid = LEDGER.model_copy(update={"payments_total": 56_500})
    paid, granted = grant_in_order(paid)
    assert [r.request_id for r in granted] == ["day-1", "day-2"]
    batch, after, _ = to_tell(paid, "ccm-doc-", AT, after, 100)
    assert [(wid, p.place, p.ahead, p.available) for wid, p in batch] == [
        ("ccm-doc-B", 1, 0, 500),
        ("ccm-doc-A", 2, 900, 500),
    ]
    # A document no longer waiting is forgotten.
    gone = paid.model_copy(update={"pending": [r for r in paid.pending if r.requester != "ccm-doc-A"]})
    assert to_tell(gone, "ccm-doc-", AT, after, 100)[1:] == ({"ccm-doc-B": after["ccm-doc-B"]}, False)


def test_many_documents_are_told_a_batch_at_a_time_each_once() -> None:
    ledger = LedgerState(
        meeting="14MSP", pending=[request(f"r{n}", f"ccm-doc-{n}", 100, 2) for n in range(5)]
    )
    first, after, more = to_tell(ledger, "ccm-doc-", AT, {}, 2)
    assert (
        [w for w, _ in first] == ["ccm-doc-0", "ccm-doc-1"] and more and list(after) == [w for w, _ in first]
    )
    second, after, more = to_tell(ledger, "ccm-doc-", AT, after, 2)
    assert [w for w, _ in second] == ["ccm-doc-2", "ccm-doc-3"] and more
    third, after, more = to_tell(ledger, "ccm-doc-", AT, after, 2)
    assert [w for w, _ in third] == ["ccm-doc-4"] and not more and len(after) == 5


def test_a_place_in_words_names_the_ledger_the_money_and_the_time_in_geneva() -> None:
    p = QueuePlace(meeting="14MSP", place=3, ahead=12_400, needed=2_160, available=800, at=AT)
    assert place_text(p) == (
        "money. Place 3 in the ledger's queue of the 14MSP, CHF 12,400 asked for ahead of it; it needs CHF 2,160 "
        "and the ledger holds CHF 800 (as of 1 March 2027, 14:00 Geneva time)."
    )
    odd = p.model_copy(update={"meeting": "*14*MSP"})
    assert "of the \\*14\\*MSP," in place_text(odd) and "of the *14*MSP," in place_text(odd, str)
