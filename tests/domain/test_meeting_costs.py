"""Who pays for a meeting beyond the States Parties' contributions: the host of a meeting away from Geneva, and the
States not party that take part (domain/meeting_costs.py), as plain rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import funds
from domain import meeting_costs as costs
from domain import meeting_rules as meeting
from domain.arrears import owed_by, surplus_owed_by
from domain.calendar import day_start
from domain.config import ConfigError, parse_config
from domain.decisions import AddPart, ChangeFormat, ExtendByDay, Postpone, Rejected, SetDates
from domain.funds import Assess, LedgerState, Payment, SetEstimate, chf
from domain.meeting_costs import Away, RegisterNotParty, SetSurplus, Venue
from domain.models import Defaults, MeetingFormat, MeetingKind, MeetingPlan, MeetingRef, Part
from domain.roster import Member, Roster
from starter.cli.common import DEFAULT_CONFIG

D = Defaults()
MSP9 = MeetingPlan(
    ref=MeetingRef(number=9, kind=MeetingKind.MSP), parts=[Part(start=date(2019, 9, 2), end=date(2019, 9, 4))]
)
NOW = day_start(date(2019, 6, 1), D)
TODAY = date(2019, 6, 1)
ROSTER = Roster(
    members=[
        Member(state="Austria", in_force=date(2010, 8, 1)),
        Member(state="Chile", in_force=date(2011, 6, 1)),
        Member(state="Switzerland", in_force=date(2013, 1, 1)),
        Member(state="Angola"),  # a signatory
        Member(state="Lithuania", in_force=date(2011, 5, 1), left=date(2025, 3, 6)),
    ],
    aliases={"Swiss Confederation": "Switzerland"},
)
LAUSANNE = Venue(away=[Away(place="Lausanne", host="Switzerland")])


def lausanne(**kw: object) -> SetDates:
    return SetDates(decision_id="a", reference="r", start=date(2019, 9, 2), place="Lausanne", **kw)


def test_every_decision_that_moves_a_meeting_away_from_geneva_names_its_host_and_geneva_drops_it():
    for rule, d in [
        (meeting.set_dates, lausanne()),
        (
            meeting.add_part,
            AddPart(
                decision_id="p", reference="r", start=date(2019, 9, 9), duration_days=2, place="Lausanne"
            ),
        ),
    ]:
        with pytest.raises(Rejected, match="must name the host"):
            rule(MSP9, d, NOW, D)  # type: ignore[operator]
    away, _ = meeting.set_dates(MSP9, lausanne(host_covering_extra_cost="Switzerland"), NOW, D)
    # Postponing, changing the format or adding a day keeps the place and its host.
    later, _ = meeting.postpone(
        away, Postpone(decision_id="p", reference="r", new_start=date(2019, 9, 16)), NOW, D
    )
    hybrid, _ = meeting.change_format(
        later, ChangeFormat(decision_id="f", reference="r", format=MeetingFormat.HYBRID), NOW, D
    )
    longer, _ = meeting.extend_by_day(
        hybrid, ExtendByDay(decision_id="x", reference="r"), day_start(date(2019, 9, 17), D), D
    )
    assert costs.venue_of(longer, D) == LAUSANNE
    back, _ = meeting.set_dates(
        longer, SetDates(decision_id="g", reference="r", start=date(2019, 9, 2), place="Geneva"), NOW, D
    )
    assert back.parts[0].host_covering_extra_cost is None and costs.venue_of(back, D) == Venue()


def test_a_cycle_cannot_start_with_a_meeting_away_from_geneva_without_a_host():
    text = DEFAULT_CONFIG.read_text().replace('place = "Geneva"\nformat', 'place = "Lausanne"\nformat')
    with pytest.raises(
        ConfigError, match=r"meeting.parts\[0\].place: a meeting in Lausanne .*\(host_covering_extra_cost\)"
    ):
        parse_config(text, "cycle.toml")
    hosted = text.replace(
        'place = "Lausanne"', 'place = "Lausanne"\nhost_covering_extra_cost = "Switzerland"'
    )
    assert parse_config(hosted, "cycle.toml").initial_state().meeting.parts[0].place == "Lausanne"


def ledger(**kw: object) -> LedgerState:
    s = LedgerState(meeting="14MSP", roster=ROSTER, aliases=ROSTER.aliases, takers_checked=True, **kw)
    return funds.set_estimate(s, SetEstimate(decision_id="e", reference="r", amount=400_000))


def surplus(amount: int = 150_000, **kw: object) -> SetSurplus:
    return SetSurplus(decision_id="s", reference="letter", amount=amount, due=date(2019, 7, 31), **kw)


def pay(amount: int, **kw: object) -> Payment:
    return Payment(decision_id="h1", reference="bank", state="swiss confederation", amount=amount, **kw)


def test_the_host_is_invoiced_the_surplus_and_the_states_are_assessed_the_geneva_baseline():
    with pytest.raises(Rejected, match="held in Geneva: there is no surplus"):
        costs.set_surplus(ledger(), surplus())
    s = costs.move(ledger(), LAUSANNE)
    s, summary = costs.set_surplus(s, surplus())
    assert summary == f"surplus {chf(150_000)} invoiced to Switzerland (held in Lausanne), due 2019-07-31"
    s = funds.assess(
        s, Assess(decision_id="a", reference="r", shares={"Austria": 60, "Chile": 40}, due=TODAY), TODAY
    )
    assert {a.state: a.amount for a in s.assessments.values()} == {"Austria": 240_000, "Chile": 160_000}
    with pytest.raises(Rejected, match="is more than its outstanding surplus"):
        funds.record_payment(s, pay(150_001, surplus=True))
    # Without --surplus the host's payment is for a contribution it was never assessed.
    with pytest.raises(Rejected, match="no assessed contribution"):
        funds.record_payment(s, pay(50_000))
    summary = funds.payment_summary(s, pay(50_000, surplus=True))
    assert summary == f"{chf(50_000)} from Switzerland towards the surplus it is invoiced"  # by its alias
    s = funds.record_payment(s, pay(50_000, surplus=True))
    assert (s.surplus["Switzerland"].outstanding, s.balance) == (100_000, 0)  # apart from the balance
    late = date(2019, 8, 1)
    [owed] = surplus_owed_by("Switzerland", [s], late)
    assert (owed.what, owed.outstanding, owed.overdue) == ("surplus (Lausanne)", 100_000, True)
    assert owed_by("Switzerland", [s], late) == []  # a payment without --surplus never settles it
    # Back in Geneva: withdrawn, nothing more owed, what was paid stays recorded.
    s = costs.move(s, Venue())
    assert (s.surplus["Switzerland"].withdrawn, s.surplus["Switzerland"].paid) == (True, 50_000)
    assert surplus_owed_by("Switzerland", [s], late) == []
    with pytest.raises(Rejected, match="was withdrawn"):
        funds.record_payment(s, pay(10_000, surplus=True))


def test_a_surplus_names_a_host_of_the_meeting_and_one_among_several():
    two = Venue(away=[Away(place="Lausanne", host="Switzerland"), Away(place="Vienna", host="Austria")])
    s = costs.move(ledger(), two)
    with pytest.raises(Rejected, match=r"several hosts \(Switzerland, Austria\); name the one invoiced"):
        costs.set_surplus(s, surplus())
    with pytest.raises(Rejected, match="'Chile' does not host the 14MSP"):
        costs.set_surplus(s, surplus(host="Chile"))
    s, _ = costs.set_surplus(s, surplus(host="austria"))
    with pytest.raises(Rejected, match="already CHF 150,000"):
        costs.set_surplus(s, surplus(host="Austria"))
    # Austria no longer hosts: its surplus is withdrawn; Switzerland's would stay.
    s = costs.move(s, LAUSANNE)
    assert s.surplus["Austria"].withdrawn


def register(s: LedgerState, state: str) -> LedgerState:
    new, _ = costs.register_not_party(s, RegisterNotParty(decision_id="n", reference="r", state=state), TODAY)
    return new


def test_a_state_not_party_registered_is_assessed_with_the_states_parties_and_in_arrears_like_them():
    s = ledger()
    with pytest.raises(
        Rejected, match="Chile is a State Party on 2019-06-01, assessed with the States Parties"
    ):
        register(s, "chile")
    with pytest.raises(Rejected, match="'Atlantis' is not in the register."):
        register(s, "Atlantis")
    with pytest.raises(Rejected, match="'Angol' is not in the register: did you mean 'Angola'"):
        register(s, "Angol")
    with pytest.raises(Rejected, match="no register"):
        register(s.model_copy(update={"roster": None}), "Angola")
    shares = {"Austria": 50.0, "Chile": 40.0, "Angola": 10.0}
    with pytest.raises(Rejected, match="Angola is not a State Party on 2019-06-01 and has not registered"):
        funds.assess(s, Assess(decision_id="a", reference="r", shares=shares, due=TODAY), TODAY)
    s = register(s, "Angola")
    with pytest.raises(Rejected, match="already registered"):
        register(s, "ANGOLA")
    with pytest.raises(Rejected, match="Angola registered for the 14MSP and has no share in the file"):
        funds.assess(s, Assess(decision_id="a", reference="r", shares={"Austria": 60}, due=TODAY), TODAY)
    s = funds.assess(s, Assess(decision_id="a", reference="r", shares=shares, due=TODAY), TODAY)
    assert s.assessments["Angola"].amount == 40_000  # on the same scale as the States Parties
    [owed] = owed_by("angola", [s], TODAY + timedelta(days=1))
    assert (owed.outstanding, owed.overdue) == (40_000, True)
    # A State whose withdrawal took effect is no longer a State Party: it may register as one not party.
    _, summary = costs.register_not_party(
        s, RegisterNotParty(decision_id="l", reference="r", state="Lithuania"), date(2025, 9, 1)
    )
    assert (
        summary
        == "Lithuania, not a State Party, takes part in the 14MSP and pays its share; assess again with its share"
    )


def test_ledgers_begun_before_the_rule_assess_as_before():
    old = ledger().model_copy(update={"takers_checked": False})
    shares = {"Austria": 90.0, "Angola": 10.0}
    assert (
        "Angola"
        in funds.assess(
            old, Assess(decision_id="a", reference="r", shares=shares, due=TODAY), TODAY
        ).assessments
    )


def test_a_venue_lists_each_host_once_with_its_places():
    plan = MeetingPlan(
        ref=MeetingRef(number=14, kind=MeetingKind.MSP),
        parts=[
            Part(
                start=date(2027, 9, 1),
                end=date(2027, 9, 2),
                place="Lausanne",
                host_covering_extra_cost="Switzerland",
            ),
            Part(start=date(2027, 9, 6), end=date(2027, 9, 7)),
            Part(
                start=date(2027, 9, 9),
                end=date(2027, 9, 9),
                place="Montreux",
                host_covering_extra_cost="switzerland",
            ),
        ],
    )
    assert costs.venue_of(plan, D).hosts() == {"Switzerland": ["Lausanne", "Montreux"]}
