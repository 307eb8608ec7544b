"""The cycle's configuration file (TOML): parsed and validated here, with errors that name the field and line."""

from __future__ import annotations

import re
import tomllib
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from domain.bounds import MAX_STATES, Aliases, Day, in_window
from domain.committee_models import CommitteeState, PresidencyView
from domain.models import (
    Code,
    Convention,
    Defaults,
    MeetingKind,
    MeetingPlan,
    MeetingRef,
    Money,
    Name,
    Part,
    President,
    Sponsorship,
    name_key,
)
from domain.notifications import DEFAULT_WEBHOOK, WebhookName
from domain.presidency import Counters, PresidencyState
from domain.reviews import ReviewSpec
from domain.roster import Roster


class ConfigError(ValueError):
    """A configuration file that cannot be used; ``str()`` is one line per problem, each naming its place."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConventionSection(_Section):
    code: Code = "ccm"
    name: Name = "Convention on Cluster Munitions"


class ReviewConferenceSection(_Section):
    number: int = Field(ge=0)
    year: int = Field(ge=1990, le=2200)


class PresidencySection(_Section):
    president: President
    term_began_on: Day
    designates: list[President] = Field(default_factory=list, max_length=3)
    last_msp_number: int = Field(ge=0)
    last_review_conference: ReviewConferenceSection
    intersessional_this_cycle: bool | None = None


class MeetingSection(_Section):
    number: int = Field(ge=1, le=999)
    kind: MeetingKind
    parts: list[Part] = Field(min_length=1)


class NotificationsSection(_Section):
    # The webhook target reminders go to (JSON with a plain-text "text" field), by name. The worker alone holds
    # its URL (CCM_WEBHOOK_URL, or CCM_WEBHOOK_URL_<NAME> for another name); without one it logs them.
    webhook: WebhookName = DEFAULT_WEBHOOK
    # Refused with the way to configure it: a URL here would be copied into every workflow's history.
    webhook_url: str | None = None

    @field_validator("webhook_url")
    @classmethod
    def _no_url(cls, url: str | None) -> None:
        if url is not None:
            raise ValueError(
                "a webhook's URL is the worker's setting, not the cycle's: set CCM_WEBHOOK_URL in the worker's "
                'environment (or CCM_WEBHOOK_URL_<NAME> and webhook = "<name>" here)'
            )
        return None


class StatesPartiesSection(_Section):
    # The States Parties: who may be designated, assessed, pay, break silence, request an extension, report.
    names: list[Name] = Field(default_factory=list, max_length=MAX_STATES)
    # Whose Article 7 reports are chased (each must be in ``names``); one workflow each.
    article7: list[Name] = Field(default_factory=list, max_length=MAX_STATES)
    article7_reminder_days: list[int] = Field(default=[60, 14], min_length=1, max_length=6)
    # The register of States (a CSV file beside this one): when given, the States Parties and whose Art. 7 reports
    # are chased come from it, as of the day a command runs (``names`` and ``article7`` are then not used).
    register_file: Annotated[str, StringConstraints(pattern=r"^[\w.-]{1,100}$")] | None = None
    # Other names of a State (alias = "short name"), taken wherever a State is named; from the register when given.
    aliases: Aliases = Field(default_factory=dict)
    # The register, compact, as `msp` read it from ``register_file`` (not written in this file): procedures and the
    # Presidency check a State by its dates on the day of a decision.
    roster: Roster | None = None

    @field_validator("article7_reminder_days")
    @classmethod
    def _leads(cls, days: list[int]) -> list[int]:
        if any(d < 1 or d > 180 for d in days):
            raise ValueError("each reminder is 1 to 180 days before 30 April")
        return days


class CommitteeSection(_Section):
    # Who directs the ISU and assists the President on the Coordination Committee (seed ¶14).
    isu_director: Name = "the ISU Director"


class CycleConfig(_Section):
    convention: ConventionSection = ConventionSection()
    defaults: Defaults = Defaults()
    money: Money = Money()
    sponsorship: Sponsorship = Sponsorship()
    presidency: PresidencySection
    meeting: MeetingSection
    notifications: NotificationsSection = NotificationsSection()
    reviews: list[ReviewSpec] = Field(default_factory=list)
    states_parties: StatesPartiesSection = StatesPartiesSection()
    committee: CommitteeSection = CommitteeSection()

    def convention_settings(self) -> Convention:
        return Convention(
            code=self.convention.code,
            name=self.convention.name,
            defaults=self.defaults,
            money=self.money,
            sponsorship=self.sponsorship,
            states_parties=self.states_parties.names,
            aliases=self.states_parties.aliases,
            roster=self.states_parties.roster,
        )

    def initial_state(self) -> PresidencyState:
        plan = MeetingPlan(
            ref=MeetingRef(number=self.meeting.number, kind=self.meeting.kind), parts=self.meeting.parts
        )
        p = self.presidency
        return PresidencyState(
            convention=self.convention_settings(),
            president=p.president,
            began_on=p.term_began_on,
            designates=list(p.designates),
            meeting=plan,
            counters=Counters(
                last_msp_number=p.last_msp_number,
                last_review_conference_number=p.last_review_conference.number,
                last_review_conference_year=p.last_review_conference.year,
            ),
            intersessional_this_cycle=p.intersessional_this_cycle,
        )


def committee_state(config: CycleConfig) -> CommitteeState:
    """The Coordination Committee as the cycle starts it: the Presidency's first term, the ISU Director."""
    p = config.presidency
    return CommitteeState(
        convention=config.convention.code,
        webhook=config.notifications.webhook,
        defaults=config.defaults,
        isu_director=config.committee.isu_director,
        presidency=PresidencyView(
            term=1,
            president=p.president,
            designates=list(p.designates),
            meeting=MeetingRef(number=config.meeting.number, kind=config.meeting.kind).label,
        ),
    )


def parse_config(text: str, source: str = "config") -> CycleConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    if not data:
        raise ConfigError(
            f"{source}: the file is empty; it needs at least [presidency] and [[meeting.parts]]"
        )
    return validate_config(data, text, source)


def validate_config(data: Any, text: str, source: str, at: tuple[Any, ...] = ()) -> CycleConfig:
    """``data`` (parsed from ``text``) as a configuration; ``at``: where it sits in the file (a scenario's inline
    ``[config]``), so each problem names its line and field."""
    try:
        config = CycleConfig.model_validate(data)
    except ValidationError as e:
        errors = [((*at, *err["loc"]), str(err["msg"]).removeprefix("Value error, ")) for err in e.errors()]
        raise ConfigError(format_errors(text, source, errors)) from None
    if errors := _cross_checks(config):
        raise ConfigError(format_errors(text, source, [((*at, *loc), msg) for loc, msg in errors]))
    return config


def _cross_checks(config: CycleConfig) -> list[tuple[tuple[Any, ...], str]]:
    """Rules that join several fields; each problem is placed on the field a person would edit."""
    errors: list[tuple[tuple[Any, ...], str]] = []
    p, m = config.presidency, config.meeting
    for i, d in enumerate(p.designates):
        if d.same_state(p.president):
            errors.append((("presidency", "designates", i), f"{d.state} is the President, not a designate"))
    last = p.last_msp_number if m.kind is MeetingKind.MSP else p.last_review_conference.number
    if m.number != last + 1:
        errors.append(
            (("meeting", "number"), f"the next {m.kind.value} is number {last + 1}, after the last one held")
        )
    for i, part in enumerate(m.parts):
        for field in ("start", "end"):
            try:
                in_window(getattr(part, field))
            except ValueError as e:
                errors.append((("meeting", "parts", i, field), str(e)))
        # As the decisions that move a meeting (domain/meeting_rules.py): who covers the difference (seed ¶11).
        if part.place.casefold() != config.defaults.place.casefold() and not part.host_covering_extra_cost:
            errors.append(
                (
                    ("meeting", "parts", i, "place"),
                    f"a meeting in {part.place} instead of {config.defaults.place} must name the host covering "
                    f"every cost above a meeting in {config.defaults.place} (host_covering_extra_cost)",
                )
            )
    if m.parts[0].start < p.term_began_on:
        errors.append((("meeting", "parts", 0, "start"), "the meeting cannot start before the term began"))
    try:
        MeetingPlan(ref=MeetingRef(number=m.number, kind=m.kind), parts=m.parts)
    except ValidationError as e:
        errors += [
            (("meeting", "parts"), str(err["msg"]).removeprefix("Value error, ")) for err in e.errors()
        ]
    subjects = [r.subject for r in config.reviews]
    for i, r in enumerate(config.reviews):
        if subjects.index(r.subject) != i:
            errors.append((("reviews", i, "subject"), f"review {r.subject!r} is listed twice"))
    sp = config.states_parties
    keys = [name_key(n) for n in sp.names]
    for i, key in enumerate(keys):
        if keys.index(key) != i:
            errors.append((("states_parties", "names", i), f"{sp.names[i]} is listed twice"))
    for i, name in enumerate(sp.article7):
        if name_key(name) not in keys:
            errors.append((("states_parties", "article7", i), f"{name} is not in states_parties.names"))
    if keys:
        named: list[tuple[tuple[Any, ...], President]] = [(("presidency", "president", "state"), p.president)]
        named += [(("presidency", "designates", i, "state"), d) for i, d in enumerate(p.designates)]
        for loc, president in named:
            if name_key(president.state) not in keys:
                errors.append((loc, f"{president.state} is not in states_parties.names"))
    return errors


def format_errors(text: str, source: str, errors: list[tuple[tuple[Any, ...], str]]) -> str:
    lines = _key_lines(text)
    problems = []
    for loc, msg in errors:
        line = _line_for(lines, loc)
        place = f"{source}:{line}" if line else source
        problems.append(f"{place}: {_field_name(loc) or 'file'}: {msg}")
    return "\n".join(problems)


def _field_name(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def _key_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Maps each table and key path (array-of-table entries indexed) to the line it is written on."""
    found: dict[tuple[Any, ...], int] = {}
    arrays: dict[tuple[str, ...], int] = {}
    table: tuple[Any, ...] = ()
    for n, raw in enumerate(text.splitlines(), start=1):
        if m := _TABLE.match(raw):
            names = tuple(k.strip().strip("\"'") for k in m.group(1).split("."))
            if raw.lstrip().startswith("[["):
                arrays[names] = arrays.get(names, -1) + 1
                table = (*names, arrays[names])
            else:
                table = names
            found.setdefault(table, n)
        elif m := _KEY.match(raw):
            keys = tuple(k.strip().strip("\"'") for k in m.group(1).split("."))
            found.setdefault((*table, *keys), n)
    return found


def _line_for(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    for cut in range(len(loc), 0, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None
