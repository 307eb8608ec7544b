"""The conference-services activities against real HTTP servers on 127.0.0.1, and the receiver of `make run`.

``Services`` is a scriptable stand-in: per path, a list of steps (an error status, or a delay before accepting),
recording every request's Idempotency-Key and creating one job per key, as conference services do. The activities
run in ``ActivityEnvironment`` for the answers one by one, and on a real worker of the time-skipping server for
retries: a 500 then a 201, a 400 that must not be retried, an answer slower than the activity's timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import httpx
    import pytest
    from pydantic import BaseModel
    from temporalio.client import WorkflowFailureError
    from temporalio.common import RetryPolicy
    from temporalio.exceptions import ActivityError, ApplicationError
    from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
    from temporalio.worker import Worker

    from activities.conference_services import BAD_ANSWER, MAX_CONNECTIONS, UNAVAILABLE, ConferenceServices
    from domain.conference import (
        BOOK_INTERPRETATION,
        REJECTED_BY_SERVICES,
        SUBMIT_TRANSLATION,
        Cancellation,
        InterpretationBooking,
        JobCancellation,
        Receipt,
        TranslationBatch,
        TranslationJob,
    )
    from domain.models import Language
    from starter.receiver import READ_TIMEOUT, Receiver, safe_name
    from starter.receiver import _Handler as receiver_handler
    from tests.support.activity import failure
    from tests.support.scripted_services import ACCEPT, BOOKINGS, TRANSLATIONS, Services, Step, serve
    from worker import build_worker


M = TypeVar("M", bound=BaseModel)


def wire(model: type[M], base_url: str, key: str, **fields: Any) -> M:
    """Validated from plain values, as they come over the wire: languages by their codes."""
    return model.model_validate({"base_url": base_url, "idempotency_key": key, **fields})


def translation(base_url: str, key: str = "ccm-doc-CCM/MSP/2027/3-fr") -> TranslationJob:
    return wire(
        TranslationJob,
        base_url,
        key,
        symbol="CCM/MSP/2027/3",
        title="Draft programme of work",
        meeting="14MSP",
        source_language="en",
        target_language="fr",
        pages=12,
        due=date(2027, 8, 20),
        amount_granted=4_200,
    )


def booking(base_url: str, key: str = "ccm-meeting-14MSP-2027-09-20") -> InterpretationBooking:
    languages = ["ar", "en", "es", "fr", "ru", "zh"]
    return wire(
        InterpretationBooking,
        base_url,
        key,
        meeting="14MSP",
        day=date(2027, 9, 20),
        languages=languages,
        amount_granted=18_000,
    )


# --- one call at a time (ActivityEnvironment) -------------------------------------------------------------------


async def test_translation_job_is_posted_with_its_key_and_the_reference_returned(
    services: Services, http: httpx.AsyncClient
) -> None:
    job = translation(services.url + "/")  # a trailing slash in the configured address is harmless
    receipt = await ActivityEnvironment().run(ConferenceServices(http).submit_translation, job)
    assert receipt == Receipt(reference="REF-1", duplicate=False)
    [seen] = services.seen
    assert seen.path == TRANSLATIONS and seen.key == job.idempotency_key
    # The body is the job as JSON, without the address it was sent to.
    assert seen.body == job.model_dump(mode="json", exclude={"base_url"})
    assert (
        "base_url" not in seen.body
        and seen.body["target_language"] == "fr"
        and seen.body["due"] == "2027-08-20"
    )


async def test_the_same_key_again_is_a_duplicate_with_the_same_reference(
    services: Services, http: httpx.AsyncClient
) -> None:
    activities = ConferenceServices(http)
    first = await ActivityEnvironment().run(activities.book_interpretation, booking(services.url))
    again = await ActivityEnvironment().run(activities.book_interpretation, booking(services.url))
    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.reference == again.reference
    assert services.keys(BOOKINGS) == ["ccm-meeting-14MSP-2027-09-20"] * 2
    assert len(services.jobs) == 1


async def test_a_duplicate_field_in_the_answer_wins_over_the_status(
    services: Services, http: httpx.AsyncClient
) -> None:
    services.script(TRANSLATIONS, Step(status=200, body='{"reference": "UNOG-T-1", "duplicate": false}'))
    receipt = await ActivityEnvironment().run(
        ConferenceServices(http).submit_translation, translation(services.url)
    )
    assert receipt == Receipt(reference="UNOG-T-1", duplicate=False)


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
async def test_4xx_is_a_non_retryable_rejection_naming_the_address(
    services: Services, http: httpx.AsyncClient, status: int
) -> None:
    services.script(TRANSLATIONS, Step(status=status))
    err = await failure(ConferenceServices(http).submit_translation, translation(services.url))
    assert err.type == REJECTED_BY_SERVICES and err.non_retryable
    assert f"refused by {services.url}{TRANSLATIONS}: {status}" in err.message
    assert f"scripted {status}" in err.message  # an excerpt of what the service said


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_5xx_408_and_429_are_retryable(
    services: Services, http: httpx.AsyncClient, status: int
) -> None:
    services.script(TRANSLATIONS, Step(status=status, headers=(("Retry-After", "7"),)))
    err = await failure(ConferenceServices(http).submit_translation, translation(services.url))
    assert err.type == UNAVAILABLE and not err.non_retryable
    assert f"{services.url}{TRANSLATIONS}" in err.message and str(status) in err.message
    # A Retry-After in seconds sets the next attempt's delay.
    assert err.next_retry_delay == timedelta(seconds=7)


async def test_a_batch_answers_each_job_refusals_included_and_leaves_slow_or_failing_ones_to_go_alone(
    services: Services, http: httpx.AsyncClient
) -> None:
    keys = {lang: f"ccm-doc-CCM/MSP/2027/3-{lang}" for lang in ("fr", "es", "ru", "zh")}
    services.by_key[keys["es"]] = Step(status=422)
    services.by_key[keys["ru"]] = Step(status=503)
    services.by_key[keys["zh"]] = Step(delay=5)
    jobs = [
        translation(services.url, key).model_copy(update={"target_language": Language(lang)})
        for lang, key in keys.items()
    ]
    answers = await ActivityEnvironment().run(
        ConferenceServices(http, patience=0.5).submit_translations, TranslationBatch(jobs=jobs)
    )
    by_lang = {a.target_language.value: a for a in answers.answers}
    assert list(by_lang) == ["fr", "es", "ru", "zh"]
    assert by_lang["fr"].receipt == Receipt(reference="REF-1") and by_lang["fr"].refused is None
    refused = by_lang["es"].refused or ""
    assert by_lang["es"].receipt is None and f"refused by {services.url}{TRANSLATIONS}: 422" in refused
    # A 503 and an answer slower than the patience: neither receipt nor refusal, to be sent again alone.
    for lang in ("ru", "zh"):
        assert (by_lang[lang].receipt, by_lang[lang].refused) == (None, None)
    assert sorted(k or "" for k in services.keys(TRANSLATIONS)) == sorted(keys.values())  # each sent once


async def test_an_answer_slower_than_the_total_timeout_is_retryable(
    services: Services, http: httpx.AsyncClient
) -> None:
    services.script(TRANSLATIONS, Step(delay=5))
    err = await failure(
        ConferenceServices(http, total_timeout=0.5).submit_translation, translation(services.url)
    )
    assert err.type == UNAVAILABLE and not err.non_retryable
    assert f"{services.url}{TRANSLATIONS} did not answer" in err.message and "0.5 s" in err.message


async def test_no_server_is_retryable_naming_the_address(http: httpx.AsyncClient, tmp_path: Path) -> None:
    with Receiver(tmp_path, log=None) as gone:
        url = gone.url  # a port that was free a moment ago and now has no listener
    err = await failure(ConferenceServices(http).submit_translation, translation(url))
    assert err.type == UNAVAILABLE and not err.non_retryable
    assert f"cannot reach conference services at {url}{TRANSLATIONS}" in err.message


async def test_an_accepted_request_without_reference_is_retried(
    services: Services, http: httpx.AsyncClient
) -> None:
    services.script(TRANSLATIONS, Step(status=201, body="<html>accepted</html>"))
    err = await failure(ConferenceServices(http).submit_translation, translation(services.url))
    assert err.type == BAD_ANSWER and not err.non_retryable
    assert f"{services.url}{TRANSLATIONS}" in err.message and "<html>accepted</html>" in err.message


async def test_without_a_client_it_makes_and_closes_its_own() -> None:
    activities = ConferenceServices()
    assert activities.client.timeout == httpx.Timeout(15, connect=5)
    assert activities.total_timeout == 15
    await activities.aclose()
    assert activities.client.is_closed
    async with httpx.AsyncClient() as given:
        async with ConferenceServices(given):
            pass
        assert not given.is_closed  # a client passed in belongs to the caller


async def test_bursts_share_a_few_connections_kept_alive() -> None:
    # Three times as many requests at once as the worker's client has connections, each answered after a pause so
    # that they overlap: they share those connections, and the next burst opens none.
    with serve(keep_alive=True) as services:
        services.script(TRANSLATIONS, *[Step(delay=0.05)] * (6 * MAX_CONNECTIONS))
        async with ConferenceServices() as activities:
            for burst in ("first", "second"):
                jobs = [translation(services.url, f"{burst}-{i}") for i in range(3 * MAX_CONNECTIONS)]
                receipts = await asyncio.gather(*(activities.submit_translation(job) for job in jobs))
                assert len({r.reference for r in receipts}) == len(jobs)
                if burst == "first":
                    first = set(services.peers)
    assert len(first) <= MAX_CONNECTIONS
    assert services.peers == first


async def test_requests_beyond_in_flight_wait_their_turn_outside_the_pool(http: httpx.AsyncClient) -> None:
    # A client whose pool would open a connection for each (httpx's 100): at most two go out at once all the same.
    with serve(keep_alive=True) as services:
        services.script(TRANSLATIONS, *[Step(delay=0.05)] * 8)
        activities = ConferenceServices(http, in_flight=2)
        jobs = [translation(services.url, f"key-{i}") for i in range(8)]
        receipts = await asyncio.gather(*(activities.submit_translation(job) for job in jobs))
    assert len({r.reference for r in receipts}) == 8
    assert len(services.peers) <= 2


# --- retries on a real worker (time-skipping server) ------------------------------------------------------------


class Call(BaseModel):
    translation: TranslationJob | None = None
    booking: InterpretationBooking | None = None
    start_to_close_seconds: float = 20


@workflow.defn
class CallServicesWorkflow:
    """Calls one activity the way the real workflows do: by name, with the retry policy they use."""

    @workflow.run
    async def run(self, call: Call) -> Receipt:
        policy = RetryPolicy(
            initial_interval=timedelta(seconds=1), non_retryable_error_types=[REJECTED_BY_SERVICES]
        )
        timeout = timedelta(seconds=call.start_to_close_seconds)
        arg: TranslationJob | InterpretationBooking
        if call.translation is not None:
            name, arg, summary = SUBMIT_TRANSLATION, call.translation, f"translate {call.translation.symbol}"
        else:
            assert call.booking is not None
            name, arg, summary = (
                BOOK_INTERPRETATION,
                call.booking,
                f"book interpretation for {call.booking.day}",
            )
        receipt: Receipt = await workflow.execute_activity(
            name,
            arg,
            result_type=Receipt,  # by name, an activity's result is typed only by result_type
            start_to_close_timeout=timeout,
            retry_policy=policy,
            summary=summary,
        )
        return receipt


@pytest.fixture
async def worker(ts_env: WorkflowEnvironment, http: httpx.AsyncClient) -> AsyncIterator[Worker]:
    activities = ConferenceServices(http)
    async with build_worker(
        ts_env.client,
        None,
        f"tq-{uuid.uuid4()}",
        extra_workflows=[CallServicesWorkflow],
        only_activities=[activities.submit_translation, activities.book_interpretation],
    ) as w:
        yield w


async def call(env: WorkflowEnvironment, worker: Worker, c: Call) -> Receipt:
    return await env.client.execute_workflow(
        CallServicesWorkflow.run, c, id=f"call-{uuid.uuid4()}", task_queue=worker.task_queue
    )


async def test_a_stopping_worker_lets_the_call_in_hand_finish(
    ts_env: WorkflowEnvironment, http: httpx.AsyncClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker's graceful shutdown (worker.GRACEFUL_SHUTDOWN), which its log line "finishing tasks in hand"
    promises: a call to conference services under way when the worker is stopped is answered, not cut off and sent
    again. Without it, the SDK cancels activities as soon as shutdown begins, and the job is posted twice."""
    caplog.set_level(logging.INFO, logger="temporalio.worker._worker")
    services.script(TRANSLATIONS, Step(delay=60))  # held until released below
    job = translation(services.url)
    activities = ConferenceServices(http)
    # No cache: the workflow's next task must not wait on the stopped worker's sticky queue (the time-skipping
    # server does not move it).
    options: dict[str, Any] = {
        "extra_workflows": [CallServicesWorkflow],
        "only_activities": [activities.submit_translation, activities.book_interpretation],
        "max_cached_workflows": 0,
    }
    queue = f"tq-{uuid.uuid4()}"
    worker = build_worker(ts_env.client, None, queue, **options)
    async with worker:
        handle = await ts_env.client.start_workflow(
            CallServicesWorkflow.run, Call(translation=job), id=f"call-{uuid.uuid4()}", task_queue=queue
        )
        while not services.keys(TRANSLATIONS):
            await asyncio.sleep(0.05)
        stopping = asyncio.create_task(worker.shutdown())
        while "Beginning worker shutdown" not in caplog.text:
            await asyncio.sleep(0.05)
        # A moment into the shutdown: an activity the SDK cancels at once is cancelled by now.
        await asyncio.sleep(1)
        services.release.set()
        await stopping
    # Another worker completes the workflow (and, had the call been cut off, would have sent it again).
    async with build_worker(ts_env.client, None, queue, **options):
        receipt = await handle.result()
    assert receipt == Receipt(reference="REF-1", duplicate=False)
    assert services.keys(TRANSLATIONS) == [job.idempotency_key]


async def test_worker_retries_a_500_with_the_same_key_and_one_job_is_made(
    ts_env: WorkflowEnvironment, worker: Worker, services: Services
) -> None:
    services.script(TRANSLATIONS, Step(status=500), ACCEPT)
    job = translation(services.url)
    receipt = await call(ts_env, worker, Call(translation=job))
    assert receipt == Receipt(reference="REF-1", duplicate=False)
    assert services.keys(TRANSLATIONS) == [job.idempotency_key] * 2
    assert services.jobs == {(TRANSLATIONS, job.idempotency_key): "REF-1"}


async def test_worker_does_not_retry_a_400(
    ts_env: WorkflowEnvironment, worker: Worker, services: Services
) -> None:
    services.script(BOOKINGS, Step(status=400))
    with pytest.raises(WorkflowFailureError) as info:
        await call(ts_env, worker, Call(booking=booking(services.url)))
    activity_error = info.value.cause
    assert isinstance(activity_error, ActivityError)
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError) and cause.type == REJECTED_BY_SERVICES, cause
    assert f"refused by {services.url}{BOOKINGS}: 400" in cause.message
    assert len(services.seen) == 1 and not services.jobs


async def test_worker_retries_an_answer_slower_than_the_timeout(
    ts_env: WorkflowEnvironment, worker: Worker, services: Services
) -> None:
    # The first answer comes after 10 s; the activity may take 2 s: the second attempt gets the job.
    services.script(TRANSLATIONS, Step(delay=10), ACCEPT)
    job = translation(services.url)
    receipt = await call(ts_env, worker, Call(translation=job, start_to_close_seconds=2))
    assert services.keys(TRANSLATIONS) == [job.idempotency_key] * 2
    assert services.jobs == {(TRANSLATIONS, job.idempotency_key): receipt.reference}


# --- the receiver of `make run` ---------------------------------------------------------------------------------


async def test_receiver_stores_one_file_per_key_and_survives_a_restart(
    ts_env: WorkflowEnvironment, worker: Worker, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    with Receiver(tmp_path, log=None) as receiver:
        job = translation(receiver.url)
        first = await call(ts_env, worker, Call(translation=job))
        again = await call(ts_env, worker, Call(translation=job))
        other = await call(
            ts_env, worker, Call(translation=translation(receiver.url, key="ccm-doc-CCM/MSP/2027/3-es"))
        )
        day = await ActivityEnvironment().run(
            ConferenceServices(http).book_interpretation, booking(receiver.url)
        )
    assert first == Receipt(reference="UNOG-T-000001", duplicate=False)
    assert again == Receipt(reference="UNOG-T-000001", duplicate=True)
    assert other == Receipt(reference="UNOG-T-000002", duplicate=False)
    assert day == Receipt(reference="UNOG-I-000001", duplicate=False)

    files = sorted(p.name for p in (tmp_path / "translation-jobs").iterdir())
    assert files == sorted([safe_name(job.idempotency_key), safe_name("ccm-doc-CCM/MSP/2027/3-es")])
    stored = json.loads((tmp_path / "translation-jobs" / safe_name(job.idempotency_key)).read_text())
    assert stored["reference"] == "UNOG-T-000001" and stored["idempotency_key"] == job.idempotency_key
    assert stored["body"] == job.model_dump(mode="json", exclude={"base_url"}) and stored["received_at"]
    assert len(list((tmp_path / "interpretation-bookings").iterdir())) == 1

    # A new receiver on the same directory knows every key, and numbers on.
    with Receiver(tmp_path, log=None) as restarted:
        activities = ConferenceServices(http)
        same = await ActivityEnvironment().run(activities.submit_translation, translation(restarted.url))
        new = await ActivityEnvironment().run(
            activities.submit_translation, translation(restarted.url, key="ccm-doc-CCM/MSP/2027/3-ru")
        )
    assert same == Receipt(reference="UNOG-T-000001", duplicate=True)
    assert new == Receipt(reference="UNOG-T-000003", duplicate=False)
    assert len(list((tmp_path / "translation-jobs").iterdir())) == 3


async def test_receiver_answers_400_404_and_health(tmp_path: Path, http: httpx.AsyncClient) -> None:
    with Receiver(tmp_path, log=None) as receiver:
        url = receiver.url
        health = await http.get(f"{url}/health")
        no_key = await http.post(f"{url}{TRANSLATIONS}", json={"symbol": "x"})
        bad_json = await http.post(
            f"{url}{TRANSLATIONS}", content=b'{"symbol": ', headers={"Idempotency-Key": "k"}
        )
        not_object = await http.post(f"{url}{BOOKINGS}", json=[1, 2], headers={"Idempotency-Key": "k"})
        elsewhere = await http.post(f"{url}/invoices", json={}, headers={"Idempotency-Key": "k"})
        get_elsewhere = await http.get(f"{url}/translation-jobs")
    assert health.status_code == HTTPStatus.OK and health.json() == {"status": "ok"}
    assert [r.status_code for r in (no_key, bad_json, not_object)] == [400] * 3
    assert "Idempotency-Key" in no_key.json()["error"] and "not JSON" in bad_json.json()["error"]
    assert elsewhere.status_code == get_elsewhere.status_code == 404
    assert not list(tmp_path.rglob("*.json"))  # nothing refused is stored


# --- cancelling a job (a withdrawn document), by the key it was sent with -----------------------------------------


def cancellation(base_url: str, key: str = "ccm-doc-CCM/MSP/2027/3-fr") -> JobCancellation:
    reason = "withdrawn by the Secretariat"
    return wire(JobCancellation, base_url, key, symbol="CCM/MSP/2027/3", target_language="fr", reason=reason)


async def test_receiver_cancels_a_job_until_it_is_completed_and_refuses_one_cancelled_before_it_came(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    services = ConferenceServices(http)
    run = ActivityEnvironment().run
    sent, done, never = "ccm-doc-A:fr", "ccm-doc-A:es", "ccm-doc-A:ru"
    with Receiver(tmp_path, log=None) as receiver:
        url = receiver.url
        assert (await run(services.submit_translation, translation(url, sent))).reference == "UNOG-T-000001"
        assert (await run(services.submit_translation, translation(url, done))).reference == "UNOG-T-000002"
        completed = await http.post(f"{url}/translation-jobs/complete", headers={"Idempotency-Key": done})
        assert completed.status_code == 200 and completed.json()["status"] == "completed", completed.text

        # Not yet completed: cancelled, and asking again is answered the same.
        first = await run(services.cancel_translation, cancellation(url, sent))
        again = await run(services.cancel_translation, cancellation(url, sent))
        assert first == again == Cancellation(cancelled=True, reference="UNOG-T-000001")
        # Completed: too late, the money is spent.
        late = await run(services.cancel_translation, cancellation(url, done))
        assert not late.cancelled and late.reference == "UNOG-T-000002"
        assert "UNOG-T-000002 was completed" in late.detail and "can no longer be cancelled" in late.detail
        # Never received (still on its way): cancelled, and the job that arrives afterwards is refused for good.
        unsent = await run(services.cancel_translation, cancellation(url, never))
        assert unsent == Cancellation(cancelled=True, reference=None)
        err = await failure(services.submit_translation, translation(url, never))
        assert err.type == REJECTED_BY_SERVICES and err.non_retryable
        assert "409" in err.message and "was cancelled" in err.message
        # A cancelled job cannot be completed; an unknown one neither.
        for key, status in ((sent, 409), ("ccm-doc-B:fr", 404)):
            r = await http.post(f"{url}/translation-jobs/complete", headers={"Idempotency-Key": key})
            assert r.status_code == status, r.text

    def record(key: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((tmp_path / "translation-jobs" / safe_name(key)).read_text())
        return loaded

    assert (
        record(sent)["status"] == "cancelled"
        and record(sent)["cancel_reason"] == "withdrawn by the Secretariat"
    )
    assert record(sent)["cancelled_at"] and record(sent)["body"]["symbol"] == "CCM/MSP/2027/3"
    assert record(done)["status"] == "completed" and record(done)["completed_at"]
    assert (record(never)["status"], record(never)["reference"], record(never)["body"]) == (
        "cancelled",
        None,
        None,
    )

    # A receiver started again on the same files knows every cancellation, and numbers on.
    with Receiver(tmp_path, log=None) as restarted:
        still = await run(services.cancel_translation, cancellation(restarted.url, never))
        assert still == Cancellation(cancelled=True, reference=None)
        assert (
            await failure(services.submit_translation, translation(restarted.url, never))
        ).type == REJECTED_BY_SERVICES
        new = await run(services.submit_translation, translation(restarted.url, "ccm-doc-A:zh"))
    assert new.reference == "UNOG-T-000003"


async def test_a_cancellation_counts_only_when_confirmed(services: Services, http: httpx.AsyncClient) -> None:
    activities = ConferenceServices(http)
    cancel = f"{TRANSLATIONS}/cancel"

    async def cancel_fails(step: Step) -> ApplicationError:
        services.script(cancel, step)
        with pytest.raises(ApplicationError) as info:
            await ActivityEnvironment().run(activities.cancel_translation, cancellation(services.url))
        return info.value

    # A 2xx that does not say "cancelled" confirms nothing: retried.
    vague = await cancel_fails(Step(status=200, body='{"reference": "UNOG-T-1"}'))
    assert vague.type == BAD_ANSWER and not vague.non_retryable and "without confirming" in vague.message
    down = await cancel_fails(Step(status=503))
    assert down.type == UNAVAILABLE and not down.non_retryable
    refused = await cancel_fails(Step(status=404))
    assert refused.type == REJECTED_BY_SERVICES and refused.non_retryable
    assert f"refused by {services.url}{cancel}: 404" in refused.message
    # 409 is an answer, not an error: too late, whatever the body says.
    services.script(cancel, Step(status=409, body="<html>completed</html>"))
    late = await ActivityEnvironment().run(activities.cancel_translation, cancellation(services.url))
    assert late == Cancellation(cancelled=False, reference=None, detail="<html>completed</html>")
    services.script(cancel, Step(status=200, body='{"status": "cancelled", "reference": "UNOG-T-7"}'))
    ok = await ActivityEnvironment().run(activities.cancel_translation, cancellation(services.url))
    assert ok == Cancellation(cancelled=True, reference="UNOG-T-7")
    # The key names the job; the body says which and why, without the address.
    seen = [s for s in services.seen if s.path == cancel]
    assert {s.key for s in seen} == {"ccm-doc-CCM/MSP/2027/3-fr"} and len(seen) == 5
    assert seen[-1].body == {
        "symbol": "CCM/MSP/2027/3",
        "target_language": "fr",
        "reason": "withdrawn by the Secretariat",
    }


# --- the receiver's connections ---------------------------------------------------------------------------------


def test_receiver_drops_a_client_that_stalls_halfway_through_a_request(tmp_path: Path) -> None:
    with Receiver(tmp_path, log=None, read_timeout=0.3) as receiver:
        halves = [
            b"POST /translation-jobs HTTP/1.1\r\nHost: x\r\n",  # headers never finished
            b"POST /translation-jobs HTTP/1.1\r\nContent-Length: 100\r\nIdempotency-Key: k\r\n\r\n{",  # body
        ]
        for half in halves:
            with socket.create_connection(("127.0.0.1", receiver.port), timeout=20) as s:
                s.sendall(half)
                # The receiver closes the connection (an empty read) rather than wait for the rest forever.
                assert s.recv(1024) == b"", half
        # Others are served meanwhile and after.
        with socket.create_connection(("127.0.0.1", receiver.port), timeout=20) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(1024).startswith(b"HTTP/1.1 200"), "health"
    assert not list(tmp_path.rglob("*.json"))
    default = Receiver(tmp_path, log=None)
    try:
        assert default._server.read_timeout == READ_TIMEOUT and 0 < READ_TIMEOUT <= 30
    finally:
        default.stop()


def test_http_handlers_that_keep_connections_alive_send_at_once() -> None:
    # Keep-alive with headers and body written apart: with Nagle on, each answer waits ~40 ms for an ACK.
    assert receiver_handler.protocol_version == "HTTP/1.1" and receiver_handler.disable_nagle_algorithm


def test_httpcore_finds_sniffio_among_the_loaded_modules() -> None:
    # httpcore asks sniffio which event loop runs on every request: were it missing, every ask would search
    # sys.path again (pyproject.toml).
    from httpcore._synchronization import current_async_library

    async def ask() -> str:
        return current_async_library()

    assert asyncio.run(ask()) == "asyncio"
    assert "sniffio" in sys.modules
