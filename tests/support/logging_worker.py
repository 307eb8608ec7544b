"""A worker process whose workflow logs from workflow code and then fails its activation, logging as worker.py
does (runtime/logsetup.py): tests/runtime/test_logging.py reads what it writes to stderr.

    python -m tests.support.logging_worker ADDRESS TASK_QUEUE json|console
"""

from __future__ import annotations

from temporalio import workflow

MARKER = "record from workflow code"


class Opaque:
    """A value JSON cannot encode: structlog's fallback for it imports lazily."""

    def __repr__(self) -> str:
        return "<opaque value>"


@workflow.defn
class LogsThenFails:
    @workflow.run
    async def run(self, name: str) -> None:
        workflow.logger.info(MARKER, extra={"document": name, "opaque": Opaque()})
        try:
            raise ValueError(f"the check of {name} failed")
        except ValueError:
            workflow.logger.exception("%s, with its traceback", MARKER)
        # A TypeError in workflow code fails the workflow task (not the workflow), as a bug would.
        raise TypeError(f"bug while handling {name}")


async def _serve(address: str, task_queue: str) -> None:
    import asyncio

    from temporalio.client import Client

    from worker import build_worker

    client = await Client.connect(address)
    async with build_worker(client, None, task_queue, extra_workflows=[LogsThenFails], only_activities=[]):
        print("polling", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    import asyncio
    import sys

    from runtime import logsetup

    logsetup.configure(json=sys.argv[3] == "json")
    asyncio.run(_serve(sys.argv[1], sys.argv[2]))
