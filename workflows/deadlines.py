"""What ends the watch of a State's Art. 3 or Art. 4 deadline, in both workflows that keep one (the deadline watch
and an extension request): the State's declaration of completion (Update ``declare_completion``) and the next
request taking over (signal ``superseded``). One definition, so that the two answer the same way. And what ends a
State's obligations, in the deadline watch and the Article 7 reports: its withdrawal (signal ``withdrawn``)."""

from __future__ import annotations

from datetime import date
from typing import Generic, Protocol, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.extensions import SUPERSEDED, DeclareCompletion
    from domain.ids import is_workflow_id
    from domain.roster import WITHDRAWN, Withdrawal
    from workflows.common import signal_payload
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


class Ending(Protocol):
    """The state of a workflow that follows a State's obligation: the day its withdrawal takes effect, once told."""

    ends_on: date | None


E = TypeVar("E", bound=Ending)


class Withdraws(Generic[E]):
    """The handler of the State's withdrawal (signal ``withdrawn``), in both workflows that follow an obligation
    until it (the Article 7 reports, the deadline watch): the first one told stands."""

    s: E

    def _changed(self) -> None:
        raise NotImplementedError

    @workflow.signal(name=WITHDRAWN)
    def withdrawn(self, w: Withdrawal) -> None:
        # Sent by the register workflow when an import records the State's withdrawal (Art. 20).
        if signal_payload(w, Withdrawal, WITHDRAWN) and self.s.ends_on is None:
            self.s.ends_on = w.effective
            self._changed()
