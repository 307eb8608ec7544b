"""Extension requests (Art. 3 and 4): the treaty's limits as pure rules, and real-shaped cases on the time-skipping
server. The server's clock starts today, so the Lao PDR case of 2018-2025 is played the same number of whole years
later: every date keeps its place in the year and its distance to the others."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain import search_attributes as sa
from domain.calendar import local_date
from domain.decisions import Rejected
from domain.extension_rules import check_in_session, check_silence
from domain.extensions import (
    Analysis,
    Article,
    Decide,
    DeclareCompletion,
    ExtensionInput,
    ExtensionRequest,
    ExtensionState,
    KeepAtMeeting,
    MeetingSeen,
    MeetingSlot,
    ProposeBySilence,
    Status,
    assign,
    check_request,
    describe_months,
    due_by,
    is_late,
    months_later,
    original_deadline,
)
from domain.ids import extension_id, silence_id
from domain.meeting import MeetingInput
from domain.models import Convention, Defaults, MeetingKind, MeetingPlan, MeetingRef, Part, President
from domain.silence import BreakSilence, SilenceOutcome, SilenceState, SilenceStatus
from domain.views import extension_details
from tests.scenario import proposal_by_silence
from tests.support.cycle_helpers import refused
from tests.support.reminding import received, sleep_until, today, until, webhook_worker
from workflows.extension import ExtensionRequestWorkflow
from workflows.meeting import MeetingWorkflow

D = Defaults()
LAO = "Lao People's Democratic Republic"


@pytest.fixture
def worker(ts_worker: Worker) -> Worker:
    """Every activity: a decision at the meeting asks the meeting's workflow whether it sits."""
    return ts_worker


def lao(shift: int, **kw: Any) -> ExtensionRequest:
    fields: dict[str, Any] = {
        "state": LAO,
        "article": Article.ART4,
        "entry_into_force": date(2010 + shift, 8, 1),
        "current_deadline": date(2020 + shift, 8, 1),
        "submitted_on": date(2018 + shift, 12, 1),
        "requested_months": 60,
        "plan": "Survey and clearance of cluster munition remnants, 2020-2025, province by province.",
        "reference": "CCM/MSP/2019/4",
    }
    return ExtensionRequest(**(fields | kw))


def msp9(shift: int) -> MeetingSlot:
    return MeetingSlot(label="9MSP", first_day=date(2019 + shift, 9, 2))


def rc2(shift: int) -> MeetingSlot:
    return MeetingSlot(label="2RC", first_day=date(2020 + shift, 11, 25))


# Pure rules.


def test_a_past_silence_deadline_is_refused_in_geneva_time_not_raw_utc() -> None:
    s = assign(
        ExtensionInput(request=lao(0, submitted_on=date(2019, 3, 1)), meeting=msp9(0), next_meeting=rc2(0))
    )
    s.status = Status.ANALYSED
    proposal = proposal_by_silence(
        "s",
        "p-1",
        datetime(2020, 1, 15, 16, tzinfo=UTC),
        reference="r",
        granted=False,
        states_parties=["Chile"],
    )
    with pytest.raises(Rejected, match=r"still to come, not 15 January 2020, 17:00 Geneva time\.$"):
        check_silence(s, proposal, datetime(2020, 2, 1, tzinfo=UTC))


def test_a_meeting_not_convened_speaks_of_its_expected_first_day_in_the_right_tense() -> None:
    s = assign(
        ExtensionInput(request=lao(0, submitted_on=date(2019, 3, 1)), meeting=msp9(0), next_meeting=rc2(0))
    )
    seen = MeetingSeen(meeting="2RC")
    for now, words in [
        (datetime(2020, 10, 1, tzinfo=UTC), "it has not been convened yet; first day expected 2020-11-25"),
        (
            datetime(2026, 11, 30, tzinfo=UTC),
            "it has not been convened; its first day was expected on 2020-11-25",
        ),
    ]:
        with pytest.raises(Rejected, match=f"not in session \\({words}\\)"):
            check_in_session(s, seen, now, Defaults())


def test_the_treaty_deadlines_and_the_nine_months() -> None:
    assert original_deadline(Article.ART4, date(2010, 8, 1)) == date(2020, 8, 1)
    assert original_deadline(Article.ART3, date(2010, 8, 1)) == date(2018, 8, 1)
    assert months_later(date(2020, 8, 1), 60) == date(2025, 8, 1)
    assert months_later(date(2019, 5, 31), -3) == date(2019, 2, 28)
    assert due_by(msp9(0)) == date(2018, 12, 2)
    assert not is_late(date(2018, 12, 1), msp9(0))
    assert not is_late(date(2018, 12, 2), msp9(0))
    assert is_late(date(2018, 12, 3), msp9(0))
    assert describe_months(60) == "5 years" and describe_months(18) == "1 year and 6 months"
    assert (
        extension_id("ccm", Article.ART4, LAO, 2018)
        == "ccm-extension-art4-lao-people-s-democratic-republic-2018"
    )


def test_an_extension_beyond_the_treaty_limit_is_rejected() -> None:
    today = date(2018, 12, 10)
    check_request(lao(0), msp9(0), today)
    with pytest.raises(Rejected, match=r"Article 4 allows an extension of at most 5 years per request"):
        check_request(lao(0, requested_months=72), msp9(0), today)
    art3 = lao(0, article=Article.ART3, current_deadline=date(2018 + 1, 8, 1), requested_months=60)
    with pytest.raises(Rejected, match=r"Article 3 allows an extension of at most 4 years per request"):
        check_request(art3, msp9(0), today)
    check_request(art3.model_copy(update={"requested_months": 48}), msp9(0), today)


def test_an_article_4_request_must_come_before_the_deadline_expires() -> None:
    req = lao(0, submitted_on=date(2020, 8, 1))
    with pytest.raises(Rejected, match=r"Article 4\(5\): a request must be submitted before the deadline"):
        check_request(req, MeetingSlot(label="2RC", first_day=date(2020, 11, 25)), date(2020, 8, 2))
    with pytest.raises(Rejected, match="a day still to come"):
        check_request(lao(0), msp9(0), date(2018, 11, 30))


def test_a_deadline_earlier_than_the_treaty_sets_is_refused_by_the_model() -> None:
    with pytest.raises(ValueError, match="earlier than the one Article 4 sets"):
        lao(0, current_deadline=date(2019, 8, 1))


def test_a_late_request_goes_to_the_next_meeting() -> None:
    inp = ExtensionInput(request=lao(0, submitted_on=date(2019, 3, 1)), meeting=msp9(0), next_meeting=rc2(0))
    s = assign(inp)
    assert s.late and s.meeting == rc2(0) and s.moved_from == msp9(0)
    on_time = assign(inp.model_copy(update={"request": lao(0)}))
    assert not on_time.late and on_time.meeting == msp9(0) and on_time.moved_from is None
    assert on_time.group == "the Article 4 Analysis Group"


# On the time-skipping server.


async def shift_for(env: WorkflowEnvironment) -> tuple[int, date]:
    """Whole years that put 1 December 2018 on or after the server's today, and that today."""
    t = await today(env)
    k = t.year - 2018
    return (k if date(2018 + k, 12, 1) >= t else k + 1), t


async def state(h: WorkflowHandle[Any, Any]) -> ExtensionState:
    st: ExtensionState = await h.query(ExtensionRequestWorkflow.state)
    return st


async def start_meeting(env: WorkflowEnvironment, worker: Worker, shift: int) -> WorkflowHandle[Any, Any]:
    """The 9th MSP, 2-4 September, on its own (no presidency): it sits, then closes handing over."""
    start = date(2019 + shift, 9, 2)
    plan = MeetingPlan(
        ref=MeetingRef(number=9, kind=MeetingKind.MSP),
        parts=[Part(start=start, end=start + timedelta(days=2))],
    )
    return await env.client.start_workflow(
        MeetingWorkflow.run,
        MeetingInput(
            convention=Convention(),
            plan=plan,
            president=President(state="Sri Lanka", representative="A. Example"),
            successor=President(state="Switzerland", representative="F. Baumann"),
        ),
        id="ccm-meeting-9MSP",
        task_queue=worker.task_queue,
    )


async def start_request(
    env: WorkflowEnvironment, worker: Worker, inp: ExtensionInput, convention: str
) -> WorkflowHandle[Any, Any]:
    inp = inp.model_copy(update={"convention": convention})
    wid = extension_id(convention, inp.request.article, inp.request.state, inp.request.submitted_on.year)
    return await env.client.start_workflow(
        ExtensionRequestWorkflow.run, inp, id=wid, task_queue=worker.task_queue
    )


async def test_lao_pdr_article_4_on_time_granted_five_years_then_reminded_before_2025(
    ts_env: WorkflowEnvironment, worker: Worker, tmp_path: Path
) -> None:
    k, _ = await shift_for(ts_env)
    await sleep_until(ts_env, date(2018 + k, 12, 1))
    meeting = await start_meeting(ts_env, worker, k)
    async with webhook_worker(ts_env, tmp_path, every_activity=True) as (hooked, _):
        inp = ExtensionInput(request=lao(k), meeting=msp9(k), next_meeting=rc2(k))
        h = await start_request(ts_env, hooked, inp, "ccm")
        s = await state(h)
        assert (s.status, s.late, s.meeting.label, s.deadline) == (
            Status.IN_ANALYSIS,
            False,
            "9MSP",
            date(2020 + k, 8, 1),
        )

        grant = Decide(decision_id="9msp-lao", reference="CCM/MSP/2019/13 para 25", granted=True, months=60)
        reason = await refused(h.execute_update(ExtensionRequestWorkflow.decide, grant))
        assert "Article 4 Analysis Group has not reported" in reason

        await sleep_until(ts_env, date(2019 + k, 5, 15))
        too_long = Analysis(
            decision_id="ag4", reference="CCM/MSP/2019/AG4", summary="Recommends.", recommended_months=72
        )
        assert "at most 5 years" in await refused(
            h.execute_update(ExtensionRequestWorkflow.analyse, too_long)
        )
        analysis = too_long.model_copy(update={"recommended_months": 60})
        out = await h.execute_update(ExtensionRequestWorkflow.analyse, analysis)
        assert "it recommends 5 years" in out.summary

        # Between meetings, no decision is entered "at the meeting".
        assert "The 9MSP is not in session (scheduled" in await refused(
            h.execute_update(ExtensionRequestWorkflow.decide, grant)
        )
        before = await state(h)

        await sleep_until(ts_env, date(2019 + k, 9, 4), hour=15)
        six = grant.model_copy(update={"months": 72})
        assert "at most 5 years" in await refused(h.execute_update(ExtensionRequestWorkflow.decide, six))
        assert (await state(h)).model_dump(exclude={"upcoming"}) == before.model_dump(exclude={"upcoming"})

        benchmarks = ["annual survey results by 30 April", "clearance of 10 km2 a year"]
        out = await h.execute_update(
            ExtensionRequestWorkflow.decide, grant.model_copy(update={"benchmarks": benchmarks})
        )
        assert "new deadline" in out.summary and str(date(2025 + k, 8, 1)) in out.summary
        again = await h.execute_update(ExtensionRequestWorkflow.decide, grant)
        assert again.duplicate

        s = await state(h)
        assert s.status is Status.GRANTED and s.deadline == date(2025 + k, 8, 1)
        assert s.decision is not None and s.decision.benchmarks == benchmarks and s.decision.by == "the 9MSP"

        await sleep_until(ts_env, date(2025 + k, 7, 20))
        s = await state(h)
        assert [(r.kind, r.on) for r in s.sent] == [
            ("deadline-reminder", date(2023 + k, 8, 1)),
            ("deadline-reminder", date(2024 + k, 5, 1)),
            ("deadline-reminder", date(2024 + k, 8, 1)),
            ("deadline-reminder", date(2025 + k, 2, 1)),
            ("deadline-reminder", date(2025 + k, 7, 1)),
        ]
        # Passed with no completion declared: a notice, then weekly for four weeks and every 30 days after.
        deadline = date(2025 + k, 8, 1)
        await sleep_until(ts_env, deadline + timedelta(days=28 + 30))
        s = await state(h)
        assert s.status is Status.EXPIRED
        assert [(r.kind, (r.on - deadline).days) for r in s.sent[5:]] == [
            ("deadline-passed", 0),
            *(("deadline-overdue", days) for days in (7, 14, 21, 28, 58)),
        ]
        done = DeclareCompletion(
            decision_id="lao-done", reference="Lao PDR note verbale", completed_on=date(2025 + k, 7, 18)
        )
        await h.execute_update(ExtensionRequestWorkflow.declare_completion, done)
        final: ExtensionState = await h.result()
        assert final.status is Status.COMPLETED
        kinds = [b["body"]["kind"] for b in received(tmp_path)]
        assert kinds.count("deadline-reminder") == 5 and kinds.count("submitted") == 1
        decided = next(
            b["body"]["text"] for b in received(tmp_path) if b["body"]["kind"].startswith("decided")
        )
        assert f"new deadline {date(2025 + k, 8, 1)}" in decided and "clearance of 10 km2 a year" in decided
    closed = await meeting.result()
    assert closed.closed_on == date(2019 + k, 9, 4)


async def test_a_request_beyond_the_limit_sent_past_msp_ends_rejected(
    ts_env: WorkflowEnvironment, worker: Worker
) -> None:
    k, t = await shift_for(ts_env)
    req = lao(k, submitted_on=t, article=Article.ART3, requested_months=60)
    h = await start_request(
        ts_env, worker, ExtensionInput(request=req, meeting=msp9(k + 1), next_meeting=rc2(k + 1)), "ccmthree"
    )
    final: ExtensionState = await h.result()
    assert final.status is Status.REJECTED
    assert final.rejected is not None and "at most 4 years per request" in final.rejected


async def test_a_late_request_is_flagged_and_moved_unless_the_presidency_keeps_it(
    ts_env: WorkflowEnvironment, worker: Worker
) -> None:
    k, t = await shift_for(ts_env)
    # Submitted six months before the meeting: late for it.
    slot = MeetingSlot(label="9MSP", first_day=t + timedelta(days=183))
    nxt = MeetingSlot(label="2RC", first_day=t + timedelta(days=450))
    req = lao(k + 1, submitted_on=t)
    h = await start_request(
        ts_env, worker, ExtensionInput(request=req, meeting=slot, next_meeting=nxt), "ccmlate"
    )
    s = await state(h)
    assert s.late and s.meeting == nxt and s.moved_from == slot
    desc = await h.describe()
    assert desc.typed_search_attributes is not None
    keep = KeepAtMeeting(decision_id="keep-1", reference="President's letter of 10 March")
    out = await h.execute_update(ExtensionRequestWorkflow.keep_at_meeting, keep)
    assert "stays before the 9MSP" in out.summary
    s = await state(h)
    assert s.meeting == slot and s.moved_from is None and s.late
    assert "has not been moved" in await refused(
        h.execute_update(
            ExtensionRequestWorkflow.keep_at_meeting, keep.model_copy(update={"decision_id": "keep-2"})
        )
    )
    await h.terminate("test over")


async def test_between_meetings_a_silence_broken_is_not_adopted_and_one_kept_grants_the_extension(
    ts_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # The 2nd Review Conference's interim: requests decided by silence procedure between its two parts.
    k, t = await shift_for(ts_env)
    slot = MeetingSlot(label="2RC", first_day=t + timedelta(days=300))
    req = lao(k + 1, state="Chile", article=Article.ART4, submitted_on=t, requested_months=48)
    async with webhook_worker(ts_env, tmp_path, every_activity=True) as (hooked, _):
        inp = ExtensionInput(
            request=req,
            meeting=slot,
            next_meeting=MeetingSlot(label="11MSP", first_day=t + timedelta(days=650)),
        )
        h = await start_request(ts_env, hooked, inp, "ccmsilence")
        analysis = Analysis(decision_id="ag4-chile", reference="AG4 report", summary="Clear and complete.")
        await h.execute_update(ExtensionRequestWorkflow.analyse, analysis)
        now = await ts_env.get_current_time()
        proposal = ProposeBySilence(
            decision_id="silence-1",
            reference="President's letter of 15 January",
            granted=True,
            months=48,
            benchmarks=["clearance of the remaining 1.2 km2 by the end of each year"],
            procedure_id="ccmsilence-chile-1",
            initiator="the President (Switzerland)",
            deadline=now + timedelta(days=14),
            states_parties=["Chile", "Mexico", "Norway", "Switzerland"],
        )
        await h.execute_update(ExtensionRequestWorkflow.put_to_silence, proposal)
        assert (await state(h)).status is Status.UNDER_SILENCE
        second = proposal.model_copy(
            update={"decision_id": "silence-2", "procedure_id": "ccmsilence-chile-2"}
        )
        assert "under silence procedure" in await refused(
            h.execute_update(ExtensionRequestWorkflow.put_to_silence, second)
        )

        procedure = ts_env.client.get_workflow_handle(
            silence_id("ccmsilence", "ccmsilence-chile-1"), result_type=SilenceOutcome
        )
        await procedure.execute_update(
            "break_silence",
            BreakSilence(decision_id="mx", state="Mexico", reason="Benchmarks need more detail."),
        )
        assert (await procedure.result()).adopted is False
        s = await until(lambda: state(h), lambda s: s.status is Status.ANALYSED)
        assert s.decision is None and "silence broken by Mexico" in s.silence_log[-1]

        second = second.model_copy(update={"deadline": await ts_env.get_current_time() + timedelta(days=14)})
        await h.execute_update(ExtensionRequestWorkflow.put_to_silence, second)
        await sleep_until(ts_env, local_date(second.deadline, D) + timedelta(days=1))
        s = await until(lambda: state(h), lambda s: s.status is Status.GRANTED)
        assert (
            s.decision is not None
            and s.decision.by == "silence procedure ccmsilence-silence-ccmsilence-chile-2"
        )
        assert s.deadline == months_later(req.current_deadline, 48)
        kinds = [b["body"]["kind"] for b in received(tmp_path)]
        assert "silence-broken" in kinds and "silence-adopted" in kinds
    await h.terminate("test over")


async def test_a_webhook_answering_404_neither_fails_the_request_nor_its_silence_procedure(
    ts_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """Issue 11, item 3: with the webhook at a path that answers 404, the request FAILED on submission and its
    silence procedure at the deadline. Now each records what it could not deliver, and the grant goes through."""
    k, t = await shift_for(ts_env)
    slot = MeetingSlot(label="2RC", first_day=t + timedelta(days=300))
    req = lao(k + 1, state="Chile", article=Article.ART4, submitted_on=t, requested_months=48)
    async with webhook_worker(ts_env, tmp_path, path="nowhere", every_activity=True) as (worker, receiver):
        inp = ExtensionInput(
            request=req,
            meeting=slot,
            next_meeting=MeetingSlot(label="11MSP", first_day=t + timedelta(days=650)),
        )
        h = await start_request(ts_env, worker, inp, "ccmrefused")
        s = await until(lambda: state(h), lambda s: len(s.undeliverable) == 1)
        assert s.status is Status.IN_ANALYSIS and [u.kind for u in s.undeliverable] == ["submitted"]
        assert f"refused by {receiver.url}/nowhere: 404" in s.undeliverable[0].reason
        analysis = Analysis(decision_id="ag4", reference="AG4 report", summary="Clear and complete.")
        await h.execute_update(ExtensionRequestWorkflow.analyse, analysis)
        proposal = proposal_by_silence(
            "silence-1",
            "ccmrefused-chile-1",
            await ts_env.get_current_time() + timedelta(days=14),
            months=48,
            initiator="the President (Switzerland)",
        )
        await h.execute_update(ExtensionRequestWorkflow.put_to_silence, proposal)
        procedure = ts_env.client.get_workflow_handle(
            silence_id("ccmrefused", "ccmrefused-chile-1"), result_type=SilenceOutcome
        )
        await sleep_until(ts_env, local_date(proposal.deadline, D) + timedelta(days=1))
        assert (await procedure.result()).adopted
        s = await until(lambda: state(h), lambda s: s.status is Status.GRANTED and len(s.undeliverable) == 2)
        assert s.status is Status.GRANTED and s.deadline == months_later(req.current_deadline, 48)
        assert [u.kind for u in s.undeliverable] == [
            "submitted",
            "decided:silence procedure ccmrefused-silence-ccmrefused-chile-1",
        ]
        silence: SilenceState = await procedure.query("state", result_type=SilenceState)
        assert silence.status is SilenceStatus.ADOPTED and len(silence.undeliverable) == 2
        for handle in (h, procedure):
            assert (await handle.describe()).typed_search_attributes.get(sa.ATTENTION) == [sa.UNDELIVERABLE]
        assert "**Undeliverable notifications (2)**" in extension_details(s)
    assert received(tmp_path) == []
    await h.terminate("test over")
