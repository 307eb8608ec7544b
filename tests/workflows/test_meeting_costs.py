"""Who pays for a meeting, on the time-skipping server: the meeting's decision reaches its ledger, which invoices the
host the surplus of a meeting away from Geneva and assesses the States the Geneva baseline, with the States not
party registered for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.arrears import owed_by
from domain.decisions import SetDates
from domain.funds import Assess, LedgerState, Payment, SetEstimate
from domain.ids import funds_id
from domain.meeting_costs import RegisterNotParty, SetSurplus
from domain.models import Convention
from domain.roster import Member, Roster
from tests.support.cycle_helpers import Cycle, initial_state, part, refused
from workflows.funds import MeetingFundsWorkflow
from workflows.meeting import MeetingWorkflow

ROSTER = Roster(
    members=[
        Member(state="Austria", in_force=date(2010, 8, 1)),
        Member(state="Chile", in_force=date(2011, 6, 1)),
        Member(state="Switzerland", in_force=date(2013, 1, 1)),
        Member(state="Angola"),  # a signatory: a State not party
    ]
)


async def until(
    env: WorkflowEnvironment, ledger: WorkflowHandle[Any, Any], ok: Callable[[LedgerState], bool]
) -> LedgerState:
    """The ledger once ``ok`` holds: what the meeting signals it arrives within a few workflow tasks."""
    for _ in range(50):
        state: LedgerState = await ledger.query(MeetingFundsWorkflow.ledger)
        if ok(state):
            return state
        await env.sleep(timedelta(seconds=5))
    raise AssertionError(f"the ledger never got there: {state}")


async def test_a_meeting_in_lausanne_the_host_is_invoiced_the_surplus_and_the_states_the_geneva_baseline(
    ts_env, ts_worker
):
    today = (await ts_env.get_current_time()).date()
    start = today + timedelta(days=120)
    state0 = initial_state("costs", today, [part(start)])
    conv = Convention(code="costs").with_roster(ROSTER, today)
    c = await Cycle(ts_env, ts_worker, state0.model_copy(update={"convention": conv})).start()
    ledger = ts_env.client.get_workflow_handle(funds_id("costs", state0.meeting.ref.label))
    await ts_env.sleep(timedelta(minutes=1))
    meeting = await c.meeting_handle()

    lausanne = SetDates(decision_id="m1", reference="letter", start=start, place="Lausanne")
    assert "must name the host" in await refused(meeting.execute_update(MeetingWorkflow.set_dates, lausanne))
    hosted = lausanne.model_copy(update={"decision_id": "m2", "host_covering_extra_cost": "Switzerland"})
    await c.decide_meeting(MeetingWorkflow.set_dates, hosted)
    await until(ts_env, ledger, lambda s: bool(s.venue.away))

    await ledger.execute_update(
        MeetingFundsWorkflow.set_estimate,
        SetEstimate(decision_id="e", reference="CCM/MSP/2027/2", amount=400_000),
    )
    due = today + timedelta(days=30)
    await ledger.execute_update(
        MeetingFundsWorkflow.set_surplus,
        SetSurplus(decision_id="s", reference="host letter", amount=150_000, due=due),
    )
    # States not party register to take part; a State Party or a State not in the register cannot.
    register = MeetingFundsWorkflow.register_not_party
    await ledger.execute_update(
        register, RegisterNotParty(decision_id="n1", reference="note", state="Angola")
    )
    assert "a State Party on" in await refused(
        ledger.execute_update(register, RegisterNotParty(decision_id="n2", reference="r", state="Chile"))
    )
    assert "'Atlantis' is not in the register" in await refused(
        ledger.execute_update(register, RegisterNotParty(decision_id="n3", reference="r", state="Atlantis"))
    )
    shares = {"Austria": 50.0, "Chile": 40.0, "Angola": 10.0}
    await ledger.execute_update(
        MeetingFundsWorkflow.assess,
        Assess(decision_id="a", reference="CCM/MSP/2027/2 annex", shares=shares, due=due),
    )
    await ledger.execute_update(
        MeetingFundsWorkflow.record_payment,
        Payment(
            decision_id="p1", reference="bank advice 1", state="Switzerland", amount=150_000, surplus=True
        ),
    )
    s: LedgerState = await ledger.query(MeetingFundsWorkflow.ledger)
    # The States pay the Geneva baseline on the scale; the host, all of the surplus, apart from the balance.
    assert {a.state: a.amount for a in s.assessments.values()} == {
        "Austria": 200_000,
        "Chile": 160_000,
        "Angola": 40_000,
    }
    invoice = s.surplus["Switzerland"]
    assert (invoice.places, invoice.amount, invoice.paid, invoice.outstanding) == (
        ["Lausanne"],
        150_000,
        150_000,
        0,
    )
    assert s.balance == 0
    [angola] = owed_by("Angola", [s], due + timedelta(days=1))
    assert (angola.outstanding, angola.overdue) == (40_000, True)

    # Back to Geneva: the surplus is withdrawn.
    geneva = SetDates(decision_id="m3", reference="letter", start=start, place="Geneva")
    await c.decide_meeting(MeetingWorkflow.set_dates, geneva)
    s = await until(ts_env, ledger, lambda s: not s.venue.away)
    assert s.surplus["Switzerland"].withdrawn and s.surplus["Switzerland"].outstanding == 0
    await c.stop()
