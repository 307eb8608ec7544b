"""Silence procedures on the time-skipping server, with the real local receiver as the webhook."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notifications import Notifier
from domain import search_attributes as sa
from domain.calendar import local_text
from domain.decisions import DECISION_REJECTED, Rejected
from domain.notifications import Delivery, Notification
from domain.silence import (
    BreakSilence,
    SilenceInput,
    SilenceOutcome,
    SilenceState,
    SilenceStatus,
    WithdrawSilence,
    check_break,
    check_deadline,
    check_withdraw,
    outcome_text,
)
from domain.views import silence_details
from starter.receiver import Receiver
from tests.scenario import start_silence
from tests.support.cycle_helpers import refused
from tests.support.reminding import notifier_worker, received, until, webhook_worker
from worker import build_worker
from workflows.silence import SilenceProcedureWorkflow

STATES = ["Austria", "Chile", "Lao People's Democratic Republic", "Mexico", "Norway"]
_n = itertools.count(1)


# Not sandboxed: the sandbox would re-import this test module, whose imports are not deterministic.
@workflow.defn(sandboxed=False)
class Concerned:
    """Stands for the workflow a procedure concerns (an extension request): ends once told the outcome."""

    def __init__(self) -> None:
        self.outcome: SilenceOutcome | None = None

    @workflow.run
    async def run(self) -> SilenceOutcome:
        await workflow.wait_condition(lambda: self.outcome is not None)
        assert self.outcome is not None
        return self.outcome

    @workflow.signal
    def silence_ended(self, outcome: SilenceOutcome) -> None:
        self.outcome = outcome

    @workflow.query
    def told(self) -> SilenceOutcome | None:
        return self.outcome


@pytest.fixture
async def worker(ts_env: WorkflowEnvironment) -> AsyncIterator[Worker]:
    async with notifier_worker(ts_env, Concerned) as w:
        yield w


async def start(
    env: WorkflowEnvironment,
    worker: Worker,
    concerns: str | None = None,
    days: int = 30,
) -> tuple[WorkflowHandle[Any, Any], SilenceInput]:
    deadline = (await env.get_current_time()) + timedelta(days=days)
    inp = SilenceInput(
        procedure_id=f"lao-art4-{next(_n)}",
        proposal="  To grant the request of the Lao People's Democratic Republic for an extension of its "
        "Article 4 deadline until 1 August 2025.  ",
        reference="CCM/MSP/2020/WP.1",
        initiator="the President (Switzerland)",
        deadline=deadline,
        states_parties=STATES,
        concerns=concerns,
    )
    h = await start_silence(env.client, inp, worker.task_queue)
    return h, inp


async def concerned(env: WorkflowEnvironment, worker: Worker) -> WorkflowHandle[Any, Any]:
    return await env.client.start_workflow(
        Concerned.run, id=f"ccm-extension-{uuid.uuid4()}", task_queue=worker.task_queue
    )


async def state(h: WorkflowHandle[Any, Any]) -> SilenceState:
    st: SilenceState = await h.query(SilenceProcedureWorkflow.state)
    return st


async def test_kept_silent_the_proposal_is_adopted_at_its_deadline(ts_env, tmp_path):
    async with webhook_worker(ts_env, tmp_path, Concerned) as (worker, _):
        target = await concerned(ts_env, worker)
        h, inp = await start(ts_env, worker, concerns=target.id)
        outcome: SilenceOutcome = await h.result()
        told: SilenceOutcome = await target.result()
        st = await state(h)
        assert outcome.adopted and outcome.at == inp.deadline and outcome.broken_by is None
        assert st.status is SilenceStatus.ADOPTED and st.delivered
        assert st.ended_at is not None and st.ended_at >= inp.deadline
        assert told == outcome and told.workflow_id == h.id
        bodies = received(tmp_path)
        assert sorted(b["body"]["kind"] for b in bodies) == ["silence-adopted", "silence-circulated"]
        assert {b["idempotency_key"] for b in bodies} == {f"{h.id}:circulated", f"{h.id}:outcome"}
        adopted = next(b["body"] for b in bodies if b["body"]["kind"] == "silence-adopted")
        assert adopted["subject"] == inp.procedure_id and "review" not in adopted
        assert adopted["text"].startswith("Adopted by silence procedure") and "Lao People" in adopted["text"]
        # The procedure is over: silence can no longer be broken through it.
        with pytest.raises(RPCError):
            await h.execute_update(
                SilenceProcedureWorkflow.break_silence,
                BreakSilence(decision_id="late", state="Chile", reason="too late to object"),
            )
        assert (await state(h)).status is SilenceStatus.ADOPTED


async def test_silence_broken_by_one_state_the_proposal_is_not_adopted(ts_env, tmp_path):
    async with webhook_worker(ts_env, tmp_path, Concerned) as (worker, _):
        target = await concerned(ts_env, worker)
        h, inp = await start(ts_env, worker, concerns=target.id)
        await ts_env.sleep(timedelta(days=10))
        b = BreakSilence(
            decision_id="b1", state="  mexico ", reason="  More information on the survey is needed. "
        )
        accepted = await h.execute_update(SilenceProcedureWorkflow.break_silence, b, id=b.decision_id)
        assert not accepted.duplicate and "Mexico broke silence" in accepted.summary
        # Awaited rather than slept through: the test server may hold its clock once the workflow closes.
        outcome: SilenceOutcome = await h.result()
        told: SilenceOutcome = await target.result()
        assert not outcome.adopted and outcome.broken_by == "Mexico"
        assert outcome.reason == "More information on the survey is needed."
        assert outcome.at < inp.deadline
        assert told == outcome
        st = await state(h)
        assert st.status is SilenceStatus.NOT_ADOPTED and st.decisions.ids() == ["b1"]
        assert "**Silence broken by Mexico**" in silence_details(st)
        bodies = received(tmp_path)
        broken = [b["body"] for b in bodies if b["body"]["kind"] == "silence-broken"]
        assert len(broken) == 1 and len(bodies) == 2
        assert "Mexico broke silence" in broken[0]["text"]
        assert "More information on the survey is needed." in broken[0]["text"]


async def test_rejected_decisions_change_nothing_and_a_second_break_names_the_first(ts_env, tmp_path):
    # The webhook is down, so the procedure stays open while it retries the notifications.
    with Receiver(tmp_path, log=None) as first:
        port, url = first.port, first.url + "/notifications"
    async with notifier_worker(ts_env, webhook=url) as worker:
        await rejected_then_broken(ts_env, worker, tmp_path, port)


async def rejected_then_broken(
    ts_env: WorkflowEnvironment, worker: Worker, tmp_path: Path, port: int
) -> None:
    h, inp = await start(ts_env, worker)
    atlantis = BreakSilence(decision_id="x1", state="Atlantis", reason="an objection")
    reason = await refused(h.execute_update(SilenceProcedureWorkflow.break_silence, atlantis))
    assert reason == "'Atlantis' is not a State Party of this procedure."
    assert "did you mean 'Norway'?" in await refused(
        h.execute_update(
            SilenceProcedureWorkflow.break_silence,
            BreakSilence(decision_id="x2", state="Norwey", reason="an objection"),
        )
    )
    st = await state(h)
    assert st.status is SilenceStatus.OPEN and st.decisions.ids() == [] and st.broken_by is None
    b = BreakSilence(decision_id="b1", state="Chile", reason="We object to the length of the extension.")
    await h.execute_update(SilenceProcedureWorkflow.break_silence, b, id="b1")
    again = await h.execute_update(SilenceProcedureWorkflow.break_silence, b, id="b1-again")
    assert again.duplicate and "Chile broke silence" in again.summary
    assert "already broken by Chile" in await refused(
        h.execute_update(
            SilenceProcedureWorkflow.break_silence,
            BreakSilence(decision_id="b2", state="Norway", reason="We object too."),
        )
    )
    assert "already broken by Chile" in await refused(
        h.execute_update(
            SilenceProcedureWorkflow.withdraw, WithdrawSilence(decision_id="w1", reference="letter")
        )
    )
    st = await state(h)
    assert st.broken_by == "Chile" and st.decisions.ids() == ["b1"] and st.status is SilenceStatus.NOT_ADOPTED
    # The webhook is back: the notifications go out once and the procedure ends.
    with Receiver(tmp_path, port=port, log=None):
        outcome: SilenceOutcome = await h.result()
    assert outcome.broken_by == "Chile"
    assert sorted(b["body"]["kind"] for b in received(tmp_path)) == ["silence-broken", "silence-circulated"]


async def test_a_withdrawn_proposal_ends_even_when_the_workflow_it_concerns_is_gone(ts_env, worker):
    h, inp = await start(ts_env, worker, concerns="ccm-extension-nobody")
    await ts_env.sleep(timedelta(days=1))
    await h.execute_update(
        SilenceProcedureWorkflow.withdraw, WithdrawSilence(decision_id="w1", reference="letter of 3 March")
    )
    outcome: SilenceOutcome = await h.result()
    assert not outcome.adopted and outcome.broken_by is None and outcome.status is SilenceStatus.WITHDRAWN
    st = await state(h)
    assert st.status is SilenceStatus.WITHDRAWN and not st.delivered and st.delivery_error
    assert st.notified == ["silence-circulated", "silence-withdrawn"]


async def test_a_procedure_circulated_after_its_deadline_fails_rather_than_adopting(ts_env, worker):
    h, inp = await start(ts_env, worker, days=-1)
    with pytest.raises(WorkflowFailureError) as err:
        await h.result()
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == DECISION_REJECTED
    assert "has already passed" in cause.message


async def test_a_webhook_answering_404_is_recorded_and_the_proposal_is_adopted_all_the_same(ts_env, tmp_path):
    """Issue 11, item 3: the webhook at a path that answers 404 once failed the procedure at its deadline."""
    async with webhook_worker(ts_env, tmp_path, Concerned, path="nowhere") as (worker, receiver):
        target = await concerned(ts_env, worker)
        h, inp = await start(ts_env, worker, concerns=target.id)
        outcome: SilenceOutcome = await h.result()
        told: SilenceOutcome = await target.result()
        st = await state(h)
        attention = (await h.describe()).typed_search_attributes.get(sa.ATTENTION)
    assert outcome.adopted and told == outcome
    assert st.status is SilenceStatus.ADOPTED and st.delivered and st.notified == []
    assert [(u.key, u.kind, u.webhook) for u in st.undeliverable] == [
        (f"{h.id}:circulated", "silence-circulated", "default"),
        (f"{h.id}:outcome", "silence-adopted", "default"),
    ]
    assert all(f"refused by {receiver.url}/nowhere: 404" in u.reason for u in st.undeliverable)
    assert attention == [sa.UNDELIVERABLE]
    assert "**Undeliverable notifications (2)**" in silence_details(st)
    assert received(tmp_path) == []


# As SilenceProcedureWorkflow was before refusals were recorded: a refused circulation failed the procedure once
# awaited at the deadline. Up to there it issues the same commands as today's.
@workflow.defn(name="SilenceProcedureWorkflow", sandboxed=False)
class SilenceBeforeRefusalsWereRecorded(SilenceProcedureWorkflow):
    @workflow.run
    async def run(self, inp: SilenceInput) -> SilenceOutcome:
        return await super().run(inp)

    async def _notify(self, note: Notification, sending: Awaitable[Delivery], *patches: str) -> None:
        await sending
        self.s.notified.append(note.kind)


async def test_a_circulation_refused_before_the_upgrade_is_recorded_at_the_deadline_and_the_proposal_adopted(
    ts_env, tmp_path
):
    with Receiver(tmp_path, log=None) as receiver:
        queue = f"tq-{uuid.uuid4()}"
        async with Notifier(webhooks={"default": f"{receiver.url}/nowhere"}) as notifier:
            before = build_worker(
                ts_env.client,
                None,
                queue,
                extra_workflows=[SilenceBeforeRefusalsWereRecorded],
                only_activities=[notifier.send_notification],
                max_cached_workflows=0,
            )
            async with before:
                h, inp = await start(ts_env, before)

                async def events() -> list[EventType.ValueType]:
                    return [e.event_type async for e in h.fetch_history_events()]

                # Refused, and the task after it completed: that history holds the refusal without a record of it.
                seen = await until(
                    events,
                    lambda ev: (
                        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED in ev
                        and ev[-1] == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
                    ),
                )
                assert (
                    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED in seen and (await state(h)).undeliverable == []
                )
            # The upgrade: today's code on the same queue replays that history, then goes on.
            after = build_worker(ts_env.client, None, queue, only_activities=[notifier.send_notification])
            async with after:
                outcome: SilenceOutcome = await h.result()
                st = await state(h)
    assert outcome.adopted and st.status is SilenceStatus.ADOPTED
    assert [u.kind for u in st.undeliverable] == ["silence-circulated", "silence-adopted"]


# The rules, as plain functions.

DEADLINE = datetime(2021, 3, 31, 21, 59, tzinfo=UTC)  # 23:59 in Geneva (summer time)


def brk(state: str) -> BreakSilence:
    return BreakSilence(decision_id="d", state=state, reason="an objection")


def test_state_names_match_whatever_the_case_and_spacing():
    now = DEADLINE - timedelta(days=1)
    for written in ("chile", "  CHILE ", "Chile"):
        assert check_break(SilenceStatus.OPEN, DEADLINE, STATES, brk(written), now) == "Chile"
    assert (
        check_break(SilenceStatus.OPEN, DEADLINE, STATES, brk("lao  people's democratic   republic"), now)
        == "Lao People's Democratic Republic"
    )
    with pytest.raises(
        Rejected, match=r"^'Autsria' is not a State Party of this procedure: did you mean 'Austria'\?$"
    ):
        check_break(SilenceStatus.OPEN, DEADLINE, STATES, brk("Autsria"), now)
    with pytest.raises(Rejected, match=r"^'Atlantis' is not a State Party of this procedure\.$"):
        check_break(SilenceStatus.OPEN, DEADLINE, STATES, brk("Atlantis"), now)


def test_silence_cannot_be_broken_at_or_after_the_deadline_or_once_the_procedure_has_ended():
    for now in (DEADLINE, DEADLINE + timedelta(seconds=1)):
        with pytest.raises(Rejected) as err:
            check_break(SilenceStatus.OPEN, DEADLINE, STATES, brk("Chile"), now, procedure_id="lao-art4")
        assert str(err.value) == (
            "The silence procedure lao-art4 ended at 31 March 2021, 23:59 Geneva time: "
            "silence can no longer be broken."
        )
    assert check_break(SilenceStatus.OPEN, DEADLINE, STATES, brk("Chile"), DEADLINE - timedelta(seconds=1))
    early = DEADLINE - timedelta(days=1)
    with pytest.raises(Rejected, match="already broken by Mexico"):
        check_break(SilenceStatus.NOT_ADOPTED, DEADLINE, STATES, brk("Chile"), early, broken_by="Mexico")
    with pytest.raises(Rejected, match="already adopted"):
        check_break(SilenceStatus.ADOPTED, DEADLINE, STATES, brk("Chile"), early)
    with pytest.raises(Rejected, match="withdrawn"):
        check_break(SilenceStatus.WITHDRAWN, DEADLINE, STATES, brk("Chile"), early)
    check_withdraw(SilenceStatus.OPEN, DEADLINE, early)
    with pytest.raises(Rejected, match="can no longer be withdrawn"):
        check_withdraw(SilenceStatus.OPEN, DEADLINE, DEADLINE)
    with pytest.raises(Rejected, match="already withdrawn"):
        check_withdraw(SilenceStatus.WITHDRAWN, DEADLINE, early)


def test_a_deadline_must_be_in_the_future_and_say_its_time_zone():
    check_deadline(DEADLINE, DEADLINE - timedelta(minutes=1))
    with pytest.raises(Rejected, match="has already passed"):
        check_deadline(DEADLINE, DEADLINE)
    with pytest.raises(Rejected, match="time zone"):
        check_deadline(datetime(2021, 3, 31, 23, 59), DEADLINE - timedelta(days=1))
    assert local_text(datetime(2021, 1, 15, 23, 0, tzinfo=UTC)) == "16 January 2021, 00:00 Geneva time"


def test_the_input_refuses_a_naive_deadline_and_other_bad_values():
    good: dict[str, Any] = {
        "procedure_id": "lao-art4",
        "proposal": "To grant the request.",
        "reference": "CCM/MSP/2020/WP.1",
        "initiator": "the President (Switzerland)",
        "deadline": DEADLINE,
        "states_parties": STATES,
    }
    assert SilenceInput(**good).deadline == DEADLINE
    bads: list[dict[str, Any]] = [
        {"deadline": datetime(2021, 3, 31, 23, 59)},
        {"states_parties": []},
        {"states_parties": ["Chile", " chile"]},
        {"procedure_id": "Lao Art 4"},
        {"proposal": " a "},
    ]
    for bad in bads:
        with pytest.raises(ValidationError):
            SilenceInput(**{**good, **bad})
    with pytest.raises(ValidationError):
        BreakSilence(decision_id="d", state="Chile", reason="no")


def test_the_outcome_sentence_names_the_proposal_the_state_and_its_reason():
    outcome = SilenceOutcome(
        procedure_id="lao-art4",
        workflow_id="ccm-silence-lao-art4",
        adopted=False,
        at=DEADLINE - timedelta(days=2),
        broken_by="Chile",
        reason="We object.",
        proposal="To grant the request.",
        reference="CCM/MSP/2020/WP.1",
    )
    assert outcome.status is SilenceStatus.NOT_ADOPTED
    assert outcome_text(outcome, "the President") == (
        "Not adopted: Chile broke silence on 29 March 2021, 23:59 Geneva time on the proposal "
        '"To grant the request." (CCM/MSP/2020/WP.1). Reason given: We object.'
    )
