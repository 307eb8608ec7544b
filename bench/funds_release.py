"""One payment releases 500 waiting translations: how long until conference services have every job?

100 DocumentWorkflows each ask one MeetingFundsWorkflow ledger, whose balance is zero, for the money to translate
into the 5 other official languages: 500 requests wait in its queue. Then ONE payment covers them all. The figure is
the wall time from the ``record_payment`` update returning to the local conference-services receiver holding 500
distinct translation jobs (polled every 50 ms). The baseline, in the same run on the same server: starting 500
no-op workflows and seeing all 500 complete. Issue 7 asks for the figure within 2x the baseline.

The server is what `make run` runs (`temporal server start-dev`, SQLite in WAL mode with synchronous=normal, our
search attributes), a child process on 127.0.0.1 with its database in a temporary directory; the worker, the
client and the receiver run in this process. Every wait has a deadline.

    .venv/bin/python -m bench.funds_release [--repeat N] [--documents 100] [--timeout 90]
                                            [--max-concurrent-activities N] [--http-max-connections N]
"""

from __future__ import annotations

from temporalio import workflow

# The sandbox imports this module again for every NoOp run: everything but NoOp is passed through.
with workflow.unsafe.imports_passed_through():
    import argparse
    import asyncio
    import contextlib
    import hashlib
    import os
    import tempfile
    import time
    from collections.abc import Sequence
    from dataclasses import dataclass, field
    from datetime import date, timedelta
    from pathlib import Path
    from typing import Any

    import httpx
    from temporalio.api.enums.v1 import EventType
    from temporalio.api.history.v1 import HistoryEvent
    from temporalio.client import Client, WorkflowHandle
    from temporalio.service import RPCError

    from activities.conference_services import CONNECT_TIMEOUT, TOTAL_TIMEOUT, ConferenceServices
    from bench.common import (
        BenchError,
        DevServer,
        Report,
        Row,
        bounded,
        machine,
        median,
        progress,
        run_alone,
        wait_for,
    )
    from domain import search_attributes as sa
    from domain.documents import (
        DocumentInput,
        DocumentSpec,
        DocumentState,
        LanguageStatus,
        document_id,
        funds_id,
    )
    from domain.funds import Assess, LedgerState, Payment, SetEstimate
    from domain.models import Language, Money
    from starter.receiver import Receiver
    from worker import build_worker
    from workflows.document import DocumentWorkflow
    from workflows.funds import MeetingFundsWorkflow

TARGET = 2.0  # issue 7: within 2x the baseline
CODE = "bench"
MEETING = "14MSP"
FUNDS_ID = funds_id(CODE, MEETING)
TASK_QUEUE = "ccm-bench"
PAGES = 2
POLL_JOBS = 0.05  # the receiver's count, while the clock runs
POLL_STATE = 0.2  # queries, outside the timed window
RPC_CONCURRENCY = 50
WARMUP_NOOPS = 20
# The code this figure measures: others edit it, so each report says which version it ran.
MEASURED = (
    "workflows/funds.py",
    "workflows/document.py",
    "activities/conference_services.py",
    "domain/funds.py",
)


@workflow.defn(name="BenchNoOp")
class NoOp:
    """The baseline's unit of work: a workflow that returns at once."""

    @workflow.run
    async def run(self) -> None:
        return None


@dataclass(frozen=True)
class Options:
    repeat: int = 1
    documents: int = 100
    timeout: float = 90.0  # for each wait
    max_concurrent_activities: int | None = None  # None: the SDK's default, as worker.py runs it
    http_max_connections: int | None = None  # None: ConferenceServices' own client (httpx defaults)

    @property
    def languages(self) -> int:
        return len(Language) - 1

    @property
    def jobs(self) -> int:
        return self.documents * self.languages


@dataclass
class Breakdown:
    """Where the time went after the payment, from the histories (server clock, s after it was recorded)."""

    grants_signalled: int = 0
    first_grant: float = 0.0
    last_grant: float = 0.0
    ledger_tasks: int = 0
    wft_wait_ms: float = 0.0  # ledger workflow task scheduled -> started (waiting for the worker)
    wft_run_ms: float = 0.0  # started -> completed (the worker's activation, round trip included)
    signal_ms: float = 0.0  # signal initiated -> delivered to the document
    last_granted_at_doc: float = 0.0
    last_scheduled: float = 0.0
    schedule_to_start_ms: float = 0.0
    schedule_to_start_max_ms: float = 0.0
    start_to_close_ms: float = 0.0
    start_to_close_max_ms: float = 0.0
    last_completed: float = 0.0
    doc_tasks_after_payment: float = 0.0  # median workflow tasks per document after the payment


@dataclass
class Trial:
    baseline: float
    figure: float
    payment_rtt: float
    in_translation: float  # payment -> every document confirmed all languages in translation (by query)
    cpu_server: float = 0.0  # CPU seconds used while the figure's clock ran: the dev server
    cpu_here: float = 0.0  # this process: worker, client and receiver
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before the baseline, after the figure
    ledger_runs: list[tuple[str, int]] = field(default_factory=list)
    doc_events: list[int] = field(default_factory=list)
    breakdown: Breakdown = field(default_factory=Breakdown)


def name(opts: Options) -> str:
    return f"funds release: 1 payment -> {opts.jobs} translation jobs"


def count_jobs(folder: Path) -> int:
    """Translation jobs the receiver has stored (one file per distinct idempotency key)."""
    try:
        return sum(1 for e in os.scandir(folder) if e.name.endswith(".json") and not e.name.startswith("."))
    except FileNotFoundError:
        return 0


def fingerprint() -> str:
    repo = Path(__file__).resolve().parents[1]  # not at import: the sandbox imports this module too
    parts = []
    for name in MEASURED:
        try:
            digest = hashlib.sha256((repo / name).read_bytes()).hexdigest()[:10]
        except OSError:
            digest = "missing"
        parts.append(f"{name} {digest}")
    return ", ".join(parts)


def seconds(event: HistoryEvent) -> float:
    return float(event.event_time.ToNanoseconds()) / 1e9


async def noop_baseline(client: Client, count: int, tag: str, timeout: float) -> float:
    """Starts ``count`` NoOp workflows (at most RPC_CONCURRENCY starts in flight) and waits for all to complete."""
    gate = asyncio.Semaphore(RPC_CONCURRENCY)
    done = 0

    async def one(i: int) -> None:
        nonlocal done
        async with gate:
            handle = await client.start_workflow(NoOp.run, id=f"bench-noop-{tag}-{i}", task_queue=TASK_QUEUE)
        await handle.result()
        done += 1

    t0 = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(count))), timeout)
    except TimeoutError:
        raise BenchError(
            f"gave up after {timeout:g} s waiting for {count} no-op workflows; {done} completed"
        ) from None
    return time.perf_counter() - t0


async def history(client: Client, workflow_id: str, run_id: str | None = None) -> list[HistoryEvent]:
    return list((await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()).events)


async def ledger_runs(client: Client, runs: int, known: set[str], timeout: float) -> list[str]:
    """This trial's run ids of the ledger, oldest first, from visibility (earlier trials' runs left out)."""
    found: list[tuple[float, str]] = []

    async def listed() -> bool:
        found.clear()
        async for wf in client.list_workflows(f"WorkflowId = '{FUNDS_ID}'"):
            if wf.run_id not in known:
                found.append((wf.start_time.timestamp(), wf.run_id))
        return len(found) >= runs

    async def seen() -> str:
        return f"visibility lists {len(found)} new runs of {FUNDS_ID}"

    await wait_for(f"the {runs} runs of the ledger in visibility", listed, timeout, POLL_STATE, seen)
    return [run_id for _, run_id in sorted(found)]


def ledger_breakdown(events: list[HistoryEvent], payment_id: str, b: Breakdown) -> float:
    """Fills in the ledger's part of ``b``; returns the server time the payment was recorded."""
    t0 = next(
        (
            seconds(e)
            for e in events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
            and e.workflow_execution_update_completed_event_attributes.meta.update_id == payment_id
        ),
        None,
    )
    if t0 is None:
        raise BenchError(f"the payment {payment_id} is not in the ledger's first run")
    scheduled = started = 0.0
    initiated: dict[int, float] = {}
    waits: list[float] = []
    runs: list[float] = []
    signals: list[float] = []
    delivered: list[float] = []
    for e in events:
        t = seconds(e)
        match e.event_type:
            case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                scheduled = t
            case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                started = t
                if t >= t0:
                    waits.append(t - scheduled)
            case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED if t >= t0:
                runs.append(t - started)
            case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
                initiated[e.event_id] = t
            case EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED if t >= t0:
                attrs = e.external_workflow_execution_signaled_event_attributes
                delivered.append(t - initiated.get(attrs.initiated_event_id, t))
                signals.append(t - t0)
    b.grants_signalled = len(signals)
    b.first_grant = min(signals, default=0.0)
    b.last_grant = max(signals, default=0.0)
    b.ledger_tasks = len(runs)
    b.wft_wait_ms = 1000 * median(waits) if waits else 0.0
    b.wft_run_ms = 1000 * median(runs) if runs else 0.0
    b.signal_ms = 1000 * median(delivered) if delivered else 0.0
    return t0


def documents_breakdown(histories: list[list[HistoryEvent]], t0: float, b: Breakdown) -> None:
    granted: list[float] = []
    scheduled_at: list[float] = []
    to_start: list[float] = []
    to_close: list[float] = []
    completed: list[float] = []
    tasks: list[float] = []
    for events in histories:
        scheduled: dict[int, float] = {}
        started: dict[int, float] = {}
        n_tasks = 0
        for e in events:
            t = seconds(e)
            match e.event_type:
                case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                    if e.workflow_execution_signaled_event_attributes.signal_name.startswith("funds_granted"):
                        granted.append(t - t0)
                case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                    scheduled[e.event_id] = t
                    scheduled_at.append(t - t0)
                case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                    sid = e.activity_task_started_event_attributes.scheduled_event_id
                    started[sid] = t
                    to_start.append(t - scheduled.get(sid, t))
                case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                    sid = e.activity_task_completed_event_attributes.scheduled_event_id
                    to_close.append(t - started.get(sid, t))
                    completed.append(t - t0)
                case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED if t >= t0:
                    n_tasks += 1
        tasks.append(n_tasks)
    b.last_granted_at_doc = max(granted, default=0.0)
    b.last_scheduled = max(scheduled_at, default=0.0)
    b.schedule_to_start_ms = 1000 * median(to_start) if to_start else 0.0
    b.schedule_to_start_max_ms = 1000 * max(to_start, default=0.0)
    b.start_to_close_ms = 1000 * median(to_close) if to_close else 0.0
    b.start_to_close_max_ms = 1000 * max(to_close, default=0.0)
    b.last_completed = max(completed, default=0.0)
    b.doc_tasks_after_payment = median(tasks) if tasks else 0.0


async def doc_state(handle: WorkflowHandle[Any, Any]) -> DocumentState:
    state: DocumentState = await handle.query(DocumentWorkflow.state)
    return state


async def trial(
    client: Client, server: DevServer, opts: Options, n: int, root: Path, known_runs: set[str]
) -> Trial:
    load_before = os.getloadavg()[0]
    progress(f"trial {n + 1}: baseline, {opts.jobs} no-op workflows")
    baseline = await noop_baseline(client, opts.jobs, f"{n}", opts.timeout)
    progress(f"trial {n + 1}: baseline {baseline:.2f} s; starting the ledger and {opts.documents} documents")

    receiver = Receiver(root / f"receiver-{n}", log=None).start()
    jobs_dir = receiver.directory / "translation-jobs"
    docs: list[WorkflowHandle[Any, Any]] = []
    ledger: WorkflowHandle[Any, Any] | None = None
    try:
        money = Money(conference_services_url=receiver.url)
        cost = PAGES * money.translation_rate_per_page[Language.FR]
        total = opts.jobs * cost
        ledger = await client.start_workflow(
            MeetingFundsWorkflow.run,
            LedgerState(convention=CODE, meeting=MEETING),
            id=FUNDS_ID,
            task_queue=TASK_QUEUE,
        )
        await ledger.execute_update(
            MeetingFundsWorkflow.set_estimate,
            SetEstimate(decision_id=f"bench-{n}-estimate", reference="bench", amount=total),
        )
        await ledger.execute_update(
            MeetingFundsWorkflow.assess,
            Assess(
                decision_id=f"bench-{n}-assess",
                reference="bench",
                shares={"Austria": 100.0},
                due=date.today() + timedelta(days=30),
            ),
        )

        due = date.today() + timedelta(days=90)
        specs = [
            DocumentSpec(
                symbol=f"BENCH/{n}/{i:04d}",
                title=f"Bench document {i}",
                pages=PAGES,
                meeting=MEETING,
                due=due,
            )
            for i in range(opts.documents)
        ]
        docs = await bounded(
            RPC_CONCURRENCY,
            (
                client.start_workflow(
                    DocumentWorkflow.run,
                    DocumentInput(convention=CODE, spec=spec, money=money, funds_id=FUNDS_ID),
                    id=document_id(CODE, spec.symbol),
                    task_queue=TASK_QUEUE,
                )
                for spec in specs
            ),
        )
        queued = 0

        async def all_queued() -> bool:
            nonlocal queued
            queued = len(await ledger.query(MeetingFundsWorkflow.queue))
            return queued >= opts.jobs

        async def queue_seen() -> str:
            return f"the ledger's queue holds {queued} requests"

        await wait_for(
            f"{opts.jobs} requests in the ledger's queue", all_queued, opts.timeout, POLL_STATE, queue_seen
        )

        payment_id = f"bench-{n}-payment"
        payment = Payment(payment_id=payment_id, reference="bench", state="Austria", amount=total, force=True)

        progress(f"trial {n + 1}: {queued} requests queued; paying")
        # The clock: from the payment recorded to the receiver holding every job.
        cpu0 = (server.cpu_seconds(), time.process_time())
        t_send = time.perf_counter()
        await ledger.execute_update(MeetingFundsWorkflow.record_payment, payment, id=payment_id)
        t_ack = time.perf_counter()
        jobs = 0

        async def all_received() -> bool:
            nonlocal jobs
            jobs = count_jobs(jobs_dir)
            return jobs >= opts.jobs

        async def received_seen() -> str:
            try:
                s: LedgerState = await ledger.query(MeetingFundsWorkflow.ledger)
                state = f"ledger: {len(s.granted)} granted, {len(s.to_notify)} still to notify, {len(s.pending)} queued"
            except RPCError as e:
                state = f"ledger query failed: {e}"
            return f"the receiver has {jobs} of {opts.jobs} jobs; {state}"

        t_done = await wait_for(
            f"{opts.jobs} translation jobs at the receiver",
            all_received,
            opts.timeout,
            POLL_JOBS,
            received_seen,
        )
        figure = t_done - t_ack
        progress(f"trial {n + 1}: {jobs} jobs at the receiver {figure:.2f} s after the payment")
        cpu_server, cpu_here = server.cpu_seconds() - cpu0[0], time.process_time() - cpu0[1]

        # Outside the timed window: the documents agree, and what the histories say.
        in_translation = 0

        async def all_in_translation() -> bool:
            nonlocal in_translation
            states = await bounded(RPC_CONCURRENCY, (doc_state(h) for h in docs))
            in_translation = sum(
                1
                for s in states
                for t in s.translations.values()
                if t.status is LanguageStatus.IN_TRANSLATION
            )
            return in_translation >= opts.jobs

        async def translation_seen() -> str:
            return f"{in_translation} of {opts.jobs} languages in translation"

        t_docs = await wait_for(
            "every document to report all languages in translation",
            all_in_translation,
            opts.timeout,
            POLL_STATE,
            translation_seen,
        )
        result = Trial(
            baseline=baseline,
            figure=figure,
            payment_rtt=t_ack - t_send,
            in_translation=t_docs - t_ack,
            cpu_server=cpu_server,
            cpu_here=cpu_here,
            load=(load_before, os.getloadavg()[0]),
        )

        progress(f"trial {n + 1}: documents agree; reading histories")
        s_final: LedgerState = await ledger.query(MeetingFundsWorkflow.ledger)
        run_ids = await ledger_runs(client, s_final.runs, known_runs, opts.timeout)
        known_runs.update(run_ids)
        ledger_histories = [await history(client, FUNDS_ID, run_id) for run_id in run_ids]
        result.ledger_runs = [(r, len(h)) for r, h in zip(run_ids, ledger_histories, strict=True)]
        t0 = ledger_breakdown([e for h in ledger_histories for e in h], payment_id, result.breakdown)
        doc_histories = await bounded(RPC_CONCURRENCY, (history(client, h.id) for h in docs))
        result.doc_events = [len(h) for h in doc_histories]
        documents_breakdown(doc_histories, t0, result.breakdown)
        return result
    finally:
        # The ledger's id is used again by the next trial; the documents would otherwise wait for delivery.
        async def terminate(handle: WorkflowHandle[Any, Any]) -> None:
            with contextlib.suppress(RPCError):
                await handle.terminate(reason="benchmark done")

        progress(f"trial {n + 1}: terminating its workflows")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(bounded(RPC_CONCURRENCY, (terminate(h) for h in docs)), opts.timeout)
            if ledger is not None:
                await asyncio.wait_for(terminate(client.get_workflow_handle(FUNDS_ID)), opts.timeout)
        receiver.stop()


def http_client(max_connections: int) -> httpx.AsyncClient:
    """ConferenceServices' client (see new_client) with a pool of ``max_connections``."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT),
        follow_redirects=False,
        headers={"Accept": "application/json"},
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
    )


async def run_trials(opts: Options) -> tuple[list[Trial], DevServer, int]:
    with tempfile.TemporaryDirectory(prefix="ccm-bench-") as tmp:
        root = Path(tmp)
        server = DevServer(root)
        progress(f"starting the dev server on {server.address}")
        client = await server.start()
        trials: list[Trial] = []
        db_size = 0
        try:
            own = http_client(opts.http_max_connections) if opts.http_max_connections else None
            try:
                async with ConferenceServices(client=own) as services:
                    worker = build_worker(
                        client,
                        services,
                        TASK_QUEUE,
                        extra_workflows=[NoOp],
                        only_activities=[services.submit_translation, services.book_interpretation],
                        max_concurrent_activities=opts.max_concurrent_activities,
                    )
                    async with worker:
                        # The first workflows of a process pay for imports; neither measurement should.
                        await noop_baseline(client, WARMUP_NOOPS, "warmup", opts.timeout)
                        known_runs: set[str] = set()
                        for n in range(opts.repeat):
                            trials.append(await trial(client, server, opts, n, root, known_runs))
            finally:
                if own is not None:
                    await own.aclose()
            db_size = server.db_size()
        finally:
            progress("stopping the dev server")
            await server.stop()
        return trials, server, db_size


def describe(opts: Options, trials: list[Trial], server: DevServer, db_size: int) -> list[str]:
    def each(values: Sequence[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    fig = [t.figure for t in trials]
    base = [t.baseline for t in trials]
    lines = [
        name(opts),
        f"  {opts.documents} DocumentWorkflows x {opts.languages} languages = {opts.jobs} requests waiting on "
        f"one MeetingFundsWorkflow ({FUNDS_ID}) with balance 0, then one payment covering them all",
        f"  figure   payment recorded -> {opts.jobs} jobs at the receiver: median {median(fig):.2f} s "
        f"(each run: {each(fig)})",
        f"  baseline {opts.jobs} no-op workflows started and completed: median {median(base):.2f} s "
        f"(each run: {each(base)}) = {opts.jobs / median(base):.0f} workflows/s",
        f"  ratio    {median(fig) / median(base):.2f}x (each run: "
        f"{', '.join(f'{t.figure / t.baseline:.2f}x' for t in trials)}); target <= {TARGET:g}x (issue 7)",
        f"  record_payment round trip: {each([t.payment_rtt for t in trials])} s; every document reporting all "
        f"{opts.languages} languages in translation (by query, after the count): "
        f"{each([t.in_translation for t in trials])} s after the payment",
    ]
    for n, t in enumerate(trials, start=1):
        runs = "; ".join(f"run {i} ({r[:8]}): {k} events" for i, (r, k) in enumerate(t.ledger_runs, start=1))
        ev = sorted(t.doc_events)
        b = t.breakdown
        lines += [
            f"  trial {n}: ledger history per run: {runs}",
            f"    events per document: min {ev[0]}, median {median(ev):.0f}, max {ev[-1]} ({sum(ev)} in all)",
            f"    after the payment (server clock): the ledger signalled {b.grants_signalled} grants from "
            f"+{b.first_grant:.2f} s to +{b.last_grant:.2f} s in {b.ledger_tasks} workflow tasks "
            f"({1000 * (b.last_grant - b.first_grant) / max(b.grants_signalled - 1, 1):.1f} ms per grant)",
            f"    ledger workflow task: scheduled->started median {b.wft_wait_ms:.1f} ms, started->completed "
            f"{b.wft_run_ms:.1f} ms; signal initiated->delivered {b.signal_ms:.1f} ms",
            f"    documents: last grant received +{b.last_granted_at_doc:.2f} s, last activity scheduled "
            f"+{b.last_scheduled:.2f} s, last completed +{b.last_completed:.2f} s; "
            f"{b.doc_tasks_after_payment:.0f} workflow tasks per document after the payment (median)",
            f"    activities: schedule->start median {b.schedule_to_start_ms:.1f} ms (max "
            f"{b.schedule_to_start_max_ms:.0f}), start->close median {b.start_to_close_ms:.1f} ms "
            f"(max {b.start_to_close_max_ms:.0f})",
            f"    CPU while the clock ran ({t.figure:.1f} s, {os.cpu_count()} CPUs): dev server {t.cpu_server:.1f} s, "
            f"this process (worker, client, receiver) {t.cpu_here:.1f} s; load average {t.load[0]:.1f} before "
            f"the baseline, {t.load[1]:.1f} after the figure (other processes count too)",
        ]
    activities = opts.max_concurrent_activities or "SDK default (100)"
    pool = opts.http_max_connections or "httpx default (100 connections, 20 kept alive)"
    lines += [
        f"  worker: in-process, max_concurrent_activities={activities}, http pool={pool}",
        f"  server: temporal server start-dev --headless, SQLite journal_mode=wal synchronous=normal, "
        f"{len(sa.ALL)} search attributes (db {db_size / 1e6:.0f} MB at the end)",
        f"  machine: {machine()}",
        f"  code (sha256): {fingerprint()}",
    ]
    return lines


async def measure(opts: Options) -> Report:
    trials, server, db_size = await run_trials(opts)
    row = Row(
        name(opts),
        figure=median([t.figure for t in trials]),
        baseline=median([t.baseline for t in trials]),
        target=TARGET,
        runs=len(trials),
    )
    return Report(rows=[row], details=describe(opts, trials, server, db_size))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repeat", type=int, default=1, help="run each measurement N times, report the median")


def parse_options(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench.funds_release", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.add_argument("--documents", type=int, default=100, help="documents, 5 translations each (default 100)")
    p.add_argument("--timeout", type=float, default=90.0, help="seconds allowed for each wait (default 90)")
    p.add_argument(
        "--max-concurrent-activities", type=int, default=None, help="worker setting (default: SDK's)"
    )
    p.add_argument("--http-max-connections", type=int, default=None, help="ConferenceServices' pool size")
    a = p.parse_args(argv)
    if a.repeat < 1 or a.documents < 1 or a.timeout <= 0:
        p.error("--repeat and --documents must be at least 1, --timeout positive")
    return Options(
        repeat=a.repeat,
        documents=a.documents,
        timeout=a.timeout,
        max_concurrent_activities=a.max_concurrent_activities,
        http_max_connections=a.http_max_connections,
    )


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse_options(argv)
    run_alone(lambda: measure(opts))


if __name__ == "__main__":
    main()
