"""CapitalReserveWorkflow (``ccm-isu-reserve``): the ISU's capital reserve, an entity that continues as new when
the server suggests it. Rules: ``domain/reserve.py``."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import reserve as rules
    from domain import search_attributes as sa
    from domain.funds import chf
    from domain.ids import isu_budget_id
    from domain.isu_views import reserve_details
    from domain.reserve import (
        BudgetDraw,
        ContributeReserve,
        Draw,
        Position,
        Repayment,
        ReserveState,
        SetTarget,
    )
    from workflows.common import (
        ATTENTION_ALL,
        FAIL_ON_INVALID_INPUT,
        signal_payload,
        start_input,
    )
    from workflows.decisions import Batches, Rule, decision


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class CapitalReserveWorkflow(Batches[ReserveState]):
    @workflow.init
    def __init__(self, state: ReserveState) -> None:
        super().__init__(start_input(state, ReserveState))

    @workflow.run
    async def run(self, state: ReserveState) -> None:
        self.attends = workflow.patched(ATTENTION_ALL)
        while True:
            await workflow.wait_condition(
                lambda: self.dirty or bool(self.s.to_tell) or workflow.info().is_continue_as_new_suggested()
            )
            self._show()
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                # Draws not yet told travel in the state; the next run tells them first.
                workflow.continue_as_new(self.s.model_copy(update={"runs": self.s.runs + 1}))
            told = list(self.s.to_tell)
            await asyncio.gather(*(self._tell(d) for d in told))
            self.s.to_tell = self.s.to_tell[len(told) :]

    async def _tell(self, d: BudgetDraw) -> None:
        wid = isu_budget_id(self.s.convention, d.year)
        try:
            await workflow.get_external_workflow_handle(wid).signal(rules.DRAWN, d)
        except Exception as e:  # the year's budget has ended: its shortfall went with it
            workflow.logger.warning("draw %s not told to %s (%s)", d.draw_id, wid, e)

    @decision
    def contribute(self, d: ContributeReserve) -> Rule[ReserveState]:
        summary = f"{d.donor} contributed {chf(d.amount)} to the reserve"
        return Rule(lambda: rules.contribute(self.s, d), self._put(summary))

    @decision
    def draw(self, d: Draw) -> Rule[ReserveState]:
        summary = f"{chf(d.amount)} drawn for the {d.year} budget's cash-flow shortfall"
        return Rule(lambda: rules.draw(self.s, d), self._put(summary))

    @decision
    def set_target(self, d: SetTarget) -> Rule[ReserveState]:
        summary = f"reserve target set to {chf(d.target)}"
        return Rule(lambda: rules.set_target(self.s, d), self._put(summary))

    @workflow.signal(name=rules.POSITION)
    def budget_position(self, p: Position) -> None:
        if signal_payload(p, Position, rules.POSITION):
            self.s = rules.report(self.s, p)
            self._changed()

    @workflow.signal(name=rules.REPAID)
    def repaid(self, r: Repayment) -> None:
        if signal_payload(r, Repayment, rules.REPAID):
            self.s = rules.repay(self.s, r)
            self._changed()

    @workflow.query
    def state(self) -> ReserveState:
        return self.s

    def _refresh(self) -> None:
        self._upsert_kind(
            sa.Kind.ISU_RESERVE,
            self.s.convention,
            sa.BALANCE.value_set(float(self.s.balance)),
            sa.SHORTFALL.value_set(float(self.s.below_target)),
            *(
                [sa.PHASE.value_set("below target" if self.s.below_target else "at target")]
                if self.attends
                else []
            ),
        )
        workflow.set_current_details(reserve_details(self.s))
