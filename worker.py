"""The worker: every workflow and activity of the engine in one process, stopped cleanly by SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.conference_services import TOTAL_TIMEOUT, ConferenceServices
from activities.invoices import ArrearsCarrier, Mailer, mail_url_from_env
from activities.meetings import MeetingReader
from activities.notifications import Notifier, webhooks_from_env
from activities.obligations import ObligationsStarter
from activities.reviews import ReviewsFinder
from activities.sponsorship import ProgrammeStarter, TravelAgent
from domain.notifications import redact_url
from runtime import logsetup
from runtime.connect import TASK_QUEUE, ConnectError, connect
from runtime.settings import SettingError
from runtime.shared_code import share_code
from runtime.telemetry import METRICS_ADDRESS_ENV, runtime_from_env, tracing_from_env
from workflows.committee import CommitteeWorkflow
from workflows.document import DocumentWorkflow
from workflows.extension import ExtensionRequestWorkflow
from workflows.funds import MeetingFundsWorkflow
from workflows.guards import InputGuard
from workflows.isu_budget import IsuBudgetWorkflow
from workflows.meeting import MeetingWorkflow
from workflows.metrics import DecisionMetrics
from workflows.presidency import PresidencyWorkflow
from workflows.register import RegisterWorkflow
from workflows.reports import Article7Workflow
from workflows.reserve import CapitalReserveWorkflow
from workflows.review import ReviewWorkflow
from workflows.silence import SilenceProcedureWorkflow
from workflows.sponsorship import SponsorshipWorkflow
from workflows.watch import DeadlineWatchWorkflow

WORKFLOWS: Sequence[type] = (
    PresidencyWorkflow,
    MeetingWorkflow,
    MeetingFundsWorkflow,
    DocumentWorkflow,
    ReviewWorkflow,
    ExtensionRequestWorkflow,
    SilenceProcedureWorkflow,
    Article7Workflow,
    RegisterWorkflow,
    DeadlineWatchWorkflow,
    CommitteeWorkflow,
    IsuBudgetWorkflow,
    CapitalReserveWorkflow,
    SponsorshipWorkflow,
)

# How long a stopping worker lets the activities in hand finish before it cancels them: longer than one HTTP call
# to conference services or a webhook may take (activities/conference_services.py, TOTAL_TIMEOUT), so that a call
# under way is answered rather than cut off and sent again. Whoever stops the worker waits longer than this:
# `make run` (starter/embedded/runner.py, WORKER_STOP_TIMEOUT) and docker-compose.yml (stop_grace_period).
GRACEFUL_SHUTDOWN = timedelta(seconds=TOTAL_TIMEOUT + 5)

log = structlog.get_logger("worker")


def activities(
    client: Client,
    services: ConferenceServices,
    webhooks: Mapping[str, str] | None = None,
    mail_url: str | None = None,
) -> list[Callable[..., Any]]:
    """Every activity. The notifier, the mailer and the travel agent borrow the conference-services HTTP client, so the caller's
    ``async with ConferenceServices()`` closes the one client, after the worker has stopped. ``webhooks`` are the
    notification targets by name (``webhooks_from_env``); without them every notification is logged. ``mail_url``:
    the mail gateway the ISU's invoices go to (``mail_url_from_env``); without it they are logged."""
    notifier = Notifier(services.client, webhooks=webhooks)
    mailer = Mailer(services.client, url=mail_url)
    reviews = ReviewsFinder(client)
    return [
        services.submit_translation,
        services.submit_translations,
        services.book_interpretation,
        services.cancel_translation,
        notifier.send_notification,
        reviews.tell_reviews_meeting_moved,
        MeetingReader(client).look_up_meeting,
        ObligationsStarter(client).start_obligations,
        mailer.send_invoice,
        ArrearsCarrier(client).carry_arrears,
        ProgrammeStarter(client).start_sponsorship,
        TravelAgent(services.client).book_travel,
    ]


# Pure and deterministic, so each workflow run may share the worker's copy rather than re-import its own inside the
# sandbox (issue 16: the sandbox took about half the event loop's CPU). `workflows/` still imports them through
# `imports_passed_through()`, which a worker without this (an older deployment, a replayer) keeps needing.
PASSTHROUGH = ("domain", "pydantic", "pydantic_core", "annotated_types")


def build_worker(
    client: Client,
    services: ConferenceServices | None,
    task_queue: str = TASK_QUEUE,
    webhooks: Mapping[str, str] | None = None,
    *,
    mail_url: str | None = None,
    extra_workflows: Sequence[type] = (),
    only_activities: Sequence[Callable[..., Any]] | None = None,
    max_cached_workflows: int = 1000,
    max_concurrent_activities: int | None = None,
    passthrough: Sequence[str] = PASSTHROUGH,
    build_id: str | None = None,
    sandboxed: bool = True,
) -> Worker:
    """The worker of this engine, wherever one runs: `worker.py`, the tests, the benchmarks.

    ``extra_workflows``: workflows of a test or a benchmark, beside the engine's; one that subclasses an engine
    workflow stands in for it (an older version, in a test of an upgrade). ``only_activities``: these activities
    instead of the engine's (then ``services`` may be None). ``max_cached_workflows=0``: a worker a test kills, whose
    workflows another must take over at once (the time-skipping server cannot move work off a dead worker's sticky
    queue). ``passthrough=()``: the sandbox's defaults alone (bench.sandbox measures the difference). ``build_id``:
    what the worker tells the server it runs; None lets the SDK hash the bytecode of every module loaded (once per
    process, a few tenths of a second). ``sandboxed=False``: the workflows run outside the SDK's sandbox, without
    its checks (`msp simulate` alone, whose workflows the tests run sandboxed).
    """
    if only_activities is None:
        if services is None:
            raise ValueError("build_worker: the engine's activities need conference services")
        only_activities = activities(client, services, webhooks, mail_url)
    replaced = [w for w in WORKFLOWS if not any(issubclass(extra, w) for extra in extra_workflows)]
    workflows = [*replaced, *extra_workflows]
    # The sandbox imports each workflow's module again in every run: one copy of its code serves them all.
    share_code(w.__module__ for w in workflows)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=list(only_activities),
        interceptors=[DecisionMetrics(), InputGuard()],
        max_cached_workflows=max_cached_workflows,
        max_concurrent_activities=max_concurrent_activities,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        workflow_runner=sandbox(passthrough) if sandboxed else UnsandboxedWorkflowRunner(),
        build_id=build_id,
    )


def sandbox(passthrough: Sequence[str] = PASSTHROUGH) -> SandboxedWorkflowRunner:
    """The workflow sandbox, with ``passthrough`` modules shared with the worker (the replayer uses the same)."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*passthrough)
    )


async def serve() -> None:
    try:  # Prometheus metrics (CCM_METRICS_ADDRESS) come from the runtime the client is built on
        runtime = runtime_from_env()
        # Read once: a workflow names its webhook target, this worker alone knows the URL.
        webhooks = webhooks_from_env()
        mail_url = mail_url_from_env()
    except (SettingError, ValueError) as e:
        raise ConnectError(str(e)) from None
    tracing = tracing_from_env()  # OTEL_EXPORTER_OTLP_ENDPOINT: the SDK's OpenTelemetry plugin; else nothing
    try:
        client = await connect(runtime=runtime, plugins=tracing.plugins)
        metrics = os.environ.get(METRICS_ADDRESS_ENV) if runtime is not None else None
        await _serve(client, metrics, webhooks, mail_url)
    finally:
        tracing.shutdown()  # the spans still batched go out before the process ends


async def _serve(
    client: Client, metrics_address: str | None, webhooks: Mapping[str, str], mail_url: str | None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # One httpx.AsyncClient for the process, closed once the worker has stopped (its activities are done); the
    # notifier borrows it.
    async with ConferenceServices() as services:
        worker = build_worker(client, services, webhooks=webhooks, mail_url=mail_url)
        log.info(
            "worker started",
            task_queue=TASK_QUEUE,
            pid=os.getpid(),
            metrics=f"http://{metrics_address}/metrics" if metrics_address else None,
            webhooks={name: redact_url(url) for name, url in sorted(webhooks.items())} or "none: logged",
            mail=redact_url(mail_url) if mail_url else "none: invoices logged",
        )
        async with worker:
            await stop.wait()
            log.info(
                "worker stopping: finishing tasks in hand",
                grace=f"{GRACEFUL_SHUTDOWN.total_seconds():g} s, then the activities still running are cancelled",
            )
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
