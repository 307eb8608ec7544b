"""What the tests of reminding workflows share (reviews, extension requests, Art. 7, silence procedures): a worker
with the real notifier, days in Geneva time on the time-skipping server, and what the local webhook received."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.conference_services import ConferenceServices
from activities.notifications import Notifier
from domain.calendar import day_start, local_date
from domain.models import Defaults
from domain.notifications import DEFAULT_WEBHOOK
from starter.receiver import NOTIFICATIONS, Receiver
from worker import build_worker

D = Defaults()
T = TypeVar("T")


@asynccontextmanager
async def notifier_worker(
    env: WorkflowEnvironment, *extra: type, webhook: str | None = None, every_activity: bool = False
) -> AsyncIterator[Worker]:
    """Every workflow (and ``extra`` test ones), with the notification activity only (or ``every_activity``), on a
    queue of its own; its default webhook is ``webhook`` (None: notifications are logged)."""
    webhooks = {DEFAULT_WEBHOOK: webhook} if webhook else None
    async with ConferenceServices() as services:
        notifier = Notifier(services.client, webhooks=webhooks)
        worker = build_worker(
            env.client,
            services,
            f"tq-{uuid.uuid4()}",
            webhooks,
            extra_workflows=extra,
            only_activities=None if every_activity else [notifier.send_notification],
        )
        async with worker:
            yield worker


@asynccontextmanager
async def webhook_worker(
    env: WorkflowEnvironment,
    directory: Path,
    *extra: type,
    path: str = NOTIFICATIONS,
    every_activity: bool = False,
) -> AsyncIterator[tuple[Worker, Receiver]]:
    """The local receiver storing under ``directory``, and a worker (``notifier_worker``) whose default webhook is
    its ``path`` (another path than ``notifications`` answers 404)."""
    with Receiver(directory, log=None) as receiver:
        webhook = f"{receiver.url}/{path}"
        async with notifier_worker(env, *extra, webhook=webhook, every_activity=every_activity) as worker:
            yield worker, receiver


async def today(env: WorkflowEnvironment) -> date:
    return local_date(await env.get_current_time(), D)


async def sleep_until(env: WorkflowEnvironment, day: date, hour: int = 12) -> None:
    """Skips to ``hour`` o'clock, Geneva time, on ``day`` (no further back than now)."""
    target = day_start(day, D) + timedelta(hours=hour - D.day_start_hour)
    now = await env.get_current_time()
    if target > now:
        await env.sleep(target - now)


def received(directory: Path) -> list[dict[str, Any]]:
    """The notifications the local webhook stored under ``directory``, in the order they came (its reference
    numbers them; the files are named by key)."""
    bodies = [json.loads(p.read_text()) for p in (directory / "notifications").glob("*.json")]
    return sorted(bodies, key=lambda b: str(b["reference"]))


async def until(get: Callable[[], Awaitable[T]], ok: Callable[[T], bool], seconds: float = 10) -> T:
    """Polls in real time: a workflow woken by another that just closed, or continuing as new right after an
    update, does not always wake the test server's clock."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        value = await get()
        if ok(value) or loop.time() > end:
            return value
        await asyncio.sleep(0.1)
