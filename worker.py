"""The worker: every workflow and activity of the engine in one process, stopped cleanly by SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from starter import logsetup
from starter.connect import TASK_QUEUE, ConnectError, connect
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow

WORKFLOWS: Sequence[type] = (PresidencyWorkflow, MeetingWorkflow)
ACTIVITIES: Sequence[Any] = ()

log = structlog.get_logger("worker")


def build_worker(client: Client, task_queue: str = TASK_QUEUE) -> Worker:
    return Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=ACTIVITIES)


async def serve() -> None:
    client = await connect()
    worker = build_worker(client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=TASK_QUEUE, pid=os.getpid())
    async with worker:
        await stop.wait()
        log.info("worker stopping: finishing tasks in hand")
    log.info("worker stopped")


def main() -> None:
    logsetup.configure()
    code = 0
    try:
        asyncio.run(serve())
    except ConnectError as e:
        log.error("worker cannot start", reason=str(e))
        code = 2
    sys.stdout.flush()
    sys.stderr.flush()
    # The client may crash while the interpreter shuts down (sdk-python#300); its work is done by now.
    os._exit(code)


if __name__ == "__main__":
    main()
