"""The Temporal Web UI in a real browser (Debian's chromium, driven by playwright): what the engine writes into a
workflow's summary and current details reads in the UI as it was typed.

The UI renders markdown with a renderer of its own, not CommonMark: it shows a backslash before some punctuation
as typed (`\\/`, `\\,`, `\\=`), which tests/domain/test_markdown.py cannot see. The dev server here runs its Web UI,
as `make run` does; the document is submitted with `msp`, as the ISU does.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import quote

import pytest
from playwright.async_api import FrameLocator, Page, async_playwright, expect

from domain.ids import document_id, meeting_label_id
from tests.cli.test_board_browser import CHROMIUM_ARGS, SEEN_WITHIN
from tests.support.devserver import MspCycle, Server, config_text, dev_server, free_port, worker_cycle

# Markup of every kind the UI's renderer knows, and punctuation it shows a backslash before when escaped.
TITLE = "Draft *final* report, para 12(c) <b>x</b> = 1_000 [see](x.png) a/b; 50% ok? -- `y` #1 | z ~~w~~"
SYMBOL = "CCM/MSP/2027/9"


@pytest.fixture(scope="module")
async def ui_server() -> AsyncIterator[tuple[Server, str]]:
    port = free_port()
    async with dev_server(ui_port=port) as s:
        yield s, f"http://127.0.0.1:{port}"


async def user_metadata(page: Page, ui: str, wid: str) -> tuple[FrameLocator, FrameLocator]:
    """The workflow's page, its User Metadata tab open: the summary's frame and the current details' frame."""
    await page.goto(f"{ui}/namespaces/default/workflows/{quote(wid, safe='')}")
    await page.get_by_text("User Metadata", exact=True).first.click(timeout=SEEN_WITHIN)
    return (
        page.frame_locator("#user-metadata-summary"),
        page.frame_locator("#user-metadata-current-details"),
    )


async def test_a_document_and_its_meeting_read_in_the_web_ui_as_written(
    ui_server: tuple[Server, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    server, ui = ui_server
    chromium = shutil.which("chromium")
    assert chromium is not None, "chromium is missing: `make browser` installs it"
    async with worker_cycle(server, tmp_path_factory.mktemp("ui"), MspCycle) as cycle:
        cycle.config.write_text(config_text(cycle.code, cycle.today))
        await cycle.ok("cycle", "start", "--config", str(cycle.config))
        due = cycle.today + timedelta(days=20)
        await cycle.ok(
            "docs", "submit", "--symbol", SYMBOL, "--title", TITLE, "--pages", "12", "--due", str(due)
        )  # fmt: skip
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page()
                summary, details = await user_metadata(page, ui, document_id(cycle.code, SYMBOL))
                heading = details.locator("h2")
                await expect(heading).to_have_text(f"{SYMBOL}: {TITLE}", timeout=SEEN_WITHIN)
                # Nothing the title holds became markup: no emphasis, link, image, code, strike or HTML.
                for tag in ("em", "strong", "b", "a", "img", "code", "del", "s", "table"):
                    assert await heading.locator(tag).count() == 0, tag
                main = details.locator("main")
                await expect(main).to_contain_text("ar: waiting for funds, CHF 2,160")
                await expect(main).to_contain_text("Geneva")
                assert "\\" not in await main.inner_text()
                await expect(summary.locator("main")).to_have_text(f"{SYMBOL}: {TITLE}")
                assert await summary.locator("main em, main b, main a, main img").count() == 0

                # The meeting's page says, day by day, whether interpretation is funded.
                _, meeting = await user_metadata(page, ui, meeting_label_id(cycle.code, "14MSP"))
                days = meeting.locator("main")
                await expect(days).to_contain_text("Interpretation, day by day", timeout=SEEN_WITHIN)
                await expect(days).to_contain_text("Geneva time")
                assert "\\" not in await days.inner_text()
            finally:
                await browser.close()
