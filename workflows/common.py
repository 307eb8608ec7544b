"""Small pieces every workflow uses: the rejection of a decision, search attributes written only on change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

from domain.conference import REJECTED_BY_SERVICES

Updates = Sequence[SearchAttributeUpdate[Any]]

# Conference services: retried until they answer, except when they refuse (HTTP 4xx).
SERVICES_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[REJECTED_BY_SERVICES],
)


def rejected(reason: str) -> ApplicationError:
    """The error a validator raises: the client gets ``reason`` at once and nothing is written."""
    return ApplicationError(reason, type="DecisionRejected", non_retryable=True)


def upsert_changed(previous: Updates, updates: Updates) -> Updates:
    """Upserts search attributes only when one changed: each upsert is a history event."""
    if [(u.key.name, u.value) for u in updates] != [(u.key.name, u.value) for u in previous]:
        workflow.upsert_search_attributes(updates)
    return updates
