"""The screenshots in docs/, taken again from a running `make run` (Debian's chromium, driven by playwright):

    python -m tests.support.screenshots [--ui http://127.0.0.1:8233] [--board http://127.0.0.1:8299]
        [--code ccm] [--symbol CCM/MSP/2027/3] [--out docs]

The board as a whole (docs/board.png), then a document's and the meeting's pages in the Web UI with their User
Metadata tab open, where the current details are (docs/temporal-ui-document.png, docs/temporal-ui-meeting.png).
Run the README's tour first, so there is a document waiting for money.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
from pathlib import Path
from urllib.parse import quote

from playwright.async_api import Page, async_playwright

from domain.ids import document_id, meeting_label_id
from tests.cli.test_board_browser import CHROMIUM_ARGS

WIDTH, HEIGHT = 1280, 1000
WAIT_MS = 30_000


async def workflow_page(page: Page, ui: str, wid: str, out: Path) -> None:
    await page.goto(f"{ui}/namespaces/default/workflows/{quote(wid, safe='')}")
    await page.get_by_text("User Metadata", exact=True).first.click(timeout=WAIT_MS)
    details = page.frame_locator("#user-metadata-current-details")
    await details.locator("main h2").wait_for(timeout=WAIT_MS)
    await page.wait_for_timeout(500)  # the frame sizes itself to its content
    await page.screenshot(path=str(out), full_page=True)


async def main(args: argparse.Namespace) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is missing: `make browser` installs it")
    out = Path(args.out)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            await page.goto(args.board)
            await page.locator("#president").wait_for(timeout=WAIT_MS)
            await page.screenshot(path=str(out / "board.png"), full_page=True)
            await workflow_page(
                page, args.ui, document_id(args.code, args.symbol), out / "temporal-ui-document.png"
            )
            await workflow_page(
                page, args.ui, meeting_label_id(args.code, args.meeting), out / "temporal-ui-meeting.png"
            )
        finally:
            await browser.close()


def parse() -> argparse.Namespace:
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--ui", default="http://127.0.0.1:8233")
    a.add_argument("--board", default="http://127.0.0.1:8299")
    a.add_argument("--code", default="ccm")
    a.add_argument("--symbol", default="CCM/MSP/2027/3")
    a.add_argument("--meeting", default="14MSP")
    a.add_argument("--out", default="docs")
    return a.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
