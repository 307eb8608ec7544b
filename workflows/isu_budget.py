"""IsuBudgetWorkflow (``ccm-isu-budget-<year>``): the ISU's budget for one year, from its adoption to the year's end.

On adoption every State's invoice goes out at once, one activity per State started together; the workflow records
each as the mail gateway acknowledges it. Reminders go to the States still unpaid on the days the budget sets. At the
start of the next year the workflow ends with its arrears, which it carries to the next year's workflow (started
with them if it is not running yet). Rules: ``domain/isu_budget.py``.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import isu_budget as rules
    from domain import search_attributes as sa
    from domain.bounds import md
    from domain.calendar import day_start, local_date
    from domain.decisions import DecisionOutcome
    from domain.funds import chf
    from domain.ids import isu_reserve_id
    from domain.isu_budget import (
        CARRIED,
        CARRY_ARREARS,
        REJECTED_BY_GATEWAY,
        SEND_INVOICE,
        AdoptBudget,
        Carried,
        CommitExpense,
        Invoice,
        InvoiceSent,
        IsuBudgetInput,
        IsuBudgetState,
        IsuPayment,
    )
    from domain.isu_views import budget_details
    from domain.notifications import Undeliverable
    from domain.reserve import DRAWN, POSITION, REPAID, BudgetDraw, Position
    from workflows.common import (
        ATTENTION_ALL,
        FAIL_ON_INVALID_INPUT,
        call_or_refusal,
        notify,
        signal_payload,
        sleep_until_or,
        start_input,
    )
    from workflows.decisions import Batches, Rule, decision

INVOICE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[REJECTED_BY_GATEWAY],
)


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class IsuBudgetWorkflow(Batches[IsuBudgetState]):
    @workflow.init
    def __init__(self, inp: IsuBudgetInput) -> None:
        super().__init__(IsuBudgetState(inp=start_input(inp, IsuBudgetInput)))
        self.told: Position | None = None
        self.invoicing: asyncio.Task[None] | None = None

    @workflow.run
    async def run(self, inp: IsuBudgetInput) -> Carried:
        self.attends = workflow.patched(ATTENTION_ALL)
        year_end = day_start(date(self.s.year + 1, 1, 1), self.s.inp.defaults)
        while workflow.now() < year_end:
            self._show()
            await self._tell_reserve()
            due = rules.reminders_due(self.s)
            at = min([day_start(due[0], self.s.inp.defaults), year_end] if due else [year_end])
            summary = (
                f"reminders to the unpaid on {due[0]}" if due else f"end of the {self.s.year} budget year"
            )
            if await sleep_until_or(at, self._woken, summary) and due and at < year_end:
                await self._remind(due[0])
        if self.invoicing is not None:
            await self.invoicing
        await workflow.wait_condition(workflow.all_handlers_finished)
        self.s.closed = True
        self._refresh()
        carried = Carried(from_year=self.s.year, arrears=rules.arrears(self.s))
        nxt = self.s.inp.model_copy(update={"year": self.s.year + 1, "carried": None})
        await workflow.execute_activity(
            CARRY_ARREARS,
            args=[nxt, carried],
            start_to_close_timeout=timedelta(seconds=30),
            summary=f"arrears of {len(carried.arrears)} States carried to {self.s.year + 1}",
        )
        return carried

    def _woken(self) -> bool:
        return self.dirty or bool(self.s.to_repay)

    def _start_invoicing(self) -> None:
        """Without waiting for a person: every invoice at once, in the workflow task that applies the adoption,
        whatever the main loop is waiting for."""
        if self.invoicing is None and self.s.budget is not None:
            self.invoicing = asyncio.get_running_loop().create_task(self._send_invoices())

    async def _send_invoices(self) -> None:
        await asyncio.gather(
            *(self._send(inv) for inv in rules.invoices(self.s) if inv.state not in self.s.sent)
        )

    async def _send(self, inv: Invoice) -> None:
        summary = f"invoice {md(inv.reference)} to {md(inv.state)}"
        sent = await call_or_refusal(
            SEND_INVOICE, inv, InvoiceSent, INVOICE_RETRY, summary, REJECTED_BY_GATEWAY
        )
        if isinstance(sent, ApplicationError):
            self.s.undeliverable.append(
                Undeliverable(
                    key=inv.key,
                    kind="isu-invoice",
                    webhook="mail",
                    at=workflow.now(),
                    reason=sent.message[:600],
                )
            )
            sent = InvoiceSent(state=inv.state, reference="refused")
        self.s.sent[inv.state] = sent
        self._changed()

    async def _remind(self, day: date) -> None:
        unpaid = rules.unpaid(self.s)
        await asyncio.gather(
            *(
                notify(rules.reminder(self.s, st, day), f"reminder to {st}", self.s.undeliverable)
                for st in unpaid
            )
        )
        self.s.reminded[str(day)] = unpaid
        self._changed()

    async def _tell_reserve(self) -> None:
        """The reserve hears every repayment, and the cash position whenever it changed."""
        reserve = workflow.get_external_workflow_handle(isu_reserve_id(self.s.inp.convention))
        pending, self.s.to_repay = self.s.to_repay, []
        messages: list[tuple[str, object]] = [(REPAID, r) for r in pending]
        if (now := rules.position(self.s)) != self.told:
            messages.append((POSITION, now))
            self.told = now
        for name, message in messages:
            try:
                await reserve.signal(name, message)
            except Exception as e:  # no reserve running: the position is told again with the next change
                workflow.logger.warning("the reserve was not told %s (%s)", name, e)

    # Decisions.

    @workflow.update
    def adopt(self, d: AdoptBudget) -> DecisionOutcome:
        summary = f"ISU budget {self.s.year} adopted: {chf(d.total)} from {len(d.lines)} States, due {d.due}"
        outcome = self.decisions.decide(d, lambda: rules.adopt(self.s, d, self._today()), self._put(summary))
        self._start_invoicing()
        return outcome

    @adopt.validator
    def _check_adopt(self, d: AdoptBudget) -> None:
        self.decisions.validate(d, lambda: rules.adopt(self.s, d, self._today()))

    @workflow.update
    def pay(self, p: IsuPayment) -> DecisionOutcome:
        def apply(result: tuple[IsuBudgetState, object]) -> str:
            self.s = result[0]
            state = rules.known_state(self.s, p.state)
            return f"{state} paid {chf(p.amount)}; outstanding {chf(rules.outstanding(self.s, state))}"

        return self.decisions.decide(p, lambda: rules.pay(self.s, p), apply)

    @pay.validator
    def _check_pay(self, p: IsuPayment) -> None:
        self.decisions.validate(p, lambda: rules.pay(self.s, p))

    @decision
    def commit_expense(self, d: CommitExpense) -> Rule[IsuBudgetState]:
        summary = f"expense committed: {chf(d.amount)} for {d.purpose}"
        return Rule(lambda: rules.commit(self.s, d), self._put(summary))

    @workflow.signal(name=DRAWN)
    def reserve_drawn(self, d: BudgetDraw) -> None:
        if signal_payload(d, BudgetDraw, DRAWN):
            self.s = rules.reserve_drawn(self.s, d)
            self._changed()

    @workflow.signal(name=CARRIED)
    def arrears_carried(self, c: Carried) -> None:
        if signal_payload(c, Carried, CARRIED) and c.from_year == self.s.year - 1:
            self.s.inp = self.s.inp.model_copy(update={"carried": c})
            self._changed()

    @workflow.query
    def state(self) -> IsuBudgetState:
        return self.s

    # Internals.

    def _today(self) -> date:
        return local_date(workflow.now(), self.s.inp.defaults)

    def _refresh(self) -> None:
        self._upsert_kind(
            sa.Kind.ISU_BUDGET,
            self.s.inp.convention,
            sa.PHASE.value_set(self.s.phase),
            sa.BALANCE.value_set(float(self.s.cash)),
            sa.SHORTFALL.value_set(float(self.s.shortfall)),
            undeliverable=bool(self.s.undeliverable),
            flags={sa.SHORTFALL_FLAG: self.s.shortfall > 0} if self.attends else None,
        )
        workflow.set_current_details(budget_details(self.s))
