"""structlog for every process: readable on a terminal, JSON lines otherwise.

Workflow code logs through ``workflow.logger`` (stdlib logging, silent while replaying); its records pass
through the same structlog renderer here, so one process writes one format.
"""

from __future__ import annotations

import logging
import sys

import structlog
from temporalio import activity, workflow

_configured = False


class _Formatter(structlog.stdlib.ProcessorFormatter):
    """Formats records from workflow code too, which are formatted on the workflow sandbox's thread.

    There every import goes through the sandbox's importer, and structlog imports lazily while rendering
    (``structlog.threadlocal`` for a value JSON cannot encode, ``rich`` for a traceback): the sandbox loads
    those modules afresh under its restrictions, ``rich`` touches ``os.path`` at import, and the record was
    replaced by some 130 lines of ``--- Logging error ---``. Rendering a record decides nothing in the
    workflow, so it runs with the host's modules and without the sandbox's restrictions.
    """

    def format(self, record: logging.LogRecord) -> str:
        with workflow.unsafe.imports_passed_through(), workflow.unsafe.sandbox_unrestricted():
            return super().format(record)


def _temporal_context(
    _logger: object, _name: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """The SDK's context of a record from workflow or activity code (workflow id, run id, type, attempt) as fields
    of the record, once, rather than a dict inside another field."""
    for key in ("temporal_workflow", "temporal_activity"):
        context = event.pop(key, None)
        if isinstance(context, dict):
            for name, value in context.items():
                event.setdefault(name, value)
    return event


def configure(level: int = logging.INFO, json: bool | None = None) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    as_json = not sys.stderr.isatty() if json is None else json
    # The SDK's loggers would also append that context to the message, as a dict in its text.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Tracebacks as plain text: a rich traceback would also print each frame's local variables (URLs, keys).
    renderers: list[structlog.typing.Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if as_json
        else [structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)]
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _Formatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _temporal_context],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The SDK's own chatter at INFO is mostly about pollers; keep its warnings.
    logging.getLogger("temporalio").setLevel(logging.WARNING)
    logging.getLogger("temporalio.workflow").setLevel(level)
    logging.getLogger("temporalio.activity").setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
