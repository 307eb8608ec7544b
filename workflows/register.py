"""RegisterWorkflow: the register of States at run time, one per convention (``<code>-register``).

It holds the rows (query ``register``) and takes imports as decisions (Update ``import_register``, checked by the
same pure rule as `msp`). The States whose obligations an import begins are started by the ``start_obligations``
activity from the main loop, in batches, so an import is answered at once and a first import of ~120 States does
not hold the update. Continues as new when the server suggests it, carrying the rows, the log and what is pending.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain import search_attributes as sa
    from domain.calendar import local_date
    from domain.decisions import DecisionOutcome
    from domain.obligations import (
        BATCH,
        START_OBLIGATIONS,
        ImportRegister,
        RegisterInput,
        RegisterState,
        StartObligations,
        check_import,
        parties_for,
    )
    from domain.register import Change, Register, describe_changes, newly_obliged
    from workflows.common import FAIL_ON_INVALID_INPUT, Updates, start_input, upsert_changed
    from workflows.decisions import Decider


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class RegisterWorkflow:
    @workflow.init
    def __init__(self, inp: RegisterInput) -> None:
        self.inp = start_input(inp, RegisterInput)
        self.s = RegisterState(
            states=inp.states, decisions=inp.decisions.model_copy(deep=True), pending=list(inp.pending)
        )
        self.upserted: Updates = []
        self.decisions = Decider(lambda: self.s.decisions, self._refresh)

    @workflow.run
    async def run(self, inp: RegisterInput) -> RegisterState:
        self._refresh()
        while True:
            await workflow.wait_condition(
                lambda: bool(self.s.pending) or workflow.info().is_continue_as_new_suggested()
            )
            while self.s.pending:
                batch, rest = self.s.pending[:BATCH], self.s.pending[BATCH:]
                today = local_date(workflow.now(), self.inp.defaults)
                started = await workflow.execute_activity(
                    START_OBLIGATIONS,
                    StartObligations(
                        convention=self.inp.convention,
                        rows=batch,
                        today=today,
                        states_parties=parties_for(self.s.states, batch, today),
                        aliases=self.s.states.aliases(),
                        reminder_days=self.inp.reminder_days,
                        webhook=self.inp.webhook,
                        defaults=self.inp.defaults,
                        meeting_on=self.inp.meeting_on,
                    ),
                    result_type=int,
                    start_to_close_timeout=timedelta(minutes=2),
                    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
                    summary=f"start the obligations of {len(batch)} States",
                )
                # Rows an import added while this batch was being started are still in self.s.pending after it.
                self.s.pending = rest + self.s.pending[len(batch) + len(rest) :]
                self.s.started += started
                self._refresh()
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    self.inp.model_copy(
                        update={
                            "states": self.s.states,
                            "decisions": self.s.decisions.handed_on(),
                            "pending": self.s.pending,
                        }
                    )
                )

    @workflow.update
    def import_register(self, d: ImportRegister) -> DecisionOutcome:
        return self.decisions.decide(d, lambda: check_import(self.s.states, d), self._imported)

    @import_register.validator
    def _check_import(self, d: ImportRegister) -> None:
        self.decisions.validate(d, lambda: check_import(self.s.states, d))

    def _imported(self, result: tuple[Register, list[Change]]) -> str:
        new, found = result
        today = local_date(workflow.now(), self.inp.defaults)
        obliged = newly_obliged(self.s.states, new, today)
        self.s.states = new
        self.s.last_changes = found
        self.s.pending = [*self.s.pending, *obliged]
        starts = f"; obligations to start for {len(obliged)} States" if obliged else ""
        return f"register of {len(new.rows)} States imported: {describe_changes(found)}{starts}"

    @workflow.query
    def register(self) -> Register:
        return self.s.states

    @workflow.query
    def state(self) -> RegisterState:
        return self.s

    def _refresh(self) -> None:
        self.upserted = upsert_changed(
            self.upserted,
            [sa.KIND.value_set(sa.Kind.REGISTER), sa.CONVENTION.value_set(self.inp.convention)],
        )
        pending = f", obligations of {len(self.s.pending)} States being started" if self.s.pending else ""
        workflow.set_current_details(
            f"**Register of States:** {len(self.s.states.rows)} rows; "
            f"{len(self.s.states.roster(local_date(workflow.now(), self.inp.defaults)))} States Parties today"
            f"{pending}"
        )
