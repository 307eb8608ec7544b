"""The worker's interceptor that counts decisions: ``ccm_decisions_accepted`` and ``ccm_decisions_rejected``.

Decisions are Updates with validators, in eight workflow types; counting them here, once, keeps every handler as
it is. A validator that raises the ``DecisionRejected`` error is a rejection: a validator runs once, for a new
update and never on replay, and may use the workflow's metric meter (it writes nothing to the history). A handler
that raises it is one too (the rule is checked again when applied). A handler that returns an outcome that is not
a duplicate (the same decision id sent again) is an acceptance. The update's name is the ``decision`` attribute.

Only the worker imports this module (worker.build_worker); the counters and ``count()`` are in workflows/common.py.
"""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from domain.decisions import DECISION_REJECTED
from workflows.common import DECISIONS_ACCEPTED, DECISIONS_REJECTED, count

# The error type of a rejected decision (workflows.decisions.rejected), under the name it had here.
REJECTED_TYPE = DECISION_REJECTED


class DecisionMetrics(Interceptor):
    """Counts every decision accepted or rejected, in any workflow of the worker it is given to."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _DecisionCounter


class _DecisionCounter(WorkflowInboundInterceptor):
    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        try:
            super().handle_update_validator(input)
        except ApplicationError as e:
            if e.type == DECISION_REJECTED:
                count(DECISIONS_REJECTED, decision=input.update)
            raise

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        try:
            outcome = await super().handle_update_handler(input)
        except ApplicationError as e:
            if e.type == DECISION_REJECTED:
                count(DECISIONS_REJECTED, decision=input.update)
            raise
        if not getattr(outcome, "duplicate", False):
            count(DECISIONS_ACCEPTED, decision=input.update)
        return outcome
