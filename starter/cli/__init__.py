"""The `msp` command: start the presidential cycle, send the Presidency's decisions, show where things stand;
record a meeting's money (`msp funds`), follow its documents (`msp docs`), the mandated reviews (`msp reviews`),
extension requests (`msp extensions`), silence procedures (`msp silence`), Article 7 reports (`msp reports`) and
the Coordination Committee (`msp committee`), the Sponsorship Programme (`msp sponsorship`).

One module per command group; `common.py` holds what they share (exit codes, errors, options, tables),
`calls.py` every call to Temporal, `send.py` the one path a decision takes, and `commands.py` the options a
group's commands share, declared once. It stays thin: every rule lives in
``domain/`` and is enforced by the workflows' update validators, so a decision is answered here exactly as the
workflow answered it.

Exit codes: 0 done (or already done), 1 decision rejected, 2 bad input (nothing sent), 3 Temporal unreachable,
4 workflow not running, 5 no answer or another Temporal failure.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import typer
import typer.core

from starter.cli import (
    board,
    codec_server,
    committee,
    cycle,
    decide,
    docs,
    extensions,
    funds,
    isu,
    register,
    reports,
    reviews,
    silence,
    simulate,
    sponsorship,
    status,
)
from starter.cli.common import FAILED, OK

# typer 0.29 shows a flag's type in help ("--help <bool>", "--json <bool>"): a flag takes no value, so none is shown.
_type_shown = typer.core.TyperOption.display_type_rich


def _no_type_for_flags(self: typer.core.TyperOption, ctx: Any) -> str | None:
    return None if self.is_flag else _type_shown(self, ctx)


typer.core.TyperOption.display_type_rich = _no_type_for_flags  # type: ignore[method-assign]

app = typer.Typer(
    help="The Convention's presidential cycle on Temporal: start it, decide, see the status.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Each command group is named after its module, and listed in this order.
for module in (
    cycle,
    decide,
    funds,
    docs,
    reviews,
    extensions,
    silence,
    reports,
    register,
    committee,
    isu,
    sponsorship,
):
    app.add_typer(module.app, name=module.__name__.rpartition(".")[2])
app.command("codec-server")(codec_server.codec_server)
app.command("status")(status.status)
app.command("simulate")(simulate.simulate)
app.command("board")(board.board)
app.command("calendar")(board.calendar_command)


def main() -> NoReturn:
    """The console script: runs one command, then leaves without the interpreter's shutdown (sdk-python#300)."""
    code: int
    try:
        app()
        code = OK
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        code = 130
    except BaseException:  # an unexpected error: show it whole, since no one-line message was prepared
        import traceback

        traceback.print_exc()
        code = FAILED
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
