"""The register, compact: what a running workflow needs to tell a State Party on the day of a decision.

The RegisterWorkflow sends it (to the Presidency, which passes it to its meeting and ledger) after an import that
changes who is a State Party; a procedure carries it from its start. Each State with the two dates that decide its
standing (entry into force, withdrawal effective) and the aliases: a withdrawal that takes effect later needs no new
message, the day is checked against the dates. About 125 States: a few kilobytes.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from domain.bounds import MAX_STATES, Aliases, DerivedDay, Name


class Member(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: Name
    # None: not in force (a signatory, or a row whose dates are not verified).
    in_force: DerivedDay | None = None
    # The day its withdrawal takes effect (Art. 20): from that day it is not a State Party.
    left: DerivedDay | None = None

    def party_on(self, on: date) -> bool:
        return self.in_force is not None and self.in_force <= on and (self.left is None or on < self.left)


class Roster(BaseModel):
    model_config = ConfigDict(frozen=True)

    members: list[Member] = Field(default_factory=list, max_length=MAX_STATES)
    aliases: Aliases = Field(default_factory=dict)

    def parties(self, on: date) -> list[str]:
        """The States Parties on ``on``: in force, and not withdrawn."""
        return [m.state for m in self.members if m.party_on(on)]

    def attending(self) -> list[str]:
        """Every State in the register: who may take part in and pay for a meeting (Art. 14)."""
        return [m.state for m in self.members]

    def left_on(self, state: str) -> date | None:
        return next((m.left for m in self.members if m.state == state), None)


# The signal that carries a Roster: the register workflow to the Presidency, the Presidency to its meeting and ledger.
REGISTER_CHANGED = "register_changed"

# The signal that tells a State's running obligation workflows (Article 7, Art. 3/4 watch) the day its withdrawal
# takes effect: each ends on that day.
WITHDRAWN = "withdrawn"


class Withdrawal(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: Name
    effective: DerivedDay
