"""Money before translation, 9th-MSP-shaped, on the time-skipping server with a real HTTP receiver."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from domain import search_attributes as sa
from domain.documents import Delivered, DocumentInput, DocumentSpec, DocumentState, LanguageStatus, Withdraw
from domain.funds import Assess, LedgerState, Payment, SetEstimate
from domain.ids import document_id, funds_id
from domain.meeting import Interpretation
from domain.models import Convention, Language, Money
from starter.receiver import Receiver
from tests.scenario import estimate_and_assess
from tests.support.cycle_helpers import Cycle, initial_state, part, refused
from workflows.document import DocumentWorkflow
from workflows.funds import MeetingFundsWorkflow

SHARES = {"Austria": 40.0, "Chile": 30.0, "Mexico": 20.0, "Norway": 10.0}


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    with Receiver(tmp_path_factory.mktemp("receiver"), log=None) as r:
        yield r


async def ledger_of(c: Cycle, label: str) -> LedgerState:
    handle = c.client.get_workflow_handle(funds_id(c.state0.convention.code, label))
    state: LedgerState = await handle.query(MeetingFundsWorkflow.ledger)
    return state


async def attributes(handle: WorkflowHandle[Any, Any]) -> tuple[str | None, list[str]]:
    """CcmPhase and CcmAttention, as the Web UI's list and a visibility query see them."""
    found = (await handle.describe()).typed_search_attributes
    return found.get(sa.PHASE), list(found.get(sa.ATTENTION) or [])


async def doc_state(handle: WorkflowHandle[Any, Any]) -> DocumentState:
    state: DocumentState = await handle.query(DocumentWorkflow.state)
    return state


async def test_ninth_msp_documents_and_interpretation_follow_the_money(ts_env, ts_worker, receiver):
    today = (await ts_env.get_current_time()).date()
    start = today + timedelta(days=56)
    state0 = initial_state("ninth", today, [part(start, days=3)])
    # Every day's interpretation asked for when the meeting starts, 56 days ahead, as before booking lead times.
    money = Money(
        conference_services_url=receiver.url, interpretation_priority=2, interpretation_booking_days=60
    )
    state0 = state0.model_copy(update={"convention": Convention(code="ninth", money=money)})
    c = await Cycle(ts_env, ts_worker, state0).start()
    label = state0.meeting.ref.label
    ledger_handle = await c.assessed(
        SetEstimate(decision_id="est", reference="CCM/MSP/2019/2", amount=400_000),
        Assess(
            decision_id="assess", reference="CCM/MSP/2019/3", shares=SHARES, due=today + timedelta(days=30)
        ),
    )

    # Twenty documents: six of priority 1, fourteen of priority 3, due the day before the meeting.
    docs: list[WorkflowHandle[Any, Any]] = []
    for i in range(20):
        spec = DocumentSpec(
            symbol=f"CCM/MSP/2019/{i + 1}",
            title=f"Document {i + 1}",
            pages=2 + i % 4,
            priority=1 if i < 6 else 3,
            meeting=label,
            due=start - timedelta(days=1),
        )
        docs.append(
            await c.client.start_workflow(
                DocumentWorkflow.run,
                DocumentInput(convention="ninth", spec=spec, money=money, funds_id=funds_id("ninth", label)),
                id=document_id("ninth", spec.symbol),
                task_queue=ts_worker.task_queue,
            )
        )
    await ts_env.sleep(timedelta(minutes=1))
    cost = {h.id: sum(t.amount for t in (await doc_state(h)).translations.values()) for h in docs}
    p1 = sum(cost[h.id] for h in docs[:6])
    p3 = sum(cost[h.id] for h in docs[6:])
    day = money.interpretation_per_day

    paid = 0

    async def pay(n: int, state: str, amount: int) -> None:
        nonlocal paid
        await ledger_handle.execute_update(
            MeetingFundsWorkflow.record_payment,
            Payment(
                payment_id=f"pay-{n}", reference=f"instalment {n}", state=state, amount=amount, force=True
            ),
        )
        paid += amount

    async def check_books() -> LedgerState:
        """The ledger never negative; balance = payments - grants, counted from what the requesters hold."""
        ledger = await ledger_of(c, label)
        states = [await doc_state(h) for h in docs]
        granted_docs = sum(
            t.amount for s in states for t in s.translations.values() if t.granted_at is not None
        )
        meeting = await c.meeting(label)
        granted_days = sum(
            day
            for v in meeting.interpretation.values()
            if v in (Interpretation.GRANTED, Interpretation.BOOKED)
        )
        assert ledger.balance >= 0
        assert ledger.payments_total == paid
        assert ledger.balance == paid + ledger.released_total - granted_docs - granted_days
        # Nothing of priority 3 is granted while something of priority 1 waits.
        waiting_p1 = any(t.granted_at is None for s in states[:6] for t in s.translations.values())
        granted_p3 = any(t.granted_at is not None for s in states[6:] for t in s.translations.values())
        assert not (waiting_p1 and granted_p3)
        return ledger

    await check_books()  # nothing paid, nothing granted
    assert (await ledger_of(c, label)).shortfall == p1 + p3 + 3 * day
    assert await attributes(ledger_handle) == ("shortfall", [sa.SHORTFALL_FLAG])
    assert await attributes(docs[0]) == ("waiting_for_funds", [])

    # Instalment 1: the priority-1 documents, not the interpretation behind them.
    await pay(1, "Austria", p1 + 8_000)
    await ts_env.sleep(timedelta(days=7))
    await check_books()
    states = [await doc_state(h) for h in docs]
    assert all(t.status is LanguageStatus.IN_TRANSLATION for s in states[:6] for t in s.translations.values())
    assert all(
        t.status is LanguageStatus.WAITING_FOR_FUNDS for s in states[6:] for t in s.translations.values()
    )
    # One signal per document carries every language the payment granted it, not one signal per language.
    for h in docs[:6]:
        signals = [
            e.workflow_execution_signaled_event_attributes
            for e in (await h.fetch_history()).events
            if e.HasField("workflow_execution_signaled_event_attributes")
        ]
        grants = [a for a in signals if a.signal_name.startswith("funds_granted")]
        assert [a.signal_name for a in grants] == ["funds_granted_all"]
        (payload,) = grants[0].input.payloads
        assert len(json.loads(payload.data)) == len((await doc_state(h)).translations) == 5
    # Delivered languages are issued one by one, each after its grant.
    first = docs[0]
    for lang in (Language.FR, Language.ES):
        await first.execute_update(
            DocumentWorkflow.delivered, Delivered(decision_id=f"dlv-{lang}", language=lang)
        )
    s0 = await doc_state(first)
    assert [lang for lang, t in s0.translations.items() if t.status is LanguageStatus.ISSUED] == [
        Language.ES,
        Language.FR,
    ]
    assert all(
        t.granted_at is not None and t.issued_at is not None and t.granted_at <= t.issued_at
        for t in s0.translations.values()
        if t.issued_at
    )
    for h in docs[:6]:
        for lang, t in (await doc_state(h)).translations.items():
            if t.status is LanguageStatus.IN_TRANSLATION:
                await h.execute_update(
                    DocumentWorkflow.delivered, Delivered(decision_id=f"d-{lang}", language=lang)
                )
    assert all([(await doc_state(h)).finished for h in docs[:6]])
    assert await attributes(docs[0]) == ("issued", [])
    assert "not in translation" in await refused(
        docs[10].execute_update(
            DocumentWorkflow.delivered, Delivered(decision_id="early", language=Language.FR)
        )
    )

    # Instalment 2 funds day 1's interpretation; instalment 3 is not enough for day 2.
    await pay(2, "Chile", 25_000)
    await ts_env.sleep(timedelta(days=14))
    await check_books()
    await pay(3, "Mexico", 10_000)
    await ts_env.sleep(timedelta(days=14))
    ledger = await check_books()
    meeting = await c.meeting(label)
    assert meeting.interpretation[start] is Interpretation.BOOKED
    assert meeting.interpretation[start + timedelta(days=1)] is Interpretation.REQUESTED
    assert ledger.balance == 8_000 + 25_000 - day + 10_000

    # Day 2 opens without money: informal consultations without interpretation.
    await c.sleep_until_day(start + timedelta(days=1), hour=12)
    meeting = await c.meeting(label)
    assert [(d.day, d.interpretation) for d in meeting.days_held] == [(1, True), (2, False)]
    assert meeting.interpretation[start + timedelta(days=1)] is Interpretation.NOT_FUNDED
    # Instalment 4, during day 2: day 3's interpretation, then the priority-3 documents.
    await pay(4, "Norway", day + p3 + 2_000 - ledger.balance)
    await c.sleep_until_day(start + timedelta(days=2), hour=12)
    ledger = await check_books()
    assert ledger.balance == 2_000 and not ledger.pending
    assert await attributes(ledger_handle) == ("funded", [])
    meeting = await c.meeting(label)
    assert [(d.day, d.interpretation) for d in meeting.days_held] == [(1, True), (2, False), (3, True)]
    states = [await doc_state(h) for h in docs]
    # Priority-3 documents were funded only on day 2, after their due date: flagged.
    assert all(s.at_risk for s in states[6:]) and not any(s.at_risk for s in states[:6])
    assert all(t.status is LanguageStatus.IN_TRANSLATION for s in states[6:] for t in s.translations.values())
    # One job per document and language reached conference services, and one booking per funded day.
    received = Path(receiver.directory)
    assert len(list((received / "translation-jobs").glob("*.json"))) == 20 * 5
    assert len(list((received / "interpretation-bookings").glob("*.json"))) == 2
    # One timer per wait: the meeting's grants (and every other signal) did not cancel and restart its "day opens"
    # timer; only a new instant would.
    events = [e async for e in (await c.meeting_handle(label)).fetch_history_events()]
    started = [e for e in events if e.HasField("timer_started_event_attributes")]
    cancelled = [e for e in events if e.HasField("timer_canceled_event_attributes")]
    assert started and not cancelled, (len(started), len(cancelled))
    await c.stop()
    for h in docs[6:]:
        await h.terminate("test over")


async def test_withdrawal_releases_unused_money_and_bad_records_are_refused(ts_env, ts_worker, tmp_path):
    today = (await ts_env.get_current_time()).date()
    with Receiver(tmp_path, log=None) as gone:
        port = gone.port  # conference services will listen here, once they are back
    money = Money(conference_services_url=f"http://127.0.0.1:{port}")
    ledger_id = funds_id("wdr", "14MSP")
    ledger = await ts_env.client.start_workflow(
        MeetingFundsWorkflow.run,
        LedgerState(convention="wdr", meeting="14MSP"),
        id=ledger_id,
        task_queue=ts_worker.task_queue,
    )
    spec = DocumentSpec(
        symbol="CCM/MSP/2027/9",
        title="Draft report",
        pages=4,
        meeting="14MSP",
        due=today + timedelta(days=60),
    )
    doc = await ts_env.client.start_workflow(
        DocumentWorkflow.run,
        DocumentInput(convention="wdr", spec=spec, money=money, funds_id=ledger_id),
        id=document_id("wdr", spec.symbol),
        task_queue=ts_worker.task_queue,
    )
    await estimate_and_assess(
        ledger,
        SetEstimate(decision_id="e", reference="r", amount=100_000),
        Assess(decision_id="a", reference="r", shares={"Austria": 100}, due=today),
    )
    bad = [
        (Payment(payment_id="p0", reference="r", state="Atlantis", amount=100), "no assessed contribution"),
        (
            Payment(payment_id="p1", reference="r", state="Austria", amount=500_000),
            "more than its outstanding",
        ),
    ]
    await ts_env.sleep(timedelta(seconds=5))  # the document's five requests reach the ledger
    before = await ledger.query(MeetingFundsWorkflow.ledger)
    assert len(before.pending) == 5
    for payment, message in bad:
        assert message in await refused(ledger.execute_update(MeetingFundsWorkflow.record_payment, payment))
    with pytest.raises(ValueError):
        Payment(payment_id="p2", reference="r", state="Austria", amount=-5)
    assert await ledger.query(MeetingFundsWorkflow.ledger) == before
    # Two languages' worth: granted, then stuck submitting to an unreachable service.
    two = 2 * 4 * 180
    await ledger.execute_update(
        MeetingFundsWorkflow.record_payment,
        Payment(payment_id="p3", reference="r", state="Austria", amount=two),
    )
    await ts_env.sleep(timedelta(seconds=30))
    outcome = await doc.execute_update(
        DocumentWorkflow.withdraw, Withdraw(decision_id="w", reference="withdrawn by the ISU")
    )
    assert "CHF 0 released; 2 job(s) sent to conference services being cancelled" in outcome.summary
    # Whether an attempt reached conference services, only they can say: until they confirm the cancellation,
    # the money stays granted.
    s = await doc_state(doc)
    cancelling = {lang for lang, t in s.translations.items() if t.status is LanguageStatus.CANCELLING}
    assert len(cancelling) == 2 and s.pending_languages == [], s
    state: LedgerState = await ledger.query(MeetingFundsWorkflow.ledger)
    assert state.pending == [] and state.granted_total == two and state.released_total == 0
    with Receiver(tmp_path, port=port, log=None):
        await doc.result()  # the cancellations are retried until conference services answer
        state = await ledger.query(MeetingFundsWorkflow.ledger)
        for _ in range(50):
            if state.released_total == two:
                break
            await asyncio.sleep(0.1)
            state = await ledger.query(MeetingFundsWorkflow.ledger)
    s = await doc_state(doc)
    assert s.withdrawn
    assert {t.status for t in s.translations.values()} == {LanguageStatus.WITHDRAWN}
    # No job had arrived: both are cancelled all the same (so none arriving late is accepted), the money is back.
    records = [json.loads(p.read_text()) for p in (tmp_path / "translation-jobs").glob("*.json")]
    assert sorted((r["status"], r["reference"]) for r in records) == [("cancelled", None)] * 2
    assert state.released_total == two and state.balance == two
    assert sum("cancelled by conference services" in line for line in s.log) == 2, s.log
    await ledger.terminate("test over")
