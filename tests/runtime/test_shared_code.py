"""Each workflow run gets its own module, as the sandbox gives it, but every run shares one copy of the module's
code (runtime/shared_code.py, installed by worker.build_worker): the memory an open workflow holds (issue 16)."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment

from tests.support.code_probe import CodeProbe
from worker import build_worker


async def test_runs_share_their_module_code_but_not_its_state(ts_env: WorkflowEnvironment) -> None:
    queue = f"tq-{uuid.uuid4()}"
    async with build_worker(ts_env.client, None, queue, extra_workflows=[CodeProbe], only_activities=[]):
        handles = [
            await ts_env.client.start_workflow(CodeProbe.run, id=f"probe-{uuid.uuid4()}", task_queue=queue)
            for _ in range(2)
        ]
        (class_a, code_a, started_a), (class_b, code_b, started_b) = [
            await h.query(CodeProbe.seen) for h in handles
        ]
        for h in handles:
            await h.terminate()
    assert class_a != class_b, "each run imports the workflow's module afresh"
    assert (started_a, started_b) == (1, 1), "no run sees another's module state"
    assert code_a == code_b, "the runs share one code object"


async def test_an_unsandboxed_worker_runs_the_module_it_imported(ts_env: WorkflowEnvironment) -> None:
    """`msp simulate`'s worker (sandboxed=False): every run is the worker's own class, in its one module."""
    queue = f"tq-{uuid.uuid4()}"
    async with build_worker(
        ts_env.client, None, queue, extra_workflows=[CodeProbe], only_activities=[], sandboxed=False
    ):
        handles = [
            await ts_env.client.start_workflow(CodeProbe.run, id=f"probe-{uuid.uuid4()}", task_queue=queue)
            for _ in range(2)
        ]
        for h in handles:  # a query is answered once the run has begun: both have, before the counts are read
            await h.query(CodeProbe.seen)
        seen = [await h.query(CodeProbe.seen) for h in handles]
        for h in handles:
            await h.terminate()
    assert {s[0] for s in seen} == {id(CodeProbe)}
    assert [s[2] for s in seen] == [2, 2]
