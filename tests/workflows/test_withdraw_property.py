"""Withdrawing a document at generated moments: its money follows what conference services kept.

Issue 11, item 2: a document withdrawn while one of its jobs was on its way to conference services got its money
back although the job arrived and was done. Here hypothesis draws hundreds of moments to withdraw at, each stated
as the document's progress, never as a wall-clock delay:

- how many of its five languages have their money when it starts, and how many more are paid just before the
  withdrawal (racing it);
- which paid languages are on their way: the receiver holds their submission until after the withdrawal, so the
  job arrives after (or, if the cancellation comes first, is refused for good);
- which sent jobs conference services completed first, and which of those the ISU recorded as delivered;
- or instead: "as soon as the document's history has N events", whatever it is doing then.

For every document: money granted - money released (the ledger) = the cost of the jobs the receiver accepted and
did not cancel (its files). Where the moment says what must happen, that is checked too: a job completed before the
withdrawal keeps its money spent (and the log says so); any other sent job is cancelled and its money released.

Each example runs a batch of documents at once (one ledger each) on the dev server, whose handling of an activity
cancelled just as it completes is the real server's (the time-skipping server refuses that cancellation and leaves
the workflow stuck), with a worker in this process, against the real receiver of `make run`, its store holding
chosen submissions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.conference_services import ConferenceServices
from domain.documents import (
    Delivered,
    DocumentInput,
    DocumentSpec,
    DocumentState,
    LanguageStatus,
    Withdraw,
    request_id,
)
from domain.funds import Assessment, LedgerState, Payment
from domain.ids import document_id, funds_id
from domain.models import Language, Money
from starter.receiver import Receiver, Store, safe_name
from tests.support.devserver import Server
from tests.support.fuzz import against_a_server
from worker import build_worker
from workflows.document import DocumentWorkflow
from workflows.funds import MeetingFundsWorkflow

# Examples x documents per example: the moments withdrawn at (about 200).
EXAMPLES = 20
BATCH = (9, 11)
RATE = Money().translation_rate_per_page[Language.AR]  # pages=1: every language costs this
TARGETS = [lang for lang in Language if lang is not Language.EN]
# A document that has not got where it was told to within this has hung.
BOUND = 30.0
PATIENCE = 1.0


@dataclass(frozen=True)
class Moment:
    paid: int
    late: int
    held: frozenset[int]
    completed: frozenset[int]
    issued: frozenset[int]
    after_events: int | None

    def spent(self) -> set[int]:
        """The languages whose money must stay spent: their jobs were completed before the withdrawal."""
        return set(self.completed) if self.after_events is None else set()


@st.composite
def moments(draw: st.DrawFn) -> Moment:
    paid = draw(st.integers(0, 5))
    late = draw(st.integers(0, 5 - paid))
    held = draw(st.frozensets(st.integers(0, paid - 1))) if paid else frozenset()
    after_events = draw(st.one_of(st.none(), st.integers(1, 45)))
    sent = [i for i in range(paid) if i not in held]
    completed: frozenset[int] = frozenset()
    issued: frozenset[int] = frozenset()
    if sent and after_events is None:
        completed = draw(st.frozensets(st.sampled_from(sent)))
        issued = draw(st.frozensets(st.sampled_from(sorted(completed)))) if completed else frozenset()
        if len(issued) == len(TARGETS):
            issued -= {max(issued)}  # a document issued in every language has nothing left to withdraw
    return Moment(paid, late, held, completed, issued, after_events)


class HoldingStore(Store):
    """The receiver's store, holding the submission of chosen keys until told: a job still on its way."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.gates: dict[str, threading.Event] = {}
        self.arrived: set[str] = set()

    def accept(self, kind: str, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        if (gate := self.gates.get(key)) is not None:
            self.arrived.add(key)
            gate.wait(BOUND)
        return super().accept(kind, key, body)

    def open(self, keys: list[str]) -> None:
        for key in keys:
            self.gates[key].set()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HoldingStore]:
    s = HoldingStore(tmp_path_factory.mktemp("received"))
    try:
        yield s
    finally:
        for gate in s.gates.values():
            gate.set()


@pytest.fixture(scope="module")
def receiver(store: HoldingStore) -> Iterator[Receiver]:
    with Receiver(store.root, log=None, store=store) as r:
        yield r


@pytest.fixture(scope="module")
def client(server: Server) -> Client:
    return server.client


@pytest.fixture(scope="module")
async def worker(client: Client) -> AsyncIterator[Worker]:
    async with (
        # A held job leaves its batch after PATIENCE and goes alone; the production patience (10 s) would only make
        # each example with a held job that much slower.
        ConferenceServices(patience=PATIENCE) as services,
        build_worker(client, services, f"tq-{uuid.uuid4()}") as w,
    ):
        yield w


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=httpx.Timeout(15, connect=5)) as client:
        yield client


async def eventually_true(check: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND
    while not await check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@dataclass
class Run:
    """One document withdrawn at one moment, with its own ledger."""

    client: Client
    worker: Worker
    receiver: Receiver
    store: HoldingStore
    http: httpx.AsyncClient
    m: Moment
    day: date

    def __post_init__(self) -> None:
        code = f"wp{uuid.uuid4().hex[:10]}"
        self.code = code
        self.spec = DocumentSpec(
            symbol=f"CCM/W/{uuid.uuid4().hex[:8]}",
            title="Draft report",
            pages=1,
            priority=1,
            meeting="14MSP",
            due=self.day + timedelta(days=60),
        )
        self.doc_id = document_id(code, self.spec.symbol)
        self.keys = [f"{self.doc_id}:{lang.value}" for lang in TARGETS]
        self.held = [self.keys[i] for i in sorted(self.m.held)]
        for key in self.held:
            self.store.gates[key] = threading.Event()

    async def go(self) -> None:
        """Runs the moment; a failure names it, with what the document logged."""
        try:
            async with asyncio.timeout(BOUND * 2):
                await self._go()
        except Exception as e:
            log = (await self.state()).log if hasattr(self, "doc") else []
            raise AssertionError(f"{self.m} ({self.doc_id}): {e!r}; the document's log: {log}") from e

    async def _go(self) -> None:
        m = self.m
        ledger_state = LedgerState(
            convention=self.code,
            meeting="14MSP",
            payments_total=m.paid * RATE,
            assessments={"Austria": Assessment(state="Austria", share_percent=100, amount=0, due=self.day)},
        )
        self.ledger = await self.client.start_workflow(
            MeetingFundsWorkflow.run,
            ledger_state,
            id=funds_id(self.code, "14MSP"),
            task_queue=self.worker.task_queue,
        )
        money = Money(conference_services_url=self.receiver.url)
        self.doc: WorkflowHandle[Any, Any] = await self.client.start_workflow(
            DocumentWorkflow.run,
            DocumentInput(convention=self.code, spec=self.spec, money=money, funds_id=self.ledger.id),
            id=self.doc_id,
            task_queue=self.worker.task_queue,
        )
        try:
            if m.after_events is None:
                await eventually_true(self._reached, f"{m} to be reached")
                await self._complete_and_issue()
            else:
                await eventually_true(self._events_reached, f"{m.after_events} events")
            if m.late:
                await self.ledger.execute_update(
                    MeetingFundsWorkflow.record_payment,
                    Payment(
                        payment_id="late", reference="r", state="Austria", amount=m.late * RATE, force=True
                    ),
                )
            await self.doc.execute_update(
                DocumentWorkflow.withdraw, Withdraw(decision_id="w", reference="test")
            )
        finally:
            self.store.open(self.held)
        await self.doc.result()  # within go()'s bound
        # Grants told after the document ended come back from the ledger itself: let it settle, then check.
        with contextlib.suppress(AssertionError):
            await eventually_true(self._books_balance, "the ledger to settle")
        await self._check()
        await self.ledger.terminate("test over")

    async def state(self) -> DocumentState:
        s: DocumentState = await self.doc.query(DocumentWorkflow.state)
        return s

    def _stored(self, key: str) -> bool:
        return (self.receiver.directory / "translation-jobs" / safe_name(key)).exists()

    async def _reached(self) -> bool:
        """Every paid language sent (its job stored) or on its way (held): read from the receiver, not the
        workflow, so that waiting costs the worker nothing."""
        for i in range(self.m.paid):
            key = self.keys[i]
            if not (key in self.store.arrived if i in self.m.held else self._stored(key)):
                return False
        return True

    async def _in_translation(self) -> bool:
        s = await self.state()
        return all(s.translations[TARGETS[i]].status is LanguageStatus.IN_TRANSLATION for i in self.m.issued)

    async def _events_reached(self) -> bool:
        desc = await self.doc.describe()
        if desc.raw_description.workflow_execution_info.history_length >= (self.m.after_events or 0):
            return True
        # Nothing more will happen before the withdrawal: every paid language sent (or held on its way).
        return await self._reached()

    async def _complete_and_issue(self) -> None:
        for i in sorted(self.m.completed):
            r = await self.http.post(
                f"{self.receiver.url}/translation-jobs/complete", headers={"Idempotency-Key": self.keys[i]}
            )
            assert r.status_code == 200 and r.json()["status"] == "completed", r.text
        if self.m.issued:
            await eventually_true(self._in_translation, "the jobs to be issued to be in translation")
        for i in sorted(self.m.issued):
            await self.doc.execute_update(
                DocumentWorkflow.delivered, Delivered(decision_id=f"d{i}", language=TARGETS[i])
            )

    def kept(self) -> dict[str, int]:
        """The jobs the receiver accepted and did not cancel, by key, with their cost."""
        out = {}
        for key in self.keys:
            path = self.receiver.directory / "translation-jobs" / safe_name(key)
            if path.exists():
                record = json.loads(path.read_text())
                if record["reference"] and record.get("status") != "cancelled":
                    out[key] = int(record["body"]["amount_granted"])
        return out

    async def books(self) -> tuple[int, int, LedgerState]:
        ledger: LedgerState = await self.ledger.query(MeetingFundsWorkflow.ledger)
        ids = [request_id(self.spec.symbol, lang) for lang in TARGETS]
        granted = sum(ledger.granted.get(r, 0) for r in ids)
        released = sum(ledger.granted[r] for r in ids if r in ledger.released)
        return granted, released, ledger

    async def _books_balance(self) -> bool:
        granted, released, ledger = await self.books()
        return not ledger.to_notify and granted - released == sum(self.kept().values())

    async def _check(self) -> None:
        m, s = self.m, await self.state()
        granted, released, ledger = await self.books()
        kept = self.kept()
        assert granted - released == sum(kept.values()), (m, granted, released, kept, s.log)
        assert s.withdrawn and s.finished, (m, s)
        # Nothing of a withdrawn document waits in the queue, holding back the requests behind it.
        assert not [r for r in ledger.pending if r.requester == self.doc_id], (m, ledger.pending, s.log)
        if m.after_events is not None:
            return
        # What the moment says: completed jobs stay spent, every other one is cancelled and its money back.
        assert set(kept) == {self.keys[i] for i in m.spent()}, (m, kept, s.log)
        for i, lang in enumerate(TARGETS):
            t = s.translations[lang]
            if i in m.issued:
                assert t.status is LanguageStatus.ISSUED, (m, lang, s.log)
            elif i in m.completed:
                assert t.status is LanguageStatus.WITHDRAWN, (m, lang, s.log)
                assert any(lang.value in line and "stays spent" in line for line in s.log), (m, lang, s.log)


async def test_withdrawing_at_any_moment_keeps_the_books_of_every_document(
    client: Client,
    worker: Worker,
    receiver: Receiver,
    store: HoldingStore,
    http: httpx.AsyncClient,
):
    loop = asyncio.get_running_loop()
    day = date.today()
    seen: list[Moment] = []

    async def batch(ms: list[Moment]) -> None:
        runs = [Run(client, worker, receiver, store, http, m, day) for m in ms]
        await asyncio.gather(*(r.go() for r in runs))
        seen.extend(ms)

    @against_a_server(EXAMPLES)
    @given(st.lists(moments(), min_size=BATCH[0], max_size=BATCH[1]))
    def prop(ms: list[Moment]) -> None:
        asyncio.run_coroutine_threadsafe(batch(ms), loop).result(BOUND * 3)

    await asyncio.to_thread(prop)
    # The moments that matter were all drawn: jobs held on their way, completed, issued, and withdrawals racing
    # a payment or caught at a given number of events.
    assert len(seen) >= EXAMPLES * BATCH[0], len(seen)
    assert any(m.held for m in seen) and any(m.completed - m.issued for m in seen), seen
    assert any(m.issued for m in seen) and any(m.late for m in seen), seen
    assert any(m.after_events for m in seen) and any(m.paid == 0 for m in seen), seen
