"""What `bench/funds_release.py` reports: its options and trials, where the time went after the payment (read
from the histories of the ledger and the documents, server clock), and the lines of the report."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from activities.conference_services import MAX_CONNECTIONS
from bench.common import BenchError, DevServer, machine, median
from domain import search_attributes as sa
from domain.ids import funds_id
from domain.models import Language

CODE = "bench"
MEETING = "14MSP"
FUNDS_ID = funds_id(CODE, MEETING)


TARGET = 0.5  # issue 16: within 0.5x the baseline
# The code this figure measures: others edit it, so each report says which version it ran.
MEASURED = (
    "workflows/funds.py",
    "workflows/document.py",
    "activities/conference_services.py",
    "domain/funds.py",
)


@dataclass(frozen=True)
class Options:
    repeat: int = 1
    documents: int = 100
    timeout: float = 90.0  # for each wait
    max_concurrent_activities: int | None = None  # None: the SDK's default, as worker.py runs it
    http_max_connections: int | None = None  # None: ConferenceServices' own client (new_client)
    receiver_thread: bool = False  # the receiver in this process, as `make run` runs it, not in its own

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
    cpu_here: float = 0.0  # this process: worker and client
    cpu_receiver: float = 0.0  # the receiver's own process
    baseline_cpu: float = 0.0  # the same two, while the baseline ran
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before the baseline, after the figure
    ledger_runs: list[tuple[str, int]] = field(default_factory=list)
    doc_events: list[int] = field(default_factory=list)
    breakdown: Breakdown = field(default_factory=Breakdown)


def name(opts: Options) -> str:
    return f"funds release: 1 payment -> {opts.jobs} translation jobs"


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


async def history(client: Client, workflow_id: str, run_id: str | None = None) -> list[HistoryEvent]:
    return list((await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()).events)


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


def breakdown_lines(b: Breakdown) -> list[str]:
    """The lines of a trial's report on ``b``."""
    return [
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
    ]


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
        f"  ratio    {median([t.figure / t.baseline for t in trials]):.2f}x, the median of each run's (each run: "
        f"{', '.join(f'{t.figure / t.baseline:.2f}x' for t in trials)}); target <= {TARGET:g}x (issue 16)",
        f"  record_payment round trip: {each([t.payment_rtt for t in trials])} s; every document reporting all "
        f"{opts.languages} languages in translation (by query, after the count): "
        f"{each([t.in_translation for t in trials])} s after the payment",
    ]
    for n, t in enumerate(trials, start=1):
        runs = "; ".join(f"run {i} ({r[:8]}): {k} events" for i, (r, k) in enumerate(t.ledger_runs, start=1))
        ev = sorted(t.doc_events)
        lines += [
            f"  trial {n}: ledger history per run: {runs}",
            f"    events per document: min {ev[0]}, median {median(ev):.0f}, max {ev[-1]} ({sum(ev)} in all)",
            *breakdown_lines(t.breakdown),
            f"    CPU while the clock ran ({t.figure:.1f} s, {os.cpu_count()} CPUs): dev server {t.cpu_server:.1f} s, "
            f"this process (worker, client) {t.cpu_here:.1f} s, the receiver {t.cpu_receiver:.1f} s; load average {t.load[0]:.1f} before "
            f"the baseline, {t.load[1]:.1f} after the figure (other processes count too); while the baseline "
            f"ran ({t.baseline:.1f} s): {t.baseline_cpu:.1f} s, both together",
        ]
    activities = opts.max_concurrent_activities or "SDK default (100)"
    pool = f"{opts.http_max_connections or MAX_CONNECTIONS} connections, all kept alive"
    lines += [
        f"  worker: in-process, max_concurrent_activities={activities}, http pool={pool}",
        "  receiver: "
        + (
            "a thread of this process, sharing the worker's interpreter (--receiver-thread)"
            if opts.receiver_thread
            else "its own process (python -m starter.receiver), as conference services are another server"
        ),
        f"  server: temporal server start-dev --headless, SQLite journal_mode=wal synchronous=normal, "
        f"{len(sa.ALL)} search attributes (db {db_size / 1e6:.0f} MB at the end)",
        f"  machine: {machine()}",
        f"  code (sha256): {fingerprint()}",
    ]
    return lines
