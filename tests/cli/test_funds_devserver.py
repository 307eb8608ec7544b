"""`msp funds` and `msp docs` end to end on the real dev server: the worker and `msp` as subprocesses.

One dev server for the module; each test has its own convention code (so its own workflow ids), task queue, worker
process and conference-services receiver (in this process, storing what it receives in the test's directory). The
meeting lies 30 days ahead, so no meeting day begins while a test runs; it asks its ledger for four days of
interpretation (priority 1, before any document) as soon as it starts.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from domain.documents import DocumentState, LanguageStatus
from domain.funds import chf
from domain.ids import document_id, funds_id
from domain.models import Money
from starter.cli.common import DEFAULT_CONFIG
from starter.receiver import Receiver
from tests.support.devserver import (
    MspCycle,
    Server,
    config_text,
    eventually,
    free_port,
    meeting_start,
    worker_cycle,
)
from tests.support.devserver import (
    one_line_error as one_line,
)
from workflows.document import DocumentWorkflow
from workflows.funds import MeetingFundsWorkflow

SHARES_CSV = "state,share_percent\nAustria,40\nChile,30\nMexico,20\nNorway,10\n"
ESTIMATE = 400_000
DAY = Money().interpretation_per_day
# Four days of interpretation, granted before any document.
INTERPRETATION = 4 * DAY
RATE = Money().translation_rate_per_page
TARGETS = ["ar", "es", "fr", "ru", "zh"]


@dataclass
class Cycle(MspCycle):
    """One convention's cycle with its own worker, receiver and `msp` environment."""

    receiver: Receiver
    received: Path
    tmp: Path
    # Where conference services are expected, with nothing listening, for a cycle made by unreachable_services.
    unreachable_port: int = 0

    @property
    def start(self) -> date:
        return meeting_start(self.today)

    @property
    def ledger_id(self) -> str:
        return funds_id(self.code, "14MSP")

    async def funds(self) -> dict[str, Any]:
        return await self.shown("funds", "status")

    async def doc(self, symbol: str) -> dict[str, Any]:
        return await self.shown("docs", "status", symbol)

    async def doc_state(self, symbol: str) -> DocumentState:
        """Straight from the workflow, for polling without a process per look."""
        handle: WorkflowHandle[Any, Any] = self.client.get_workflow_handle(document_id(self.code, symbol))
        state: DocumentState = await handle.query(DocumentWorkflow.state)
        return state

    async def assessed(self, due: date) -> None:
        await self.ok("cycle", "start", "--config", str(self.config))
        run = await self.ok("funds", "estimate", "--amount", str(ESTIMATE), "--ref", "CCM/MSP/2027/2")
        assert run.out.splitlines()[0].startswith("decision cli-"), run
        assert f"accepted: cost estimate {chf(ESTIMATE)}" in run.out, run
        shares = self.tmp / "shares.csv"
        shares.write_text(SHARES_CSV)
        run = await self.ok(
            "funds", "assess", "--file", str(shares), "--due", str(due), "--ref", "CCM/MSP/2027/2 annex"
        )
        assert "accepted: 4 States assessed" in run.out, run

    def translation_jobs(self) -> list[Path]:
        return sorted((self.received / "translation-jobs").glob("*.json"))


@contextlib.asynccontextmanager
async def new_cycle(
    server: Server, tmp_path: Path, services_url: str | None = None, extra: str = ""
) -> AsyncIterator[Cycle]:
    """A cycle whose conference services are a receiver started here, or ``services_url`` if given; ``extra`` TOML
    is appended to its configuration."""
    received = tmp_path / "received"
    receiver = Receiver(received, log=None).start()
    url = services_url or receiver.url

    def config(code: str, today: date) -> str:
        return config_text(code, today, extra) + f'\n[money]\nconference_services_url = "{url}"\n'

    try:
        async with worker_cycle(
            server, tmp_path, Cycle, config, receiver=receiver, received=received, tmp=tmp_path
        ) as c:
            yield c
    finally:
        receiver.stop()


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[Cycle]:
    async with new_cycle(server, tmp_path) as c:
        yield c


@pytest.fixture
async def unreachable_services(server: Server, tmp_path: Path) -> AsyncIterator[Cycle]:
    """A cycle whose conference services cannot be reached (nothing listens there): jobs stay unsent."""
    port = free_port()
    async with new_cycle(server, tmp_path, services_url=f"http://127.0.0.1:{port}") as c:
        c.unreachable_port = port
        yield c


async def test_estimate_assess_and_payments(cycle: Cycle):
    due = cycle.today - timedelta(days=1)  # already due: what is unpaid is overdue
    await cycle.assessed(due)

    run = await cycle.ok(
        "funds", "pay", "--state", "Austria", "--amount", "50000", "--ref", "bank advice 1", "--id", "p-1"
    )
    assert run.out.splitlines()[0] == "payment p-1", run
    assert f"accepted: {chf(50_000)} from Austria" in run.out, run

    before = await cycle.funds()
    assert before["paid"] == 50_000
    assert [(a["state"], a["assessed"]) for a in before["arrears"]] == [
        ("Austria", 160_000),
        ("Chile", 120_000),
        ("Mexico", 80_000),
        ("Norway", 40_000),
    ]

    # An unknown State: the workflow's validator refuses it and nothing is written.
    line = one_line(
        await cycle.msp(
            "funds", "pay", "--state", "Atlantis", "--amount", "1000", "--ref", "x", "--id", "p-x"
        ),
        1,
    )
    assert line.startswith("rejected: 'Atlantis' has no assessed contribution"), line
    after = await cycle.funds()
    for key in ("paid", "granted", "released"):
        assert after[key] == before[key], key
    for key in ("paid", "payments_count", "assessments"):
        assert after["ledger"][key] == before["ledger"][key], key
    assert after["ledger"]["decisions"] == before["ledger"]["decisions"]
    assert "p-x" not in [r["decision_id"] for r in after["ledger"]["decisions"]["records"]]

    # Not a positive amount: refused before anything is sent.
    line = one_line(await cycle.msp("funds", "pay", "--state", "Chile", "--amount", "-5", "--ref", "x"), 2)
    assert line.startswith("--amount:") and "greater than 0" in line, line

    # More than Chile owes: refused unless forced.
    line = one_line(
        await cycle.msp(
            "funds", "pay", "--state", "chile", "--amount", "130000", "--ref", "x", "--id", "p-2"
        ),
        1,
    )
    assert "more than its outstanding contribution" in line and "--force" in line, line
    run = await cycle.ok(
        "funds", "pay", "--state", "chile", "--amount", "130000", "--ref", "x", "--id", "p-2", "--force"
    )
    assert f"accepted: {chf(130_000)} from Chile" in run.out, run
    # The same payment id again counts once (Temporal answers a known update id with its first outcome).
    await cycle.ok(
        "funds", "pay", "--state", "Chile", "--amount", "130000", "--ref", "x", "--id", "p-2", "--force"
    )

    async def granted_interpretation() -> None:
        funds = await cycle.funds()
        assert funds["paid"] == 180_000 and funds["ledger"]["payments_count"] == 2
        assert funds["granted"] == INTERPRETATION, funds
        assert (funds["balance"], funds["shortfall"], funds["queue"]) == (180_000 - INTERPRETATION, 0, [])
        owed = {a["state"]: a for a in funds["arrears"]}
        assert (owed["Chile"]["outstanding"], owed["Chile"]["overdue"]) == (0, False)
        assert (owed["Austria"]["outstanding"], owed["Austria"]["overdue"]) == (110_000, True)

    await eventually(granted_interpretation)

    text = (await cycle.ok("funds", "status")).out
    assert f"Balance        {chf(180_000 - INTERPRETATION)}" in text, text
    rows = {line.split()[0]: line for line in text.splitlines() if line.split()[:1]}
    assert rows["Mexico"].rstrip().endswith("OVERDUE") and not rows["Chile"].rstrip().endswith("OVERDUE"), (
        text
    )
    assert "nothing waits for money" in text, text

    # `msp status`: the meeting's money and its interpretation day by day.
    status = (await cycle.ok("status")).out
    assert f"Funds           balance {chf(180_000 - INTERPRETATION)}, shortfall {chf(0)}" in status, status
    for i in range(4):
        day = cycle.start + timedelta(days=i)
        assert any(f"{day}: granted" in line or f"{day}: booked" in line for line in status.splitlines()), (
            status
        )
    state = (await cycle.ok("status", "--json")).json()
    assert state["funds"]["balance"] == 180_000 - INTERPRETATION


async def test_documents_wait_for_money_then_go_to_translation(cycle: Cycle):
    await cycle.assessed(cycle.today + timedelta(days=20))
    symbol, pages = "CCM/MSP/2027/3", 12
    cost = pages * sum(RATE[lang] for lang in RATE if lang.value != "en")
    due = cycle.start - timedelta(days=1)
    run = await cycle.ok(
        "docs", "submit", "--symbol", symbol, "--title", "Draft final report", "--pages", str(pages),
        "--due", str(due),
    )  # fmt: skip
    assert f"started {document_id(cycle.code, symbol)}" in run.out, run
    assert chf(cost) in run.out and "14MSP" in run.out, run
    again = await cycle.msp(
        "docs", "submit", "--symbol", symbol, "--title", "x", "--pages", "1", "--due", str(due)
    )
    assert "already submitted" in one_line(again, 2)

    # No money yet: every language waits, and the ledger queues them behind the interpretation.
    doc = await cycle.doc(symbol)
    assert {lang: t["status"] for lang, t in doc["translations"].items()} == dict.fromkeys(
        TARGETS, "waiting_for_funds"
    )
    assert doc["waiting_for_funds"] == cost and doc["at_risk"] is False
    text = (await cycle.ok("docs", "status", symbol)).out
    assert text.count("waiting for funds") == 5, text

    async def queued() -> None:
        funds = await cycle.funds()
        purposes = [r["purpose"] for r in funds["queue"]]
        assert len(purposes) == 9, purposes
        assert all(p.startswith("interpretation") for p in purposes[:4]), purposes
        assert funds["shortfall"] == INTERPRETATION + cost

    await eventually(queued)

    async def listed() -> None:
        out = (await cycle.ok("docs", "status", "--json")).json()
        assert out["meeting"] == "14MSP"
        assert [(d["symbol"], d["pending_languages"], d["waiting_for_funds"]) for d in out["documents"]] == [
            (symbol, TARGETS, cost)
        ]

    await eventually(listed)

    # A payment covering the interpretation and this document: every language goes to translation.
    await cycle.ok("funds", "pay", "--state", "Austria", "--amount", str(INTERPRETATION + cost), "--ref", "x")

    async def in_translation() -> None:
        state = await cycle.doc_state(symbol)
        assert {t.status for t in state.translations.values()} == {LanguageStatus.IN_TRANSLATION}, state

    await eventually(in_translation, seconds=20)
    assert len(cycle.translation_jobs()) == 5
    doc = await cycle.doc(symbol)
    assert all(t["job_reference"].startswith("UNOG-T-") for t in doc["translations"].values()), doc
    assert doc["waiting_for_funds"] == 0

    run = await cycle.ok("docs", "delivered", symbol, "--lang", "fr", "--id", "del-fr")
    assert f"accepted: {symbol} issued in fr" in run.out, run
    first = run.out.splitlines()[0]
    assert first == f"recording: {symbol} delivered in fr (delivered by conference services; id del-fr)", run
    assert (await cycle.doc(symbol))["translations"]["fr"]["status"] == "issued"
    # Again under the same id: applied once. Under a new id: it is no longer in translation.
    await cycle.ok("docs", "delivered", symbol, "--lang", "fr", "--id", "del-fr")
    line = one_line(await cycle.msp("docs", "delivered", symbol, "--lang", "fr", "--id", "del-fr-2"), 1)
    assert line.startswith("rejected:") and "not in translation (it is issued)" in line, line
    line = one_line(await cycle.msp("docs", "delivered", symbol, "--lang", "en"), 1)
    assert "original language" in line, line
    assert one_line(await cycle.msp("docs", "delivered", symbol, "--lang", "xx"), 2).startswith("--lang:")

    assert len(cycle.translation_jobs()) == 5

    # A document due today, no longer translatable in time: the list shows it at risk, from its search attribute.
    late = "CCM/MSP/2027/4"
    await cycle.ok(
        "docs", "submit", "--symbol", late, "--title", "Late", "--pages", "1", "--due", str(cycle.today),
        "--priority", "9",
    )  # fmt: skip

    async def at_risk() -> None:
        docs = (await cycle.ok("docs", "status", "--json")).json()["documents"]
        assert [(d["symbol"], d["attention"]) for d in docs] == [(symbol, []), (late, ["at_risk"])], docs

    await eventually(at_risk)
    rows = {line.split()[0]: line for line in (await cycle.ok("docs", "status")).out.splitlines()[1:]}
    assert rows[late].endswith("at risk") and rows[symbol].rstrip().endswith(chf(0)), rows
    assert "At risk    yes: it will miss its due date" in (await cycle.ok("docs", "status", late)).out


async def test_a_document_for_an_unknown_meeting_is_refused(cycle: Cycle):
    await cycle.ok("cycle", "start", "--config", str(cycle.config))
    symbol = "CCM/MSP/2027/9"
    args = ("docs", "submit", "--symbol", symbol, "--title", "x", "--pages", "3", "--due", str(cycle.start))
    line = one_line(await cycle.msp(*args, "--meeting", "99MSP"), 2)
    assert "99MSP" in line and "nothing submitted" in line, line
    with pytest.raises(RPCError) as e:
        await cycle.client.get_workflow_handle(document_id(cycle.code, symbol)).describe()
    assert e.value.status == RPCStatusCode.NOT_FOUND

    line = one_line(await cycle.msp(*args, "--language", "xx"), 2)
    assert line.startswith("--language:") and "'xx'" in line, line
    assert "--pages" in one_line(await cycle.msp(*args[:-4], "--pages", "0", "--due", str(cycle.start)), 2)
    assert one_line(await cycle.msp("funds", "status", "--meeting", "99MSP"), 4).startswith("no ledger")
    assert one_line(await cycle.msp("docs", "status", symbol), 4).startswith(f"no document {symbol}")


async def _finished(cycle: Cycle, symbol: str) -> None:
    desc = await cycle.client.get_workflow_handle(document_id(cycle.code, symbol)).describe()
    assert desc.status == WorkflowExecutionStatus.COMPLETED, desc.status


async def test_withdrawing_a_funded_document_gives_its_money_back(unreachable_services: Cycle):
    cycle = unreachable_services
    await cycle.assessed(cycle.today + timedelta(days=20))
    due = str(cycle.start - timedelta(days=1))
    # Funded at once, but its jobs cannot be sent: conference services do not answer (retried meanwhile).
    funded_doc, funded_cost = "CCM/MSP/2027/4", 2 * sum(RATE[lang] for lang in RATE if lang.value != "fr")
    await cycle.ok(
        "docs", "submit", "--symbol", funded_doc, "--title", "Note verbale", "--pages", "2",
        "--language", "fr", "--priority", "1", "--due", due,
    )  # fmt: skip
    # Behind it in the queue, more than the money there is.
    waiting_doc = "CCM/MSP/2027/5"
    await cycle.ok(
        "docs", "submit", "--symbol", waiting_doc, "--title", "Report", "--pages", "40", "--due", due
    )
    await cycle.ok(
        "funds", "pay", "--state", "Austria", "--amount", str(INTERPRETATION + funded_cost), "--ref", "y"
    )

    async def funded() -> None:
        state = await cycle.doc_state(funded_doc)
        assert {t.status for t in state.translations.values()} == {LanguageStatus.FUNDED}, state
        funds = await cycle.funds()
        assert (funds["balance"], len(funds["queue"])) == (0, 5), funds

    await eventually(funded)
    run = await cycle.ok("docs", "withdraw", funded_doc, "--ref", "withdrawn by the Secretariat")
    # Its jobs were on their way: only conference services can say whether one arrived, so the money waits for
    # them to confirm each cancellation.
    assert (
        f"CHF 0 released; 5 job(s) sent to conference services being cancelled: their CHF {funded_cost}"
        in (run.out)
    ), run
    state = await cycle.doc_state(funded_doc)
    assert {t.status for t in state.translations.values()} == {LanguageStatus.CANCELLING}, state
    run = await cycle.ok("docs", "withdraw", waiting_doc, "--ref", "withdrawn by the Secretariat")
    assert "CHF 0 released" in run.out, run
    # Every language withdrawn: the document's workflow is finished, and says so.
    await eventually(lambda: _finished(cycle, waiting_doc))
    line = one_line(await cycle.msp("docs", "withdraw", waiting_doc, "--ref", "again"), 4)
    assert line.startswith(f"{waiting_doc} is finished"), line
    assert (await cycle.funds())["released"] == 0
    # Conference services come back: they confirm, and the money comes back (the cancellations' retries wait up
    # to 2 + 4 + 8 s for them).
    back = Receiver(cycle.received, port=cycle.unreachable_port, log=None).start()

    async def released() -> None:
        funds = await cycle.funds()
        assert (funds["balance"], funds["released"], funds["queue"], funds["shortfall"]) == (
            funded_cost,
            funded_cost,
            [],
            0,
        ), funds
        for symbol in (funded_doc, waiting_doc):
            doc = await cycle.doc(symbol)
            assert doc["withdrawn"] is True and doc["finished"] is True, doc
            assert {t["status"] for t in doc["translations"].values()} == {"withdrawn"}, doc

    try:
        await eventually(released, seconds=30)
    finally:
        back.stop()
    text = (await cycle.ok("funds", "status")).out
    assert f"Balance        {chf(funded_cost)}" in text, text

    async def listed_withdrawn() -> None:
        listed = (await cycle.ok("docs", "status", "--json")).json()["documents"]
        assert {(d["symbol"], d["status"]) for d in listed} == {
            (funded_doc, "withdrawn"),
            (waiting_doc, "withdrawn"),
        }

    await eventually(listed_withdrawn)  # not "completed": the list reads the document's CcmPhase
    # No job arrived: each key is recorded as cancelled, without a reference, so none is accepted later.
    records = [json.loads(p.read_text()) for p in cycle.translation_jobs()]
    assert [(r["status"], r["reference"]) for r in records] == [("cancelled", None)] * 5, records


async def test_a_meeting_in_lausanne_the_host_pays_the_surplus_and_a_state_not_party_takes_part(
    server: Server, tmp_path: Path
):
    shutil.copy(DEFAULT_CONFIG.parent / "register.csv", tmp_path / "register.csv")
    async with new_cycle(server, tmp_path, extra='\n[states_parties]\nregister_file = "register.csv"\n') as c:
        await c.ok("cycle", "start", "--config", str(c.config))
        due = c.today - timedelta(days=1)
        surplus = ("funds", "surplus", "--amount", "150000", "--due", str(due), "--ref", "host letter")
        lausanne = ("--start", str(c.start), "--place", "Lausanne", "--ref", "letter")
        await c.ok("decide", "set-dates", *lausanne, "--host", "Switzerland")
        ledger = c.client.get_workflow_handle(c.ledger_id)

        async def told() -> None:
            assert (await ledger.query(MeetingFundsWorkflow.ledger)).venue.away

        await eventually(told)
        run = await c.ok(*surplus)
        assert f"accepted: surplus {chf(150_000)} invoiced to Switzerland (held in Lausanne)" in run.out, run
        run = await c.ok("funds", "participate", "--state", "Angola", "--ref", "note verbale")
        assert "accepted: Angola, not a State Party, takes part in the 14MSP" in run.out, run
        await c.ok("funds", "estimate", "--amount", str(ESTIMATE), "--ref", "CCM/MSP/2027/2")
        shares = tmp_path / "shares.csv"
        shares.write_text("state,share_percent\nAustria,50\nChile,40\nAngola,10\n")
        await c.ok("funds", "assess", "--file", str(shares), "--due", str(due), "--ref", "annex")
        pay = ("funds", "pay", "--state", "Switzerland", "--amount", "100000", "--ref", "bank advice 9")
        run = await c.ok(*pay, "--surplus")
        assert f"accepted: {chf(100_000)} from Switzerland towards the surplus it is invoiced" in run.out, run

        text = (await c.ok("funds", "status")).out
        rows = {line.split()[0]: line for line in text.splitlines() if line.split()[:1]}
        assert "Lausanne" in rows["Switzerland"] and rows["Switzerland"].rstrip().endswith("OVERDUE"), text
        # Assessed on the same scale: 10% of the baseline.
        assert any(line.startswith("Angola") and chf(40_000) in line for line in text.splitlines()), text
        owed = (await c.ok("funds", "arrears", "--state", "Switzerland")).out
        assert f"Arrears of Switzerland (as of {c.today}): {chf(50_000)} outstanding" in owed, owed
        assert "surplus (Lausanne)" in owed, owed
