"""A State named in an input, matched against the States Parties: one function for every place that names one.

Designations and the successor named at a meeting's close, assessments and payments, silence broken, extension
requests and Article 7 reports all call ``check_state``. Names match in any case, width and spacing (NFKC,
casefolded: "ＭＥＸＩＣＯ" is "Mexico"); a name not listed is refused with the closest listed one as a hint. An empty
list means none is configured, and any well-formed name is taken. (When a register of States replaces the list, it
replaces it here.)
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.bounds import quote
from domain.models import Rejected, match_name

LISTED_IN = "listed in [states_parties]"


def check_state(name: str, listed: Sequence[str], where: str = LISTED_IN) -> str:
    """The State as the list names it; Rejected, with the closest listed name, when it is not on the list."""
    return check_states([name], listed, where)[name]


def check_states(names: Sequence[str], listed: Sequence[str], where: str = LISTED_IN) -> dict[str, str]:
    """Each name as the list names it; one Rejected naming (up to three of) those not on the list."""
    if not listed:
        return {name: name for name in names}
    out: dict[str, str] = {}
    unknown: list[tuple[str, str | None]] = []
    for name in names:
        found, close = match_name(name, listed)
        if found is not None:
            out[name] = found
        else:
            unknown.append((quote(name), close))
    if len(unknown) == 1:
        shown, close = unknown[0]
        hint = f": did you mean '{close}'?" if close else "."
        raise Rejected(f"{shown} is not a State Party {where}{hint}")
    if unknown:
        shown = ", ".join(q + (f" (did you mean '{c}'?)" if c else "") for q, c in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise Rejected(f"{len(unknown)} States are not States Parties {where}: {shown}{more}.")
    return out
