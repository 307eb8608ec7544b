"""Every benchmark in bench/, one table: ``.venv/bin/python -m bench [--repeat N]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from bench import funds_release
from bench.common import BenchError, Report, finish, table
from starter import logsetup

# Each runs on its own dev server, one after the other.
BENCHMARKS: list[tuple[str, Callable[[int], Coroutine[Any, Any, Report]]]] = [
    ("funds_release", lambda repeat: funds_release.measure(funds_release.Options(repeat=repeat))),
]


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--repeat", type=int, default=1, help="run each measurement N times, report the median")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    logsetup.configure(level=logging.WARNING)
    reports: list[Report] = []
    for name, run in BENCHMARKS:
        try:
            reports.append(asyncio.run(run(args.repeat)))
        except BenchError as e:
            print(f"error: {name}: {e}", file=sys.stderr)
            finish(1)
    print(table([row for r in reports for row in r.rows]))
    for r in reports:
        print()
        print("\n".join(r.details))
    finish(0)


if __name__ == "__main__":
    main()
