"""Who pays for a meeting beyond the States Parties' assessed contributions (seed ¶10-11, Art. 14).

- **Away from Geneva.** The host covers every cost above what the same meeting costs in Geneva. The ledger then
  carries two estimates: the Geneva baseline (``SetEstimate``), assessed on the scale as for any meeting, and the
  surplus (``SetSurplus``), invoiced to the host the meeting's decision names. The meeting tells its ledger where it
  is held away from Geneva and who hosts it (signal MEETING_VENUE, a ``Venue``). The surplus is a receivable of the
  host, apart from the balance that pays interpretation and translation (those are baseline costs): the host pays it
  with ``Payment(surplus=True)``. When the meeting moves back to Geneva (or the host no longer hosts any part) its
  surplus is withdrawn: nothing more is owed, what was paid stays recorded; a new surplus needs a new decision.
- **States not party that take part** register for the meeting (``RegisterNotParty``), checked against the register:
  a State Party is refused, since it is assessed anyway. The assessment then covers them with the States Parties, on
  the same scale: the ISU's file has a share for each registered one, and for no other State not party.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from domain.bounds import MAX_PARTS, MAX_STATES, Chf, Day, Name, Value, chf, quote
from domain.decisions import Decision, Rejected
from domain.models import Defaults, MeetingPlan, match_name, name_key

if TYPE_CHECKING:
    from domain.funds import LedgerState, Payment

# The signal a meeting sends its ledger when where it is held away from Geneva, or who hosts it, changes.
MEETING_VENUE = "meeting_venue"
# From this patch on, a meeting tells its ledger where it is held away from Geneva and who hosts it, and a new ledger
# assesses only States Parties and the States not party registered for the meeting. Before it, neither.
HOST_SURPLUS = "ledger-host-surplus"


class Away(Value):
    place: Name
    host: Name


class Venue(Value):
    """The parts of a meeting held away from the default place, each with its host; empty: all in the default place."""

    away: list[Away] = Field(default_factory=list, max_length=MAX_PARTS)

    def hosts(self) -> dict[str, list[str]]:
        """Each host (as first named) with the places it hosts."""
        out: dict[str, list[str]] = {}
        first: dict[str, str] = {}
        for a in self.away:
            host = first.setdefault(name_key(a.host), a.host)
            if a.place not in out.setdefault(host, []):
                out[host].append(a.place)
        return out


def venue_of(plan: MeetingPlan, defaults: Defaults) -> Venue:
    return Venue(
        away=[
            Away(place=p.place, host=p.host_covering_extra_cost)
            for p in plan.parts
            if p.host_covering_extra_cost and p.place.casefold() != defaults.place.casefold()
        ]
    )


class Surplus(BaseModel):
    """What the meeting costs above the same meeting in the default place, invoiced to its host."""

    host: Name
    places: list[Name] = Field(max_length=MAX_PARTS)
    amount: int = Field(ge=0)
    due: date
    reference: str
    paid: int = 0
    # The meeting is no longer held where this host hosts it: nothing more is owed.
    withdrawn: bool = False

    @property
    def outstanding(self) -> int:
        return 0 if self.withdrawn else max(self.amount - self.paid, 0)


class SetSurplus(Decision):
    """The surplus of a meeting away from the default place, invoiced to its host (the only one unless ``host``)."""

    amount: Chf
    due: Day
    host: Name | None = None


class RegisterNotParty(Decision):
    """A State not party that takes part in the meeting, and so pays its share (Art. 14)."""

    state: Name


class Arrears(BaseModel):
    state: str
    assessed: int
    paid: int
    outstanding: int
    due: date
    overdue: bool


def arrears(ledger: LedgerState, today: date) -> list[Arrears]:
    out = []
    for state, a in sorted(ledger.assessments.items()):
        paid = ledger.paid.get(state, 0)
        outstanding = max(a.amount - paid, 0)
        out.append(
            Arrears(
                state=state,
                assessed=a.amount,
                paid=paid,
                outstanding=outstanding,
                due=a.due,
                overdue=outstanding > 0 and today > a.due,
            )
        )
    return out


def _host(ledger: LedgerState, given: str | None) -> tuple[str, list[str]]:
    hosts = ledger.venue.hosts()
    place = ledger.defaults.place
    if not hosts:
        raise Rejected(
            f"The {ledger.meeting} is held in {place}: there is no surplus to invoice. A meeting elsewhere "
            "names its host (msp decide set-dates --place --host)."
        )
    named = ", ".join(hosts)
    if given is None:
        if len(hosts) > 1:
            raise Rejected(
                f"The {ledger.meeting} has several hosts ({named}); name the one invoiced (--host)."
            )
        return next(iter(hosts.items()))
    found = next((h for h in hosts if name_key(h) == name_key(given)), None)
    if found is None:
        raise Rejected(f"{quote(given)} does not host the {ledger.meeting}; its host: {named}.")
    return found, hosts[found]


def set_surplus(ledger: LedgerState, d: SetSurplus) -> tuple[LedgerState, str]:
    host, places = _host(ledger, d.host)
    before = ledger.surplus.get(host)
    if before is not None and not before.withdrawn and (before.amount, before.due) == (d.amount, d.due):
        raise Rejected(f"The surplus invoiced to {host} is already {chf(d.amount)}, due {d.due}.")
    invoice = Surplus(
        host=host,
        places=places,
        amount=d.amount,
        due=d.due,
        reference=d.reference,
        paid=before.paid if before is not None else 0,
    )
    summary = f"surplus {chf(d.amount)} invoiced to {host} (held in {', '.join(places)}), due {d.due}"
    return ledger.model_copy(update={"surplus": {**ledger.surplus, host: invoice}}), summary


def move(ledger: LedgerState, venue: Venue) -> LedgerState:
    """The ledger once the meeting has moved: a host that no longer hosts any part has its surplus withdrawn."""
    hosts = {name_key(h): places for h, places in venue.hosts().items()}
    surplus = {
        host: inv.model_copy(update={"withdrawn": True})
        if (places := hosts.get(name_key(host))) is None
        else inv.model_copy(update={"places": places})
        for host, inv in ledger.surplus.items()
    }
    return ledger.model_copy(update={"venue": venue, "surplus": surplus})


def _named(ledger: LedgerState, name: str) -> str:
    """A name with the register's aliases read as the State's short name."""
    return {name_key(a): s for a, s in ledger.aliases.items()}.get(name_key(name), name)


def invoiced_host(ledger: LedgerState, name: str) -> str | None:
    """The host invoiced a surplus that ``name`` (or its alias) stands for, as the invoice names it."""
    given = _named(ledger, name)
    return next((h for h in ledger.surplus if name_key(h) == name_key(given)), None)


def pay_surplus(ledger: LedgerState, p: Payment) -> LedgerState:
    host = invoiced_host(ledger, p.state)
    if host is None:
        raise Rejected(
            f"{quote(p.state)} is invoiced no surplus for the {ledger.meeting} (msp funds surplus)."
        )
    invoice = ledger.surplus[host]
    if invoice.withdrawn:
        raise Rejected(
            f"The surplus invoiced to {host} was withdrawn: the {ledger.meeting} is no longer held in "
            f"{', '.join(invoice.places)}."
        )
    if p.split is not None:
        raise Rejected("A payment towards a surplus goes to one meeting's ledger whole (give --meeting).")
    if p.amount > invoice.outstanding and not p.force:
        raise Rejected(
            f"{chf(p.amount)} from {host} is more than its outstanding surplus ({chf(invoice.outstanding)}); "
            "record it with --force if that is what was received."
        )
    paid = invoice.model_copy(update={"paid": invoice.paid + p.amount})
    return ledger.model_copy(update={"surplus": {**ledger.surplus, host: paid}})


def register_not_party(ledger: LedgerState, d: RegisterNotParty, today: date) -> tuple[LedgerState, str]:
    roster = ledger.roster
    if roster is None:
        raise Rejected(
            f"The ledger of the {ledger.meeting} has no register to tell a State not party from a State Party; "
            "import the register (msp register import)."
        )
    state, close = match_name(_named(ledger, d.state), roster.attending())
    if state is None:
        hint = f": did you mean '{close}'?" if close else "."
        raise Rejected(f"{quote(d.state)} is not in the register{hint}")
    if any(name_key(s) == name_key(state) for s in roster.parties(today)):
        raise Rejected(
            f"{state} is a State Party on {today}, assessed with the States Parties anyway: only a State not "
            "party registers to take part (Art. 14)."
        )
    if any(name_key(s) == name_key(state) for s in ledger.participants):
        raise Rejected(f"{state} is already registered for the {ledger.meeting}.")
    if len(ledger.participants) >= MAX_STATES:
        raise Rejected(f"The {ledger.meeting} already has {MAX_STATES} States not party registered.")
    summary = f"{state}, not a State Party, takes part in the {ledger.meeting} and pays its share"
    if ledger.assessments and not any(name_key(s) == name_key(state) for s in ledger.assessments):
        summary += "; assess again with its share"
    return ledger.model_copy(update={"participants": [*ledger.participants, state]}), summary


def check_assessed(ledger: LedgerState, states: Iterable[str], today: date) -> None:
    """Those an assessment names are States Parties on ``today`` or States not party registered for the meeting, and
    every one registered is among them (Art. 14). Only for ledgers that know the register, from HOST_SURPLUS on."""
    if ledger.roster is None or not ledger.takers_checked:
        return
    states = list(states)
    taking_part = {name_key(s) for s in [*ledger.roster.parties(today), *ledger.participants]}
    if stray := next((s for s in states if name_key(s) not in taking_part), None):
        raise Rejected(
            f"{stray} is not a State Party on {today} and has not registered for the {ledger.meeting}: "
            "register it (msp funds participate) or leave it out of the file."
        )
    assessed = {name_key(s) for s in states}
    if missing := next((s for s in ledger.participants if name_key(s) not in assessed), None):
        raise Rejected(
            f"{missing} registered for the {ledger.meeting} and has no share in the file: add its share, on "
            "the same scale as the States Parties'."
        )
