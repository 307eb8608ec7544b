"""The visibility query builder against the dev server's own parser: a State whose name holds quotes is found by it,
a value made to break out of its quotes finds nothing, and the values the builder refuses are indeed ones no
spelling of a query finds."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

from domain import search_attributes as sa
from domain.ids import report_id
from domain.reports import ReportsInput
from domain.search_attributes import Kind, Unsearchable, query
from tests.support.devserver import Server, eventually
from workflows.reports import Article7Workflow

STATES = ["Côte d'Ivoire", "O''Neill's 'land"]
# States the builder refuses to look for (tests/domain/test_seams.py), each with spellings the server's parser reads as it.
UNMATCHED = {
    'Back\\slash "land"': [
        r"""'Back\\slash \"land\"'""",
        r"""'Back\\slash "land"'""",
        r"""'Back\slash "land"'""",
        r"""'Back\\\\slash \\\"land\\\"'""",
    ],
    "'Quoted land'": ["'''Quoted land'''", r"'\'Quoted land\''"],
}


async def test_quoted_values_find_their_workflow_and_nothing_else(server: Server):
    code = f"q{uuid.uuid4().hex[:8]}"
    client = server.client
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[Article7Workflow]):
        for state in [*STATES, *UNMATCHED]:
            await client.start_workflow(
                Article7Workflow.run,
                ReportsInput(convention=code, state=state, year=date.today().year + 1),
                id=report_id(code, state),
                task_queue=queue,
            )

        async def listed(q: str) -> list[str]:
            return sorted([w.id async for w in client.list_workflows(q)])

        async def each_found_by_its_name() -> None:
            assert len(await listed(query(Kind.REPORT, code))) == len(STATES) + len(UNMATCHED)
            for state in STATES:
                assert await listed(query(Kind.REPORT, code, state=state)) == [report_id(code, state)]

        await eventually(each_found_by_its_name, 30)
        assert await listed(query(Kind.REPORT, code, state="x' OR CcmConvention = '" + code)) == []
        for state, spellings in UNMATCHED.items():
            with pytest.raises(Unsearchable, match="^CcmState: "):
                query(Kind.REPORT, code, state=state)
            for spelling in spellings:
                assert await listed(f"{query(Kind.REPORT, code)} AND CcmState = {spelling}") == [], spelling
        for state in [*STATES, *UNMATCHED]:
            await client.get_workflow_handle(report_id(code, state)).terminate("test over")


async def test_one_query_lists_what_needs_attention(server: Server):
    """The README's "needs attention" link: CcmAttention IS NOT NULL finds a workflow with any flag, none without."""
    code = f"a{uuid.uuid4().hex[:8]}"
    client = server.client
    flagged = {"overdue": [sa.OVERDUE], "short": [sa.SHORTFALL_FLAG], "both": [sa.AT_RISK, sa.UNDELIVERABLE]}
    ids = []
    for name, flags in [*flagged.items(), ("calm", [])]:
        pairs = sa.started_with(
            Kind.REPORT, code, *([SearchAttributePair(sa.ATTENTION, flags)] if flags else [])
        )
        handle = await client.start_workflow(
            "NoSuchWorkflow",  # never run: only its search attributes matter
            id=f"{code}-{name}",
            task_queue=f"tq-{uuid.uuid4()}",
            search_attributes=TypedSearchAttributes(pairs),
        )
        ids.append(handle.id)

    async def found() -> None:
        q = f"CcmConvention = '{code}' AND {sa.NEEDS_ATTENTION}"
        assert sorted([w.id async for w in client.list_workflows(q)]) == sorted(
            f"{code}-{n}" for n in flagged
        )

    await eventually(found, 30)
    for wid in ids:
        await client.get_workflow_handle(wid).terminate("test over")
