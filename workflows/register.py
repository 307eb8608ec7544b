"""RegisterWorkflow: the register of States at run time, one per convention (``<code>-register``).

It holds the rows (query ``register``) and takes imports as decisions (Update ``import_register``, checked by the
same pure rule as `msp`). The States whose obligations an import begins are started by the ``start_obligations``
activity from the main loop, in batches, so an import is answered at once and a first import of ~120 States does
not hold the update. Continues as new when the server suggests it, carrying the rows, the log and what is pending.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain import search_attributes as sa
    from domain.calendar import local_date
    from domain.ids import presidency_id_of, report_id, watch_id
    from domain.obligations import (
        BATCH,
        START_OBLIGATIONS,
        ImportRegister,
        RegisterInput,
        RegisterState,
        StartObligations,
        check_import,
        parties_for,
        withdrawals,
    )
    from domain.register import Change, Register, describe_changes, newly_obliged
    from domain.roster import REGISTER_CHANGED, WITHDRAWN
    from workflows.common import ATTENTION_ALL, FAIL_ON_INVALID_INPUT, start_input, upsert_changed
    from workflows.decisions import Keeps, Rule, decision


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class RegisterWorkflow(Keeps[RegisterState]):
    @workflow.init
    def __init__(self, inp: RegisterInput) -> None:
        self.inp = start_input(inp, RegisterInput)
        s = RegisterState(
            states=inp.states,
            decisions=inp.decisions.model_copy(deep=True),
            pending=list(inp.pending),
            first_import=inp.first_import,
            roster_due=inp.roster_due,
            withdrawing=list(inp.withdrawing),
        )
        super().__init__(s, self._refresh)

    @workflow.run
    async def run(self, inp: RegisterInput) -> RegisterState:
        self.attends = workflow.patched(ATTENTION_ALL)
        self._refresh()
        while True:
            await workflow.wait_condition(
                lambda: (
                    bool(self.s.pending)
                    or self.s.roster_due
                    or bool(self.s.withdrawing)
                    or workflow.info().is_continue_as_new_suggested()
                )
            )
            if self.s.roster_due or self.s.withdrawing:
                if workflow.patched("register-tells-running-workflows"):
                    await self._tell()
                else:  # a run begun before: it told no one
                    self.s.roster_due, self.s.withdrawing = False, []
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
                        first_import=self.s.first_import,
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
                            "first_import": self.s.first_import,
                            "roster_due": self.s.roster_due,
                            "withdrawing": self.s.withdrawing,
                        }
                    )
                )

    async def _tell(self) -> None:
        """Sends the Presidency the register, compact, and each State whose withdrawal an import recorded the day
        it takes effect, to its running Article 7 workflow and Art. 3/4 watches (those not running are skipped)."""
        code = self.inp.convention
        sends: list[tuple[str, str, BaseModel]] = []
        if self.s.roster_due:
            self.s.roster_due = False
            sends.append((presidency_id_of(code), REGISTER_CHANGED, self.s.states.compact()))
        for w in self.s.withdrawing:
            wids = [report_id(code, w.state), watch_id(code, "3", w.state), watch_id(code, "4", w.state)]
            sends += [(wid, WITHDRAWN, w) for wid in wids]
        self.s.withdrawing = []
        for wid, signal, arg in sends:
            try:
                await workflow.get_external_workflow_handle(wid).signal(signal, arg)
            except Exception as e:  # not running: it learns nothing, having nothing to follow
                workflow.logger.info(
                    "%s not sent to %s (not running: nothing there to end): %s", signal, wid, e
                )

    @decision
    def import_register(self, d: ImportRegister) -> Rule[tuple[Register, list[Change]]]:
        return Rule(lambda: check_import(self.s.states, d), self._imported)

    def _imported(self, result: tuple[Register, list[Change]]) -> str:
        new, found = result
        today = local_date(workflow.now(), self.inp.defaults)
        obliged = newly_obliged(self.s.states, new, today)
        self.s.roster_due = self.s.roster_due or new.compact() != self.s.states.compact()
        self.s.withdrawing = [*self.s.withdrawing, *withdrawals(self.s.states, new)]
        self.s.first_import = self.s.first_import or today
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
            [
                sa.KIND.value_set(sa.Kind.REGISTER),
                sa.CONVENTION.value_set(self.inp.convention),
                *(
                    [sa.PHASE.value_set("starting obligations" if self.s.pending else "current")]
                    if self.attends
                    else []
                ),
            ],
        )
        pending = f", obligations of {len(self.s.pending)} States being started" if self.s.pending else ""
        workflow.set_current_details(
            f"**Register of States:** {len(self.s.states.rows)} rows; "
            f"{len(self.s.states.roster(local_date(workflow.now(), self.inp.defaults)))} States Parties today"
            f"{pending}"
        )
