"""Log records from workflow code come out whole: the worker's stderr, read as an operator reads it.

Records from workflow code are formatted on the workflow sandbox's thread. structlog imports lazily while
rendering (a value JSON cannot encode, a traceback), and the sandbox once turned each such record into some 130
lines of ``--- Logging error ---`` (RestrictedWorkflowAccessError: os.path, from ``rich``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from tests.support.devserver import REPO, STEP_TIMEOUT, Server, WorkerProcess, eventually, process_env
from tests.support.logging_worker import MARKER, LogsThenFails

LOGGING_ERROR = "--- Logging error ---"


def records(log: Path) -> list[dict[str, Any]]:
    """The JSON lines of the log (the SDK's core writes lines of its own, not JSON, beside them)."""
    found = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


async def wait_for_failed_task(client: Client, workflow_id: str) -> None:
    async def failed() -> None:
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            if event.HasField("workflow_task_failed_event_attributes"):
                return
        raise AssertionError(f"{workflow_id} has no failed workflow task yet")

    await eventually(failed, STEP_TIMEOUT)


@pytest.mark.parametrize("form", ["json", "console"])
async def test_records_logged_by_workflow_code_before_a_failed_activation_come_out_whole(
    server: Server, tmp_path: Path, form: str
):
    task_queue = f"log-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.logging_worker",
            server.address,
            task_queue,
            form,
            cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=out,
        )
    try:
        assert proc.stdout is not None
        assert await asyncio.wait_for(proc.stdout.readline(), STEP_TIMEOUT) == b"polling\n", log.read_text()
        wid = f"logs-{uuid.uuid4().hex[:8]}"
        await server.client.start_workflow(LogsThenFails.run, "CCM/MSP/2027/3", id=wid, task_queue=task_queue)
        await wait_for_failed_task(server.client, wid)

        async def logged() -> None:
            text = log.read_text()
            assert LOGGING_ERROR not in text, text[:3000]
            assert f"Failed activation on workflow LogsThenFails with ID {wid}" in text, text[:3000]

        await eventually(logged, STEP_TIMEOUT)
        text = log.read_text()
        assert LOGGING_ERROR not in text and "RestrictedWorkflowAccessError" not in text, text[:3000]
        if form == "console":
            # As on a terminal: each record on its line, its traceback as plain text under it.
            line = next(line for line in text.splitlines() if MARKER in line and "traceback" not in line)
            assert "document=CCM/MSP/2027/3" in line and f"workflow_id={wid}" in line, line
            assert "{" not in line, line  # the workflow's context as fields, not a dict repeated in the event
            assert "ValueError: the check of CCM/MSP/2027/3 failed" in text, text[:3000]
            assert "TypeError: bug while handling CCM/MSP/2027/3" in text, text[:3000]
            return
        mine = [r for r in records(log) if wid in str(r)]
        # The workflow's context as fields of the record, not appended to its event.
        info = next(r for r in mine if r["event"] == MARKER)
        assert info["document"] == "CCM/MSP/2027/3" and info["opaque"] == "<opaque value>", info
        assert info["workflow_id"] == wid and info["workflow_type"] == "LogsThenFails", info
        assert "temporal_workflow" not in info, info
        logged_exc = next(r for r in mine if r["event"].startswith(f"{MARKER}, with its traceback"))
        assert "ValueError: the check of CCM/MSP/2027/3 failed" in logged_exc["exception"], logged_exc
        failed = next(r for r in mine if r["event"].startswith("Failed activation"))
        assert "TypeError: bug while handling CCM/MSP/2027/3" in failed["exception"], failed
    finally:
        proc.terminate()
        await proc.wait()


async def test_the_worker_logs_a_failed_activation_whole(server: Server, tmp_path: Path):
    """worker.py itself: a workflow started with one argument too many fails its activation (the SDK builds the
    workflow object before any interceptor can refuse it), logged as one record."""
    log = tmp_path / "worker.log"
    worker = await WorkerProcess(process_env(server.address, f"log-{uuid.uuid4().hex[:8]}"), log).start(
        server.client
    )
    try:
        wid = f"logs-{uuid.uuid4().hex[:8]}"
        await server.client.start_workflow(
            "SilenceProcedureWorkflow",
            args=[{"procedure_id": "Not An Id"}, "one argument too many"],
            id=wid,
            task_queue=worker.task_queue,
        )
        await wait_for_failed_task(server.client, wid)

        async def logged() -> None:
            text = log.read_text()
            assert LOGGING_ERROR not in text, text[:3000]
            failed = [r for r in records(log) if r["event"].startswith("Failed activation") and wid in str(r)]
            assert failed and "TypeError" in failed[0]["exception"], text[:3000]

        await eventually(logged, STEP_TIMEOUT)
    finally:
        await worker.stop()
