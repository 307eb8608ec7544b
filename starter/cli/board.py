"""`msp board`: serve the board (a read-only web page) against any Temporal cluster; `msp calendar`: print the
calendar (iCalendar) that the board serves at /calendar.ics."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from temporalio.client import Client

from runtime.connect import connect
from starter.cli.common import BAD_INPUT, OK, CliError, ConventionOpt, convention_of, echo, run

DEFAULT_UI = "http://127.0.0.1:8233"
# As starter/board/app.py says; repeated here because the board's modules import `msp`'s (its calls), so this one,
# which `msp` imports, imports them only when a command runs.
DEFAULT_PORT = 8299
TOKEN_ENV = "CCM_BOARD_TOKEN"
UiOpt = Annotated[
    str,
    typer.Option("--ui-url", envvar="CCM_UI_URL", help="The Temporal Web UI's address, for the links."),
]


def board(
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", envvar="CCM_BOARD_PORT", min=1, max=65535, help="The port to listen on.")
    ] = DEFAULT_PORT,
    ui_url: UiOpt = DEFAULT_UI,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar=TOKEN_ENV,
            help="Required unless --host is a loopback address.",
            show_default=False,
        ),
    ] = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Serve the board: the Presidency, the next meeting day by day, what needs attention, the lists, a timeline."""

    async def go() -> int:
        import uvicorn

        from starter.board.app import TokenRequired, check_token, create_app

        code = convention_of(convention).code
        try:
            required = check_token(host, token)
        except TokenRequired as e:
            raise CliError(str(e), BAD_INPUT) from None
        client = await connect()

        async def same() -> Client:
            return client

        app = create_app(same, code, ui_url, required)
        where = f"http://{host}:{port}/"
        echo(f"the board of {code} on {where} (links to {ui_url}); Ctrl-C stops it", err=True)
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        try:
            await server.serve()
        except SystemExit:  # uvicorn's way of saying it could not listen, after logging why
            raise CliError(f"--port {port}: cannot listen on {host}:{port} (in use?)", BAD_INPUT) from None
        return OK

    run(go)


def calendar_command(ui_url: UiOpt = DEFAULT_UI, convention: ConventionOpt = "ccm") -> None:
    """Print the calendar (iCalendar): meeting days, handovers, due dates and deadlines. `msp calendar > ccm.ics`."""

    async def go() -> int:
        from starter.board.app import workflow_url
        from starter.board.gather import gather
        from starter.board.ics import calendar

        code = convention_of(convention).code
        client = await connect()
        found = await gather(client, code)
        for problem in found.problems:
            echo(f"not in the calendar: {problem}", err=True)
        link = lambda wid: workflow_url(ui_url, client.namespace, wid)  # noqa: E731
        sys.stdout.buffer.write(calendar(found.dated, f"{code.upper()} calendar", datetime.now(UTC), link))
        return OK

    run(go)
