"""The worker's interceptor for inputs that do not fit their handler: the wrong number of arguments, or a null.

The SDK decodes a handler's arguments by its type hints only when their count matches, and decodes a null as None
whatever the type; then it calls the handler with whatever came. A signal handler that raises TypeError or
AttributeError on it fails the workflow task, again on every retry, while the workflow looks Running; an update's
validator rejects it with a message that says nothing to a person. So, before the handler runs: a signal that does not
fit is logged and dropped (a signal cannot be refused; the SDK drops one it cannot decode in the same way), and an
update that does not fit is rejected with a sentence. Only the worker imports this module (worker.build_worker).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.worker import (
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from workflows.common import refused


class InputGuard(Interceptor):
    """Drops a signal, and rejects an update, whose arguments its handler cannot take, in any workflow."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _Guard


def _misfit(name: str, args: Sequence[Any]) -> str | None:
    """Why ``args`` do not fit the handler ``name``; None when they do (or it is not a method of that name)."""
    # The engine's handlers are named after their methods. (The SDK's bound handler of an async one takes any
    # arguments, so the method itself is asked.)
    instance = workflow.instance()
    method = getattr(type(instance), name, None)
    if not callable(method):
        return None
    try:
        inspect.signature(method).bind(instance, *args)
    except TypeError:
        wanted = len(inspect.signature(method).parameters) - 1
        return f"{name} takes {wanted} argument{'s' if wanted != 1 else ''}, not {len(args)}"
    hints = typing.get_type_hints(method)
    for param, arg in zip(list(inspect.signature(method).parameters)[1:], args, strict=False):
        if arg is None and type(None) not in typing.get_args(hints.get(param)):
            return f"{name} was sent a null where it takes a {getattr(hints.get(param), '__name__', 'value')}"
    return None


class _Guard(WorkflowInboundInterceptor):
    async def handle_signal(self, input: HandleSignalInput) -> None:
        if (why := _misfit(input.signal, input.args)) is not None:
            workflow.logger.warning("signal dropped: %s", why)
            return
        await super().handle_signal(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        if (why := _misfit(input.update, input.args)) is not None:
            raise refused(f"{why}.")
        super().handle_update_validator(input)
