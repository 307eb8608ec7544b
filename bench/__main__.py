"""Every benchmark in bench/, one table: ``.venv/bin/python -m bench [--only NAME ...] [--repeat N]``.

Each row's ratio is the median of ``--repeat`` trials' own ratios (3 by default), shown with their range."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from bench import (
    decision_latency,
    embedded_server,
    five_years,
    funds_release,
    funds_report,
    receiver,
    worker_memory,
)
from bench.common import Report, finish, machine, table
from runtime import logsetup

# Each runs on its own server(s), one after the other.
BENCHMARKS: list[tuple[str, Callable[[int], Coroutine[Any, Any, Report]]]] = [
    ("decision_latency", lambda repeat: decision_latency.measure(decision_latency.Options(repeat=repeat))),
    ("funds_release", lambda repeat: funds_release.measure(funds_report.Options(repeat=repeat))),
    ("five_years", lambda repeat: five_years.measure(five_years.Options(repeat=repeat))),
    ("receiver", lambda repeat: receiver.measure(receiver.Options(repeat=repeat))),
    ("worker_memory", lambda repeat: worker_memory.measure(worker_memory.Options(repeat=repeat))),
    ("embedded_server", lambda repeat: embedded_server.measure(embedded_server.Options(repeat=repeat))),
]
NAMES = [name for name, _ in BENCHMARKS]


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "--repeat", type=int, default=3, help="run each measurement N times (default 3), report the median"
    )
    p.add_argument(
        "--only",
        action="append",
        choices=NAMES,
        metavar="NAME",
        help=f"run only these (of {', '.join(NAMES)})",
    )
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    logsetup.configure(level=logging.WARNING)
    reports: list[Report] = []
    failed: list[str] = []
    t0 = time.perf_counter()
    load0 = os.getloadavg()
    for name, run in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        try:
            report = asyncio.run(run(args.repeat))
        except Exception as e:  # the others still run, and what they measured is printed
            print(f"error: {name}: {type(e).__name__}: {e}", file=sys.stderr)
            failed.append(name)
            continue
        reports.append(report)
        # As each finishes, so that a later failure loses nothing.
        print(table(report.rows), "", "\n".join(report.details), "", sep="\n", file=sys.stderr, flush=True)
    load1 = os.getloadavg()
    print(table([row for r in reports for row in r.rows]))
    for r in reports:
        print()
        print("\n".join(r.details))
    print()
    print(
        f"{machine()}; {time.perf_counter() - t0:.0f} s in all; load average (1, 5, 15 min) "
        f"{', '.join(f'{v:.2f}' for v in load0)} before, {', '.join(f'{v:.2f}' for v in load1)} after"
    )
    if failed:
        print(f"error: {', '.join(failed)} did not finish (above)", file=sys.stderr)
    finish(1 if failed else 0)


if __name__ == "__main__":
    main()
