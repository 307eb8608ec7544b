"""Fault: the worker is killed (SIGKILL) on a meeting day with decisions, payments and deliveries in flight.

On the real dev server, in real time: the meeting sits today (its days run from midnight to midnight here, so the test
does not depend on the hour), the ISU records money and a document waits for it. The worker dies right after a
payment is accepted, while the grants, the translation jobs and a delivery are still on their way; a new worker
process picks up from the histories. Everything accepted is there once, ids sent again change nothing,
and the meeting closes and hands over.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.documents import LanguageStatus
from domain.ids import document_id, funds_id
from domain.models import Language
from starter.receiver import Receiver
from tests.support.devserver import (
    MspCycle,
    Server,
    eventually,
    sitting_today,
    worker_cycle,
)
from workflows.document import DocumentWorkflow

SHARES = "state,share_percent\nAustria,40\nChile,30\nMexico,20\nNorway,10\n"
SYMBOL = "CCM/MSP/2027/7"


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[tuple[MspCycle, Path]]:
    received = tmp_path / "received"
    with Receiver(received, log=None) as receiver:

        def config(code: str, today: date) -> str:
            return sitting_today(code, today, f'\n[money]\nconference_services_url = "{receiver.url}"\n')

        async with worker_cycle(server, tmp_path, MspCycle, config, config_in_env=True) as c:
            yield c, received


def stored(received: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in (received / kind).glob("*.json")]


async def test_a_worker_killed_mid_meeting_day_loses_nothing_and_applies_nothing_twice(
    cycle: tuple[MspCycle, Path], tmp_path: Path
) -> None:
    c, received = cycle
    await c.ok("cycle", "start")

    async def sitting() -> None:
        status = (await c.ok("status", "--json")).json()
        assert status["meeting"]["phase"] == "in_session", status["meeting"]

    await eventually(sitting, seconds=20)
    shares = tmp_path / "shares.csv"
    shares.write_text(SHARES)
    await c.ok("funds", "estimate", "--amount", "400000", "--ref", "CCM/MSP/2027/2", "--id", "est")
    await c.ok(
        "funds", "assess", "--file", str(shares), "--due", str(c.today), "--ref", "annex", "--id", "ass"
    )
    await c.ok(
        "docs",
        "submit",
        "--symbol",
        SYMBOL,
        "--title",
        "Final report",
        "--pages",
        "10",
        "--due",
        str(c.today + timedelta(days=30)),
    )
    await c.ok("decide", "designate", "--state", "Mexico", "--ref", "para 21", "--id", "d-mexico")
    await c.ok("decide", "extend-by-day", "--ref", "plenary", "--id", "d-extend")

    # Enough for the document's five translations and more: the ledger grants, each language goes to
    # conference services... and the worker dies as soon as the payment is accepted.
    await c.ok(
        "funds", "pay", "--state", "Austria", "--amount", "160000", "--ref", "bank advice", "--id", "pay-1"
    )
    await c.worker.kill()
    await c.worker.start(c.client)

    doc = c.client.get_workflow_handle(document_id(c.code, SYMBOL))

    async def all_sent() -> None:
        state = await doc.query(DocumentWorkflow.state)
        assert all(t.status is LanguageStatus.IN_TRANSLATION for t in state.translations.values()), state

    # A job whose activity was in flight on the killed worker is retried only once its start-to-close timeout
    # (30 s) has passed, so allow for that and the retry.
    await eventually(all_sent, seconds=90)
    await c.ok("docs", "delivered", SYMBOL, "--lang", "fr", "--id", "dl-fr")
    await c.worker.kill()
    await c.worker.start(c.client)

    # Each id re-sent after the restarts is applied once.
    await c.ok(
        "funds", "pay", "--state", "Austria", "--amount", "160000", "--ref", "bank advice", "--id", "pay-1"
    )
    await c.ok("decide", "designate", "--state", "Mexico", "--ref", "para 21", "--id", "d-mexico")
    await c.ok("docs", "delivered", SYMBOL, "--lang", "fr", "--id", "dl-fr")

    funds = (await c.ok("funds", "status", "--json")).json()
    assert funds["paid"] == 160_000, funds
    log = funds["ledger"]["decisions"]
    assert [*log["applied"], *(r["decision_id"] for r in log["records"])].count("pay-1") == 1
    jobs = stored(received, "translation-jobs")
    keys = [j["idempotency_key"] for j in jobs]
    assert len(keys) == 5 and len(set(keys)) == 5, keys
    # The receiver numbers what it stores: five references and no gap, so nothing was stored twice.
    assert sorted(j["reference"] for j in jobs) == [f"UNOG-T-{n:06d}" for n in range(1, 6)]
    state = await doc.query(DocumentWorkflow.state)
    assert state.translations[Language.FR].status is LanguageStatus.ISSUED
    assert [t.status for lang, t in state.translations.items() if lang is not Language.FR] == [
        LanguageStatus.IN_TRANSLATION
    ] * 4

    status = (await c.ok("status", "--json")).json()
    assert [d["decision_id"] for d in status["presidency"]["decisions"]["records"]] == ["d-mexico"]
    assert [d["decision_id"] for d in status["meeting"]["decisions"]["records"]] == ["d-extend"]

    # The meeting closes; the President-designate takes over.
    await c.ok("decide", "close", "--ref", "final report para 40", "--id", "d-close")

    async def handed_over() -> None:
        status = (await c.ok("status", "--json")).json()
        assert status["presidency"]["term"] == 2, status["presidency"]
        assert status["presidency"]["president"]["state"] == "Chile"

    await eventually(handed_over, seconds=30)
    await c.no_failed_tasks(
        f"{c.code}-presidency", f"{c.code}-meeting-14MSP", funds_id(c.code, "14MSP"), doc.id
    )
