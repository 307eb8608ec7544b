"""Small pieces every workflow uses: the rejection of a decision, search attributes written only on change."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

from domain.conference import REJECTED_BY_SERVICES
from domain.notifications import REJECTED_BY_WEBHOOK, Delivery, Notification

Updates = Sequence[SearchAttributeUpdate[Any]]

# Conference services: retried until they answer, except when they refuse (HTTP 4xx).
SERVICES_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[REJECTED_BY_SERVICES],
)


# Notifications are retried until the webhook takes them, however long it is down.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2,
    maximum_interval=timedelta(hours=1),
    non_retryable_error_types=[REJECTED_BY_WEBHOOK],
)


async def notify(note: Notification, summary: str) -> Delivery:
    """Sends one notification (the activity ``send_notification``), retried until the webhook takes it."""
    delivery: Delivery = await workflow.execute_activity(
        "send_notification",
        note,
        result_type=Delivery,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=NOTIFY_RETRY,
        summary=summary,
    )
    return delivery


async def sleep_until_or(at: datetime, changed: Callable[[], bool], summary: str) -> bool:
    """Waits until ``at`` unless ``changed()`` comes true first; True when the time came and nothing changed."""
    if at > workflow.now():
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(changed, timeout=at - workflow.now(), timeout_summary=summary)
    return not changed()


def rejected(reason: str) -> ApplicationError:
    """The error a validator raises: the client gets ``reason`` at once and nothing is written."""
    return ApplicationError(reason, type="DecisionRejected", non_retryable=True)


def upsert_changed(previous: Updates, updates: Updates) -> Updates:
    """Upserts search attributes only when one changed: each upsert is a history event."""
    if [(u.key.name, u.value) for u in updates] != [(u.key.name, u.value) for u in previous]:
        workflow.upsert_search_attributes(updates)
    return updates
