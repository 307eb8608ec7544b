"""The register of States: the depositary's record, one row per State, and what follows from it by the treaty's rules.

A row holds what the depositary (the UN Secretary-General) records, as read from its public record: signature, the
deposit of an instrument and its kind, a withdrawal notified; plus what the ISU knows from the States themselves
(the language it prefers, stockpiles or contaminated areas declared). What follows is computed, never typed:

- Entry into force (Art. 17): 1 August 2010 for instruments deposited up to the thirtieth (16 February 2010);
  for a later one, the first day of the sixth month after its deposit (16 December 2010 -> 1 June 2011).
- Withdrawal (Art. 20): effective six months after the depositary receives it.
- Art. 3 deadline (stockpiles destroyed): 8 years after entry into force; Art. 4 (areas cleared): 10 years.

A row whose dates could not be verified (``verified = no``) is listed, but stays out of every computation: no State
Party, no obligation, until the ISU fills it in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from domain.bounds import MAX_ALIASES, MAX_STATES, Day, Name, Reference, Url, quote
from domain.calendar import months_later, years_later
from domain.models import Language, name_key
from domain.roster import Member, Roster

# The thirtieth instrument was deposited on 16 February 2010 (Burkina Faso and Moldova, per the depositary's record):
# every instrument deposited up to that day took effect with the Convention on 1 August 2010 (Art. 17(1)).
THIRTIETH_DEPOSIT = date(2010, 2, 16)
CONVENTION_IN_FORCE = date(2010, 8, 1)
ART3_YEARS = 8
ART4_YEARS = 10
INITIAL_REPORT_DAYS = (
    180  # Art. 7(1): "as soon as practicable, and in any event not later than 180 days after"
)
WITHDRAWAL_MONTHS = 6
# A State may sign and later deposit, or only deposit (accession): the register holds at most this many rows.
MAX_ROWS = MAX_STATES
COLUMNS = (
    "state",
    "aliases",
    "signed",
    "deposited",
    "instrument",
    "language",
    "art3_stockpiles",
    "art4_contamination",
    "withdrawal_notified",
    "verified",
    "source",
    "read_on",
    "note",
)


class Instrument(StrEnum):
    RATIFICATION = "ratification"
    ACCESSION = "accession"
    ACCEPTANCE = "acceptance"
    APPROVAL = "approval"


class Standing(StrEnum):
    """Where a State stands on a day."""

    PARTY = "State Party"
    DEPOSITED = "deposited, not yet in force"
    SIGNATORY = "signatory"
    WITHDRAWN = "withdrawn"
    UNVERIFIED = "dates not verified"


class Who(StrEnum):
    """Who may act in a place (the README tables each place's rule)."""

    # Art. 3/4/7, designations, silence, extension requests: a State Party on the day.
    PARTY = "party"
    # Art. 14: signatories and States not party may take part in and pay for a meeting: any State in the register.
    ATTENDING = "attending"


def _empty_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


def _flag(v: Any) -> Any:
    """yes / no / empty (not declared in the data)."""
    if isinstance(v, str):
        v = v.strip().lower()
        if v in ("", "not declared"):
            return None
        if v in ("yes", "no"):
            return v == "yes"
        raise ValueError(f"expected yes, no or empty, got {quote(v)}")
    return v


def _aliases(v: Any) -> Any:
    if isinstance(v, str):
        return [a.strip() for a in v.split(";") if a.strip()]
    return v


OptDay = Annotated[Day | None, BeforeValidator(_empty_none)]
Flag = Annotated[bool | None, BeforeValidator(_flag)]


class Row(BaseModel):
    """One State in the register, as the depositary's record and the ISU's sources have it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: Name
    aliases: Annotated[tuple[Name, ...], BeforeValidator(_aliases), Field(max_length=MAX_ALIASES)] = ()
    signed: OptDay = None
    deposited: OptDay = None
    instrument: Annotated[Instrument | None, BeforeValidator(_empty_none)] = None
    language: Annotated[Language | None, BeforeValidator(_empty_none)] = None
    # None: not declared in the data the register was built from.
    art3_stockpiles: Flag = None
    art4_contamination: Flag = None
    withdrawal_notified: OptDay = None
    # False: some date could not be read from the source; the row stays out of every computation.
    verified: Annotated[bool, BeforeValidator(lambda v: _flag(v) if isinstance(v, str) else v)] = True
    source: Url
    read_on: Day
    note: Annotated[Reference | None, BeforeValidator(_empty_none)] = None

    @model_validator(mode="after")
    def _consistent(self) -> Row:
        if (self.deposited is None) != (self.instrument is None):
            raise ValueError("deposited and instrument go together: both given or both empty")
        if self.signed and self.deposited and self.deposited < self.signed:
            raise ValueError(f"deposited ({self.deposited}) is before signed ({self.signed})")
        if self.instrument == Instrument.ACCESSION and self.signed is not None:
            raise ValueError("an accession is by a State that did not sign: signed must be empty")
        if self.withdrawal_notified is not None and self.deposited is None:
            raise ValueError("a withdrawal is notified by a State that deposited an instrument")
        if self.withdrawal_notified and self.deposited and self.withdrawal_notified < self.deposited:
            raise ValueError(f"withdrawal_notified ({self.withdrawal_notified}) is before deposited")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return (self.state, *self.aliases)

    @property
    def entry_into_force(self) -> date | None:
        return entry_into_force(self.deposited) if self.deposited and self.verified else None

    @property
    def withdrawal_effective(self) -> date | None:
        if self.withdrawal_notified is None or not self.verified:
            return None
        return withdrawal_effective(self.withdrawal_notified)

    def standing(self, on: date) -> Standing:
        if not self.verified:
            return Standing.UNVERIFIED
        if (left := self.withdrawal_effective) is not None and on >= left:
            return Standing.WITHDRAWN
        if (eif := self.entry_into_force) is not None:
            return Standing.PARTY if on >= eif else Standing.DEPOSITED
        return Standing.SIGNATORY

    def may_act(self, on: date, who: Who) -> bool:
        if who == Who.ATTENDING:
            return True
        return self.standing(on) == Standing.PARTY


def entry_into_force(deposited: date) -> date:
    """Art. 17: 1 August 2010 up to the thirtieth instrument; else the first day of the sixth month after."""
    if deposited <= THIRTIETH_DEPOSIT:
        return CONVENTION_IN_FORCE
    return months_later(deposited.replace(day=1), 6)


def withdrawal_effective(notified: date) -> date:
    """Art. 20(2): six months after the depositary receives the instrument of withdrawal."""
    return months_later(notified, WITHDRAWAL_MONTHS)


def initial_report_due(eif: date) -> date:
    return date.fromordinal(eif.toordinal() + INITIAL_REPORT_DAYS)


class Obligation(BaseModel):
    """One of a State Party's obligations with a date, as the register gives it."""

    model_config = ConfigDict(frozen=True)

    article: str  # "3", "4", "7"
    what: str
    due: date


def obligations(row: Row) -> list[Obligation]:
    """The dated obligations that follow from a row: none for a row out of the computations or not in force."""
    eif = row.entry_into_force
    if eif is None:
        return []
    out = [Obligation(article="7", what="initial transparency report", due=initial_report_due(eif))]
    if row.art3_stockpiles:
        out.append(Obligation(article="3", what="stockpiles destroyed", due=years_later(eif, ART3_YEARS)))
    if row.art4_contamination:
        out.append(
            Obligation(article="4", what="contaminated areas cleared", due=years_later(eif, ART4_YEARS))
        )
    return out


class Register(BaseModel):
    """Every row, each State once (by name or alias, in any case and spacing)."""

    model_config = ConfigDict(frozen=True)

    rows: list[Row] = Field(default_factory=list, max_length=MAX_ROWS)

    @model_validator(mode="after")
    def _distinct(self) -> Register:
        seen: dict[str, str] = {}
        for row in self.rows:
            for n in row.names:
                if (other := seen.get(name_key(n))) is not None:
                    raise ValueError(f"{quote(n)} names both {quote(other)} and {quote(row.state)}")
                seen[name_key(n)] = row.state
        return self

    def find(self, name: str) -> Row | None:
        key = name_key(name)
        return next((r for r in self.rows if any(name_key(n) == key for n in r.names)), None)

    def roster(self, on: date, who: Who = Who.PARTY) -> list[str]:
        """The short names of the States who may act on ``on`` under ``who``: what a workflow's input carries."""
        return [r.state for r in self.rows if r.may_act(on, who)]

    def aliases(self) -> dict[str, str]:
        """Each alias to its State's short name."""
        return {a: r.state for r in self.rows for a in r.aliases}

    def compact(self) -> Roster:
        """What a running workflow needs to check a State on any day (``domain/roster.py``)."""
        return Roster(
            members=[
                Member(state=r.state, in_force=r.entry_into_force, left=r.withdrawal_effective)
                for r in self.rows
            ],
            aliases=self.aliases(),
        )


class RegisterError(ValueError):
    """A register file that cannot be taken: one line per problem, each naming the file and line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def parse_register(text: str, where: str = "register") -> Register:
    """The register in a CSV text (the header names COLUMNS); RegisterError naming ``where`` and each line."""
    problems: list[str] = []
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        what = [f"missing {', '.join(missing)}"] if missing else []
        what += [f"unknown {', '.join(quote(c) for c in unknown)}"] if unknown else []
        raise RegisterError(
            [f"{where}:1: the header must name the columns {', '.join(COLUMNS)} ({'; '.join(what)})"]
        )
    rows: list[Row] = []
    lines: list[int] = []
    for record in reader:
        line = reader.line_num
        if None in record or any(v is None for v in record.values()):
            problems.append(f"{where}:{line}: expected {len(COLUMNS)} fields")
            continue
        try:
            rows.append(Row.model_validate(record))
            lines.append(line)
        except ValidationError as e:
            for err in e.errors():
                field = ".".join(str(p) for p in err["loc"]) or "row"
                msg = str(err["msg"]).removeprefix("Value error, ")
                problems.append(f"{where}:{line}: {field}: {msg}")
        if len(rows) > MAX_ROWS:
            problems.append(f"{where}:{line}: more than {MAX_ROWS} rows")
            break
    seen: dict[str, int] = {}
    for row, line in zip(rows, lines, strict=True):
        for n in row.names:
            if (first := seen.get(name_key(n))) is not None:
                problems.append(f"{where}:{line}: {quote(n)} is already on line {first}")
            seen.setdefault(name_key(n), line)
    if problems:
        raise RegisterError(problems)
    return Register(rows=rows)


def to_csv(register: Register) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in register.rows:
        d = r.model_dump(mode="json")
        d["aliases"] = ";".join(r.aliases)
        for flag in ("art3_stockpiles", "art4_contamination", "verified"):
            d[flag] = "" if d[flag] is None else ("yes" if d[flag] else "no")
        w.writerow(["" if d[c] is None else d[c] for c in COLUMNS])
    return out.getvalue()


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: str
    kind: str  # "added", "removed", "changed"
    fields: list[str] = Field(default_factory=list)


def changes(old: Register, new: Register) -> list[Change]:
    """What an import changes, row by row (by short name, in any case and spacing)."""
    before = {name_key(r.state): r for r in old.rows}
    after = {name_key(r.state): r for r in new.rows}
    out: list[Change] = []
    for key, r in after.items():
        if key not in before:
            out.append(Change(state=r.state, kind="added"))
        elif r != before[key]:
            was, now = before[key].model_dump(), r.model_dump()
            out.append(Change(state=r.state, kind="changed", fields=[f for f in COLUMNS if was[f] != now[f]]))
    out += [Change(state=r.state, kind="removed") for key, r in before.items() if key not in after]
    return out


def describe_changes(found: Iterable[Change], most: int = 8) -> str:
    """One line: each kind of change counted, with its first ``most`` States named (a first import adds 125 rows:
    the line goes to the decision log, the banner and the Web UI, where a full list would bury everything else)."""
    by_kind: dict[str, list[str]] = {}
    for c in found:
        by_kind.setdefault(c.kind, []).append(c.state + (f" ({', '.join(c.fields)})" if c.fields else ""))
    parts = []
    for kind, states in by_kind.items():
        named = ", ".join(states[:most]) + (f" and {len(states) - most} more" if len(states) > most else "")
        parts.append(f"{len(states)} {kind}: {named}")
    return "; ".join(parts) if parts else "no change"


def newly_obliged(old: Register, new: Register, today: date) -> list[Row]:
    """Rows whose obligations begin with this import: a State Party (or one in force soon) whose entry into force,
    or a declaration under Art. 3 or 4, it did not have before (its obligation workflows are started; those already
    running stay). A State whose withdrawal has taken effect has none."""
    before = {name_key(r.state): r for r in old.rows}
    out = []
    for r in new.rows:
        was = before.get(name_key(r.state))
        if r.standing(today) not in (Standing.PARTY, Standing.DEPOSITED):
            continue
        if obligations(r) and (was is None or obligations(was) != obligations(r)):
            out.append(r)
    return out
