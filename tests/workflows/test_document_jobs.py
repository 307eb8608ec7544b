"""A document's languages funded together go to conference services in one activity, and no job holds up another.

Issue 16: a payment that funds 100 documents made 500 activities, one per language. From the patch
``document-one-call-per-grant`` on, the languages granted together go in one call (``submit_translations``), each job
with its own key and its own answer. A job not answered within the batch's patience, or failing in a way worth
retrying, is sent again alone: the others are in translation meanwhile. On the time-skipping server, against the
scriptable conference services of tests/support/scripted_services.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities.conference_services import ConferenceServices
from domain.conference import SUBMIT_TRANSLATION, SUBMIT_TRANSLATIONS
from domain.documents import DocumentInput, DocumentState, LanguageStatus
from domain.funds import LedgerState, Payment
from domain.ids import document_id
from domain.models import Language, Money
from tests.scenario import report, start_assessed_ledger, start_queued_documents
from tests.support.scripted_services import TRANSLATIONS, Services, Step, serve
from worker import WORKFLOWS, build_worker, sandbox
from workflows.document import DocumentWorkflow
from workflows.funds import MeetingFundsWorkflow

PATIENCE = 0.5  # seconds a batch waits for all its answers; the held job below answers after HELD
HELD = 3.0


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    with serve() as s:
        yield s


@pytest.fixture
async def worker(ts_env: WorkflowEnvironment) -> AsyncIterator[Worker]:
    async with (
        ConferenceServices(patience=PATIENCE) as jobs,
        build_worker(ts_env.client, jobs, f"tq-{uuid.uuid4()}") as w,
    ):
        yield w


async def funded_document(
    env: WorkflowEnvironment, worker: Worker, services: Services, code: str
) -> WorkflowHandle[Any, Any]:
    """A document of 2 pages waiting on its ledger, then one payment that funds its five languages at once."""
    today = (await env.get_current_time()).date()
    ledger = await start_assessed_ledger(
        env, worker, LedgerState(convention=code, meeting="14MSP"), {"Austria": 100}, today
    )
    inp = DocumentInput(
        convention=code,
        spec=report(f"CCM/MSP/2027/{code}", "14MSP", today + timedelta(days=60)),
        money=Money(conference_services_url=services.url),
        funds_id=ledger.id,
    )
    [doc] = await start_queued_documents(env, worker, [inp])  # its five requests reach the ledger
    await ledger.execute_update(
        MeetingFundsWorkflow.record_payment,
        Payment(payment_id="p", reference="r", state="Austria", amount=100_000, force=True),
    )
    return doc


async def settled(env: WorkflowEnvironment, doc: WorkflowHandle[Any, Any]) -> DocumentState:
    """The document once no language is funded and unsent any more."""
    for _ in range(200):
        s: DocumentState = await doc.query(DocumentWorkflow.state)
        if all(t.status is not LanguageStatus.FUNDED for t in s.translations.values()):
            return s
        await env.sleep(timedelta(seconds=1))
    raise AssertionError(s)


async def activities(doc: WorkflowHandle[Any, Any]) -> list[str]:
    """The activities the document scheduled, in order, by type."""
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        async for e in doc.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


async def test_five_languages_granted_at_once_go_in_one_call_each_job_with_its_own_key(
    ts_env: WorkflowEnvironment, worker: Worker, services: Services
) -> None:
    doc = await funded_document(ts_env, worker, services, "onecall")
    s = await settled(ts_env, doc)
    assert {t.status for t in s.translations.values()} == {LanguageStatus.IN_TRANSLATION}
    assert await activities(doc) == [SUBMIT_TRANSLATIONS]
    keys = [k for k in services.keys(TRANSLATIONS) if k and k.startswith(doc.id)]
    assert sorted(keys) == sorted(f"{doc.id}:{lang.value}" for lang in s.translations)  # one request each
    references = {t.job_reference for t in s.translations.values()}
    assert len(references) == 5 and None not in references


async def test_a_held_job_goes_alone_and_holds_up_no_other_and_a_refused_one_gives_its_money_back(
    ts_env: WorkflowEnvironment, worker: Worker, services: Services
) -> None:
    code = "held"
    doc_id = document_id(code, f"CCM/MSP/2027/{code}")
    held, refused = Language.RU, Language.ZH
    services.by_key[f"{doc_id}:{held.value}"] = Step(delay=HELD)  # then accepted, each time it is sent
    services.by_key[f"{doc_id}:{refused.value}"] = Step(status=422)
    doc = await funded_document(ts_env, worker, services, code)
    s = await settled(ts_env, doc)

    assert s.translations[held].status is LanguageStatus.IN_TRANSLATION
    assert s.translations[refused].status is LanguageStatus.FAILED
    assert "422" in (s.translations[refused].error or "")
    others = [lang for lang in s.translations if lang not in (held, refused)]
    assert all(s.translations[lang].status is LanguageStatus.IN_TRANSLATION for lang in others)
    # One call for the five, then the held language alone.
    assert await activities(doc) == [SUBMIT_TRANSLATIONS, SUBMIT_TRANSLATION]
    # The others were in translation, and the refused one's money on its way back, before the held one answered.
    log = [line.split(": ", 1)[1] for line in s.log]
    done = [n for n, line in enumerate(log) if "in translation" in line or "refused" in line]
    assert log[done[-1]].startswith(f"{held.value}: in translation"), log
    assert len(done) == 5, log
    # Its two requests (the batch's, given up, and its own) made one job: one key, one reference.
    assert services.keys(TRANSLATIONS).count(f"{doc_id}:{held.value}") == 2
    assert sum(1 for (path, key) in services.jobs if key == f"{doc_id}:{held.value}") == 1
    # The path with a language sent alone replays (the recorded history pins the plain one).
    await doc.terminate("replayed")
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=sandbox()
    )
    await replayer.replay_workflow(await doc.fetch_history(), raise_on_replay_failure=True)
