"""One payment releases 500 waiting translations: how long until conference services have every job?

100 DocumentWorkflows each ask one MeetingFundsWorkflow ledger, whose balance is zero, for the money to translate
into the 5 other official languages: 500 requests wait in its queue. Then ONE payment covers them all. The figure is
the wall time from the ``record_payment`` update returning to the local conference-services receiver holding 500
distinct translation jobs (polled every 50 ms). The baseline, in the same run on the same server, first, on a
fresh server (each trial has its own): starting 500 no-op workflows and seeing all 500 complete. Issue 16 asks for
the figure within 0.5x the baseline.

The server is what `make run` runs (`temporal server start-dev`, SQLite in WAL mode with synchronous=normal, our
search attributes), a child process on 127.0.0.1 with its database in a temporary directory; the worker and the
client run in this process. The receiver (starter/receiver.py) runs in a child process of its own: it stands for
conference services, another organisation's server, so its handler threads should not take the worker's GIL
while the clock runs. ``--receiver-thread`` runs it in this process instead, as `make run` does, for comparison.
Every wait has a deadline.

    .venv/bin/python -m bench.funds_release [--repeat N] [--documents 100] [--timeout 90]
                                            [--max-concurrent-activities N] [--http-max-connections N]
                                            [--receiver-thread]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from activities.conference_services import MAX_CONNECTIONS, ConferenceServices, new_client
from bench.baselines import NoOp
from bench.common import (
    BenchError,
    DevServer,
    ReceiverProcess,
    Report,
    Row,
    arguments,
    bounded,
    progress,
    run_alone,
    wait_for,
)
from bench.five_years_scenario import assessed
from bench.funds_report import (
    CODE,
    FUNDS_ID,
    MEETING,
    TARGET,
    Options,
    Trial,
    describe,
    documents_breakdown,
    history,
    ledger_breakdown,
    name,
)
from domain.documents import (
    DocumentInput,
    DocumentSpec,
    DocumentState,
    LanguageStatus,
)
from domain.funds import LedgerState, Payment
from domain.models import Language, Money
from starter.receiver import Receiver
from tests.scenario import decide, start_document
from worker import build_worker
from workflows.document import DocumentWorkflow
from workflows.funds import MeetingFundsWorkflow

TASK_QUEUE = "ccm-bench"
PAGES = 2
POLL_JOBS = 0.05  # the receiver's count, while the clock runs
POLL_STATE = 0.2  # queries, outside the timed window
IDLE = 1.0  # seconds with no new event in the ledger's history before the payment
RPC_CONCURRENCY = 50
WARMUP_NOOPS = 20


class ReceiverThread:
    """The receiver in a thread of this process (``--receiver-thread``), as `make run` runs it beside the worker."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._receiver = Receiver(directory, log=None)

    @property
    def url(self) -> str:
        return self._receiver.url

    async def start(self) -> ReceiverThread:
        self._receiver.start()
        return self

    async def stop(self) -> None:
        self._receiver.stop()

    def cpu_seconds(self) -> float:
        return 0.0  # counted in this process's


def count_jobs(folder: Path) -> int:
    """Translation jobs the receiver has stored (one file per distinct idempotency key)."""
    try:
        return sum(1 for e in os.scandir(folder) if e.name.endswith(".json") and not e.name.startswith("."))
    except FileNotFoundError:
        return 0


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


async def ledger_idle(ledger: WorkflowHandle[Any, Any], timeout: float) -> None:
    """Returns once the ledger's history has not grown for IDLE seconds: every place told, nothing in flight."""
    length, since = -1, time.perf_counter()

    async def idle() -> bool:
        nonlocal length, since
        now = (await ledger.describe()).history_length
        if now != length:
            length, since = now, time.perf_counter()
        return time.perf_counter() - since >= IDLE

    async def seen() -> str:
        return f"the ledger's history still grows ({length} events)"

    await wait_for(f"the ledger idle for {IDLE:g} s", idle, timeout, POLL_STATE, seen)


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


async def doc_state(handle: WorkflowHandle[Any, Any]) -> DocumentState:
    state: DocumentState = await handle.query(DocumentWorkflow.state)
    return state


async def trial(
    client: Client, server: DevServer, opts: Options, n: int, root: Path, known_runs: set[str]
) -> Trial:
    load_before = os.getloadavg()[0]
    progress(f"trial {n + 1}: baseline, {opts.jobs} no-op workflows")
    cpu_b = server.cpu_seconds() + time.process_time()
    baseline = await noop_baseline(client, opts.jobs, f"{n}", opts.timeout)
    baseline_cpu = server.cpu_seconds() + time.process_time() - cpu_b
    progress(f"trial {n + 1}: baseline {baseline:.2f} s; starting the ledger and {opts.documents} documents")

    receiver: ReceiverProcess | ReceiverThread = (
        ReceiverThread(root / f"receiver-{n}")
        if opts.receiver_thread
        else ReceiverProcess(root / f"receiver-{n}")
    )
    await receiver.start()
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
        await assessed(ledger, f"bench-{n}", total, date.today() + timedelta(days=30))

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
                start_document(
                    client,
                    DocumentInput(convention=CODE, spec=spec, money=money, funds_id=FUNDS_ID),
                    TASK_QUEUE,
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

        # A payment comes days after the requests, not while the ledger still tells the documents their places:
        # the clock starts once the ledger has been idle for a while (its history has stopped growing).
        await ledger_idle(ledger, opts.timeout)

        payment_id = f"bench-{n}-payment"
        payment = Payment(
            decision_id=payment_id, reference="bench", state="Austria", amount=total, force=True
        )

        progress(f"trial {n + 1}: {queued} requests queued; paying")
        # The clock: from the payment recorded to the receiver holding every job.
        cpu0 = (server.cpu_seconds(), time.process_time(), receiver.cpu_seconds())
        t_send = time.perf_counter()
        await decide(ledger, MeetingFundsWorkflow.record_payment, payment)
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
        cpu_receiver = receiver.cpu_seconds() - cpu0[2]

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
            cpu_receiver=cpu_receiver,
            baseline_cpu=baseline_cpu,
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
        await receiver.stop()


async def run_trials(opts: Options) -> tuple[list[Trial], DevServer, int]:
    """Each trial on a fresh dev server and worker, its baseline first: nothing of another trial still there."""
    trials: list[Trial] = []
    for n in range(opts.repeat):
        trial_, server, db_size = await fresh_trial(opts, n)
        trials.append(trial_)
    return trials, server, db_size


async def fresh_trial(opts: Options, n: int) -> tuple[Trial, DevServer, int]:
    with tempfile.TemporaryDirectory(prefix="ccm-bench-") as tmp:
        root = Path(tmp)
        server = DevServer(root)
        progress(f"trial {n + 1}: starting a fresh dev server on {server.address}")
        client = await server.start()
        try:
            own = new_client(max_connections=opts.http_max_connections) if opts.http_max_connections else None
            try:
                in_flight = opts.http_max_connections or MAX_CONNECTIONS
                async with ConferenceServices(client=own, in_flight=in_flight) as services:
                    worker = build_worker(
                        client,
                        services,
                        TASK_QUEUE,
                        extra_workflows=[NoOp],
                        only_activities=[
                            services.submit_translation,
                            services.submit_translations,
                            services.book_interpretation,
                        ],
                        max_concurrent_activities=opts.max_concurrent_activities,
                    )
                    async with worker:
                        # The first workflows of a process pay for imports; neither measurement should.
                        await noop_baseline(client, WARMUP_NOOPS, f"warmup-{n}", opts.timeout)
                        result = await trial(client, server, opts, n, root, set())
            finally:
                if own is not None:
                    await own.aclose()
            return result, server, server.db_size()
        finally:
            progress("stopping the dev server")
            await server.stop()


async def measure(opts: Options) -> Report:
    trials, server, db_size = await run_trials(opts)
    row = Row.paired(name(opts), [t.figure for t in trials], [t.baseline for t in trials], target=TARGET)
    # The same trials in CPU seconds (dev server and this process), which other processes' load moves far less than
    # wall time: no target of its own.
    cpu = Row.paired(
        f"{name(opts)}: CPU, server + worker + receiver",
        [t.cpu_server + t.cpu_here + t.cpu_receiver for t in trials],
        [t.baseline_cpu for t in trials],
    )
    return Report(rows=[row, cpu], details=describe(opts, trials, server, db_size))


def parse_options(argv: Sequence[str] | None = None) -> Options:
    p = arguments("funds_release", __doc__)
    p.add_argument("--documents", type=int, default=100, help="documents, 5 translations each (default 100)")
    p.add_argument("--timeout", type=float, default=90.0, help="seconds allowed for each wait (default 90)")
    p.add_argument(
        "--max-concurrent-activities", type=int, default=None, help="worker setting (default: SDK's)"
    )
    p.add_argument(
        "--http-max-connections",
        type=int,
        default=None,
        help="ConferenceServices' pool size, all kept alive (default: MAX_CONNECTIONS)",
    )
    p.add_argument(
        "--receiver-thread",
        action="store_true",
        help="run the receiver in a thread of this process, as `make run` does (default: its own process)",
    )
    a = p.parse_args(argv)
    if a.repeat < 1 or a.documents < 1 or a.timeout <= 0:
        p.error("--repeat and --documents must be at least 1, --timeout positive")
    # Each option's dest is the field of Options it sets.
    return Options(**vars(a))


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse_options(argv)
    run_alone(lambda: measure(opts))


if __name__ == "__main__":
    main()
