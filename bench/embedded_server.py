"""What does `make run`'s SQLite configuration buy? No-op workflow throughput, WAL against SQLite's defaults.

Two fresh dev servers, each with its own new database file: one as `make run` starts it (``--sqlite-pragma
journal_mode=wal --sqlite-pragma synchronous=normal``), one with the dev server's default SQLite settings
(rollback journal, synchronous=full). Both up at once, measured in turn (WAL, default, WAL, default, ... each
batch alone), one in-process worker per server. A batch starts ``--workflows`` no-op workflows (50 starts in
flight) and waits for every result. The figure is the throughput with WAL, the baseline with the defaults. No
target: issue 7 asked for 2x, but on a disk where an fsync costs 0.07 ms the run is CPU-bound and WAL gains about
1.4x; issue 16 asks only that the figure be measured well (the median over every batch, with its range).

    .venv/bin/python -m bench.embedded_server [--repeat N] [--workflows 200] [--rounds 2]
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from bench import funds_release
from bench.baselines import NoOp
from bench.common import (
    BenchError,
    DevServer,
    Report,
    Row,
    arguments,
    machine,
    median,
    progress,
    run_alone,
)
from bench.funds_release import noop_baseline
from worker import build_worker

TASK_QUEUE = funds_release.TASK_QUEUE  # where noop_baseline starts its workflows
WARMUP = 20
TIMEOUT = 300.0


@dataclass(frozen=True)
class Options:
    repeat: int = 1
    workflows: int = 200
    rounds: int = 2  # batches per server in each trial, alternating


async def measure_rounds(opts: Options) -> tuple[list[float], list[float], list[str]]:
    """Throughputs (workflows/s) per batch: WAL, then default."""
    wal: list[float] = []
    default: list[float] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ccm-bench-") as tmp:
        servers = {
            True: DevServer(Path(tmp) / "wal", wal=True),
            False: DevServer(Path(tmp) / "default", wal=False),
        }
        async with contextlib.AsyncExitStack() as stack:
            clients: dict[bool, Client] = {}
            for mode, server in servers.items():
                server.directory.mkdir()
                progress(f"embedded server: starting the dev server ({'WAL' if mode else 'default SQLite'})")
                stack.push_async_callback(server.stop)
                clients[mode] = await server.start()
                await stack.enter_async_context(
                    build_worker(clients[mode], None, TASK_QUEUE, extra_workflows=[NoOp], only_activities=[])
                )
                await noop_baseline(clients[mode], WARMUP, "warmup", TIMEOUT)
            for t in range(opts.repeat):
                for r in range(opts.rounds):
                    # Alternate which goes first in each round.
                    for mode in (True, False) if r % 2 == 0 else (False, True):
                        secs = await noop_baseline(clients[mode], opts.workflows, f"{t}-{r}", TIMEOUT)
                        (wal if mode else default).append(opts.workflows / secs)
                        progress(
                            f"embedded server: {'WAL' if mode else 'default'} {opts.workflows / secs:.1f} workflows/s"
                        )
            for mode, server in servers.items():
                notes.append(
                    f"  {'WAL' if mode else 'default'}: `{' '.join(server.command()[1:12])} ...`, "
                    f"database {server.db_size() / 1e6:.1f} MB at the end"
                )
    return wal, default, notes


async def measure(opts: Options) -> Report:
    wal, default, notes = await measure_rounds(opts)
    if not wal or not default:
        raise BenchError("no batch was measured")
    row = Row.paired(
        f"embedded server: no-op throughput, WAL vs default SQLite ({opts.workflows}/batch)",
        wal,
        default,
        at_least=True,
        unit="wf/s",
        digits=1,
    )
    details = [
        "embedded server: no-op workflow throughput",
        f"  figure   `make run`'s dev server (journal_mode=wal, synchronous=normal): batches of {opts.workflows} "
        f"no-op workflows started and completed, median {median(wal):.1f} workflows/s "
        f"(each: {', '.join(f'{v:.1f}' for v in wal)})",
        f"  baseline the dev server with SQLite's defaults, a fresh server and file, batches in turn with the "
        f"figure's: median {median(default):.1f} workflows/s (each: {', '.join(f'{v:.1f}' for v in default)})",
        f"  ratio    {row.ratio_text()}, batch by batch; no target (issue 16): the gain is the fsyncs WAL saves, "
        "small where an fsync is cheap and the run CPU-bound",
        *notes,
        f"  machine: {machine()}",
    ]
    return Report(rows=[row], details=details)


def main(argv: Sequence[str] | None = None) -> None:
    p = arguments("embedded_server", __doc__)
    p.add_argument("--workflows", type=int, default=200, help="no-op workflows per batch (default 200)")
    p.add_argument("--rounds", type=int, default=2, help="batches per server per trial (default 2)")
    a = p.parse_args(argv)
    if a.repeat < 1 or a.workflows < 1 or a.rounds < 1:
        p.error("--repeat, --workflows and --rounds must be at least 1")
    run_alone(lambda: measure(Options(repeat=a.repeat, workflows=a.workflows, rounds=a.rounds)))


if __name__ == "__main__":
    main()
