"""The board in a real browser (Debian's chromium, driven by playwright) on the dev server, with a real worker.

The board is served by uvicorn in this process, on 127.0.0.1; the cycle is started with `msp`, as an operator
does. The Temporal UI its links point to is a stand-in the browser answers itself (page.route), so that following
a link shows where it goes without a UI server.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.async_api import Route, async_playwright, expect
from temporalio.client import Client

from domain.ids import review_id
from starter.board.app import TokenRequired, check_token, create_app, workflow_url
from tests.support.devserver import MSP, MspCycle, Server, config_text, free_port, worker_cycle

UI = "http://ui.invalid:8233"
# Without the background-networking flags Chromium hangs on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USER_TEXT = "<b>x</b> & Co"
# Playwright waits this long (ms) for the page to show what a test expects: a few of the page's reloads.
SEEN_WITHIN = 30_000


def overdue_review(due: str) -> str:
    return f"""
[[reviews]]
subject = "hosting-agreement"
title = "the agreement hosting the ISU at the GICHD"
mandate = {{ decided_by = "2nd Review Conference", reference = "CCM/CONF/2021/6, para 7" }}
due = {{ kind = "date", on = {due} }}
"""


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[MspCycle]:
    async with worker_cycle(server, tmp_path, MspCycle) as c:
        yield c


@pytest.fixture
async def board(cycle: MspCycle) -> AsyncIterator[str]:
    """The board of the cycle's convention, served on a free loopback port; its address."""

    async def client() -> Client:
        return cycle.client

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(client, cycle.code, UI), host="127.0.0.1", port=free_port(), log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, "the board did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_the_board_shows_the_president_an_overdue_review_under_attention_and_links_to_the_ui(
    cycle: MspCycle, board: str
) -> None:
    config = config_text(cycle.code, cycle.today).replace("Ambassador A. Example", USER_TEXT)
    cycle.config.write_text(config)
    await cycle.ok("cycle", "start", "--config", str(cycle.config))
    chromium = shutil.which("chromium")
    assert chromium is not None, "chromium is missing: `make browser` installs it"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()

            async def ui(route: Route) -> None:
                await route.fulfill(status=200, content_type="text/html", body="<title>Temporal UI</title>")

            await page.route(f"{UI}/**", ui)
            await page.goto(board)
            president = page.locator("#president")
            await expect(president).to_contain_text(f"Austria ({USER_TEXT})", timeout=SEEN_WITHIN)
            # The representative's text is shown as typed, not as markup.
            assert await president.locator("b").count() == 0
            assert "&lt;b&gt;x&lt;/b&gt; &amp; Co" in await page.content()
            await expect(page.locator("#presidency")).to_contain_text("1. Chile")
            # The meeting's interpretation waits for money that no one has paid yet.
            await expect(page.locator("#attention")).to_contain_text("Ledger shortfall")
            await expect(page.locator("#attention")).not_to_contain_text("Review overdue")

            # A review due two days ago, added to the configuration: overdue as soon as it starts. (Due yesterday, its
            # escalation would wait for the start of today's working day, and the test would fail before it in Geneva.)
            cycle.config.write_text(config + overdue_review(str(cycle.today - timedelta(days=2))))
            await cycle.ok("cycle", "start", "--config", str(cycle.config))
            link = page.locator("#attention a", has_text="Review overdue: hosting-agreement")
            await expect(link).to_be_visible(timeout=SEEN_WITHIN)  # the page reloads itself
            wid = review_id(cycle.code, "hosting-agreement")
            expected = f"{UI}/namespaces/default/workflows/{wid}"
            assert await link.get_attribute("href") == expected
            await link.click()
            await page.wait_for_url(expected)
            await expect(page).to_have_title("Temporal UI")
        finally:
            await browser.close()
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{board}/health")).status_code == 200


def test_a_board_bound_beyond_loopback_requires_a_token() -> None:
    assert check_token("127.0.0.1", None) is None
    assert check_token("::1", None) is None
    assert check_token("localhost", None) is None
    with pytest.raises(TokenRequired, match="--host 0.0.0.0: .* needs a token"):
        check_token("0.0.0.0", None)
    with pytest.raises(TokenRequired):
        check_token("192.0.2.7", "")
    assert check_token("192.0.2.7", "s3cret") == "s3cret"


async def test_with_a_token_only_a_bearer_header_or_the_cookie_of_a_first_visit_is_let_in() -> None:
    async def unreachable() -> Client:
        raise AssertionError("the board asked Temporal before checking the token")

    app = create_app(unreachable, "ccm", UI, "s3cret")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://board") as http:
        assert (await http.get("/health")).status_code == 200
        assert (await http.get("/")).status_code == 401
        assert (await http.get("/calendar.ics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await http.get("/?token=wrong")).status_code == 401
        first = await http.get("/?token=s3cret")
        assert first.status_code == 303 and first.headers["location"] == "http://board/", first.headers
        assert "ccm_board_token=s3cret" in first.headers["set-cookie"]
        assert "httponly" in first.headers["set-cookie"].lower()


def test_a_link_names_the_workflow_whatever_its_id_holds() -> None:
    assert workflow_url(UI + "/", "default", "ccm-doc-CCM/MSP/2027/3") == (
        f"{UI}/namespaces/default/workflows/ccm-doc-CCM%2FMSP%2F2027%2F3"
    )


def test_msp_board_says_the_same_defaults_as_the_board() -> None:
    from starter.board import app
    from starter.cli import board

    assert (board.DEFAULT_PORT, board.TOKEN_ENV) == (app.DEFAULT_PORT, app.TOKEN_ENV)


def test_msp_board_refuses_to_start_beyond_loopback_without_a_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CCM_BOARD_TOKEN"}
    done = subprocess.run(
        [str(MSP), "board", "--host", "0.0.0.0"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done
    assert done.stderr.strip() == (
        "--host 0.0.0.0: a board reachable from other machines needs a token (--token or CCM_BOARD_TOKEN)"
    )
