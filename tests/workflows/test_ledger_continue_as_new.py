"""The ledger under 5,000 operations on the dev server, continuing as new often: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

with workflow.unsafe.imports_passed_through():
    from domain.funds import Assess, FundsRequest, LedgerState, Payment, SetEstimate
    from starter.embedded.devserver import start_local
    from tests.support.devserver import free_port
    from worker import build_worker
    from workflows.funds import MeetingFundsWorkflow

REQUESTS = 2_500
PAYMENTS = 2_500
AMOUNT = 10


@workflow.defn
class GrantSink:
    """Stands in for documents: counts every grant it is told of."""

    def __init__(self) -> None:
        self.grants: list[str] = []
        self.done = False

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self.done)
        return self.grants

    @workflow.signal
    def funds_granted(self, request_id: str) -> None:
        self.grants.append(request_id)

    @workflow.signal
    def funds_granted_all(self, request_ids: list[str]) -> None:
        self.grants.extend(request_ids)

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def count(self) -> int:
        return len(self.grants)


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_local(
        free_port(),
        ["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=1000"],
        log_level="warn",
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def bounded(calls: list[Callable[[], Awaitable[object]]], limit: int = 8) -> None:
    """Runs the calls a few at a time, each retried while the ledger is between two runs.

    An update that arrives while the ledger continues as new can be refused as "not ready" (FAILED_PRECONDITION)
    or, on a loaded machine, as "workflow is closing" (RESOURCE_EXHAUSTED); a client sends it again with the same
    id, which applies it once.
    """
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            for attempt in range(20):
                try:
                    await call()
                    return
                except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as e:
                    if (
                        isinstance(e, RPCError)
                        and e.status
                        not in (RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.RESOURCE_EXHAUSTED)
                        or attempt == 19
                    ):
                        raise
                    await asyncio.sleep(0.05 * (attempt + 1))

    await asyncio.gather(*(one(c) for c in calls))


async def test_ledger_continues_as_new_and_loses_nothing(dev_env: WorkflowEnvironment):
    client: Client = dev_env.client
    queue = f"ledger-{uuid.uuid4()}"
    async with build_worker(client, None, queue, extra_workflows=[GrantSink], only_activities=[]):
        sink = await client.start_workflow(GrantSink.run, id=f"sink-{uuid.uuid4()}", task_queue=queue)
        ledger_id = f"ccm-funds-load-{uuid.uuid4().hex[:8]}"
        ledger = await client.start_workflow(
            MeetingFundsWorkflow.run, LedgerState(meeting="14MSP"), id=ledger_id, task_queue=queue
        )
        await ledger.execute_update(
            MeetingFundsWorkflow.set_estimate,
            SetEstimate(decision_id="e", reference="r", amount=REQUESTS * AMOUNT),
        )
        await ledger.execute_update(
            MeetingFundsWorkflow.assess,
            Assess(
                decision_id="a", reference="r", shares={"Austria": 60, "Chile": 40}, due=date(2027, 6, 30)
            ),
        )
        requests: list[Callable[[], Awaitable[object]]] = [
            lambda i=i: ledger.signal(  # type: ignore[misc]
                MeetingFundsWorkflow.request_funds,
                FundsRequest(
                    request_id=f"r{i}",
                    requester=sink.id,
                    purpose=f"job {i}",
                    amount=AMOUNT,
                    priority=1 + i % 3,
                ),
            )
            for i in range(REQUESTS)
        ]
        payments: list[Callable[[], Awaitable[object]]] = [
            lambda i=i: ledger.execute_update(  # type: ignore[misc]
                MeetingFundsWorkflow.record_payment,
                Payment(
                    payment_id=f"p{i}",
                    reference="r",
                    state=("Austria", "Chile")[i % 2],
                    amount=AMOUNT,
                    force=True,
                ),
                id=f"p{i}",
            )
            for i in range(PAYMENTS)
        ]
        # Requests and payments interleaved, a few at a time, as they would arrive.
        mixed = [c for pair in zip(requests, payments, strict=True) for c in pair]
        await bounded(mixed)
        # A payment re-sent counts once.
        await ledger.execute_update(
            MeetingFundsWorkflow.record_payment,
            Payment(payment_id="p0", reference="r", state="Austria", amount=AMOUNT, force=True),
        )

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while await sink.query(GrantSink.count) < REQUESTS and loop.time() < deadline:
            await asyncio.sleep(0.5)
        state: LedgerState = await ledger.query(MeetingFundsWorkflow.ledger)
        await sink.signal(GrantSink.finish)
        grants = await sink.result()

        assert state.runs > 1, "the ledger should have continued as new"
        assert state.payments_count == PAYMENTS and state.payments_total == PAYMENTS * AMOUNT
        assert len(state.granted) == REQUESTS and state.pending == [] and state.to_notify == []
        assert state.balance == PAYMENTS * AMOUNT - REQUESTS * AMOUNT == 0
        assert sorted(grants) == sorted(f"r{i}" for i in range(REQUESTS)), "each grant told once"

        runs = [w async for w in client.list_workflows(f"WorkflowId = '{ledger_id}'")]
        assert len(runs) == state.runs
        for run in runs:
            handle = client.get_workflow_handle(ledger_id, run_id=run.run_id)
            async for event in handle.fetch_history_events():
                # The one task failure allowed: the server refusing a continue-as-new because a signal came
                # in meanwhile; the task runs again with it, so nothing is lost.
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    cause = event.workflow_task_failed_event_attributes.cause
                    assert cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
        await ledger.terminate("test over")
