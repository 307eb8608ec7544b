"""The register's other names of a State ("Lao PDR") in every place that names one: the one name check takes them
and answers with the State's short name, and each place passes the register's aliases to it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from domain import funds
from domain import presidency as pres
from domain.decisions import CloseMeeting, Designate, Rejected
from domain.extensions import MeetingSlot, check_request
from domain.funds import Assess, LedgerState, Payment, SetEstimate
from domain.meeting_rules import named_successor
from domain.models import President
from domain.register import parse_register
from domain.silence import BreakSilence, SilenceInput, SilenceState, SilenceStatus, check_break
from domain.states import check_state, check_states
from starter.cli.common import load_config
from starter.cli.reports import article7_state
from tests.scenario import start_silence
from tests.support.reminding import notifier_worker
from tests.support.requests import art4
from workflows.silence import SilenceProcedureWorkflow

REPO = Path(__file__).parents[2]
REGISTER = parse_register((REPO / "config" / "register.csv").read_text(encoding="utf-8"))
ALIASES = REGISTER.aliases()
ROSTER = REGISTER.roster(date(2026, 11, 30))
LAO = "Lao People's Democratic Republic"


def test_the_name_check_takes_an_alias_and_answers_the_short_name():
    assert check_state("Lao PDR", ROSTER, aliases=ALIASES) == LAO
    assert check_state("  ＬＡＯ   pdr ", ROSTER, aliases=ALIASES) == LAO  # any case, width and spacing
    found = check_states(["Laos", "UK", "Swaziland", "Chile"], ROSTER, aliases=ALIASES)
    assert found == {"Laos": LAO, "UK": "United Kingdom", "Swaziland": "Eswatini", "Chile": "Chile"}
    # Without the register's aliases an alias is not the name of a State Party.
    with pytest.raises(Rejected, match="^'Lao PDR' is not a State Party"):
        check_state("Lao PDR", ROSTER)
    # The alias of a State not on the list is refused as its name would be.
    with pytest.raises(Rejected, match="^'Lao PDR' is not a State Party"):
        check_state("Lao PDR", [s for s in ROSTER if s != LAO], aliases=ALIASES)
    # No list configured: any well-formed name is taken, an alias as its State's short name.
    assert check_state("Lao PDR", [], aliases=ALIASES) == LAO
    assert check_state("Atlantis", [], aliases=ALIASES) == "Atlantis"


def test_msp_takes_its_aliases_from_the_register_and_a_designation_and_a_successor_take_them():
    cfg = load_config(REPO / "config" / "cycle.toml")
    assert cfg.states_parties.aliases == ALIASES and cfg.states_parties.aliases["Lao PDR"] == LAO
    state = cfg.initial_state()
    assert state.convention.aliases == ALIASES
    designates, summary = pres.designate(
        state, Designate(decision_id="d", reference="r", president=President(state="lao pdr"))
    )
    assert designates[-1].state == LAO and LAO in summary
    close = CloseMeeting(decision_id="c", reference="r", successor=President(state="Laos"))
    successor = named_successor(close, state.convention.states_parties, state.convention.aliases)
    assert successor is not None and successor.state == LAO
    # Article 7 reports: `msp reports --state` finds the State's workflow by an alias too.
    assert article7_state(cfg, REPO / "config" / "cycle.toml", "Lao PDR") == LAO


def test_assessments_and_payments_take_an_alias_and_keep_the_short_name():
    ledger = LedgerState(meeting="14MSP", states_parties=ROSTER, aliases=ALIASES)
    ledger = funds.set_estimate(ledger, SetEstimate(decision_id="e", reference="r", amount=1000))
    shares = {"Lao PDR": 60.0, "Chile": 40.0}
    ledger = funds.assess(
        ledger, Assess(decision_id="a", reference="r", shares=shares, due=date(2027, 6, 30))
    )
    assert sorted(ledger.assessments) == ["Chile", LAO]
    paid = funds.record_payment(ledger, Payment(payment_id="p", reference="r", state="Laos", amount=600))
    assert paid.paid == {LAO: 600}
    twice = {"Lao PDR": 30.0, LAO: 30.0}
    with pytest.raises(Rejected, match="are the same State, assessed twice"):
        funds.assess(ledger, Assess(decision_id="b", reference="r", shares=twice, due=date(2027, 6, 30)))


def test_silence_and_extension_requests_take_an_alias():
    deadline = datetime(2027, 3, 1, 12, tzinfo=UTC)
    b = BreakSilence(decision_id="b", state="Lao PDR", reason="More detail is needed.")
    now = deadline - timedelta(days=1)
    assert check_break(SilenceStatus.OPEN, deadline, ROSTER, b, now, aliases=ALIASES) == LAO
    with pytest.raises(Rejected, match="'Lao PDR' is not a State Party of this procedure"):
        check_break(SilenceStatus.OPEN, deadline, ROSTER, b, now)
    plan = "Survey and clearance of cluster munition remnants, 2020-2025, province by province."
    req = art4("Lao PDR", date(2010, 8, 1), date(2018, 12, 1), plan, "CCM/MSP/2019/4")
    meeting = MeetingSlot(label="9MSP", first_day=date(2019, 9, 2))
    assert check_request(req, meeting, date(2018, 12, 2), ROSTER, ALIASES) == LAO


async def test_silence_broken_by_an_alias_is_broken_by_the_state(ts_env: WorkflowEnvironment):
    async with notifier_worker(ts_env) as worker:
        inp = SilenceInput(
            procedure_id=f"alias-{uuid.uuid4().hex[:8]}",
            proposal="To grant the request of the Lao People's Democratic Republic.",
            reference="CCM/MSP/2020/WP.1",
            initiator="the President (Switzerland)",
            deadline=(await ts_env.get_current_time()) + timedelta(days=30),
            states_parties=ROSTER,
            aliases=ALIASES,
        )
        h = await start_silence(ts_env.client, inp, worker.task_queue)
        b = BreakSilence(
            decision_id="b1", state="lao pdr", reason="More information on the survey is needed."
        )
        accepted = await h.execute_update(SilenceProcedureWorkflow.break_silence, b, id=b.decision_id)
        assert f"{LAO} broke silence" in accepted.summary
        st: SilenceState = await h.query(SilenceProcedureWorkflow.state)
        assert st.status is SilenceStatus.NOT_ADOPTED and st.broken_by == LAO
        outcome = await h.result()
        assert not outcome.adopted and outcome.broken_by == LAO
