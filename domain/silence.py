"""Decisions by silence procedure: a proposal circulated with a deadline, adopted then unless a State breaks silence.

Any State Party named in the procedure may break silence before the deadline, giving its reason; the proposal is
then not adopted. The initiator may withdraw it while it is open. The rules are pure functions that raise
``Rejected`` with a sentence a diplomat understands; the workflow's validator and handler call the same ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.bounds import Aliases, Instant, Name, Reason, Text, Value, WorkflowId
from domain.calendar import local_date, local_text
from domain.decisions import (
    Decision,
    DecisionId,
    DecisionLog,
    DecisionRecord,
    Reference,
    Rejected,
    old_shapes,
)
from domain.models import STANDARD_DEFAULTS, Defaults, StatesList
from domain.notifications import DEFAULT_WEBHOOK, Undeliverable, WebhookName
from domain.roster import Roster
from domain.states import check_state

ProcedureId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,80}$")]

# The signal the workflow a procedure concerns gets when it ends, with the SilenceOutcome as its single argument.
SILENCE_ENDED = "silence_ended"


class SilenceStatus(StrEnum):
    OPEN = "open"
    ADOPTED = "adopted"
    # Silence was broken: the proposal is not adopted.
    NOT_ADOPTED = "not_adopted"
    WITHDRAWN = "withdrawn"


class SilenceInput(BaseModel):
    convention: str = "ccm"
    procedure_id: ProcedureId
    proposal: Text
    # The paragraph or document that circulated the proposal.
    reference: Reference
    # Who circulated it, e.g. "the President (Switzerland)"; told of the outcome.
    initiator: Name
    # Adopted at this instant unless silence is broken before it.
    deadline: Instant
    # Who may break silence.
    states_parties: StatesList = Field(min_length=1)
    # The register's other names of a State (alias -> short name): who breaks silence may be named by one.
    aliases: Aliases = Field(default_factory=dict)
    # The register, compact, as of the start (from `msp`): a State whose withdrawal takes effect during the
    # procedure cannot break silence from that day (Art. 20). None: procedures begun before it, or no register.
    roster: Roster | None = None
    # The workflow the outcome is delivered to (signal ``silence_ended``), e.g. an extension request.
    concerns: WorkflowId | None = None
    # The webhook target notifications go to, by name: the worker knows its URL (a ``webhook_url`` of earlier
    # procedures is ignored).
    webhook: WebhookName = DEFAULT_WEBHOOK
    # Decisions already applied elsewhere: sent again, they are not applied twice.
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    defaults: Defaults = Defaults()


class BreakSilence(BaseModel):
    """A State Party's letter breaking silence: who, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision_id: DecisionId
    state: Name
    reason: Reason


class WithdrawSilence(Decision):
    """The initiator withdraws the proposal while the procedure is open."""


class SilenceOutcome(Value):
    """What the workflow the procedure concerns is told when it ends (signal ``silence_ended``)."""

    procedure_id: str
    workflow_id: str
    adopted: bool
    # The deadline when adopted; when silence was broken or the proposal withdrawn, that moment.
    at: datetime
    # The State that broke silence, as listed in the procedure; None when adopted or withdrawn.
    broken_by: str | None = None
    # The State's reason; for a withdrawal, the reference of the withdrawal.
    reason: str | None = None
    proposal: str
    reference: str

    @property
    def status(self) -> SilenceStatus:
        if self.adopted:
            return SilenceStatus.ADOPTED
        return SilenceStatus.NOT_ADOPTED if self.broken_by else SilenceStatus.WITHDRAWN


class SilenceState(BaseModel):
    procedure_id: str
    proposal: str
    reference: str
    initiator: str
    deadline: datetime
    states_parties: list[str]
    concerns: str | None = None
    status: SilenceStatus = SilenceStatus.OPEN
    broken_by: str | None = None
    reason: str | None = None
    # When silence was broken, the proposal withdrawn, or (adopted) the workflow saw the deadline pass.
    ended_at: datetime | None = None
    # Silence broken, the proposal withdrawn (and decisions applied elsewhere, as applied).
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    outcome: SilenceOutcome | None = None
    # Notifications sent (by kind) and whether the concerned workflow was told.
    notified: list[str] = Field(default_factory=list)
    delivered: bool = False
    delivery_error: str | None = None
    # Notifications the webhook refused.
    undeliverable: list[Undeliverable] = Field(default_factory=list)

    # Before the DecisionLog: the ids in ``decisions``, the records in ``log``.
    _old_shapes = old_shapes("log")

    @property
    def log(self) -> list[DecisionRecord]:
        """The records under their name before the DecisionLog (`msp silence` reads them so)."""
        return self.decisions.records


def _ended(procedure_id: str, deadline: datetime, defaults: Defaults | None) -> str:
    name = f"The silence procedure {procedure_id}" if procedure_id else "The silence procedure"
    return f"{name} ended at {local_text(deadline, defaults)}: silence can no longer be broken."


def _closed(status: SilenceStatus, broken_by: str | None, procedure_id: str) -> str:
    name = f"the silence procedure {procedure_id}" if procedure_id else "this silence procedure"
    if status is SilenceStatus.NOT_ADOPTED:
        who = broken_by or "a State Party"
        return f"Silence on {name} was already broken by {who}: the proposal is not adopted."
    if status is SilenceStatus.ADOPTED:
        return f"The proposal of {name} was already adopted: silence can no longer be broken."
    return f"The proposal of {name} was withdrawn: there is no silence to break."


def check_break(
    status: SilenceStatus,
    deadline: datetime,
    states_parties: list[str],
    b: BreakSilence,
    now: datetime,
    *,
    aliases: Mapping[str, str] | None = None,
    procedure_id: str = "",
    broken_by: str | None = None,
    defaults: Defaults | None = None,
    roster: Roster | None = None,
) -> str:
    """The breaking State's name as listed in the procedure; Rejected when silence cannot be broken by it now."""
    if status is not SilenceStatus.OPEN:
        raise Rejected(_closed(status, broken_by, procedure_id))
    if now >= deadline:
        raise Rejected(_ended(procedure_id, deadline, defaults))
    state = check_state(b.state, states_parties, "of this procedure", aliases)
    left = roster.left_on(state) if roster is not None else None
    if left is not None and local_date(now, defaults or STANDARD_DEFAULTS) >= left:
        raise Rejected(f"{state} cannot break silence: its withdrawal took effect on {left} (Art. 20).")
    return state


def check_withdraw(
    status: SilenceStatus,
    deadline: datetime,
    now: datetime,
    *,
    procedure_id: str = "",
    broken_by: str | None = None,
    defaults: Defaults | None = None,
) -> None:
    """The initiator may withdraw the proposal only while the procedure is open."""
    name = f"the silence procedure {procedure_id}" if procedure_id else "this silence procedure"
    if status is SilenceStatus.NOT_ADOPTED:
        raise Rejected(
            f"Silence on {name} was already broken by {broken_by or 'a State Party'}: "
            "there is no proposal left to withdraw."
        )
    if status is SilenceStatus.ADOPTED:
        raise Rejected(f"The proposal of {name} was already adopted: it can no longer be withdrawn.")
    if status is SilenceStatus.WITHDRAWN:
        raise Rejected(f"The proposal of {name} was already withdrawn.")
    if now >= deadline:
        raise Rejected(
            f"{name[0].upper()}{name[1:]} ended at {local_text(deadline, defaults)}: the proposal can no longer be "
            "withdrawn."
        )


def check_deadline(deadline: datetime, now: datetime, defaults: Defaults | None = None) -> None:
    """A procedure is circulated with a deadline still to come (and one that says its time zone)."""
    if deadline.tzinfo is None or deadline.utcoffset() is None:
        raise Rejected(f"The deadline {deadline:%Y-%m-%d %H:%M} must say its time zone (e.g. +01:00).")
    if deadline <= now:
        raise Rejected(
            f"The deadline {local_text(deadline, defaults)} has already passed (it is {local_text(now, defaults)}): "
            "a silence procedure needs a deadline in the future."
        )


def _short(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _sentence(text: str) -> str:
    """``text`` ending as a sentence does, so that the next one does not run into it."""
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def circulated_text(inp: SilenceInput) -> str:
    return (
        f"Silence procedure circulated by {inp.initiator} ({inp.reference}): {_sentence(_short(inp.proposal))} "
        f"It is adopted at {local_text(inp.deadline, inp.defaults)} unless a State Party breaks silence before then."
    )


def outcome_kind(outcome: SilenceOutcome) -> str:
    return {
        SilenceStatus.ADOPTED: "silence-adopted",
        SilenceStatus.NOT_ADOPTED: "silence-broken",
        SilenceStatus.WITHDRAWN: "silence-withdrawn",
    }[outcome.status]


def outcome_text(outcome: SilenceOutcome, initiator: str, defaults: Defaults | None = None) -> str:
    """A plain sentence for the initiator: the proposal, and who broke silence and why."""
    proposal = f'the proposal "{_short(outcome.proposal)}" ({outcome.reference})'
    at = local_text(outcome.at, defaults)
    if outcome.status is SilenceStatus.ADOPTED:
        return f"Adopted by silence procedure: {proposal}. No State Party broke silence before {at}."
    if outcome.status is SilenceStatus.NOT_ADOPTED:
        return f"Not adopted: {outcome.broken_by} broke silence on {at} on {proposal}. Reason given: {outcome.reason}"
    return f"Withdrawn by {initiator} on {at} ({outcome.reason}): {proposal}."
