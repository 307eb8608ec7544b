"""The Sponsorship Programme's rules: its own balance, grants within it, one delegate per State first, applications
closing weeks before the meeting (and moving with it), a refused booking releasing its money, and the report."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import sponsorship as rules
from domain.decisions import Rejected
from domain.models import Sponsorship
from domain.sponsorship import Apply, Decline, Grant, SponsorshipState, Status
from tests.support.sponsorship import DONORS, applications, contributions, expert

FIRST_DAY = date(2027, 9, 13)
TODAY = date(2027, 5, 1)


def programme(one_per_state_first: bool = True, apps: list[Apply] | None = None) -> SponsorshipState:
    s = SponsorshipState(
        convention="ccm",
        meeting="14MSP",
        first_day=FIRST_DAY,
        last_day=FIRST_DAY + timedelta(days=3),
        rules=Sponsorship(close_weeks=8, one_per_state_first=one_per_state_first),
    )
    for c in contributions():
        s.contributions.append(rules.contribute(s, c)[0])
    for a in applications() if apps is None else apps:
        s.applications.append(rules.apply(s, a, TODAY)[0])
    return s


def grant(s: SponsorshipState, application: str) -> str:
    app_id, summary = rules.grant(
        s, Grant(decision_id=f"g-{application}", reference="r", application=application)
    )
    rules.set_status(s, app_id, Status.GRANTED, None, "")
    return summary


def grant_in_order(s: SponsorshipState) -> list[str]:
    """The ISU goes down the list, granting what the rules allow; the refusals, in words."""
    refusals = []
    for a in list(s.applications):
        try:
            grant(s, a.id)
        except Rejected as e:
            refusals.append(str(e))
    return refusals


def test_a_seed_shaped_year_sponsors_about_17_delegates_and_never_commits_beyond_the_balance():
    s = programme()
    assert s.contributed == sum(DONORS.values()) == 52_800
    refusals = grant_in_order(s)
    granted = s.count(Status.GRANTED)
    assert 14 <= granted <= 20, granted
    assert s.committed <= s.contributed and s.balance >= 0
    assert any("balance" in r for r in refusals)
    # One per State first: the granted delegates are from as many States.
    assert len({a.state for a in s.applications if a.status is Status.GRANTED}) == granted


def test_a_grant_beyond_the_balance_is_refused_naming_the_balance():
    s = programme(apps=applications(3))
    s.contributions = s.contributions[:1]  # CHF 15,000
    for a in s.applications[:2]:
        grant(s, a.id)
    left = s.balance
    s.applications.append(
        rules.apply(
            s,
            expert("big", "Peru", "X Y", left + 1),
            TODAY,
        )[0]
    )
    with pytest.raises(Rejected, match=r"would commit CHF.*balance is CHF") as e:
        grant(s, "big")
    assert "X Y" not in str(e.value)
    assert s.balance == left


def test_a_second_delegate_waits_until_every_applying_state_has_one_unless_the_rule_is_off():
    apps = [expert(f"a{i}", state, f"D {i}", 3_000) for i, state in enumerate(["Peru", "Peru", "Chad"])]
    s = programme(apps=apps)
    grant(s, "a0")
    with pytest.raises(Rejected, match="Peru has a sponsored delegate already, and Chad none yet"):
        grant(s, "a1")
    declined, _ = rules.decline(s, Decline(decision_id="d", reference="r", application="a2"))
    rules.set_status(s, declined, Status.DECLINED, None, "")
    grant(s, "a1")  # Chad no longer applies
    relaxed = programme(one_per_state_first=False, apps=apps)
    grant(relaxed, "a0")
    grant(relaxed, "a1")


def test_applications_close_weeks_before_the_first_day_and_follow_the_meeting():
    s = programme(apps=[])
    assert s.closes_on == FIRST_DAY - timedelta(weeks=8)
    late = expert("late", "Peru", "P Q", 2_000)
    with pytest.raises(Rejected, match=r"closed on 2027-07-19, 8 weeks before its first day \(2027-09-13\)"):
        rules.apply(s, late, s.closes_on)
    s.first_day += timedelta(weeks=2)  # the meeting is postponed: applications stay open longer
    assert rules.apply(s, late, FIRST_DAY - timedelta(weeks=8))[0].id == "late"


def test_a_booking_refused_by_the_agent_releases_its_money_and_the_report_adds_up():
    s = programme(apps=applications(5))
    for a in s.applications[:4]:
        grant(s, a.id)
    before = s.balance
    refused = s.applications[0]
    rules.set_status(s, refused.id, Status.REFUSED_BY_AGENT, None, "over the limit")
    assert s.balance == before + refused.travel_cost
    for a in s.applications[1:4]:
        rules.set_status(s, a.id, Status.BOOKED, f"B-{a.id}", "")
    r = rules.report(s)
    assert (r.delegates, r.refused_by_agent, r.applications) == (3, 1, 5)
    assert r.spent + r.carried_over == r.contributed == 52_800
    assert r.spent == sum(a.travel_cost for a in s.applications[1:4])
    assert r.donors == sorted(DONORS) and len(r.states) == 3
    assert "3 delegates sponsored from 3 States" in rules.report_text(r)


def test_a_delegates_name_is_in_no_summary_rejection_or_current_details():
    s = programme(apps=[])
    name = "Jane Q. Delegate"
    d = expert("a1", "Peru", name, 3_000)
    app, summary = rules.apply(s, d, TODAY)
    s.applications.append(app)
    texts = [summary, grant(s, "a1"), rules.details(s, TODAY, "x")]
    with pytest.raises(Rejected) as again:
        rules.apply(s, d.model_copy(update={"decision_id": "a2"}), TODAY)
    with pytest.raises(Rejected) as twice:
        grant(s, "a1")
    texts += [str(again.value), str(twice.value)]
    assert all(name not in t for t in texts), texts


def test_nothing_is_recorded_once_the_programme_has_reported():
    s = programme(apps=[])
    s.report = rules.report(s)
    with pytest.raises(Rejected, match="ended with its report"):
        rules.contribute(s, contributions()[0])
