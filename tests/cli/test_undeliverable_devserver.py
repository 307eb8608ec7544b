"""A webhook that refuses every notification (404), with a token in its URL, on the real dev server: the worker and
`msp` as subprocesses, as an operator runs them (issue 11, items 3 and 7).

Nothing fails: a review, an extension request, its silence procedure and an Art. 7 workflow each record what was
refused, `msp` shows it wherever it shows the workflow, the lists agree with each other, and the token is in no
history, no `msp` output and no line of the worker's log.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain import search_attributes as sa
from domain.extensions import Article
from domain.ids import extension_id, report_id, review_id, silence_id
from domain.reports import ReportsInput, first_year
from starter.receiver import Receiver
from tests.support.devserver import (
    MspCycle,
    Server,
    config_text,
    eventually,
    failed_workflow_tasks,
    worker_cycle,
)
from tests.support.requests import LAO, submit_art4
from workflows.reports import Article7Workflow

GENEVA = ZoneInfo("Europe/Zurich")
TOKEN = "t0ken-4f9c2e"


def extra_toml(today: date) -> str:
    # Due two days ago: its escalation (the day after the due date) is owed, and sent as soon as the review starts.
    return f"""
[states_parties]
names = ["Austria", "Chile", "{LAO}", "Mexico", "Switzerland"]

[[reviews]]
subject = "hosting-agreement"
title = "the agreement hosting the ISU at the GICHD"
mandate = {{ decided_by = "2nd Review Conference", reference = "CCM/CONF/2021/6, para 7" }}
due = {{ kind = "date", on = {today - timedelta(days=2)} }}
"""


@pytest.fixture
async def cycle(server: Server, tmp_path: Path) -> AsyncIterator[MspCycle]:
    def config(code: str, today: date) -> str:
        return config_text(code, today, extra_toml(today))

    with Receiver(tmp_path / "received", log=None) as receiver:
        # Only the worker knows the webhook, and it answers 404 to everything.
        webhook = {"CCM_WEBHOOK_URL": f"{receiver.url}/nowhere?token={TOKEN}"}
        async with worker_cycle(
            server, tmp_path, MspCycle, config, config_in_env=True, worker_env=webhook
        ) as c:
            yield c


async def test_msp_shows_what_the_webhook_refused_and_nothing_fails_or_shows_the_token(
    cycle: MspCycle,
) -> None:
    code, today = cycle.code, cycle.today
    outputs: list[str] = []

    async def ok(*args: str) -> str:
        run = await cycle.ok(*args)
        outputs.append(run.out + run.err)
        return run.out

    async def json_of(*args: str) -> Any:
        return json.loads(await ok(*args))

    await ok("cycle", "start")
    review = review_id(code, "hosting-agreement")
    # An Art. 7 workflow watching last year's deadline: its overdue notice is sent at once, then it continues as new
    # for this year's, carrying what was refused.
    report = report_id(code, "Chile")
    await cycle.client.start_workflow(
        Article7Workflow.run,
        ReportsInput(convention=code, state="Chile", year=first_year(today) - 1),
        id=report,
        task_queue=cycle.worker.task_queue,
    )
    eif = today - timedelta(days=365 * 9)
    await ok(
        *submit_art4(LAO, eif),
        *("--years", "5", "--plan", "Survey and clearance.", "--ref", "CCM/MSP/2027/4"),
        *("--meeting", "15MSP", "--meeting-on", str(today + timedelta(days=400))),
    )
    request = extension_id(code, Article.ART4, LAO, today.year)
    request_args = ("--state", LAO, "--article", "4")
    await ok("extensions", "analyse", *request_args, "--summary", "Complete.", "--ref", "AG4/2027")
    await ok(
        *("extensions", "decide", *request_args, "--grant-years", "5", "--ref", "letter"),
        *("--by-silence-until", str(today + timedelta(days=20)), "--procedure", "refused-1"),
    )
    procedure = silence_id(code, "refused-1")

    async def circulated_refused() -> None:
        state = await json_of("silence", "status", "refused-1", "--json")
        assert [u["kind"] for u in state["undeliverable"]] == ["silence-circulated"], state

    await eventually(circulated_refused, 20)
    await ok("silence", "break", "refused-1", "--state", "Mexico", "--reason", "needs discussion in plenary")

    async def agreed() -> None:
        [row] = (await json_of("extensions", "list", "--json"))["requests"]
        assert row["status"] == "analysed" and row["attention"] == [sa.UNDELIVERABLE], row
        assert [u["kind"] for u in row["undeliverable"]] == ["submitted", f"silence-broken:{procedure}"], row
        [proc] = (await json_of("silence", "status", "--json"))["procedures"]
        assert proc["status"] == "not_adopted" and proc["execution_status"] == "completed", proc
        assert proc["attention"] == [sa.UNDELIVERABLE], proc
        [rev] = (await json_of("reviews", "list", "--json"))["reviews"]
        assert [u["kind"] for u in rev["undeliverable"]] == ["escalation"] and rev["status"] == "overdue", rev
        [rep] = (await json_of("reports", "list", "--json"))["reports"]
        assert [u["kind"] for u in rep["undeliverable"]] == ["overdue"] and rep["status"] == "overdue", rep
        assert rep["year"] == first_year(today), rep

    await eventually(agreed, 20)
    # The tables say it in their ATTENTION column; the pages of one workflow list each refusal with its answer.
    assert "2 undeliverable" in next(
        line for line in (await ok("extensions", "list")).splitlines() if LAO in line
    )
    assert "undeliverable" in next(
        line for line in (await ok("silence", "status")).splitlines() if "refused-1" in line
    )
    assert "1 undeliverable" in (await ok("reviews", "list")).splitlines()[2]
    assert "1 undeliverable" in (await ok("reports", "list")).splitlines()[2]
    for page in (
        await ok("extensions", "show", *request_args),
        await ok("silence", "status", "refused-1"),
        await ok("reviews", "show", "hosting-agreement"),
    ):
        assert "Undeliverable notifications (" in page and "/nowhere: 404 Not Found" in page, page

    for wid in (review, report, request, procedure):
        assert await failed_workflow_tasks(cycle.client, wid) == [], wid
        history = (await cycle.client.get_workflow_handle(wid).fetch_history()).to_json()
        assert "webhook_url" not in history and TOKEN not in history and "token=" not in history, wid
    log = cycle.worker.log.read_text()
    assert "notification refused" in log and f"{cycle.worker.env['CCM_WEBHOOK_URL'].split('?')[0]}" in log
    for text in (*outputs, log):
        assert TOKEN not in text and "token=" not in text
