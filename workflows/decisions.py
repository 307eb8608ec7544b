"""Decisions in a workflow: every update handler and its validator go through a ``Decider``.

A validator checks the decision with the pure rule (from ``domain/``) and raises ``rejected(...)`` if the rule
refuses it: the client gets the reason at once and nothing is written. The handler checks it again (on replay the
validator does not run), applies it, records it in the workflow's ``DecisionLog`` and answers with a
``DecisionOutcome``. A decision whose id the log knows is answered from the log, as a repeat with the first outcome:
sending a decision twice applies it once. Most decisions need nothing else: one ``@decision`` method gives their
``Rule`` (the rule and what applies its result), and ``decision`` makes the update and its validator from it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import search_attributes as sa
    from domain.decisions import (
        DECISION_REJECTED,
        SEND_AGAIN,
        Decision,
        DecisionLog,
        DecisionOutcome,
        DecisionRecord,
        Rejected,
    )
    from workflows.common import Updates, upsert_kind

T = TypeVar("T")
S = TypeVar("S")
D = TypeVar("D", bound=Decision)
EARLIER = "already applied"


def rejected(reason: str, send_again: bool = False) -> ApplicationError:
    """The error a validator raises: the client gets ``reason`` at once and nothing is written. ``send_again``:
    not a refusal of the decision but of the moment (its detail is SEND_AGAIN): the client may send it again."""
    details = [SEND_AGAIN] if send_again else []
    return ApplicationError(reason, *details, type=DECISION_REJECTED, non_retryable=True)


def check(rule: Callable[[], T]) -> T:
    """What the pure rule gives; its ``Rejected`` becomes the rejection of the update."""
    try:
        return rule()
    except Rejected as e:
        raise rejected(str(e)) from None


class Decider:
    """One workflow's decisions: its log (read through ``log``, as the workflow may replace its state), what it does
    after each decision accepted (``changed``: refresh what it shows, wake its main loop), what a repeat of a decision
    applied before this log began is told (``earlier``), and a ``gate`` every new decision must pass before its rule
    (a meeting that has closed takes none)."""

    def __init__(
        self,
        log: Callable[[], DecisionLog],
        changed: Callable[[], None] = lambda: None,
        *,
        earlier: str = EARLIER,
        gate: Callable[[], None] = lambda: None,
    ) -> None:
        self.log = log
        self.changed = changed
        self.earlier = earlier
        self.gate = gate

    def validate(self, d: Decision, rule: Callable[[], object]) -> None:
        """The validator: a repeat passes (its handler answers it), a new decision must pass the gate and the rule."""
        if self.log().knows(d.decision_id):
            return
        self.gate()
        check(rule)

    def decide(
        self, d: Decision, rule: Callable[[], T], apply: Callable[[T], str], *, kind: str | None = None
    ) -> DecisionOutcome:
        """The handler: a repeat is answered from the log; else ``apply`` what the rule gives (it returns the
        summary), record it, and answer."""
        if (done := self.repeat(d.decision_id)) is not None:
            return done
        return self.accept(d, apply(check(rule)), kind=kind)

    def repeat(self, decision_id: str) -> DecisionOutcome | None:
        """The answer to a decision already applied (the first outcome's summary); None for a new one."""
        return self.log().repeat(decision_id, self.earlier)

    def accept(self, d: Decision, summary: str, *, kind: str | None = None) -> DecisionOutcome:
        """Records a decision applied (under ``kind``, by default its type's name) and answers it."""
        return self.record(d.decision_id, kind or type(d).__name__, d.reference, summary)

    def record(self, decision_id: str, kind: str, reference: str, summary: str) -> DecisionOutcome:
        self.log().add(
            DecisionRecord(
                decision_id=decision_id, kind=kind, reference=reference, summary=summary, at=workflow.now()
            )
        )
        workflow.logger.info("decision accepted: %s", summary, extra={"decision_id": decision_id})
        self.changed()
        return DecisionOutcome(decision_id=decision_id, summary=summary)


def put(assign: Callable[[S], None], summary: str) -> Callable[[S], str]:
    """The ``apply`` of a decision whose rule gives the workflow's new state: ``assign`` puts it in place, and the
    decision is answered with ``summary``."""

    def apply(new: S) -> str:
        assign(new)
        return summary

    return apply


@dataclass(frozen=True)
class Rule(Generic[T]):
    """What a decision asks of its workflow: the pure ``rule`` (its ``Rejected`` refuses the decision) and the
    ``apply`` of what it gives (see ``Decider.decide``)."""

    rule: Callable[[], T]
    apply: Callable[[T], str]


class Deciding(Protocol):
    """A workflow that decides through a ``Decider``."""

    @property
    def decisions(self) -> Decider: ...


W = TypeVar("W", bound=Deciding)


def decision(fn: Callable[[W, D], Rule[Any]]) -> workflow.UpdateMethodMultiParam[[W, D], DecisionOutcome]:
    """The update named after ``fn`` and its validator, both from the ``Rule`` that ``fn`` gives for a decision:
    the validator checks the rule, the handler checks it again and applies it. ``fn`` must be pure: the validator
    calls it too."""

    @functools.wraps(fn)
    def handler(self: W, d: D) -> DecisionOutcome:
        r = fn(self, d)
        return self.decisions.decide(d, r.rule, r.apply)

    # The update's result type is read from its annotations (the client decodes the outcome with it); its
    # parameters, from ``fn`` (``functools.wraps``), where the validator finds them too.
    handler.__annotations__ = {**fn.__annotations__, "return": DecisionOutcome}

    @functools.wraps(fn)
    def validator(self: W, d: D) -> None:
        self.decisions.validate(d, fn(self, d).rule)

    validator.__annotations__ = {**fn.__annotations__, "return": None}
    update = workflow.update(handler)
    update.validator(validator)
    return update


class Logged(Protocol):
    """A workflow's state: it carries its decisions' log."""

    @property
    def decisions(self) -> DecisionLog: ...


L = TypeVar("L", bound=Logged)


class Keeps(Generic[L]):
    """The head of a workflow that keeps its state ``s`` (with its log) and decides on it: the search attributes
    last upserted, the ``Decider`` (``changed``, ``earlier``, ``gate``: see it), and the ``apply`` of the rules that
    give a new state (``_put``) or a new state and its summary (``_applied``)."""

    def __init__(
        self,
        s: L,
        changed: Callable[[], None] = lambda: None,
        *,
        earlier: str = EARLIER,
        gate: Callable[[], None] = lambda: None,
    ) -> None:
        self.s = s
        self.upserted: Updates = []
        # Whether the run found the patch ATTENTION_ALL (workflows/common.py); False until it asks, for handlers
        # that refresh before the run's first line.
        self.attends = False
        self.decisions = Decider(lambda: self.s.decisions, changed, earlier=earlier, gate=gate)

    def _upsert_kind(
        self,
        kind: sa.Kind,
        convention: str,
        *more: SearchAttributeUpdate[Any],
        undeliverable: bool | None = None,
        flags: Mapping[str, bool] | None = None,
    ) -> None:
        """Upserts what ``upsert_kind`` gives against the search attributes last upserted, and keeps them."""
        self.upserted = upsert_kind(
            self.upserted, kind, convention, *more, undeliverable=undeliverable, flags=flags
        )

    def _put(self, summary: str) -> Callable[[L], str]:
        return put(self._set, summary)

    def _set(self, new: L) -> None:
        self.s = new

    def _applied(self, result: tuple[L, str]) -> str:
        self.s, summary = result
        return summary


class Shows(Keeps[L]):
    """A workflow whose every change bumps ``version`` (what its waiting loops look at again) and refreshes at once
    what it shows (``_refresh``: its search attributes and current details)."""

    def __init__(self, s: L, *, earlier: str = EARLIER) -> None:
        super().__init__(s, self._changed, earlier=earlier)
        self.version = 0

    def _since(self, version: int) -> Callable[[], bool]:
        """Whether anything changed since ``version``."""
        return lambda: self.version != version

    def _changed(self) -> None:
        self.version += 1
        self._refresh()

    def _refresh(self) -> None:
        raise NotImplementedError


class Batches(Keeps[L]):
    """A workflow that marks a change ``dirty`` and refreshes what it shows from its main loop, once for a batch of
    changes."""

    def __init__(self, s: L, changed: Callable[[], None] | None = None, *, dirty: bool = True) -> None:
        super().__init__(s, changed or self._changed)
        self.dirty = dirty

    def _changed(self) -> None:
        self.dirty = True

    def _show(self) -> None:
        """Refreshes what the workflow shows, once per wake-up of its main loop rather than per change: each
        search-attribute upsert is a history event."""
        if self.dirty:
            self.dirty = False
            self._refresh()

    def _refresh(self) -> None:
        raise NotImplementedError
