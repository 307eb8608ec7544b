"""Small pieces every workflow uses: search attributes written only on change, notifications and what becomes of
one the webhook refuses, the refusal of a start input, the engine's counters. (Decisions: workflows/decisions.py.)"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityHandle

from domain import search_attributes as sa
from domain.bounds import md, quote
from domain.calendar import day_start
from domain.conference import REJECTED_BY_SERVICES
from domain.models import Defaults
from domain.notifications import (
    KEEP_UNDELIVERABLE,
    REJECTED_BY_WEBHOOK,
    Delivery,
    Notification,
    Undeliverable,
)
from domain.reviews import Reminder

Updates = Sequence[SearchAttributeUpdate[Any]]
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

# Every workflow's ``failure_exception_types``. A start input the SDK cannot decode into the workflow's model
# raises pydantic's ValidationError before any workflow code runs; left alone it would fail the workflow task, again
# and again, with the workflow looking Running. As a failure type it fails the workflow at once, naming the field;
# an update's arguments that cannot be decoded are rejected with it (signals that cannot be decoded are dropped by
# the SDK in any case).
FAIL_ON_INVALID_INPUT: Sequence[type[BaseException]] = (ValidationError,)
INPUT_REJECTED = "InputRejected"

# Conference services: retried until they answer, except when they refuse (HTTP 4xx).
SERVICES_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[REJECTED_BY_SERVICES],
)


def start_call(
    name: str, arg: object, result_type: type[T], retry_policy: RetryPolicy, summary: str
) -> ActivityHandle[T]:
    """Starts one call of the activity ``name`` to a service outside: 30 s a try, retried by ``retry_policy``.
    Await it for the answer."""
    return workflow.start_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=retry_policy,
        summary=summary,
    )


def refusal(e: ActivityError, kind: str) -> ApplicationError | None:
    """The refusal (the ``ApplicationError`` of type ``kind``) that failed an activity; None for any other failure."""
    cause = e.cause
    return cause if isinstance(cause, ApplicationError) and cause.type == kind else None


async def call_or_refusal(
    name: str, arg: object, result_type: type[T], retry_policy: RetryPolicy, summary: str, kind: str
) -> T | ApplicationError:
    """The answer of one call (``start_call``), or the service's refusal of type ``kind``; any other failure
    raises."""
    try:
        return await start_call(name, arg, result_type, retry_policy, summary)
    except ActivityError as e:
        if (refused := refusal(e, kind)) is None:
            raise
        return refused


def call_services(name: str, arg: object, result_type: type[T], summary: str) -> ActivityHandle[T]:
    """Starts one call to conference services (the activity ``name``), retried until they answer or refuse
    (SERVICES_RETRY)."""
    return start_call(name, arg, result_type, SERVICES_RETRY, summary)


# Notifications are retried until the webhook takes them, however long it is down, unless it refuses them (a 4xx
# other than 408 and 429): then the workflow records them as undeliverable and goes on.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2,
    maximum_interval=timedelta(hours=1),
    non_retryable_error_types=[REJECTED_BY_WEBHOOK],
)
# Before it, a refused notification failed the whole workflow (a silence procedure at its deadline, an extension
# request at its submission); a history that failed so replays so.
UNDELIVERABLE_RECORDED = "notification-undeliverable-recorded"
# A silence procedure whose circulation was refused while that earlier version ran holds the refusal in its history
# (so replay cannot record it when it came); past this patch, it is recorded at the deadline rather than failing it.
UNDELIVERABLE_RECORDED_LATE = "notification-undeliverable-recorded-late"


def start_notification(note: Notification, summary: str) -> ActivityHandle[Delivery]:
    """Starts sending one notification (the activity ``send_notification``); ``delivered`` awaits it."""
    return start_call("send_notification", note, Delivery, NOTIFY_RETRY, summary)


async def delivered(
    note: Notification,
    sending: Awaitable[Delivery],
    undeliverable: list[Undeliverable],
    *patches: str,
) -> Delivery | None:
    """The delivery of a notification being sent; None when the webhook refused it (see ``recorded``)."""
    try:
        delivery = await sending
    except ActivityError as e:
        if not recorded(note, e, undeliverable, *patches):
            raise
        return None
    if not delivery.duplicate:
        count(REMINDERS_SENT, kind=note.kind)
    return delivery


def recorded(note: Notification, e: ActivityError, undeliverable: list[Undeliverable], *patches: str) -> bool:
    """Appends a notification the webhook refused to ``undeliverable`` (the workflow's record, which it shows and
    flags in CcmAttention), counted and logged. False for any other failure, and in a history where the refusal
    failed the workflow: recorded before the first of ``patches`` that applies (default UNDELIVERABLE_RECORDED)."""
    cause = refusal(e, REJECTED_BY_WEBHOOK)
    if cause is None:
        return False
    if not any(workflow.patched(p) for p in patches or (UNDELIVERABLE_RECORDED,)):
        return False
    undeliverable.append(
        Undeliverable(
            key=note.idempotency_key,
            kind=note.kind,
            webhook=note.webhook,
            at=workflow.now(),
            reason=cause.message[:600],
        )
    )
    del undeliverable[:-KEEP_UNDELIVERABLE]
    count(NOTIFICATIONS_UNDELIVERABLE, kind=note.kind)
    workflow.logger.warning(
        "notification %s undeliverable: %s", note.idempotency_key, cause.message, extra={"kind": note.kind}
    )
    return True


async def notify(note: Notification, summary: str, undeliverable: list[Undeliverable]) -> Delivery | None:
    """Sends one notification, retried until the webhook takes it; None when it refused it (see ``delivered``)."""
    return await delivered(note, start_notification(note, summary), undeliverable)


def attention(previous: Updates, **flags: bool) -> list[SearchAttributeUpdate[Any]]:
    """The CcmAttention update for the flags that hold (``undeliverable=True``): set while any holds, unset once
    none does; nothing for a workflow that never needed attention, so its commands stay as they were."""
    values = sorted(name for name, on in flags.items() if on)
    if values:
        return [sa.ATTENTION.value_set(values)]
    if any(u.key.name == sa.ATTENTION.name for u in previous):
        return [sa.ATTENTION.value_unset()]
    return []


async def sleep_until_or(at: datetime, changed: Callable[[], bool], summary: str) -> bool:
    """Waits until ``at`` unless ``changed()`` comes true first; True when the time came and nothing changed."""
    if at > workflow.now():
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(changed, timeout=at - workflow.now(), timeout_summary=summary)
    return not changed()


async def until_withdrawal(on: date, state: str, defaults: Defaults) -> None:
    """Waits for the start of ``on``, the day ``state``'s withdrawal takes effect (Art. 20): its obligations end then
    (an Article 7 watch's, a deadline's watch)."""
    at = day_start(on, defaults)
    if at > workflow.now():
        await workflow.sleep(
            at - workflow.now(), summary=f"the withdrawal of {md(state)} takes effect on {on}"
        )


async def reminder_due(reminder: Reminder, defaults: Defaults, changed: Callable[[], bool]) -> bool:
    """Waits for the start of ``reminder``'s day unless ``changed()`` comes true first; True when it is due. (The
    reviews, the requests for extension and the Article 7 watches send their reminders so.)"""
    return await sleep_until_or(
        day_start(reminder.on, defaults), changed, f"{reminder.kind} on {reminder.on}"
    )


# From this patch on, a run begun after the day of its next overdue reminder sends the first one on its own first day
# or after, not every reminder it missed at once: started years after a deadline had passed, a watch sent 90 in one
# burst. Asked only where it changes which reminder comes next, so that histories from before it replay as they ran.
FROM_START = "overdue-reminders-from-start"


def from_start(reminder: Reminder, started: date, later: Callable[[], Reminder]) -> Reminder:
    """``reminder``; or, its day passed before the run began on ``started``, ``later()`` (FROM_START)."""
    if reminder.on < started and workflow.patched(FROM_START):
        return later()
    return reminder


def refused(reason: str) -> ApplicationError:
    """The error that fails a workflow started with an input it cannot carry out: at once, and never retried."""
    return ApplicationError(reason, type=INPUT_REJECTED, non_retryable=True)


def start_input(value: object, model: type[M]) -> M:
    """The workflow's start input; a null one (the SDK decodes it as None whatever the type) fails the workflow."""
    if not isinstance(value, model):
        raise refused(f"the workflow needs its input ({model.__name__}) to start, not {quote(value)}")
    return value


def signal_payload(value: object, model: type[Any], signal: str) -> bool:
    """Whether a signal's payload is what its handler takes; a null one is dropped, as the SDK drops one it cannot
    decode (a signal cannot be refused, and a handler that raised would fail every workflow task after it)."""
    if isinstance(value, model):
        return True
    workflow.logger.warning("signal %s dropped: expected a %s, got %s", signal, model.__name__, quote(value))
    return False


# From this patch on, every kind upserts a CcmPhase and CcmAttention carries overdue, at_risk, shortfall and
# undeliverable wherever they apply, so that one query (CcmAttention IS NOT NULL) lists what needs a person (issue 12,
# item 3). Each workflow asks for it once, as its run begins; histories from before it replay without the upserts.
ATTENTION_ALL = "attention-all-kinds"


def upsert_kind(
    previous: Updates,
    kind: sa.Kind,
    convention: str,
    *more: SearchAttributeUpdate[Any],
    undeliverable: bool | None = None,
    flags: Mapping[str, bool] | None = None,
) -> Updates:
    """A workflow's search attributes: its kind and convention, ``more``, then (for one that keeps the notifications
    its webhook refused: ``undeliverable`` given; or ``flags`` given, from ATTENTION_ALL on) CcmAttention; upserted
    only when one changed."""
    updates = [sa.KIND.value_set(kind), sa.CONVENTION.value_set(convention), *more]
    if flags is not None:
        updates += attention(previous, **flags, undeliverable=bool(undeliverable))
    elif undeliverable is not None:
        updates += attention(previous, undeliverable=undeliverable)
    return upsert_changed(previous, updates)


def upsert_changed(previous: Updates, updates: Updates) -> Updates:
    """Upserts search attributes only when one changed: each upsert is a history event."""
    if [(u.key.name, u.value) for u in updates] != [(u.key.name, u.value) for u in previous]:
        workflow.upsert_search_attributes(updates)
    return updates


# The engine's own counters, served with the SDK's metrics on the worker's Prometheus endpoint (CCM_METRICS_ADDRESS).
# The SDK's workflow meter drops every recording while a workflow replays history, so each counts what happened
# once; recording issues no command, so a count added or moved never breaks replay. Attributes stay coarse (the
# SDK adds workflow_type, namespace, task_queue): never a person's or a State's name. Decisions are counted by the
# worker's interceptor (workflows/metrics.py). (They live here, not in a module of their own, because a new module
# importing temporalio.workflow for the workflow modules sends mypy 2.4 astray on every get_workflow_handle_for.)
DECISIONS_ACCEPTED = "ccm_decisions_accepted"
DECISIONS_REJECTED = "ccm_decisions_rejected"
FUNDS_GRANTED = "ccm_funds_granted"
FUNDS_GRANTED_CHF = "ccm_funds_granted_chf"
DOCUMENTS_ISSUED = "ccm_documents_issued"
REMINDERS_SENT = "ccm_reminders_sent"
NOTIFICATIONS_UNDELIVERABLE = "ccm_notifications_undeliverable"

COUNTERS = {
    DECISIONS_ACCEPTED: "Decisions (updates) accepted and applied, duplicates not counted",
    DECISIONS_REJECTED: "Decisions (updates) rejected with a reason",
    FUNDS_GRANTED: "Requests for money granted by a meeting's ledger",
    FUNDS_GRANTED_CHF: "Money granted by a meeting's ledger, in whole Swiss francs",
    DOCUMENTS_ISSUED: "Official documents issued, one per language",
    REMINDERS_SENT: "Notifications delivered (reminders, escalations, notices), duplicates not counted",
    NOTIFICATIONS_UNDELIVERABLE: "Notifications the webhook refused (a 4xx other than 408/429), recorded by their workflow",
}


def count(name: str, value: int = 1, **attributes: str) -> None:
    """Adds ``value`` to the engine's counter ``name`` (one of COUNTERS); nothing while replaying."""
    workflow.metric_meter().create_counter(name, COUNTERS[name]).add(value, attributes or None)
