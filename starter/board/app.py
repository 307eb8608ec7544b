"""The board as a web application (Starlette): `/` the page, `/calendar.ics` the calendar, `/health`.

It holds no state: every request reads afresh through `gather`. Bound to a loopback address it asks nothing of
the browser; bound to any other, every request but /health must carry the token (``Authorization: Bearer``, or
``?token=`` once, which sets a cookie).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from temporalio.client import Client

from domain.bounds import chf
from starter.board.gather import TIMELINE_MONTHS, gather
from starter.board.ics import calendar
from starter.timeline import svg

COOKIE = "ccm_board_token"
TOKEN_ENV = "CCM_BOARD_TOKEN"
DEFAULT_PORT = 8299
# How often the page reloads itself, in seconds.
REFRESH = 10
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_TEMPLATES.filters["chf"] = chf


class TokenRequired(ValueError):
    """A board bound to an address other than loopback, started without a token."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_token(host: str, token: str | None) -> str | None:
    """The token the board requires: none on loopback (None), else ``token``, refused when there is none."""
    if is_loopback(host):
        return token or None
    if not token:
        raise TokenRequired(
            f"--host {host}: a board reachable from other machines needs a token (--token or {TOKEN_ENV})"
        )
    return token


def workflow_url(ui: str, namespace: str, wid: str) -> str:
    """The Temporal UI's page of the workflow ``wid`` (an id may hold slashes: CCM/MSP/2027/3)."""
    return f"{ui.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows/{quote(wid, safe='')}"


def _same(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class _Token(BaseHTTPMiddleware):
    def __init__(self, app: object, token: str) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path == "/health":
            return await call_next(request)
        given = request.query_params.get("token")
        if _same(given, self.token):
            # The first visit's link: set the cookie, then show the page without the token in its address.
            response = RedirectResponse(str(request.url.remove_query_params("token")), status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return response
        bearer = request.headers.get("authorization", "")
        if (bearer.startswith("Bearer ") and _same(bearer[7:], self.token)) or _same(
            request.cookies.get(COOKIE), self.token
        ):
            return await call_next(request)
        return PlainTextResponse(
            "a token is required: open the board's link with ?token=...", status_code=401
        )


def create_app(
    connect: Callable[[], Awaitable[Client]], code: str, ui_url: str, token: str | None = None
) -> Starlette:
    """``connect``: how to reach Temporal, called once, at the first request that needs it."""
    clients: list[Client] = []
    lock = asyncio.Lock()

    async def client() -> Client:
        async with lock:
            if not clients:
                clients.append(await connect())
            return clients[0]

    async def page(request: Request) -> Response:
        c = await client()
        board = await gather(c, code)
        picture = svg(board.marks(), board.today, TIMELINE_MONTHS, f"The next {TIMELINE_MONTHS} months")
        html = _TEMPLATES.get_template("board.html").render(
            board=board,
            refresh=REFRESH,
            link=lambda wid: workflow_url(ui_url, c.namespace, wid),
            timeline=Markup(picture),  # noqa: S704 - svg() escapes every label itself
        )
        return HTMLResponse(html)

    async def ics(request: Request) -> Response:
        c = await client()
        board = await gather(c, code)
        body = calendar(
            board.dated,
            f"{code.upper()} calendar",
            datetime.now(UTC),
            lambda wid: workflow_url(ui_url, c.namespace, wid),
        )
        return Response(body, media_type="text/calendar; charset=utf-8")

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    middleware = [Middleware(_Token, token=token)] if token else []
    return Starlette(
        routes=[Route("/", page), Route("/calendar.ics", ics), Route("/health", health)],
        middleware=middleware,
    )
