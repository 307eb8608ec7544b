"""What ends the watch of a State's Art. 3 or Art. 4 deadline, in both workflows that keep one (the deadline watch
and an extension request): the State's declaration of completion (Update ``declare_completion``) and the next
request taking over (signal ``superseded``). One definition, so that the two answer the same way. And what ends a
State's obligations, in the deadline watch and the Article 7 reports: its withdrawal (signal ``withdrawn``)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Generic, Protocol, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.extensions import SUPERSEDED, DeclareCompletion
    from domain.ids import is_workflow_id
    from domain.models import Defaults
    from domain.roster import WITHDRAWN, Withdrawal
    from workflows.common import signal_payload, until_withdrawal
    from workflows.decisions import Decider, Rule, decision


class DeadlineEnds:
    """The handlers; a workflow that inherits them says what its rule is, what completion does to its state, and
    what being superseded does."""

    decisions: Decider

    def _completion_rule(self, c: DeclareCompletion) -> None:
        raise NotImplementedError

    def _completed(self, c: DeclareCompletion) -> str:
        raise NotImplementedError

    def _superseded(self, by: str) -> None:
        raise NotImplementedError

    @decision
    def declare_completion(self, c: DeclareCompletion) -> Rule[None]:
        return Rule(lambda: self._completion_rule(c), lambda _: self._completed(c))

    @workflow.signal(name=SUPERSEDED)
    def superseded(self, by: str) -> None:
        # Sent by the State's next request: its workflow id (anything else is dropped, as a signal cannot be refused).
        if not is_workflow_id(by):
            workflow.logger.warning("signal superseded dropped: not a workflow id")
            return
        self._superseded(by)


# From this patch on, a run ends on the day the State's withdrawal takes effect; runs begun before it learn theirs at
# their next run (it is carried over). Asked once a run.
END_BY_WITHDRAWAL = "obligations-end-by-withdrawal"


class Ending(Protocol):
    """The state of a workflow that follows a State's obligation: the State, and the day its withdrawal takes
    effect, once told."""

    state: str
    ends_on: date | None


E = TypeVar("E", bound=Ending)


class Withdraws(Generic[E]):
    """The State's withdrawal, in both workflows that follow an obligation until it (the Article 7 reports, the
    deadline watch): the handler of the signal ``withdrawn`` (the first one told stands), and the timer that ends
    the workflow on the day it takes effect. A workflow that inherits it says when it has ended and what the
    withdrawal does to its state."""

    s: E
    defaults: Defaults
    # Whether this run ends on the day the withdrawal takes effect (the patch END_BY_WITHDRAWAL, asked in ``run``).
    ends = False
    ending: asyncio.Task[None] | None = None

    def _changed(self) -> None:
        raise NotImplementedError

    def _ended(self) -> bool:
        raise NotImplementedError

    def _withdraw(self) -> None:
        raise NotImplementedError

    def _arm(self) -> bool:
        """Whether the workflow has ended; else sets the timer of the day the State's withdrawal takes effect, if
        known."""
        if self.ends and self.s.ends_on is not None and self.ending is None and not self._ended():
            self.ending = asyncio.create_task(self._end(self.s.ends_on))
        return self._ended()

    async def _end(self, on: date) -> None:
        await until_withdrawal(on, self.s.state, self.defaults)
        if not self._ended():
            self._withdraw()
            self._changed()

    @workflow.signal(name=WITHDRAWN)
    def withdrawn(self, w: Withdrawal) -> None:
        # Sent by the register workflow when an import records the State's withdrawal (Art. 20).
        if signal_payload(w, Withdrawal, WITHDRAWN) and self.s.ends_on is None:
            self.s.ends_on = w.effective
            self._changed()
