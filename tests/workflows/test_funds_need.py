"""Money follows need (issue 18): what is needed first is funded first, and a document's risk is current.

On the time-skipping server with a real HTTP receiver, in a module of its own: a test server shared with
tests/test_funds.py's withdrawal (whose worker is gone, with its work on its task queue) can refuse to skip time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle

from domain import search_attributes as sa
from domain.calendar import day_start, local_date
from domain.config import parse_config
from domain.documents import (
    Delivered,
    DocumentInput,
    DocumentSpec,
    DocumentState,
    LanguageStatus,
    risk_text,
)
from domain.funds import Assess, LedgerState, Payment, SetEstimate
from domain.ids import document_id
from domain.meeting import Interpretation
from domain.models import Defaults, Money
from domain.queue import QUEUE_PLACE, place_text
from domain.views import document_details
from starter.cli.common import DEFAULT_CONFIG
from starter.receiver import Receiver
from tests.scenario import report, start_assessed_ledger, start_queued_documents
from tests.support.cycle_helpers import Cycle, initial_state, part
from workflows.document import DocumentWorkflow
from workflows.funds import MeetingFundsWorkflow


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    with Receiver(tmp_path_factory.mktemp("receiver"), log=None) as r:
        yield r


async def doc_state(handle: WorkflowHandle[Any, Any]) -> DocumentState:
    state: DocumentState = await handle.query(DocumentWorkflow.state)
    return state


async def test_a_document_funded_late_says_late_by_n_days_and_one_at_risk_issued_in_time_says_on_time(
    ts_env, ts_worker, receiver
):
    defaults = Defaults()
    today = local_date(await ts_env.get_current_time(), defaults)
    money = Money(conference_services_url=receiver.url)  # translated in 10 days

    async def until(day: date) -> None:
        target = day_start(day, defaults) + timedelta(hours=2)
        await ts_env.sleep(target - await ts_env.get_current_time())

    async def settled(handle: WorkflowHandle[Any, Any]) -> DocumentState:
        """Once every language granted is with conference services."""
        for _ in range(100):
            s = await doc_state(handle)
            if not any(t.status is LanguageStatus.FUNDED for t in s.translations.values()):
                return s
            await ts_env.sleep(timedelta(seconds=10))
        raise AssertionError(s)

    async def deliver(handle: WorkflowHandle[Any, Any]) -> DocumentState:
        for lang, t in (await settled(handle)).translations.items():
            assert t.status is LanguageStatus.IN_TRANSLATION, (lang, t)
            await handle.execute_update(
                DocumentWorkflow.delivered, Delivered(decision_id=f"d-{lang}", language=lang)
            )
        # Polled, not awaited: awaiting a result lets the test server skip ahead to the other document's timers.
        for _ in range(200):
            if (s := await doc_state(handle)).late_days is not None:
                return s
            await asyncio.sleep(0.05)
        raise AssertionError(s)

    async def flags(handle: WorkflowHandle[Any, Any]) -> list[str]:
        return list((await handle.describe()).typed_search_attributes.get(sa.ATTENTION) or [])

    ledger = await start_assessed_ledger(
        ts_env, ts_worker, LedgerState(convention="risk", meeting="14MSP"), {"Austria": 100}, today
    )
    handles = {}
    for n, (due, priority) in enumerate([(today + timedelta(days=20), 1), (today + timedelta(days=30), 2)]):
        spec = DocumentSpec(
            symbol=f"CCM/MSP/2027/{n + 40}",
            title="Report",
            pages=2,
            priority=priority,
            meeting="14MSP",
            due=due,
        )
        handles[due] = await ts_env.client.start_workflow(
            DocumentWorkflow.run,
            DocumentInput(convention="risk", spec=spec, money=money, funds_id=ledger.id),
            id=document_id("risk", spec.symbol),
            task_queue=ts_worker.task_queue,
        )
    late, in_time = handles.values()
    cost = 5 * 2 * 180

    # Day 12: the first can no longer be translated by its due date (day 20); the second still can.
    await until(today + timedelta(days=12))
    assert (await doc_state(late)).at_risk and await flags(late) == [sa.AT_RISK]
    assert not (await doc_state(in_time)).at_risk and await flags(in_time) == []
    # Funded on day 12, too late to be translated in time: still at risk while in translation.
    await ledger.execute_update(
        MeetingFundsWorkflow.record_payment,
        Payment(payment_id="p1", reference="r", state="Austria", amount=cost),
    )
    s = await settled(late)
    assert s.at_risk and s.late_days is None and await flags(late) == [sa.AT_RISK]

    # Issued on day 23, three days after its due date: late by 3 days, no longer "at risk".
    await until(today + timedelta(days=23))
    s = await deliver(late)
    assert (s.at_risk, s.late_days, risk_text(s)) == (False, 3, "late by 3 days")
    assert await flags(late) == [sa.LATE]
    assert "issued in every language: late by 3 days" in s.log[-1]
    assert "**late by 3 days**" in document_details(s)

    # The second is at risk on day 23 (past day 20 unfunded), funded then and issued on day 27, before day 30.
    assert (await doc_state(in_time)).at_risk and await flags(in_time) == [sa.AT_RISK]
    await ledger.execute_update(
        MeetingFundsWorkflow.record_payment,
        Payment(payment_id="p2", reference="r", state="Austria", amount=cost, force=True),
    )
    await settled(in_time)
    await until(today + timedelta(days=27))
    s = await deliver(in_time)
    assert (s.at_risk, s.late_days, risk_text(s)) == (False, 0, "on time")
    assert await flags(in_time) == []
    await ledger.terminate("test over")


async def test_ninth_msp_with_the_shipped_config_funds_priority_one_documents_before_days_two_and_three(
    ts_env, ts_worker, receiver
):
    """The 9th MSP's year with config/cycle.toml as shipped (interpretation at priority 1, like the documents that
    matter most): four priority-1 documents (CHF 24,300) and eight of priority 2, a three-day meeting 60 days ahead
    whose days are asked for at their booking lead time; money arrives before the meeting and on day 2."""
    shipped = parse_config(DEFAULT_CONFIG.read_text(), str(DEFAULT_CONFIG))
    money = shipped.money.model_copy(update={"conference_services_url": receiver.url})
    assert (money.interpretation_priority, money.translation_days) == (1, 10)
    defaults = shipped.defaults
    today = local_date(await ts_env.get_current_time(), defaults)
    start = today + timedelta(days=60)
    days = [start + timedelta(days=i) for i in range(3)]
    state0 = initial_state("need", today, [part(start, days=3)])
    convention = shipped.convention_settings().model_copy(update={"code": "need", "money": money})
    state0 = state0.model_copy(update={"convention": convention})
    c = await Cycle(ts_env, ts_worker, state0).start()
    label = state0.meeting.ref.label
    ledger = await c.assessed(
        SetEstimate(decision_id="e", reference="CCM/MSP/2019/2", amount=400_000),
        Assess(decision_id="a", reference="r", shares={"Austria": 40, "Chile": 30, "Mexico": 30}, due=today),
    )
    # Before the booking lead time (45 days), no day's interpretation is asked for.
    assert (await c.meeting(label)).interpretation == {}

    # Each day asked for 45 days ahead of it: all three are in the queue before any document.
    await c.sleep_until_day(today + timedelta(days=20))
    meeting = await c.meeting(label)
    assert meeting.interpretation == dict.fromkeys(days, Interpretation.REQUESTED)

    # Then twelve documents: four of priority 1 (27 pages, CHF 24,300), due 12 to 6 days before the meeting; eight of
    # priority 2, due the day before it.
    docs: list[WorkflowHandle[Any, Any]] = []
    for i in range(12):
        spec = DocumentSpec(
            symbol=f"CCM/MSP/2019/{i + 1}",
            title=f"Document {i + 1}",
            pages=(6, 6, 7, 8)[i] if i < 4 else 3,
            priority=1 if i < 4 else 2,
            meeting=label,
            due=start - timedelta(days=12 - 2 * i) if i < 4 else start - timedelta(days=1),
        )
        docs.append(
            await c.client.start_workflow(
                DocumentWorkflow.run,
                DocumentInput(
                    convention="need", spec=spec, money=money, funds_id=ledger.id, defaults=defaults
                ),
                id=document_id("need", spec.symbol),
                task_queue=ts_worker.task_queue,
            )
        )

    async def pay(n: int, state: str, amount: int) -> datetime:
        await ledger.execute_update(
            MeetingFundsWorkflow.record_payment,
            Payment(
                decision_id=f"pay-{n}", reference=f"instalment {n}", state=state, amount=amount, force=True
            ),
        )
        await ts_env.sleep(timedelta(minutes=1))
        paid_at: datetime = (await ledger.query(MeetingFundsWorkflow.ledger)).decisions.records[-1].at
        return paid_at

    await ts_env.sleep(timedelta(minutes=1))
    # Instalment 1 covers the priority-1 documents and not a day's interpretation: they are granted at once, though
    # the days, asked for before them at the same priority, come first in arrival (they are needed later).
    paid_at = await pay(1, "Austria", 30_000)
    states = [await doc_state(h) for h in docs]
    p1 = [t for s in states[:4] for t in s.translations.values()]
    assert sum(t.amount for t in p1) == 24_300
    # Granted when that payment came (the grant's signal reaches each document moments later).
    assert all(
        t.granted_at is not None and timedelta(0) <= t.granted_at - paid_at < timedelta(seconds=30)
        for t in p1
    ), (paid_at, p1)
    assert all(t.granted_at is None for s in states[4:] for t in s.translations.values())
    meeting = await c.meeting(label)
    assert list(meeting.interpretation.values()) == [Interpretation.REQUESTED] * 3
    assert all(
        local_date(t.granted_at, defaults) <= s.spec.due - timedelta(days=money.translation_days)
        for s in states[:4]
        for t in s.translations.values()
        if t.granted_at is not None
    )
    assert not any(s.at_risk for s in states[:4])

    # Instalment 2, ten days before the meeting: day 1's interpretation, not day 2's.
    await c.sleep_until_day(start - timedelta(days=10))
    await pay(2, "Chile", 28_000 - 5_700 + 20_000)
    meeting = await c.meeting(label)
    assert meeting.interpretation[days[0]] in (Interpretation.GRANTED, Interpretation.BOOKED)
    assert meeting.interpretation[days[1]] is Interpretation.REQUESTED

    # The priority-2 documents, needed 12 days before the meeting and still waiting, were reported too late.
    late = (await ledger.query(MeetingFundsWorkflow.ledger)).too_late
    assert len(late) == 8 * 5 and all(rid.startswith("translation:") for rid in late), late
    states = [await doc_state(h) for h in docs]
    assert all(s.at_risk and "can no longer fund it in time" in "\n".join(s.log) for s in states[4:])

    # Day 2 opens without its money: informal consultations without interpretation.
    await c.sleep_until_day(days[1], hour=12)
    meeting = await c.meeting(label)
    assert [(d.day, d.interpretation) for d in meeting.days_held] == [(1, True), (2, False)]
    assert meeting.interpretation[days[1]] is Interpretation.NOT_FUNDED

    # Instalment 3, on day 2: day 3's interpretation, then the priority-2 documents.
    await pay(3, "Mexico", 28_000 + 8 * 3 * 900)
    await c.sleep_until_day(days[2], hour=12)
    meeting = await c.meeting(label)
    assert [(d.day, d.interpretation) for d in meeting.days_held] == [(1, True), (2, False), (3, True)]
    states = [await doc_state(h) for h in docs]
    assert all(t.granted_at is not None for s in states for t in s.translations.values())
    await c.stop()
    for h in docs:
        await h.terminate("test over")


async def test_a_waiting_document_shows_its_place_in_the_queue_until_it_is_funded(
    ts_env, ts_worker, receiver
):
    """Three documents wait; the first is partly funded. The third is told its place and the money ahead of it, in
    its query and its current details; a payment moves it up; full funding clears it."""
    today = (await ts_env.get_current_time()).date()
    money = Money(conference_services_url=receiver.url)
    ledger = await start_assessed_ledger(
        ts_env, ts_worker, LedgerState(convention="place", meeting="14MSP"), {"Austria": 100}, today
    )
    due = today + timedelta(days=60)
    docs = await start_queued_documents(
        ts_env,
        ts_worker,
        [
            DocumentInput(
                convention="place",
                spec=report(f"CCM/MSP/2027/{n + 60}", "14MSP", due),
                money=money,
                funds_id=ledger.id,
            )
            for n in range(3)
        ],
    )
    language = 2 * 180  # a language of a document

    async def pay(n: int, amount: int) -> None:
        await ledger.execute_update(
            MeetingFundsWorkflow.record_payment,
            Payment(payment_id=f"p{n}", reference="r", state="Austria", amount=amount, force=True),
        )

    async def told(handle: WorkflowHandle[Any, Any], place: int | None) -> DocumentState:
        for _ in range(100):
            s = await doc_state(handle)
            if (s.queue.place if s.queue else None) == place:
                return s
            await ts_env.sleep(timedelta(seconds=10))
        raise AssertionError(s)

    async def details(handle: WorkflowHandle[Any, Any]) -> str:
        meta = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        return str(meta.current_details)

    async def signals(handle: WorkflowHandle[Any, Any]) -> int:
        events = (await handle.fetch_history()).events
        return sum(e.workflow_execution_signaled_event_attributes.signal_name == QUEUE_PLACE for e in events)

    # Two languages of the first document paid for: its other three, then the second's five, are ahead of the third.
    await pay(1, 2 * language + 100)
    third = await told(docs[2], 9)
    assert third.queue is not None
    assert (third.queue.meeting, third.queue.ahead, third.queue.needed, third.queue.available) == (
        "14MSP",
        8 * language,
        5 * language,
        100,
    )
    first = await told(docs[0], 1)
    assert first.queue is not None and (first.queue.ahead, first.queue.needed) == (0, 3 * language)
    shown = await details(docs[2])
    assert f"**Held back by:** {place_text(third.queue)}" in shown, shown
    assert (
        "Place 9 in the ledger's queue of the 14MSP, CHF 2,880 asked for ahead of it; it needs CHF 1,800"
        in shown
    )
    # A change of the ledger that moves no one: nothing is told again.
    before = await signals(docs[2])
    await ledger.execute_update(
        MeetingFundsWorkflow.set_estimate, SetEstimate(decision_id="e2", reference="r", amount=110_000)
    )
    await ts_env.sleep(timedelta(minutes=1))
    assert await signals(docs[2]) == before

    # The rest of the first document paid for: the third moves up to place 6, the second's five ahead of it.
    await pay(2, 3 * language - 100)
    third = await told(docs[2], 6)
    assert third.queue is not None and (third.queue.ahead, third.queue.available) == (5 * language, 0)
    assert "Place 6 in the ledger's queue" in await details(docs[2])
    assert (await told(docs[0], None)).waiting_languages == []

    # Enough for everyone: the third's place is cleared.
    await pay(3, 10 * language)
    third = await told(docs[2], None)
    assert third.waiting_languages == [] and third.queue is None
    assert "**Held back by:** nothing: no language waits for money" in await details(docs[2])
    for h in docs:
        await h.terminate("test over")
    await ledger.terminate("test over")
