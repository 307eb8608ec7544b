"""`msp` run in this process (typer's runner, milliseconds a command) against an address where nothing listens:
a command that got as far as connecting exits 3, so any other exit code shows it stopped before sending anything."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from starter.cli import app
from tests.support.devserver import free_port

CLOSED = f"127.0.0.1:{free_port()}"


def invoke(args: list[str]) -> tuple[int, str, str]:
    """The exit code, stdout and stderr of `msp <args>`."""
    result = CliRunner(env={"TEMPORAL_ADDRESS": CLOSED, "TEMPORAL_NAMESPACE": "default"}).invoke(app, args)
    # typer's runner turns any exception into a result; only a clean exit is acceptable.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def assess(shares: Path) -> list[str]:
    """`msp funds assess` of the file ``shares`` for the 14MSP."""
    return [
        "funds",
        "assess",
        "--file",
        str(shares),
        "--due",
        "2027-06-30",
        "--ref",
        "r",
        "--meeting",
        "14MSP",
    ]
