"""Small pieces every workflow uses: the rejection of a decision, search attributes written only on change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

Updates = Sequence[SearchAttributeUpdate[Any]]


def rejected(reason: str) -> ApplicationError:
    """The error a validator raises: the client gets ``reason`` at once and nothing is written."""
    return ApplicationError(reason, type="DecisionRejected", non_retryable=True)


def upsert_changed(previous: Updates, updates: Updates) -> Updates:
    """Upserts search attributes only when one changed: each upsert is a history event."""
    if [(u.key.name, u.value) for u in updates] != [(u.key.name, u.value) for u in previous]:
        workflow.upsert_search_attributes(updates)
    return updates
