"""The worker: every workflow and activity of the engine in one process, stopped cleanly by SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.conference_services import ConferenceServices
from starter import logsetup
from starter.connect import TASK_QUEUE, ConnectError, connect
from workflows.document import DocumentWorkflow
from workflows.funds import MeetingFundsWorkflow
from workflows.meeting import MeetingWorkflow
from workflows.presidency import PresidencyWorkflow

WORKFLOWS: Sequence[type] = (PresidencyWorkflow, MeetingWorkflow, MeetingFundsWorkflow, DocumentWorkflow)

log = structlog.get_logger("worker")


def activities(services: ConferenceServices) -> list[Callable[..., Any]]:
    """Every activity: the plain functions, and the conference-services methods sharing one HTTP client."""
    return [services.submit_translation, services.book_interpretation]


def build_worker(client: Client, services: ConferenceServices, task_queue: str = TASK_QUEUE) -> Worker:
    return Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=activities(services))


async def serve() -> None:
    client = await connect()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # One httpx.AsyncClient for the process, closed once the worker has stopped (its activities are done).
    async with ConferenceServices() as services:
        worker = build_worker(client, services)
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
