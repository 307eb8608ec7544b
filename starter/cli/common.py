"""What every `msp` command shares: exit codes, one-line errors, how options are checked, the options themselves,
and the helpers that print (tables, JSON, the ATTENTION column).

Nothing here talks to Temporal; that is `starter/cli/calls.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, TypeAdapter, ValidationError
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from domain import search_attributes as sa
from domain.bounds import Name, escape_controls, in_window, quote
from domain.calendar import local_clock, local_date
from domain.config import ConfigError, CycleConfig, parse_config
from domain.decisions import Rejected
from domain.models import STANDARD_DEFAULTS, Convention, Defaults, MeetingKind, MeetingRef
from domain.notifications import Undeliverable
from domain.states import check_state
from runtime.connect import BadSetting, ConnectError

DEFAULT_CONFIG = Path(__file__).parents[2] / "config" / "cycle.toml"
# How long to wait for a worker to answer a query or a decision before saying so.
ANSWER_TIMEOUT = timedelta(seconds=float(os.environ.get("MSP_ANSWER_TIMEOUT", "60")))
# How long `msp status` waits for a Presidency that was just started to start its meeting.
STATUS_WAIT = timedelta(seconds=5)

OK, REJECTED, BAD_INPUT, UNREACHABLE, NOT_RUNNING, FAILED = 0, 1, 2, 3, 4, 5

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


def kind_attributes(
    kind: sa.Kind, code: str, *more: SearchAttributePair[Any]
) -> list[SearchAttributePair[Any]]:
    """The search attributes a workflow `msp` starts is given at once, so a list finds it before it runs."""
    return sa.started_with(kind, code, *more)


def echo(text: str = "", err: bool = False) -> None:
    """Prints human text: control characters in it (ESC, OSC, NUL, bidi overrides...) are shown escaped, never
    sent raw to the terminal. Every line `msp` prints goes through here."""
    typer.echo(escape_controls(text, keep="\n"), err=err)


def echo_json(value: Any, ensure_ascii: bool = False) -> None:
    echo(json.dumps(value, indent=2, ensure_ascii=ensure_ascii))


class CliError(Exception):
    """Ends a command with a message on stderr and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def one_line(text: str) -> str:
    return " ".join(text.split())


# The option each model field comes from, to name it in an error; each command group adds its own.
OPTIONS = {
    "decision_id": "--id",
    "reference": "--ref",
    "start": "--start",
    "duration_days": "--days",
    "place": "--place",
    "host_covering_extra_cost": "--host",
    "new_start": "--to",
    "reason": "--reason",
    "format": "--format",
    "president.state": "--state",
    "president.representative": "--representative",
    "successor.state": "--successor-state",
    "successor.representative": "--successor-representative",
    "position": "--position",
    "held": "--held/--not-held",
    "code": "--convention",
}


def name_options(fields: str = "", **options: str) -> None:
    """Adds to OPTIONS the model fields a command group's options give: ``--`` and the field's name with dashes for
    each of ``fields`` (separated by spaces), the option named for each of ``options``."""
    OPTIONS.update({f: "--" + f.replace("_", "-") for f in fields.split()}, **options)


def group(help: str) -> typer.Typer:
    """A command group: its help, shown too when it is called without a command."""
    return typer.Typer(help=help, no_args_is_help=True)


def validation_lines(e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        field = ".".join(str(p) for p in err["loc"])
        option = OPTIONS.get(field, field or "input")
        msg = one_line(str(err["msg"]).removeprefix("Value error, "))
        value = err.get("input")
        scalar = value is not None and not isinstance(value, dict | list)
        lines.append(f"{option}: {msg} (got {quote(value)})" if scalar else f"{option}: {msg}")
    return "\n".join(lines)


def run(make: Callable[[], Coroutine[Any, Any, int]]) -> None:
    """Runs one command's coroutine; ends the command with its exit code, errors as one line on stderr."""
    try:
        code = asyncio.run(make())
    except CliError as e:
        echo(e.message, err=True)
        raise typer.Exit(e.code) from None
    except ConfigError as e:
        echo(str(e), err=True)
        raise typer.Exit(BAD_INPUT) from None
    except ValidationError as e:
        echo(validation_lines(e), err=True)
        raise typer.Exit(BAD_INPUT) from None
    except sa.Unsearchable as e:
        echo(one_line(str(e)), err=True)
        raise typer.Exit(BAD_INPUT) from None
    except BadSetting as e:
        echo(one_line(str(e)), err=True)
        raise typer.Exit(BAD_INPUT) from None
    except ConnectError as e:
        echo(one_line(str(e)), err=True)
        raise typer.Exit(UNREACHABLE) from None
    raise typer.Exit(code)


# Options checked before anything is asked of Temporal.


def load_config(path: Path) -> CycleConfig:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CliError(f"{path}: cannot read the configuration: {e.strerror or e}", BAD_INPUT) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise CliError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); TOML files are UTF-8", BAD_INPUT
        ) from None
    from starter.cli.register import with_register  # the register's module imports this one

    return with_register(parse_config(text, source=str(path)), path)


def date_option(text: str | None, option: str) -> date | None:
    """A date given on the command line (YYYY-MM-DD), or None when the option was not given."""
    if text is None:
        return None
    try:
        return in_window(date.fromisoformat(text.strip()))
    except ValueError as e:
        reason = str(e) if "engine" in str(e) else f"expected a date (YYYY-MM-DD), not {quote(text)}"
        raise CliError(f"{option}: {reason}", BAD_INPUT) from None


NAME: TypeAdapter[str] = TypeAdapter(Name)


def checked(adapter: TypeAdapter[R], text: str, option: str) -> R:
    """An option or argument no model takes whole (a name looked up, a symbol): checked the same way before use."""
    try:
        return adapter.validate_python(text)
    except ValidationError as e:
        msg = one_line(str(e.errors()[0]["msg"]).removeprefix("Value error, "))
        raise CliError(f"{option}: {msg} (got {quote(text)})", BAD_INPUT) from None


def state_option(
    text: str,
    listed: Sequence[str],
    where: str,
    option: str = "--state",
    aliases: Mapping[str, str] | None = None,
) -> str:
    """A State named on the command line (or by an alias), as ``listed`` names it (any case, width and spacing);
    BAD_INPUT when it is not a well-formed name or not on the list."""
    try:
        return check_state(checked(NAME, text, option), listed, where, aliases)
    except Rejected as e:
        raise CliError(f"{option}: {e}", BAD_INPUT) from None


def states_parties(cfg: CycleConfig, config: Path, may: str) -> list[str]:
    """The States Parties of the configuration, who may break a silence procedure; BAD_INPUT when it lists none."""
    if not cfg.states_parties.names:
        raise CliError(
            f"{config}: states_parties.names is empty: a silence procedure needs the States Parties who may {may}",
            BAD_INPUT,
        )
    return list(cfg.states_parties.names)


def convention_of(code: str) -> Convention:
    return Convention(code=code)


def meeting_ref(label: str) -> MeetingRef:
    m = re.fullmatch(r"\s*(\d{1,3})\s*(MSP|RC)\s*", label, flags=re.IGNORECASE)
    if not m:
        raise CliError(
            f"--meeting: expected a meeting label like 14MSP or 3RC, not {quote(label)}", BAD_INPUT
        )
    return MeetingRef(number=int(m.group(1)), kind=MeetingKind(m.group(2).upper()))


def new_id() -> str:
    return f"cli-{uuid.uuid4().hex[:12]}"


def validated(
    model: type[M],
    fields: Mapping[str, Any],
    what: str = "decision",
    id_field: str = "decision_id",
    sending: Callable[[M], str] | None = None,
) -> M:
    """The message from the command's options (absent ones take the model's defaults); prints its id, or
    ``sending`` of it (what is being recorded, naming the id) where the bare id would read as jargon."""
    value = model.model_validate({k: v for k, v in fields.items() if v is not None})
    echo(sending(value) if sending else f"{what} {getattr(value, id_field)}")
    return value


def decided(model: type[M], decision_id: str | None, reference: str | None, **fields: Any) -> M:
    """A decision of the Presidency (or the ISU) from the command's options: a new id unless one was given."""
    return validated(model, {"decision_id": decision_id or new_id(), "reference": reference, **fields})


# Options shared by the commands.

IdOpt = Annotated[
    str | None,
    typer.Option(
        "--id", help="Decision id; sending the same id again applies it once. Default: a new one, printed."
    ),
]
RefOpt = Annotated[str, typer.Option("--ref", help="The paragraph or document that adopted the decision.")]
ConventionOpt = Annotated[
    str, typer.Option("--convention", envvar="CCM_CONVENTION", help="Convention code used in workflow ids.")
]
ConfigOpt = Annotated[
    Path, typer.Option("--config", envvar="CCM_CONFIG", help="The cycle's configuration file (TOML).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]
AmountOpt = Annotated[int, typer.Option("--amount", help="Whole Swiss francs (CHF), more than 0.")]
ArticleOpt = Annotated[int, typer.Option("--article", help="3 (stockpile destruction) or 4 (clearance).")]
MeetingOpt = Annotated[
    str | None,
    typer.Option("--meeting", help="The meeting, e.g. 14MSP. Default: the Presidency's current meeting."),
]


# What the commands print.


def table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...] | None = None) -> list[str]:
    all_rows = ([header] if header else []) + list(rows)
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(all_rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in all_rows]


def columns(rows: Sequence[R], spec: Sequence[tuple[str, Callable[[R], str]]]) -> list[str]:
    """A table with a header: one column per (heading, cell of a row) of ``spec``."""
    return table([tuple(cell(r) for _, cell in spec) for r in rows], header=tuple(h for h, _ in spec))


def section(title: str, lines: list[str], empty: str) -> list[str]:
    """A blank line, the title, then the lines (or ``empty`` when there are none)."""
    return ["", title, *(lines or [empty])]


def today() -> datetime:
    return datetime.now(UTC)


def today_in_geneva(defaults: Defaults = STANDARD_DEFAULTS) -> date:
    """Today on the clock of ``defaults``: a workflow's own where its state carries them."""
    return local_date(today(), defaults)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def execution(status: Any) -> str:
    """A workflow execution's status as `msp` shows it: ``running``, ``completed``... (``unknown`` when none)."""
    return status.name.lower() if status is not None else "unknown"


def attention(
    undeliverable: Sequence[Undeliverable] | None, attrs: TypedSearchAttributes | None
) -> dict[str, Any]:
    """A list row's ``attention`` (CcmAttention's values) and ``undeliverable`` (the refused notifications), from
    the state of a running workflow (``undeliverable``), else from the search attribute alone (records: None)."""
    flags = set(attrs.get(sa.ATTENTION) or []) if attrs is not None else set()
    records = None
    if undeliverable is not None:
        flags.discard(sa.UNDELIVERABLE)
        if undeliverable:
            flags.add(sa.UNDELIVERABLE)
        records = [u.model_dump(mode="json") for u in undeliverable]
    return {"attention": sorted(flags), "undeliverable": records}


def attention_cell(row: Mapping[str, Any]) -> str:
    """The ATTENTION column: "2 undeliverable" when the records were read, else the flags as listed."""
    flags = [
        f"{len(row['undeliverable'])} {f}" if f == sa.UNDELIVERABLE and row["undeliverable"] else f
        for f in row["attention"]
    ]
    return ", ".join(flags) or "-"


def next_notification_cell(row: Mapping[str, Any]) -> str:
    upcoming = row["next_notification"]
    return f"{upcoming['kind']} on {upcoming['on']}" if upcoming else "-"


def undeliverable_lines(records: Sequence[Undeliverable]) -> list[str]:
    """A `show` command's section on the notifications the webhook refused (none: nothing)."""
    if not records:
        return []
    title = f"Undeliverable notifications ({len(records)}; the webhook refused them, they are not resent)"
    rows = [(local_clock(u.at, STANDARD_DEFAULTS), u.kind, u.webhook, one_line(u.reason)) for u in records]
    return ["", title, *table(rows, header=("AT (GENEVA)", "KIND", "WEBHOOK", "ANSWER"))]
