"""The things the engine talks about: Presidents, meetings and their parts, the settings of a convention.

Everything here is a pure pydantic model, safe to pass through the workflow sandbox.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.bounds import MAX_CHF, MAX_PARTS, MAX_STATES, Aliases, DerivedDay, Url
from domain.bounds import Name as Name
from domain.roster import Roster

# The convention's short code, used in workflow ids: lower-case letters and digits.
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{1,15}$")]


@cache
def zone(name: str) -> ZoneInfo:
    """A time zone, loaded once (outside the workflow sandbox, whose ZoneInfo proxy datetime cannot use)."""
    return ZoneInfo(name)


def state_slug(state: str) -> str:
    """A State's name as it appears in workflow ids: Côte d'Ivoire -> cote-d-ivoire."""
    slug = re.sub(
        r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", state).encode("ascii", "ignore").decode().lower()
    )
    return slug.strip("-")[:60] or "unnamed"


def name_key(name: str) -> str:
    """A name as names are compared: in any case, width and spacing (NFKC, casefolded): MEXICO, ＭＥＸＩＣＯ, mexico."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


def distinct_names(names: list[str]) -> list[str]:
    """A list of States, each once (in any case, width and spacing)."""
    seen: set[str] = set()
    for name in names:
        if name_key(name) in seen:
            raise ValueError(f"{name[:80]!r} is listed twice")
        seen.add(name_key(name))
    return names


# States Parties as a list: each a well-formed name, each once.
StatesList = Annotated[list[Name], Field(max_length=MAX_STATES), AfterValidator(distinct_names)]


def match_name(name: str, listed: Sequence[str]) -> tuple[str | None, str | None]:
    """The listed name ``name`` stands for (any case and spacing); else None, and the closest listed one if any."""
    by_key = {name_key(s): s for s in listed}
    key = name_key(name)
    if key in by_key:
        return by_key[key], None
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.6)
    return None, (by_key[close[0]] if close else None)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Language(StrEnum):
    """The six official languages (Art. 23)."""

    AR = "ar"
    EN = "en"
    ES = "es"
    FR = "fr"
    RU = "ru"
    ZH = "zh"


class MeetingKind(StrEnum):
    MSP = "MSP"
    RC = "RC"

    @property
    def long_name(self) -> str:
        return "Meeting of States Parties" if self is MeetingKind.MSP else "Review Conference"


class MeetingFormat(StrEnum):
    IN_PERSON = "in_person"
    HYBRID = "hybrid"
    VIRTUAL = "virtual"


class Phase(StrEnum):
    SCHEDULED = "scheduled"
    IN_SESSION = "in_session"
    # Between two parts of a meeting held in parts.
    ADJOURNED = "adjourned"
    CLOSED = "closed"


class President(Frozen):
    """A presiding State Party; the representative is shown to people but never put in search attributes."""

    state: Name
    representative: Name | None = None

    def same_state(self, other: President) -> bool:
        return name_key(self.state) == name_key(other.state)

    def __str__(self) -> str:
        return f"{self.state} ({self.representative})" if self.representative else self.state


class Defaults(Frozen):
    """Convention-wide defaults; each can be overridden by a decision of the Presidency.

    One clock: the time zone and the hours of a day are read from here by every workflow, and every workflow gets
    them in its input (``convention.defaults`` for the Presidency and its meeting; a ``defaults`` field in the input
    of a ledger, document, review, extension request, silence procedure and Article 7 watch), as configured in the
    cycle file. Carried in the input rather than made one constant, because they are configuration (another
    convention, another seat, other hours) and a constant would make the configured time zone a lie for all but
    two workflow types; and carried rather than looked up, because a workflow must not read configuration itself
    (it is not deterministic) and a running workflow keeps the clock it started with even if the file changes.
    Inputs recorded before the field existed read as ``Defaults()``, the clock they ran on, so they replay unchanged.
    """

    place: Name = "Geneva"
    duration_days: int = Field(default=4, ge=1, le=10)
    review_conference_cadence_years: int = Field(default=5, ge=1, le=20)
    timezone: str = "Europe/Zurich"
    day_start_hour: int = Field(default=10, ge=0, le=23)
    day_end_hour: int = Field(default=18, ge=1, le=24)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        # A name that is not a path: ZoneInfo would otherwise read any file it names.
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}", name):
            raise ValueError(f"{name[:60]!r} is not a time zone name like Europe/Zurich")
        try:
            zone(name)
        except (ValueError, OSError, KeyError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @model_validator(mode="after")
    def _day_order(self) -> Defaults:
        if self.day_end_hour <= self.day_start_hour:
            raise ValueError("day_end_hour must be later than day_start_hour")
        return self


# The defaults of a cycle file that sets none, by name: the clock of an input recorded before it carried its own,
# and what `msp` reads the time by when no workflow's own defaults are at hand (a list row read from search
# attributes, "as of today"). Where a workflow's state carries its defaults (a ledger's), those come first.
STANDARD_DEFAULTS = Defaults()


# A page's translation: with at most 2,000 pages a document's cost stays far below MAX_CHF.
MAX_RATE_PER_PAGE = 100_000


class Money(Frozen):
    """What conference services cost and where they are reached; amounts in whole CHF."""

    translation_rate_per_page: dict[Language, Annotated[int, Field(ge=1, le=MAX_RATE_PER_PAGE)]] = Field(
        default_factory=lambda: {lang: 180 for lang in Language}
    )
    interpretation_per_day: int = Field(default=28_000, ge=1, le=MAX_CHF)
    # How long a translation takes once funded: a document later than this before its due date is flagged.
    translation_days: int = Field(default=10, ge=1, le=120)
    # Interpretation comes before documents (1 is granted first).
    interpretation_priority: int = Field(default=1, ge=1, le=9)
    # How long before a meeting day its interpretation is asked for: conference services book interpreters this far
    # ahead, so the request goes then rather than all at once when the meeting starts.
    interpretation_booking_days: int = Field(default=45, ge=0, le=365)
    conference_services_url: Url = "http://127.0.0.1:7299"
    # The travel agent that books sponsored delegates' travel (`make run`: the same local receiver).
    travel_agent_url: Url = "http://127.0.0.1:7299"

    @field_validator("translation_rate_per_page")
    @classmethod
    def _every_language(cls, rates: dict[Language, int]) -> dict[Language, int]:
        if missing := [lang.value for lang in Language if lang not in rates]:
            raise ValueError(f"a rate for every language: missing {', '.join(missing)}")
        return rates


class Sponsorship(Frozen):
    """The Sponsorship Programme's rules (`[sponsorship]`): when applications close, and whether each applying State
    gets one sponsored delegate before any gets a second."""

    close_weeks: int = Field(default=8, ge=0, le=52)
    one_per_state_first: bool = True


class Convention(Frozen):
    code: Code = "ccm"
    name: Name = "Convention on Cluster Munitions"
    defaults: Defaults = Defaults()
    money: Money = Money()
    sponsorship: Sponsorship = Sponsorship()
    # The States Parties (`[states_parties].names`): every State a decision names must be one of them. Empty: no
    # list configured (terms begun before the list existed), and any well-formed name is taken.
    states_parties: StatesList = Field(default_factory=list)
    # The register's other names of a State (alias -> short name), taken wherever a State is named.
    aliases: Aliases = Field(default_factory=dict)
    # The register, compact (sent by the register workflow): when given, who is a State Party is decided by its
    # dates on the day of each decision, and it replaces the two fields above.
    roster: Roster | None = None

    def parties_on(self, on: date) -> list[str]:
        return self.states_parties if self.roster is None else self.roster.parties(on)

    def with_roster(self, roster: Roster, on: date) -> Convention:
        update = {"roster": roster, "states_parties": roster.parties(on), "aliases": roster.aliases}
        return self.model_copy(update=update)


class MeetingRef(Frozen):
    number: int = Field(ge=1, le=999)
    kind: MeetingKind

    @property
    def label(self) -> str:
        """The short form used in ids and search attributes, e.g. ``10MSP`` or ``2RC``."""
        return f"{self.number}{self.kind.value}"

    def title(self) -> str:
        return f"{_ordinal(self.number)} {self.kind.long_name}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class Part(Frozen):
    """One sitting of a meeting: consecutive days in one place and one format."""

    # Derived dates too (the provisional dates of the next meeting), so a little past the window.
    start: DerivedDay
    end: DerivedDay
    place: Name = "Geneva"
    format: MeetingFormat = MeetingFormat.IN_PERSON
    # Who pays what a meeting away from Geneva costs above one in Geneva (seed ¶11).
    host_covering_extra_cost: Name | None = None
    # Dates proposed by the engine, not yet set by a decision.
    provisional: bool = False

    @field_validator("end")
    @classmethod
    def _dates_in_order(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if start is not None and end < start:
            raise ValueError(f"a part cannot end ({end}) before it starts ({start})")
        return end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class MeetingPlan(Frozen):
    ref: MeetingRef
    parts: list[Part] = Field(min_length=1, max_length=MAX_PARTS)

    @model_validator(mode="after")
    def _parts_in_order(self) -> MeetingPlan:
        for before, after in zip(self.parts, self.parts[1:], strict=False):
            if after.start <= before.end:
                raise ValueError(
                    f"part starting {after.start} must start after the previous part ends ({before.end})"
                )
        return self

    @property
    def first_day(self) -> date:
        return self.parts[0].start

    @property
    def last_day(self) -> date:
        return self.parts[-1].end

    def describe_dates(self) -> str:
        return "; ".join(
            (f"part {i}: " if len(self.parts) > 1 else "") + describe_part(p)
            for i, p in enumerate(self.parts, start=1)
        )


def describe_part(part: Part) -> str:
    fmt = part.format.value.replace("_", " ")
    span = f"{part.start}" if part.start == part.end else f"{part.start} to {part.end}"
    note = " (provisional)" if part.provisional else ""
    return f"{span}, {part.place}, {fmt}{note}"
