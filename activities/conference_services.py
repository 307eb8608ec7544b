"""Conference services (UNOG): sending translation jobs and booking interpretation, over HTTP with httpx.

One ``ConferenceServices`` per worker process holds the one ``httpx.AsyncClient`` its activities share; its bound
methods are the activities (``submit_translation``, ``submit_translations``, ``book_interpretation``,
``cancel_translation``). Every request carries the job's idempotency key (``Idempotency-Key`` header), so a retry after
a lost answer creates no second job, and a cancellation names the job by the same key.

What becomes of an answer:

- 2xx: a ``Receipt`` with conference services' reference; ``duplicate`` when they had the key already (the JSON
  field ``duplicate`` when the answer has it, else status 200 rather than 201);
- 5xx, 408, 429, timeouts, connection errors, a 2xx without a reference: a retryable ``ApplicationError``
  (type ``UNAVAILABLE`` or ``BAD_ANSWER``) naming the address, so Temporal retries with the workflow's policy;
- any other 4xx (and 3xx): non-retryable ``ApplicationError`` of type ``REJECTED_BY_SERVICES``: retrying cannot
  help, the workflow decides what to do.

A cancellation (``POST <base>/translation-jobs/cancel``) answers 200 with ``"status": "cancelled"`` (a ``Cancellation``
that frees the job's money), or 409 when the job was completed: too late, a ``Cancellation`` with ``cancelled`` false
(the money stays spent). A 2xx that does not say "cancelled" is a bad answer, retried: only an explicit confirmation
counts.

Workflows call them by name, so that they import neither this module nor httpx::

    workflow.execute_activity("submit_translation", job, result_type=Receipt, ...)
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Self

import httpx
import structlog
from pydantic import BaseModel
from structlog.stdlib import BoundLogger
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.conference import (
    BOOK_INTERPRETATION,
    CANCEL_TRANSLATION,
    REJECTED_BY_SERVICES,
    SUBMIT_TRANSLATION,
    SUBMIT_TRANSLATIONS,
    Cancellation,
    InterpretationBooking,
    JobAnswer,
    JobAnswers,
    JobCancellation,
    Receipt,
    TranslationBatch,
    TranslationJob,
)
from domain.notifications import redact_in, redact_url

# Conference services' answer to cancelling a job already completed.
TOO_LATE = 409

# ApplicationError types of failures worth retrying: the service could not be reached or answered 5xx/408/429,
# or it accepted the request but its answer could not be read (a retry with the same key fetches the reference).
UNAVAILABLE = "ConferenceServicesUnavailable"
BAD_ANSWER = "ConferenceServicesBadAnswer"

CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 15.0
# The worker's HTTP connections (conference services'; the webhooks and the mail gateway share them), every one kept
# alive between requests. httpx's defaults (100, 20 of them kept) closed most of a burst's connections after it, so
# the next burst opened them again, and a burst of new connections overflows a small server's accept queue (each
# dropped SYN costs a 1 s retransmission). Requests beyond these wait for their turn (HttpActivities): a few
# milliseconds each at a healthy service (issue 16, docs/performance.md).
MAX_CONNECTIONS = 20
# At most this much of a refusal's body goes into the error message (and so into the workflow history).
BODY_EXCERPT = 300
# A Retry-After longer than this is not honoured as such: the workflow's retry policy applies instead.
MAX_RETRY_AFTER = 300.0
RETRYABLE_4XX = frozenset({408, 429})
# How long a batch of jobs waits for all of its answers before it leaves the unanswered ones to be sent alone: far
# beyond a healthy answer (milliseconds), well within one attempt's 30 s.
PATIENCE = 10.0

log = structlog.get_logger("activities.conference_services")


def new_client(
    connect_timeout: float = CONNECT_TIMEOUT,
    total_timeout: float = TOTAL_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> httpx.AsyncClient:
    """The worker's client: connect within ``connect_timeout`` s, no single read or write longer than the total,
    at most ``max_connections`` open, all kept alive."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(total_timeout, connect=connect_timeout),
        follow_redirects=False,
        headers={"Accept": "application/json"},
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
    )


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= BODY_EXCERPT else text[:BODY_EXCERPT] + "…"


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None  # absent, or an HTTP date: leave it to the retry policy
    if 0 < seconds <= MAX_RETRY_AFTER:
        return timedelta(seconds=seconds)
    return None


class HttpActivities:
    """Activities sharing one HTTP client per worker process.

    Without ``client`` it makes its own (see ``new_client``) and ``aclose()`` closes it; a client passed in
    belongs to the caller. ``total_timeout`` bounds a whole request, from connecting to the last byte read (waiting
    for its turn included); ``patience``, how long a batch waits for all its answers (``submit_translations``);
    ``in_flight``, how many of its requests go out at once.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        total_timeout: float = TOTAL_TIMEOUT,
        patience: float = PATIENCE,
        in_flight: int = MAX_CONNECTIONS,
    ) -> None:
        self._owns_client = client is None
        self.client = client if client is not None else new_client(connect_timeout, total_timeout)
        self.total_timeout = total_timeout
        self.patience = patience
        # The rest wait here rather than in httpcore's pool, which scans every queued request against every
        # connection each time one is assigned or freed: with 500 jobs queued, 29% of the worker's time.
        self._turns = asyncio.Semaphore(in_flight)

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _post_json(
        self,
        url: str,
        payload: dict[str, Any],
        key: str,
        what: str,
        peer: str,
        bound: BoundLogger,
        *,
        retry_type: str,
        refused_type: str,
        answers: frozenset[int] = frozenset(),
    ) -> tuple[httpx.Response, BoundLogger]:
        """POSTs with an idempotency key; returns a 2xx answer (or one in ``answers``), else raises what Temporal
        should do about it.

        No answer, no connection, 5xx, 408 and 429 are retryable (``retry_type``, honouring Retry-After); any
        other answer is a refusal that retrying cannot mend (``refused_type``, non-retryable). Every message
        names ``url`` as ``redact_url`` shows it.
        """
        attempt = activity.info().attempt if activity.in_activity() else 1
        # Messages go into the workflow's history (never encrypted) and logs: the URL without its secrets.
        shown = redact_url(url)
        bound = bound.bind(url=shown, attempt=attempt)
        try:
            async with asyncio.timeout(self.total_timeout), self._turns:
                response = await self.client.post(url, json=payload, headers={"Idempotency-Key": key})
        except (TimeoutError, httpx.TimeoutException) as e:
            bound.warning(f"{what}: no answer in time, will retry", error=type(e).__name__)
            raise ApplicationError(
                f"{peer} at {shown} did not answer the {what} within {self.total_timeout:g} s ({type(e).__name__})",
                type=retry_type,
            ) from None
        except httpx.TransportError as e:
            error = redact_in(f"{type(e).__name__}: {e}", url)
            bound.warning(f"{what}: cannot reach {peer}, will retry", error=error)
            raise ApplicationError(
                f"cannot reach {peer} at {shown} for the {what}: {error}", type=retry_type
            ) from None
        status = response.status_code
        if response.is_success or status in answers:
            return response, bound
        said = redact_in(_excerpt(response.text), url)
        if status >= 500 or status in RETRYABLE_4XX:
            bound.warning(f"{what}: {peer} answered {status}, will retry", status=status)
            raise ApplicationError(
                f"{peer} at {shown} answered the {what} with {status} {response.reason_phrase}: {said}",
                type=retry_type,
                next_retry_delay=_retry_after(response),
            )
        bound.error(f"{what} refused", status=status, body=said)
        raise ApplicationError(
            f"{what} refused by {shown}: {status} {response.reason_phrase}: {said}",
            type=refused_type,
            non_retryable=True,
        )

    async def _post(
        self,
        base_url: str,
        path: str,
        model: BaseModel,
        key: str,
        what: str,
        bound: BoundLogger,
        peer: str = "conference services",
        refused_type: str = REJECTED_BY_SERVICES,
    ) -> Receipt:
        """POSTs ``model`` (but its ``base_url``) to ``base_url``/``path`` and reads the reference in the answer; a
        2xx without one is a bad answer, retried with the same key."""
        url = f"{base_url.rstrip('/')}/{path}"
        payload = model.model_dump(mode="json", exclude={"base_url"})
        response, bound = await self._post_json(
            url,
            payload,
            key,
            what,
            peer,
            bound,
            retry_type=UNAVAILABLE,
            refused_type=refused_type,
        )
        status = response.status_code
        try:
            body: Any = response.json()
            reference = body["reference"]
            if not isinstance(reference, str) or not reference:
                raise ValueError("reference is not a non-empty string")
        except (ValueError, KeyError, TypeError) as e:
            bound.warning(f"{what}: accepted, but no reference in the answer; will retry", status=status)
            raise ApplicationError(
                f"{peer} at {redact_url(url)} accepted the {what} ({status}) without a readable "
                f"reference ({type(e).__name__}: {e}): {redact_in(_excerpt(response.text), url)}",
                type=BAD_ANSWER,
            ) from None
        flag = body.get("duplicate")
        duplicate = flag if isinstance(flag, bool) else status == 200
        bound.info(f"{what} accepted", status=status, reference=reference, duplicate=duplicate)
        return Receipt(reference=reference, duplicate=duplicate)


class ConferenceServices(HttpActivities):
    """The conference-services activities, sharing one HTTP client (one instance per worker process).

    Without ``client`` it makes its own (see ``new_client``) and ``aclose()`` closes it; a client passed in
    belongs to the caller. ``total_timeout`` bounds a whole request, from connecting to the last byte read.
    """

    @activity.defn(name=SUBMIT_TRANSLATION)
    async def submit_translation(self, job: TranslationJob) -> Receipt:
        """Sends one document's translation into one language; the same key again creates no second job."""
        bound = log.bind(
            symbol=job.symbol,
            lang=job.target_language.value,
            meeting=job.meeting,
            idempotency_key=job.idempotency_key,
        )
        return await self._post(
            job.base_url, "translation-jobs", job, job.idempotency_key, "translation job", bound
        )

    @activity.defn(name=SUBMIT_TRANSLATIONS)
    async def submit_translations(self, batch: TranslationBatch) -> JobAnswers:
        """Sends a document's jobs side by side, each as ``submit_translation`` would, and answers for each.

        A job not answered within ``patience`` seconds, or failing in a way worth retrying, is answered with neither
        receipt nor refusal: the workflow sends it again alone, with its own retries, so that one slow or failing job
        does not hold up the others' receipts. Its request here is given up; the same key makes the next one no
        second job.
        """
        sent = [asyncio.ensure_future(self.submit_translation(job)) for job in batch.jobs]
        try:
            await asyncio.wait(sent, timeout=self.patience)
        finally:
            for task in sent:
                task.cancel()  # done, or given up (or the activity itself cancelled): no request left behind
            await asyncio.gather(*sent, return_exceptions=True)
        answers = []
        for job, done in zip(batch.jobs, sent, strict=True):
            failed = None if done.cancelled() else done.exception()
            answers.append(
                JobAnswer(
                    target_language=job.target_language,
                    receipt=done.result() if not done.cancelled() and failed is None else None,
                    refused=failed.message
                    if isinstance(failed, ApplicationError) and failed.non_retryable
                    else None,
                )
            )
        return JobAnswers(answers=answers)

    @activity.defn(name=BOOK_INTERPRETATION)
    async def book_interpretation(self, b: InterpretationBooking) -> Receipt:
        """Books interpretation for one meeting day; the same key again makes no second booking."""
        bound = log.bind(
            meeting=b.meeting,
            day=b.day.isoformat(),
            languages=[lang.value for lang in b.languages],
            idempotency_key=b.idempotency_key,
        )
        return await self._post(
            b.base_url, "interpretation-bookings", b, b.idempotency_key, "interpretation booking", bound
        )

    @activity.defn(name=CANCEL_TRANSLATION)
    async def cancel_translation(self, c: JobCancellation) -> Cancellation:
        """Asks conference services to cancel the job sent with ``c.idempotency_key``; asking again is harmless."""
        bound = log.bind(symbol=c.symbol, lang=c.target_language.value, idempotency_key=c.idempotency_key)
        what = "cancellation of a translation job"
        url = f"{c.base_url.rstrip('/')}/translation-jobs/cancel"
        response, bound = await self._post_json(
            url,
            c.model_dump(mode="json", exclude={"base_url", "idempotency_key"}),
            c.idempotency_key,
            what,
            "conference services",
            bound,
            retry_type=UNAVAILABLE,
            refused_type=REJECTED_BY_SERVICES,
            answers=frozenset({TOO_LATE}),
        )
        try:
            body: Any = response.json()
            reference = body.get("reference")
            status = body.get("status")
        except (ValueError, AttributeError):
            body, reference, status = {}, None, None
        reference = reference if isinstance(reference, str) and reference else None
        if response.status_code == TOO_LATE:
            detail = redact_in(str(body.get("error") or _excerpt(response.text)), url)
            bound.info(f"{what}: too late", reference=reference, detail=detail)
            return Cancellation(cancelled=False, reference=reference, detail=_excerpt(detail))
        if status != "cancelled":
            bound.warning(f"{what}: answered without confirming it; will retry", status=response.status_code)
            raise ApplicationError(
                f"conference services at {redact_url(url)} answered the {what} ({response.status_code}) without "
                f'confirming it ("status": "cancelled"): {redact_in(_excerpt(response.text), url)}',
                type=BAD_ANSWER,
            )
        bound.info(f"{what}: confirmed", reference=reference)
        return Cancellation(cancelled=True, reference=reference)
