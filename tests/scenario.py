"""The scenario driver the tests, the recorded histories (tests/record_histories.py) and the benchmarks (bench/)
share: the time-skipping server set up once, the engine's worker with a local receiver, the states a cycle starts
from, and the steps a scenario is made of (start a workflow under its id, send a decision under its id, deliver a
document's translations, skip time).

A step sends exactly what a person's `msp` command would: a decision's id is its update id, so a step sent twice
applies once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.documents import Delivered, DocumentInput, DocumentSpec
from domain.extensions import ExtensionInput, ProposeBySilence
from domain.funds import Assess, LedgerState, SetEstimate
from domain.ids import document_id, extension_id, funds_id, meeting_id, review_id, silence_id
from domain.models import Convention, Language, MeetingKind, MeetingPlan, MeetingRef, Money, Part, President
from domain.presidency import Counters, PresidencyState
from domain.reviews import ReviewInput
from domain.silence import SilenceInput
from starter.simdriver import decide, sleep_until, time_skipping, worker_with_receiver
from workflows.document import DocumentWorkflow
from workflows.extension import ExtensionRequestWorkflow
from workflows.funds import MeetingFundsWorkflow
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


# The server, the worker and the two steps every scenario takes live in starter/simdriver.py, which `msp simulate`
# shares; named here too, where the tests and benchmarks have always found them.
__all__ = ["decide", "sleep_until", "time_skipping", "worker_with_receiver"]


def meeting_handle(client: Client, convention: Convention, ref: MeetingRef | str) -> WorkflowHandle[Any, Any]:
    """The meeting's workflow, by its ref or its label (``14MSP``)."""
    if isinstance(ref, str):
        number, kind = re.fullmatch(r"(\d+)(MSP|RC)", ref).groups()  # type: ignore[union-attr]
        ref = MeetingRef(number=int(number), kind=MeetingKind(kind))
    return client.get_workflow_handle(meeting_id(convention, ref))


def report(
    symbol: str, meeting: str, due: date, title: str = "Report", pages: int = 2, priority: int = 2
) -> DocumentSpec:
    """A document to translate: a two-page report unless said otherwise."""
    return DocumentSpec(symbol=symbol, title=title, pages=pages, priority=priority, meeting=meeting, due=due)


async def start_document(client: Client, inp: DocumentInput, task_queue: str) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        DocumentWorkflow.run, inp, id=document_id(inp.convention, inp.spec.symbol), task_queue=task_queue
    )


async def start_queued_documents(
    env: WorkflowEnvironment, worker: Worker, inputs: Sequence[DocumentInput]
) -> list[WorkflowHandle[Any, Any]]:
    """A document for each of ``inputs``, a minute apart: each one's requests reach its ledger before the next
    one's, so they wait in the ledger's queue in this order."""
    docs = []
    for inp in inputs:
        docs.append(await start_document(env.client, inp, worker.task_queue))
        await env.sleep(timedelta(minutes=1))
    return docs


async def start_ledger(client: Client, state: LedgerState, task_queue: str) -> WorkflowHandle[Any, Any]:
    """A meeting's ledger, under the id of its convention and meeting."""
    return await client.start_workflow(
        MeetingFundsWorkflow.run, state, id=funds_id(state.convention, state.meeting), task_queue=task_queue
    )


async def estimate_and_assess(
    ledger: WorkflowHandle[Any, Any], estimate: SetEstimate, assess: Assess
) -> None:
    await ledger.execute_update(MeetingFundsWorkflow.set_estimate, estimate)
    await ledger.execute_update(MeetingFundsWorkflow.assess, assess)


async def start_assessed_ledger(
    env: WorkflowEnvironment,
    worker: Worker,
    state: LedgerState,
    shares: dict[str, float],
    due: date,
    ids: tuple[str, str] = ("e", "a"),
) -> WorkflowHandle[Any, Any]:
    """A ledger estimated at CHF 100,000 and assessed at ``shares``, due on ``due``; ``ids``: the two decisions'."""
    ledger = await start_ledger(env.client, state, worker.task_queue)
    await estimate_and_assess(
        ledger,
        SetEstimate(decision_id=ids[0], reference="r", amount=100_000),
        Assess(decision_id=ids[1], reference="r", shares=shares, due=due),
    )
    return ledger


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


def proposal_by_silence(
    decision_id: str, procedure_id: str, deadline: datetime, reference: str = "President's letter", **kw: Any
) -> ProposeBySilence:
    """The President's proposal to grant an extension by silence procedure, to Chile and Mexico: ``kw`` for what
    else it says."""
    fields = {"granted": True, "initiator": "the President", "states_parties": ["Chile", "Mexico"]} | kw
    return ProposeBySilence(
        decision_id=decision_id, reference=reference, procedure_id=procedure_id, deadline=deadline, **fields
    )


async def start_silence(client: Client, inp: SilenceInput, task_queue: str) -> WorkflowHandle[Any, Any]:
    """A silence procedure, under the id of its procedure in ``inp.convention``."""
    wid = silence_id(inp.convention, inp.procedure_id)
    return await client.start_workflow(SilenceProcedureWorkflow.run, inp, id=wid, task_queue=task_queue)
