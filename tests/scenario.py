"""The scenario driver the tests, the recorded histories (tests/record_histories.py) and the benchmarks (bench/)
share: the time-skipping server set up once, the engine's worker with a local receiver, the states a cycle starts
from, and the steps a scenario is made of (start a workflow under its id, send a decision under its id, deliver a
document's translations, skip time).

A step sends exactly what a person's `msp` command would: a decision's id is its update id, so a step sent twice
applies once.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.conference_services import ConferenceServices
from domain.documents import Delivered, DocumentInput
from domain.extensions import ExtensionInput
from domain.ids import document_id, extension_id, meeting_id, review_id, silence_id
from domain.models import Convention, Language, MeetingKind, MeetingPlan, MeetingRef, Money, Part, President
from domain.presidency import Counters, PresidencyState
from domain.reviews import ReviewInput
from domain.silence import SilenceInput
from starter.embedded.devserver import register_search_attributes
from starter.receiver import Receiver
from worker import PASSTHROUGH, activities, build_worker
from workflows.document import DocumentWorkflow
from workflows.extension import ExtensionRequestWorkflow
from workflows.review import ReviewWorkflow
from workflows.silence import SilenceProcedureWorkflow

AUSTRIA = President(state="Austria", representative="Ambassador A")
CHILE = President(state="Chile", representative="Ambassador B")
MEXICO = President(state="Mexico")
NORWAY = President(state="Norway")


# The states a cycle starts from.


def part(start: date, days: int = 4, **kw: Any) -> Part:
    return Part(start=start, end=start + timedelta(days=days - 1), **kw)


def initial_state(
    code: str,
    today: date,
    parts: list[Part],
    designates: list[President] | None = None,
    kind: MeetingKind = MeetingKind.MSP,
    money: Money | None = None,
) -> PresidencyState:
    """Austria's term, begun 60 days before ``today``, ending with the 14MSP (or the 4RC) in ``parts``; Chile
    designated unless ``designates`` says otherwise."""
    number = 14 if kind is MeetingKind.MSP else 4
    return PresidencyState(
        convention=Convention(code=code) if money is None else Convention(code=code, money=money),
        president=AUSTRIA,
        began_on=today - timedelta(days=60),
        designates=[CHILE] if designates is None else designates,
        meeting=MeetingPlan(ref=MeetingRef(number=number, kind=kind), parts=parts),
        counters=Counters(
            last_msp_number=13, last_review_conference_number=3, last_review_conference_year=2026
        ),
    )


# The server and the worker.


@contextlib.asynccontextmanager
async def time_skipping(server: str) -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server at path ``server``, our search attributes registered (it lists none, and a
    workflow that upserts one it lacks fails), with the pydantic converter."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=server, data_converter=pydantic_data_converter
    )
    try:
        await register_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()


@contextlib.asynccontextmanager
async def worker_with_receiver(
    client: Client,
    task_queue: str,
    stand_ins: Mapping[str, Callable[..., Any]] | None = None,
    extra_workflows: Sequence[type] = (),
    passthrough: Sequence[str] = PASSTHROUGH,
) -> AsyncIterator[tuple[Worker, str]]:
    """The engine's worker, whose conference-services jobs and notifications go to a local receiver (its URL is
    yielded with the worker). ``stand_ins``: activities by name that replace the engine's of that name."""
    stand_ins = stand_ins or {}
    with (
        tempfile.TemporaryDirectory(prefix="ccm-scenario-") as tmp,
        Receiver(Path(tmp), log=None) as receiver,
    ):
        async with ConferenceServices() as services:
            engine = activities(
                client, services, {"default": receiver.url + "/notifications"}, receiver.url + "/mail"
            )
            kept = [a for a in engine if getattr(a, "__name__", "") not in stand_ins]
            worker = build_worker(
                client,
                services,
                task_queue,
                extra_workflows=extra_workflows,
                only_activities=[*kept, *stand_ins.values()],
                passthrough=passthrough,
            )
            async with worker:
                yield worker, receiver.url


# The steps.


async def sleep_until(env: WorkflowEnvironment, t: datetime) -> None:
    """Skips time to ``t`` (nothing when it has passed)."""
    now = await env.get_current_time()
    if t > now:
        await env.sleep(t - now)


async def decide(handle: WorkflowHandle[Any, Any], update: Any, decision: BaseModel) -> Any:
    """Sends a decision to a workflow with its id as the update id, as `msp` does; returns the answer."""
    update_id = str(getattr(decision, "payment_id", None) or getattr(decision, "decision_id"))  # noqa: B009
    return await handle.execute_update(update, decision, id=update_id)


def meeting_handle(client: Client, convention: Convention, ref: MeetingRef | str) -> WorkflowHandle[Any, Any]:
    """The meeting's workflow, by its ref or its label (``14MSP``)."""
    if isinstance(ref, str):
        number, kind = re.fullmatch(r"(\d+)(MSP|RC)", ref).groups()  # type: ignore[union-attr]
        ref = MeetingRef(number=int(number), kind=MeetingKind(kind))
    return client.get_workflow_handle(meeting_id(convention, ref))


async def start_document(client: Client, inp: DocumentInput, task_queue: str) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        DocumentWorkflow.run, inp, id=document_id(inp.convention, inp.spec.symbol), task_queue=task_queue
    )


async def deliver_translations(
    doc: WorkflowHandle[Any, Any],
    original: Language,
    tag: str,
    languages: Sequence[Language] = tuple(Language),
) -> None:
    """Records the delivery of the document's translation into each of ``languages`` but its ``original``; the
    decision ids are ``dl-<tag><language>``."""
    for lang in languages:
        if lang is not original:
            await decide(
                doc, DocumentWorkflow.delivered, Delivered(decision_id=f"dl-{tag}{lang}", language=lang)
            )


async def start_review(client: Client, inp: ReviewInput, task_queue: str) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        ReviewWorkflow.run, inp, id=review_id(inp.convention, inp.spec.subject), task_queue=task_queue
    )


async def start_extension(client: Client, inp: ExtensionInput, task_queue: str) -> WorkflowHandle[Any, Any]:
    """An extension request, under the id of its State, article and year of submission."""
    request = inp.request
    wid = extension_id(inp.convention, request.article, request.state, request.submitted_on.year)
    return await client.start_workflow(ExtensionRequestWorkflow.run, inp, id=wid, task_queue=task_queue)


async def start_silence(client: Client, inp: SilenceInput, task_queue: str) -> WorkflowHandle[Any, Any]:
    """A silence procedure, under the id of its procedure in ``inp.convention``."""
    wid = silence_id(inp.convention, inp.procedure_id)
    return await client.start_workflow(SilenceProcedureWorkflow.run, inp, id=wid, task_queue=task_queue)
