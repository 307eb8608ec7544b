"""A what-if scenario for `msp simulate` (TOML): a cycle's configuration, the payments expected, the documents
planned, the decisions foreseen and how many years to run. Parsed and bounded here; a bad file is refused with its
line and field, as the configuration is (domain/config.py).

Dates are the scenario's own (the 9th MSP's are in 2019): the simulation runs them shifted to the test server's
clock and reports them back in the scenario's dates.
"""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from domain.bounds import Day, Name, Reference, Title
from domain.config import ConfigError, CycleConfig, format_errors, validate_config
from domain.decisions import (
    AddPart,
    ChangeFormat,
    Decision,
    Designate,
    ExtendByDay,
    Postpone,
    ReplaceDesignate,
    SetDates,
)
from domain.documents import Symbol
from domain.funds import Amount
from domain.models import Language

MAX_YEARS = 10
MAX_PAYMENTS = 500
MAX_DOCUMENTS = 500
MAX_DECISIONS = 100
MeetingLabel = Annotated[str, StringConstraints(pattern=r"^\d{1,3}(MSP|RC)$")]
ConfigPath = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f]+$")]

# The decisions a scenario may foresee, by the key that names each: the models `msp decide` sends.
PRESIDENCY_DECISIONS: dict[str, type[Decision]] = {
    "designate": Designate,
    "replace_designate": ReplaceDesignate,
}
MEETING_DECISIONS: dict[str, type[Decision]] = {
    "set_dates": SetDates,
    "postpone": Postpone,
    "add_part": AddPart,
    "change_format": ChangeFormat,
    "extend_by_day": ExtendByDay,
}


def shift(day: date, years: int) -> date:
    """``day`` moved by whole years, so a scenario's dates keep their day of the month."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def shifted_config(cfg: CycleConfig, years: int, url: str) -> CycleConfig:
    """The configuration moved ``years`` ahead, its conference services at ``url``."""
    p, m = cfg.presidency, cfg.meeting
    rc = p.last_review_conference.model_copy(update={"year": p.last_review_conference.year + years})
    parts = [
        pt.model_copy(update={"start": shift(pt.start, years), "end": shift(pt.end, years)}) for pt in m.parts
    ]
    reviews = [
        r.model_copy(update={"due": r.due.model_copy(update={"on": shift(r.due.on, years)})})
        for r in cfg.reviews
    ]
    return cfg.model_copy(
        update={
            "presidency": p.model_copy(
                update={"term_began_on": shift(p.term_began_on, years), "last_review_conference": rc}
            ),
            "meeting": m.model_copy(update={"parts": parts}),
            "money": cfg.money.model_copy(update={"conference_services_url": url, "travel_agent_url": url}),
            "reviews": reviews,
        }
    )


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedPayment(_Entry):
    on: Day
    state: Name
    amount: Amount
    # The meeting whose ledger it is paid into (its costs are what the State was assessed for).
    meeting: MeetingLabel
    reference: Reference = "bank transfer"


class PlannedDocument(_Entry):
    symbol: Symbol
    title: Title | None = None
    pages: int = Field(ge=1, le=2000)
    priority: int = Field(default=2, ge=1, le=9)
    due: Day
    meeting: MeetingLabel
    # Submitted in this language; translated into the five others.
    original_language: Language = Language.EN
    # When it is submitted (its translations asked for); 60 days before it is due when not given.
    submitted: Day | None = None


class ForeseenDecision(_Entry):
    """One decision on a day: exactly one of the keys below, each in the shape `msp decide` sends."""

    on: Day
    designate: Designate | None = None
    replace_designate: ReplaceDesignate | None = None
    set_dates: SetDates | None = None
    postpone: Postpone | None = None
    add_part: AddPart | None = None
    change_format: ChangeFormat | None = None
    extend_by_day: ExtendByDay | None = None

    @model_validator(mode="after")
    def _one(self) -> ForeseenDecision:
        given = [k for k in (*PRESIDENCY_DECISIONS, *MEETING_DECISIONS) if getattr(self, k) is not None]
        if len(given) != 1:
            keys = ", ".join([*PRESIDENCY_DECISIONS, *MEETING_DECISIONS])
            raise ValueError(f"name exactly one decision ({keys}); got {len(given)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in (*PRESIDENCY_DECISIONS, *MEETING_DECISIONS) if getattr(self, k) is not None)

    @property
    def decision(self) -> Decision:
        d: Decision = getattr(self, self.kind)
        return d


class Scenario(_Entry):
    years: int = Field(ge=1, le=MAX_YEARS)
    # A configuration file (relative to the scenario's folder), or the configuration itself as a [config] table.
    config: ConfigPath | dict[str, Any]
    payments: list[ExpectedPayment] = Field(default_factory=list, max_length=MAX_PAYMENTS)
    documents: list[PlannedDocument] = Field(default_factory=list, max_length=MAX_DOCUMENTS)
    decisions: list[ForeseenDecision] = Field(default_factory=list, max_length=MAX_DECISIONS)

    @model_validator(mode="before")
    @classmethod
    def _ids(cls, data: Any) -> Any:
        """A foreseen decision needs no id of its own: ``sim-<n>``, by its place in the file, unless given."""
        if isinstance(data, dict) and isinstance(data.get("decisions"), list):
            for n, entry in enumerate(data["decisions"], start=1):
                for value in entry.values() if isinstance(entry, dict) else ():
                    if isinstance(value, dict):
                        value.setdefault("decision_id", f"sim-{n}")
        return data


class ParsedScenario(BaseModel):
    scenario: Scenario
    # The inline configuration, checked; None when the scenario names a file (read by the caller).
    config: CycleConfig | None


def parse_scenario(text: str, source: str = "scenario") -> ParsedScenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        errors = [(_loc(err["loc"]), str(err["msg"]).removeprefix("Value error, ")) for err in e.errors()]
        raise ConfigError(format_errors(text, source, errors)) from None
    errors = _cross_checks(scenario)
    if errors:
        raise ConfigError(format_errors(text, source, errors))
    inline = None
    if isinstance(scenario.config, dict):
        inline = validate_config(scenario.config, text, source, at=("config",))
    return ParsedScenario(scenario=scenario, config=inline)


def _loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Pydantic's place of an error without the union's branch names (``config.str``), which no file has."""
    return tuple(p for p in loc if p not in ("str", "dict[str,any]", "constrained-str"))


def _cross_checks(s: Scenario) -> list[tuple[tuple[Any, ...], str]]:
    errors: list[tuple[tuple[Any, ...], str]] = []
    symbols = [d.symbol for d in s.documents]
    for i, d in enumerate(s.documents):
        if symbols.index(d.symbol) != i:
            errors.append((("documents", i, "symbol"), f"{d.symbol} is planned twice"))
        if d.submitted is not None and d.submitted > d.due:
            errors.append((("documents", i, "submitted"), f"submitted after it is due ({d.due})"))
    ids = [f.decision.decision_id for f in s.decisions]
    for i, f in enumerate(s.decisions):
        if ids.index(ids[i]) != i:
            errors.append((("decisions", i, f.kind, "decision_id"), f"{ids[i]} is used twice"))
    return errors


def submitted_on(d: PlannedDocument) -> date:
    return d.submitted or d.due - timedelta(days=60)
