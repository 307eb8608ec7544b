"""Money follows need (issue 18): what is needed first is funded first, and a document's risk is current.

On the time-skipping server with a real HTTP receiver, in a module of its own: a test server shared with
tests/test_funds.py's withdrawal (whose worker is gone, with its work on its task queue) can refuse to skip time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from domain import search_attributes as sa
from domain.calendar import day_start, local_date
from domain.documents import (
    Delivered,
    DocumentInput,
    DocumentSpec,
    DocumentState,
    LanguageStatus,
    document_id,
    funds_id,
    risk_text,
)
from domain.funds import Assess, LedgerState, Payment, SetEstimate
from domain.models import Defaults, Money
from domain.views import document_details
from starter.receiver import Receiver
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

    ledger = await ts_env.client.start_workflow(
        MeetingFundsWorkflow.run,
        LedgerState(convention="risk", meeting="14MSP"),
        id=funds_id("risk", "14MSP"),
        task_queue=ts_worker.task_queue,
    )
    await ledger.execute_update(
        MeetingFundsWorkflow.set_estimate, SetEstimate(decision_id="e", reference="r", amount=100_000)
    )
    await ledger.execute_update(
        MeetingFundsWorkflow.assess,
        Assess(decision_id="a", reference="r", shares={"Austria": 100}, due=today),
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
