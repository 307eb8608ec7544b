"""A State named in an input, matched against the States Parties: one function for every place that names one.

Designations and the successor named at a meeting's close, assessments and payments, silence broken, extension
requests and Article 7 reports all call ``check_state``. Names match in any case, width and spacing (NFKC,
casefolded: "ＭＥＸＩＣＯ" is "Mexico"); a name not listed is refused with the closest listed one as a hint. An empty
list means none is configured, and any well-formed name is taken.

The register's other names of a State (its aliases: "Lao PDR") come beside the list, and every place passes them on:
an alias of a listed State is taken and answered with the State's short name, as the list names it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domain.bounds import quote
from domain.decisions import Rejected
from domain.models import match_name, name_key

LISTED_IN = "listed in [states_parties]"


def check_state(
    name: str, listed: Sequence[str], where: str = LISTED_IN, aliases: Mapping[str, str] | None = None
) -> str:
    """The State as the list names it; Rejected, with the closest listed name, when it is not on the list."""
    return check_states([name], listed, where, aliases)[name]


def check_states(
    names: Sequence[str],
    listed: Sequence[str],
    where: str = LISTED_IN,
    aliases: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Each name as the list names it (an alias: its State's short name); one Rejected naming (up to three of) those
    not on the list."""
    other = {name_key(a): short for a, short in (aliases or {}).items()}
    if not listed:
        return {name: other.get(name_key(name), name) for name in names}
    by_key = {name_key(s): s for s in listed}
    # An alias counts only when its State is listed: the alias of a State not party is refused like its name.
    by_key |= {a: by_key[name_key(s)] for a, s in other.items() if name_key(s) in by_key and a not in by_key}
    out = {name: by_key[name_key(name)] for name in names if name_key(name) in by_key}
    unknown = [name for name in names if name not in out]
    if not unknown:
        return out
    # The closest listed name, for the (at most three) shown: a file of 200 unknown names costs no more.
    shown = [(quote(name), match_name(name, listed)[1]) for name in unknown[:3]]
    if len(unknown) == 1:
        hint = f": did you mean '{shown[0][1]}'?" if shown[0][1] else "."
        raise Rejected(f"{shown[0][0]} is not a State Party {where}{hint}")
    text = ", ".join(q + (f" (did you mean '{c}'?)" if c else "") for q, c in shown)
    more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
    raise Rejected(f"{len(unknown)} States are not States Parties {where}: {text}{more}.")
