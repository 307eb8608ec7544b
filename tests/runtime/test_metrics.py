"""The worker's Prometheus endpoint serves the engine's counters, and its traces reach an OTLP/HTTP endpoint.

A real dev server; the worker in-process, built as worker.py builds it (its client from ``connect()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from activities.conference_services import ConferenceServices
from domain.decisions import Designate
from domain.ids import presidency_id, silence_id
from domain.silence import BreakSilence, SilenceInput
from runtime.connect import connect
from runtime.telemetry import metrics_runtime, tracing_from_env
from starter.receiver import Receiver
from tests.support.cycle_helpers import AUSTRIA, MEXICO, initial_state, part
from tests.support.devserver import Server, eventually, free_port
from worker import build_worker
from workflows.presidency import PresidencyWorkflow
from workflows.silence import SilenceProcedureWorkflow


@pytest.fixture
def aimed_at(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``connect()`` reaches the test's dev server, whatever the shell's TEMPORAL_* say."""
    for var in [v for v in os.environ if v.startswith("TEMPORAL_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("TEMPORAL_ADDRESS", server.address)
    yield


async def one_accepted_one_rejected(client: Client) -> None:
    """A presidency on its own task queue and worker; one designation accepted, then one rejected."""
    code = f"m{uuid.uuid4().hex[:8]}"
    state0 = initial_state(code, date.today(), [part(date.today() + timedelta(days=30))])
    async with ConferenceServices() as services:
        worker = build_worker(client, services, task_queue=f"tq-{code}")
        async with worker:
            handle = await client.start_workflow(
                PresidencyWorkflow.run,
                state0,
                id=presidency_id(state0.convention),
                task_queue=worker.task_queue,
            )
            try:
                ok = Designate(decision_id=f"{code}-1", reference="test", president=MEXICO)
                await handle.execute_update(PresidencyWorkflow.designate, ok, id=ok.decision_id)
                no = Designate(decision_id=f"{code}-2", reference="test", president=AUSTRIA)  # the President
                with pytest.raises(WorkflowUpdateFailedError):
                    await handle.execute_update(PresidencyWorkflow.designate, no, id=no.decision_id)
            finally:
                await handle.terminate("test over")
                # The Presidency may not have started its meeting and ledger yet.
                for child in (f"{code}-meeting-14MSP", f"{code}-funds-14MSP"):
                    with contextlib.suppress(RPCError):
                        await client.get_workflow_handle(child).terminate("test over")


def counter(text: str, name: str) -> float:
    """The sum of every series of ``name`` in a Prometheus text exposition."""
    values = re.findall(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, flags=re.MULTILINE)
    assert values, f"{name} is not served:\n{text}"
    return sum(float(v) for v in values)


async def test_the_metrics_endpoint_serves_the_decision_counters(aimed_at):
    address = f"127.0.0.1:{free_port()}"
    client = await connect(runtime=metrics_runtime(address))
    await one_accepted_one_rejected(client)

    async def served() -> None:
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://{address}/metrics")).text
        # The SDK's Prometheus exporter names a counter as created, with no _total suffix.
        assert counter(text, "ccm_decisions_accepted") == 1
        assert counter(text, "ccm_decisions_rejected") == 1
        assert 'decision="designate"' in text
        assert 'workflow_type="PresidencyWorkflow"' in text

    await eventually(served)


async def test_the_metrics_endpoint_counts_the_notifications_the_webhook_refused(aimed_at, tmp_path):
    address = f"127.0.0.1:{free_port()}"
    client = await connect(runtime=metrics_runtime(address))
    procedure = f"m{uuid.uuid4().hex[:8]}"
    inp = SilenceInput(
        procedure_id=procedure,
        proposal="To adopt the revised budget.",
        reference="letter",
        initiator="the President",
        deadline=datetime.now(UTC) + timedelta(days=30),
        states_parties=["Chile", "Mexico"],
    )
    # The webhook answers 404: the procedure's two notifications (circulated, outcome) are undeliverable.
    with Receiver(tmp_path, log=None) as receiver:
        async with ConferenceServices() as services:
            webhooks = {"default": f"{receiver.url}/nowhere"}
            async with build_worker(
                client, services, task_queue=f"tq-{procedure}", webhooks=webhooks
            ) as worker:
                h = await client.start_workflow(
                    SilenceProcedureWorkflow.run,
                    inp,
                    id=silence_id("ccm", procedure),
                    task_queue=worker.task_queue,
                )
                broken = BreakSilence(decision_id="b", state="Chile", reason="to be discussed in plenary")
                await h.execute_update(SilenceProcedureWorkflow.break_silence, broken)
                outcome = await h.result()
    assert outcome.broken_by == "Chile"

    async def served() -> None:
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://{address}/metrics")).text
        assert counter(text, "ccm_notifications_undeliverable") == 2
        assert 'kind="silence-broken"' in text

    await eventually(served)


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that keeps what was posted."""

    posts: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Collector.posts.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_traces_go_to_the_otlp_endpoint(aimed_at, monkeypatch):
    collector = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{collector.server_address[1]}")
    tracing = tracing_from_env()
    try:
        assert tracing.plugins
        await one_accepted_one_rejected(await connect(plugins=tracing.plugins))
    finally:
        await asyncio.to_thread(tracing.shutdown)  # flushes the batch, as the worker does when it stops
        collector.shutdown()
    paths = {path for path, _ in Collector.posts}
    assert paths == {"/v1/traces"}
    sent = b"".join(body for _, body in Collector.posts)
    # Span names travel as plain strings in the protobuf body.
    assert b"StartWorkflow:PresidencyWorkflow" in sent
    assert b"HandleUpdate:designate" in sent
