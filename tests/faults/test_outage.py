"""Fault suite, outage: conference services and the notification webhook (the `make run` receiver) refuse
connections for a while, then come back on the same port. Every translation job, interpretation booking and
notification arrives exactly once per idempotency key.

On the time-skipping server (the activities' retry backoffs reach minutes and an hour; here they are skipped), with
the real activities, talking HTTP to a real receiver on 127.0.0.1. The receiver stores one file per key and numbers
what it stores (UNOG-T-000001, ...): as many files as numbers handed out, and each key once, means nothing was
stored twice.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notifications import Notifier
from domain.documents import DocumentInput, DocumentSpec, DocumentState, LanguageStatus
from domain.funds import Assess, Payment, SetEstimate
from domain.ids import document_id, funds_id, review_id
from domain.meeting import Interpretation
from domain.models import Convention, Money
from domain.reviews import DueKind, DuePoint, Mandate, ReviewInput, ReviewSpec, ReviewState
from starter.receiver import KINDS, Receiver
from tests.support.cycle_helpers import Cycle, initial_state, part
from tests.support.reminding import sleep_until, today, until
from worker import build_worker
from workflows.document import DocumentWorkflow
from workflows.funds import MeetingFundsWorkflow
from workflows.review import ReviewWorkflow

DOCS = 4
LANGUAGES = 5  # each document's five other official languages
DAYS = 3


def stored(directory: Path, kind: str) -> list[dict[str, Any]]:
    records = [json.loads(p.read_text()) for p in (directory / kind).glob("*.json")]
    return sorted(records, key=lambda r: str(r["reference"]))


def exactly_once(directory: Path, kind: str) -> list[dict[str, Any]]:
    """Each key in one file, and the receiver's numbering without a gap: nothing was stored twice."""
    records = stored(directory, kind)
    keys = [r["idempotency_key"] for r in records]
    assert len(set(keys)) == len(keys), keys
    letter = KINDS[kind]
    assert [r["reference"] for r in records] == [f"UNOG-{letter}-{n:06d}" for n in range(1, len(records) + 1)]
    return records


async def test_services_and_webhook_down_then_back_get_everything_once(
    ts_env: WorkflowEnvironment, ts_worker: Worker, tmp_path: Path
):
    # Ports that refuse connections: a receiver bound there, then stopped. Conference services and the webhook
    # each have their own, so that each can be down for its own while (conference services' retries back off to
    # 5 minutes, the webhook's to an hour).
    services_dir, webhook_dir = tmp_path / "services", tmp_path / "webhook"
    first = Receiver(services_dir, log=None)
    port, url = first.port, first.url
    first.stop()
    first = Receiver(webhook_dir, log=None)
    webhook_port, webhook_url = first.port, first.url
    first.stop()

    t = await today(ts_env)
    start = t + timedelta(days=20)
    code = "outage"
    money = Money(conference_services_url=url)
    state0 = initial_state(code, t, [part(start, days=DAYS)])
    state0 = state0.model_copy(update={"convention": Convention(code=code, money=money)})
    c = await Cycle(ts_env, ts_worker, state0).start()
    label = state0.meeting.ref.label
    ledger = c.client.get_workflow_handle(funds_id(code, label))
    await ts_env.sleep(timedelta(minutes=1))

    # A review whose reminders (11 and 10 days ahead) fall due while the webhook is down; its own worker has the
    # notifier (the cycle's worker has conference services).
    spec = ReviewSpec(
        subject="hosting-agreement",
        title="the agreement hosting the ISU",
        mandate=Mandate(decided_by="2nd Review Conference", reference="CCM/CONF/2021/6"),
        due=DuePoint(kind=DueKind.DATE, on=t + timedelta(days=12)),
        reminder_days=(11, 10),
    )
    async with Notifier(webhooks={"default": f"{webhook_url}/notifications"}) as notifier:
        notes = build_worker(
            ts_env.client, None, f"{ts_worker.task_queue}-notes", only_activities=[notifier.send_notification]
        )
        async with notes:
            review = await ts_env.client.start_workflow(
                ReviewWorkflow.run,
                ReviewInput(convention=code, spec=spec),
                id=review_id(code, spec.subject),
                task_queue=notes.task_queue,
            )

            await ledger.execute_update(
                MeetingFundsWorkflow.set_estimate, SetEstimate(decision_id="e", reference="r", amount=400_000)
            )
            await ledger.execute_update(
                MeetingFundsWorkflow.assess,
                Assess(decision_id="a", reference="r", shares={"Austria": 60.0, "Chile": 40.0}, due=start),
            )
            docs = []
            for i in range(DOCS):
                spec_doc = DocumentSpec(
                    symbol=f"CCM/MSP/2027/{i + 1}",
                    title=f"Document {i + 1}",
                    pages=3,
                    meeting=label,
                    due=start,
                )
                docs.append(
                    await c.client.start_workflow(
                        DocumentWorkflow.run,
                        DocumentInput(
                            convention=code, spec=spec_doc, money=money, funds_id=funds_id(code, label)
                        ),
                        id=document_id(code, spec_doc.symbol),
                        task_queue=ts_worker.task_queue,
                    )
                )
            await ts_env.sleep(timedelta(minutes=1))
            # Money for everything: each language and each day goes to conference services, which do not answer.
            await ledger.execute_update(
                MeetingFundsWorkflow.record_payment,
                Payment(payment_id="p", reference="r", state="Austria", amount=240_000, force=True),
            )
            # Conference services down for two hours: attempts keep failing, backing off.
            await ts_env.sleep(timedelta(hours=2))
            assert [p for kind in KINDS for p in (services_dir / kind).glob("*.json")] == []
            funded = [await d.query(DocumentWorkflow.state) for d in docs]
            assert all(
                tr.status is LanguageStatus.FUNDED for s in funded for tr in s.translations.values()
            ), funded
            # Back on the same port, with the same directory; the webhook stays down while both reminders fall due.
            with Receiver(services_dir, port=port, log=None):
                await ts_env.sleep(timedelta(hours=1))
                await sleep_until(ts_env, t + timedelta(days=2), hour=15)
                review_state: ReviewState = await review.query(ReviewWorkflow.state)
                assert review_state.sent == []
                assert not list((webhook_dir / "notifications").glob("*.json"))
                with Receiver(webhook_dir, port=webhook_port, log=None):
                    await ts_env.sleep(timedelta(hours=2))
                    review_state = await until(
                        lambda: review.query(ReviewWorkflow.state), lambda st: len(st.sent) == 2
                    )

                async def docs_now() -> list[DocumentState]:
                    return [await d.query(DocumentWorkflow.state) for d in docs]

                states = await until(
                    docs_now,
                    lambda ss: all(
                        tr.status is LanguageStatus.IN_TRANSLATION
                        for s in ss
                        for tr in s.translations.values()
                    ),
                )
                assert all(
                    tr.status is LanguageStatus.IN_TRANSLATION
                    for s in states
                    for tr in s.translations.values()
                ), states
                meeting = await until(
                    c.meeting, lambda m: list(m.interpretation.values()) == [Interpretation.BOOKED] * DAYS
                )
                assert list(meeting.interpretation.values()) == [Interpretation.BOOKED] * DAYS, meeting
                # More time: nothing is sent again.
                await ts_env.sleep(timedelta(days=1))

            jobs = exactly_once(services_dir, "translation-jobs")
            assert len(jobs) == DOCS * LANGUAGES
            # The reference each document holds is the one the receiver stored for its key.
            held = {tr.job_reference for s in states for tr in s.translations.values()}
            assert held == {r["reference"] for r in jobs}
            bookings = exactly_once(services_dir, "interpretation-bookings")
            assert len(bookings) == DAYS
            notes_stored = exactly_once(webhook_dir, "notifications")
            assert [r["body"]["kind"] for r in notes_stored] == ["reminder", "reminder"], notes_stored
            assert [r.kind for r in review_state.sent] == ["reminder", "reminder"]
            await review.terminate("test over")
    for d in docs:
        await d.terminate("test over")
    await ledger.terminate("test over")
    await c.stop()
