"""A workflow that shows, from inside the sandbox, what each run of it was given: its own class and module state
(the sandbox imports this module again for every run) and the code object of its run method (tests/runtime/
test_shared_code.py). Kept small and apart: the sandbox imports this whole module in each run."""

from __future__ import annotations

from temporalio import workflow

STARTED: list[str] = []  # module state: one entry per run that imported this copy of the module


@workflow.defn(name="CodeProbe")
class CodeProbe:
    @workflow.run
    async def run(self) -> None:
        STARTED.append(workflow.info().workflow_id)
        await workflow.wait_condition(lambda: False)

    @workflow.query
    def seen(self) -> list[int]:
        """The ids of this run's class and of its run method's code, and how many runs its module saw start."""
        return [id(type(self)), id(CodeProbe.run.__code__), len(STARTED)]
