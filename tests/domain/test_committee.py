"""The Coordination Committee's rules: mandates counted in terms, the handover, tasks' reminders, the groups."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import committee as rules
from domain import committee_models as cm
from domain.committee_models import (
    AddGroupMember,
    Appoint,
    AssignTask,
    CommitteeState,
    PresidencyView,
    RecordMeeting,
    Renew,
    ScheduleMeeting,
    Theme,
)
from domain.decisions import Rejected
from domain.extensions import Article
from domain.models import President
from domain.views import workload

TODAY = date(2027, 1, 10)
AUSTRIA, CHILE, MEXICO = President(state="Austria"), President(state="Chile"), President(state="Mexico")


def view(
    term: int, president: President, *designates: President, outgoing: President | None = None
) -> PresidencyView:
    return PresidencyView(
        term=term,
        president=president,
        outgoing=outgoing,
        designates=list(designates),
        meeting=f"{13 + term}MSP",
    )


def appointed(s: CommitteeState, theme: Theme, *states: str) -> CommitteeState:
    c, _ = rules.appoint(
        s, Appoint(decision_id=f"a-{theme}", reference="r", theme=theme, states=list(states))
    )
    return rules.seated(s, c)


def committee() -> CommitteeState:
    s = CommitteeState(presidency=view(1, AUSTRIA, CHILE), isu_director="Director D")
    s = appointed(s, Theme.TRANSPARENCY, "Peru")
    return appointed(s, Theme.VICTIM_ASSISTANCE, "Chile", "Norway")


def test_members_are_derived_from_the_presidency_and_listed_apart_from_the_invited():
    s = rules.handover(committee(), view(2, CHILE, MEXICO, outgoing=AUSTRIA))
    assert rules.members(s)[:4] == [
        ("President", "Chile"),
        ("ISU Director, assisting the President", "Director D"),
        ("President-designate 1", "Mexico"),
        ("Outgoing President", "Austria"),
    ]
    assert not any("ICRC" in who or "GICHD" in who for _, who in rules.members(s))


def test_a_main_theme_runs_two_terms_and_a_one_year_theme_one_then_each_is_flagged_once_at_its_end():
    s = committee()
    assert [(c.theme, c.until_term) for c in s.coordinators] == [
        (Theme.VICTIM_ASSISTANCE, 2),
        (Theme.TRANSPARENCY, 1),
    ]
    s = rules.handover(s, view(2, CHILE, MEXICO, outgoing=AUSTRIA))
    assert s.renewals == [Theme.TRANSPARENCY]
    assert [n.kind for n in s.notices] == ["renewal"] and "transparency measures" in s.notices[0].text
    s = rules.handover(s.model_copy(update={"notices": []}), view(3, MEXICO, outgoing=CHILE))
    assert s.renewals == [Theme.TRANSPARENCY, Theme.VICTIM_ASSISTANCE]
    assert "victim assistance" in s.notices[0].text and "transparency" not in s.notices[0].text


def test_renewal_is_for_one_year_themes_in_their_last_term_or_after_and_a_held_seat_is_not_reappointed():
    s = committee()
    with pytest.raises(Rejected, match="not renewed: appoint its next coordinators"):
        rules.renew(s, Renew(decision_id="n", reference="r", theme=Theme.VICTIM_ASSISTANCE))
    with pytest.raises(Rejected, match="until the end of term 2"):
        rules.appoint(
            s, Appoint(decision_id="x", reference="r", theme=Theme.VICTIM_ASSISTANCE, states=["Peru"])
        )
    renewed, _ = rules.renew(s, Renew(decision_id="n", reference="r", theme=Theme.TRANSPARENCY))
    assert renewed.until_term == 2
    with pytest.raises(Rejected, match="already runs to the end of term 2"):
        rules.renew(
            rules.seated(s, renewed), Renew(decision_id="n2", reference="r", theme=Theme.TRANSPARENCY)
        )
    # Lapsed for two terms, a renewal covers the term under way.
    later = rules.handover(rules.handover(s, view(2, CHILE)), view(3, MEXICO))
    c, _ = rules.renew(later, Renew(decision_id="n3", reference="r", theme=Theme.TRANSPARENCY))
    assert c.until_term == 3 and rules.seated(later, c).renewals == [Theme.VICTIM_ASSISTANCE]


def test_a_meeting_is_recorded_once_and_not_before_its_day():
    s = committee()
    m, notice, _ = rules.schedule_meeting(
        s,
        ScheduleMeeting(decision_id="m", reference="r", on=TODAY + timedelta(days=3), agenda="Tasks."),
        TODAY,
    )
    assert notice.kind == "invitation" and "Director D" in notice.text and "UNODA" in notice.text
    s = s.model_copy(update={"meetings": [m]})
    record = RecordMeeting(
        decision_id="r", reference="r", meeting=1, attended=["Austria"], conclusions="Noted."
    )
    with pytest.raises(Rejected, match="once it has met"):
        rules.record_meeting(s, record, TODAY)
    done, _ = rules.record_meeting(s, record, m.on)
    with pytest.raises(Rejected, match="was recorded on"):
        rules.record_meeting(s.model_copy(update={"meetings": [done]}), record, m.on)


def test_a_task_owes_the_reminders_still_ahead_when_it_was_given_then_an_escalation():
    s = committee()
    t, _ = rules.assign_task(
        s,
        AssignTask(
            decision_id="t",
            reference="r",
            theme=Theme.TRANSPARENCY,
            title="Guide",
            due=TODAY + timedelta(days=10),
        ),
        TODAY,
    )
    owed = rules.task_reminders(t)
    assert [(r.kind, r.on) for r in owed] == [
        ("reminder", TODAY + timedelta(days=7)),
        ("escalation", TODAY + timedelta(days=11)),
    ]
    assert "has not been completed. For the attention of the President and the ISU Director" in owed[-1].text
    s = s.model_copy(update={"tasks": [t.model_copy(update={"status": cm.TaskStatus.OVERDUE})]})
    assert [(w.theme, w.open, w.overdue) for w in workload(s)] == [
        (Theme.VICTIM_ASSISTANCE, 0, 0),
        (Theme.TRANSPARENCY, 1, 1),
    ]


def test_group_members_are_found_in_any_case_and_spacing():
    s = committee()
    group, _ = rules.add_member(
        s, AddGroupMember(decision_id="g", reference="r", article=Article.ART4, member="Côte d'Ivoire")
    )
    s = s.model_copy(update={"groups": {**s.groups, Article.ART4: group}})
    assert rules.group_member(s, Article.ART4, "CÔTE  D'IVOIRE") == "Côte d'Ivoire"
    with pytest.raises(Rejected, match="not a member of the Article 3 Analysis Group"):
        rules.group_member(s, Article.ART3, "Côte d'Ivoire")
    with pytest.raises(Rejected, match="already in"):
        rules.add_member(
            s, AddGroupMember(decision_id="g2", reference="r", article=Article.ART4, member="côte d'ivoire")
        )
