"""The register at run time (one RegisterWorkflow per convention, ``<code>-register``) and the obligations it starts.

An import is a decision (an Update): the same pure check as `msp register import` runs in its validator, so a bad
file is refused with one line per problem and nothing changes. What it changes is answered at once. States whose
obligations begin with it (a State newly in the register, or newly in force, or with a new Art. 3/4 declaration)
have their workflows started by an activity, in the background of the import: each start is idempotent (by
workflow id), so an import sent again, or an activity retried, starts nothing twice.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.bounds import MAX_REMINDERS, MAX_STATES, Aliases, DerivedDay, Name
from domain.decisions import Decision, DecisionLog, Rejected
from domain.models import Defaults, StatesList
from domain.notifications import DEFAULT_WEBHOOK, WebhookName
from domain.register import (
    Change,
    Register,
    RegisterError,
    Row,
    Standing,
    Who,
    changes,
    initial_report_due,
    parse_register,
)
from domain.reports import DEFAULT_REMINDER_DAYS, LeadDays
from domain.roster import Withdrawal

START_OBLIGATIONS = "start_obligations"
# A register file of 200 rows with long notes and sources: well under the server's payload limit.
MAX_REGISTER_CHARS = 400_000
# Rows handed to one activity: a whole first import (~120 States) is a few activities, each a few seconds.
BATCH = 40


class ImportRegister(Decision):
    """The ISU imports a register file (its text), named ``source`` in every problem found."""

    source: Name
    text: Annotated[str, Field(min_length=1, max_length=MAX_REGISTER_CHARS)]


def check_import(current: Register, d: ImportRegister) -> tuple[Register, list[Change]]:
    """The register the file holds and what it changes; Rejected, one line per problem, if it cannot be taken."""
    try:
        new = parse_register(d.text, d.source)
    except RegisterError as e:
        raise Rejected(str(e)) from None
    return new, changes(current, new)


class RegisterInput(BaseModel):
    convention: str = "ccm"
    states: Register = Register()
    decisions: DecisionLog = Field(default_factory=DecisionLog)
    # Rows whose obligation workflows are still to be started (carried across continue-as-new).
    pending: list[Row] = Field(default_factory=list)
    reminder_days: Annotated[tuple[LeadDays, ...], Field(max_length=MAX_REMINDERS)] = DEFAULT_REMINDER_DAYS
    webhook: WebhookName = DEFAULT_WEBHOOK
    defaults: Defaults = Defaults()
    # The first day of the meeting the Presidency plans: Art. 3/4 watches count yearly meetings from it.
    meeting_on: DerivedDay | None = None
    # The day of the first import (carried across continue-as-new): an initial report due before it is not chased.
    first_import: DerivedDay | None = None
    # The roster the Presidency has not been sent yet, and the withdrawals not yet told to running workflows.
    roster_due: bool = False
    withdrawing: list[Withdrawal] = Field(default_factory=list, max_length=MAX_STATES)


class RegisterState(BaseModel):
    states: Register
    decisions: DecisionLog
    pending: list[Row] = Field(default_factory=list)
    first_import: date | None = None
    roster_due: bool = False
    withdrawing: list[Withdrawal] = Field(default_factory=list)
    # How many States' obligation workflows this run has started (or found running).
    started: int = 0
    last_changes: list[Change] = Field(default_factory=list)


class StartObligations(BaseModel):
    """The activity's input: the rows whose obligations to start, as of ``today``."""

    model_config = ConfigDict(frozen=True)

    convention: str
    rows: list[Row]
    today: date
    # The States Parties on the day each State's obligations begin: every Art. 7 workflow checks its State by it.
    states_parties: StatesList
    # The register's other names of a State (alias -> short name), passed on to each workflow started.
    aliases: Aliases = Field(default_factory=dict)
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS
    webhook: WebhookName = DEFAULT_WEBHOOK
    defaults: Defaults = Defaults()
    meeting_on: date | None = None
    # The day of the register's first import: an initial report due before it is listed as not recorded.
    first_import: date | None = None


def parties_for(register: Register, rows: list[Row], today: date) -> list[str]:
    """The States Parties as of the day the latest of ``rows`` enters into force (or today): each row's State is in."""
    days = [r.entry_into_force for r in rows if r.entry_into_force is not None]
    return register.roster(max([today, *days]), Who.PARTY)


def withdrawals(old: Register, new: Register) -> list[Withdrawal]:
    """The withdrawals an import records (new, or with another date): the running workflows of each State end on
    the day it takes effect."""
    out = []
    for r in new.rows:
        was = old.find(r.state)
        left = r.withdrawal_effective
        if left is not None and (was is None or was.withdrawal_effective != left):
            out.append(Withdrawal(state=r.state, effective=left))
    return out


def initial_reports(
    register: Register, today: date, first_import: date | None
) -> tuple[list[str], list[str]]:
    """The States Parties whose initial report fell due since the register's first import (before ``today``: chased,
    overdue unless received), and those whose report fell due before it (not recorded: the register cannot say
    whether it came, so none is chased until the ISU records it)."""
    since: list[str] = []
    unrecorded: list[str] = []
    for r in register.rows:
        eif = r.entry_into_force
        if eif is None or r.standing(today) != Standing.PARTY or (due := initial_report_due(eif)) >= today:
            continue
        (unrecorded if first_import is not None and due < first_import else since).append(r.state)
    return since, unrecorded
