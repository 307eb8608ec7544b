"""The ISU's own money on the time-skipping server, with a real receiver as mail gateway and webhook: a budget year
shaped like the CCM's (about CHF 1.5 M from 30 States Parties), its invoices through a worker that dies after mailing,
its reminders and arrears; and the capital reserve covering a cash-flow shortfall."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.conference_services import ConferenceServices
from activities.invoices import Mailer
from domain.bounds import chf
from domain.ids import isu_budget_id, isu_reserve_id
from domain.isu_budget import (
    SEND_INVOICE,
    AdoptBudget,
    BudgetLine,
    CommitExpense,
    Invoice,
    IsuBudgetInput,
    IsuBudgetState,
    IsuPayment,
)
from domain.models import Language
from domain.reserve import ContributeReserve, Draw, ReserveState
from starter.mailbox import listing
from starter.receiver import Receiver
from tests.scenario import sleep_until
from tests.support.reminding import until
from worker import activities, build_worker
from workflows.isu_budget import IsuBudgetWorkflow
from workflows.reserve import CapitalReserveWorkflow

# Thirty States Parties, their preferred language and contribution: CHF 1,512,000 in all.
LANGS = [Language.EN, Language.FR, Language.ES, Language.EN, Language.FR, Language.AR]
STATES = [
    "Austria", "Belgium", "Chile", "Ireland", "France", "Iraq", "New Zealand", "Senegal", "Mexico", "Norway",
    "Burkina Faso", "Lebanon", "Germany", "Côte d'Ivoire", "Peru", "Japan", "Madagascar", "Tunisia", "Italy", "Mali",
    "Ecuador", "Netherlands", "Cameroon", "Jordan", "Sweden", "Togo", "Colombia", "Ghana", "Benin", "Palestine",
]  # fmt: skip
AMOUNTS = [98_000, 64_000, 41_000, 52_000, 120_000, 8_000] * 5
LINES = [
    BudgetLine(state=s, amount=a, category="B" if a > 50_000 else "A")
    for s, a in zip(STATES, AMOUNTS, strict=True)
]
TOTAL = sum(AMOUNTS)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    with Receiver(tmp_path / "received", log=None) as r:
        yield r


@pytest.fixture
async def services() -> AsyncIterator[ConferenceServices]:
    async with ConferenceServices() as s:
        yield s


def mails(receiver: Receiver) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = listing(receiver.directory)["mail"]
    return entries


def reminders(receiver: Receiver) -> list[dict[str, Any]]:
    stored = [json.loads(p.read_text()) for p in (receiver.directory / "notifications").glob("*.json")]
    return [r["body"] for r in stored if r["body"]["kind"] == "isu-reminder"]


async def start(client: Client, year: int, tq: str, code: str) -> tuple[WorkflowHandle[Any, Any], ...]:
    reserve = await client.start_workflow(
        CapitalReserveWorkflow.run, ReserveState(convention=code), id=isu_reserve_id(code), task_queue=tq
    )
    inp = IsuBudgetInput(
        convention=code,
        year=year,
        states_parties=STATES,
        aliases={"Lao PDR": "Laos"},
        languages={s: LANGS[i % len(LANGS)] for i, s in enumerate(STATES)},
    )
    budget = await client.start_workflow(
        IsuBudgetWorkflow.run, inp, id=isu_budget_id(code, year), task_queue=tq
    )
    return reserve, budget


async def state_of(handle: WorkflowHandle[Any, Any]) -> IsuBudgetState:
    s: IsuBudgetState = await handle.query(IsuBudgetWorkflow.state)
    return s


async def test_a_year_invoiced_at_once_reminded_and_closed_with_its_arrears(
    ts_env: WorkflowEnvironment, receiver: Receiver, services: ConferenceServices
) -> None:
    client, tq, code = ts_env.client, f"tq-{uuid.uuid4()}", "isuyear"
    year = (await ts_env.get_current_time()).year + 1
    mail_url = receiver.url + "/mail"
    webhooks = {"default": receiver.url + "/notifications"}
    real = Mailer(services.client, url=mail_url)

    @activity.defn(name=SEND_INVOICE)
    async def dies_after_mailing(inv: Invoice) -> Any:
        # The invoice reaches the gateway; the worker dies before Temporal hears of it.
        await real.send_invoice(inv)
        raise ApplicationError("worker killed before its answer reached Temporal")

    engine = [a for a in activities(client, services, webhooks) if a.__name__ != SEND_INVOICE]
    _, budget = await start(client, year, tq, code)
    adopt = AdoptBudget(
        decision_id="isu-adopt",
        reference="CCM/MSP/2026/9 para 31",
        total=TOTAL,
        lines=[*LINES[:-1], LINES[-1].model_copy(update={"state": "PALESTINE"})],
        due=date(year, 3, 31),
        reminders=[date(year, 4, 15), date(year, 9, 1)],
    )
    async with build_worker(
        client, services, tq, only_activities=[*engine, dies_after_mailing], max_cached_workflows=0
    ):
        outcome = await budget.execute_update(IsuBudgetWorkflow.adopt, adopt, id="isu-adopt")
        assert not outcome.duplicate
        await until(lambda: _count(receiver), lambda n: n == len(STATES), seconds=30)
        assert await invoiced_with_the_adoption(budget)

    async with build_worker(client, services, tq, webhooks, mail_url=mail_url, max_cached_workflows=0):
        # In real time: the retries the dead worker left come within seconds, but an attempt it took and never
        # started holds the test server's clock until its start-to-close timeout (30 s) has passed.
        s = await until(lambda: state_of(budget), lambda s: len(s.sent) == len(STATES), seconds=120)
        assert s.phase == "collecting"
        # Exactly one invoice per State: the gateway kept one per key, and every one resent was a duplicate.
        got = mails(receiver)
        assert sorted(m["to"] for m in got) == sorted(STATES)
        assert len({m["key"] for m in got}) == len(STATES)
        assert [m["receipt"] for m in got] == [f"UNOG-M-{n:06d}" for n in range(1, len(STATES) + 1)]
        assert all(sent.duplicate for sent in s.sent.values())
        # The note to Côte d'Ivoire is in French, with its amount read back from the PDF.
        civ = next(m for m in got if m["to"] == "Côte d'Ivoire")
        assert civ["language"] == "fr"
        text = pypdf.PdfReader(io.BytesIO((receiver.directory / "mail" / civ["pdf"]).read_bytes())).pages[0]
        words = text.extract_text()
        amount = AMOUNTS[STATES.index("Côte d'Ivoire")]
        assert f"Montant dû: {chf(amount)}" in words and f"ISU-{year}-COTE-D-IVOIRE" in words
        # Two thirds pay in full; the others get reminders.
        paying = STATES[:20]
        for i, st in enumerate(paying):
            amount = AMOUNTS[i]
            await budget.execute_update(
                IsuBudgetWorkflow.pay,
                IsuPayment(decision_id=f"pay-{i}", reference="bank", state=st.upper(), amount=amount),
            )
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await budget.execute_update(
                IsuBudgetWorkflow.pay,
                IsuPayment(decision_id="pay-x", reference="bank", state="Austria", amount=1),
            )
        assert "Austria owes CHF" in str(err.value.cause)
        await sleep_until(ts_env, _day(year, 4, 16))
        s = await until(lambda: state_of(budget), lambda s: str(date(year, 4, 15)) in s.reminded)
        assert s.reminded[str(date(year, 4, 15))] == STATES[20:]
        assert sorted(r["subject"].split("/", 1)[1] for r in reminders(receiver)) == sorted(STATES[20:])
        carried = await budget.result()
        assert carried.arrears == dict(zip(STATES[20:], AMOUNTS[20:], strict=True))
        assert len(reminders(receiver)) == 2 * 10
        nxt = client.get_workflow_handle(isu_budget_id(code, year + 1))
        s2 = await until(lambda: state_of(nxt), lambda s: s.inp.carried is not None)
        assert s2.inp.carried == carried


async def test_invoices_the_gateway_refuses_are_recorded_undeliverable(
    ts_env: WorkflowEnvironment, receiver: Receiver, services: ConferenceServices
) -> None:
    client, tq, code = ts_env.client, f"tq-{uuid.uuid4()}", "isurefused"
    year = (await ts_env.get_current_time()).year + 1
    _, budget = await start(client, year, tq, code)
    adopt = AdoptBudget(
        decision_id="isu-adopt",
        reference="CCM/MSP/2026/9 para 31",
        total=TOTAL,
        lines=LINES,
        due=date(year, 3, 31),
    )
    # The gateway answers 404 at that path: a refusal (4xx), not retried.
    async with build_worker(client, services, tq, mail_url=receiver.url + "/no-such-path"):
        await budget.execute_update(IsuBudgetWorkflow.adopt, adopt, id="isu-adopt")
        s = await until(lambda: state_of(budget), lambda s: len(s.sent) == len(STATES), seconds=30)
    assert {sent.reference for sent in s.sent.values()} == {"refused"}
    assert len({u.key for u in s.undeliverable}) == len(s.undeliverable) == len(STATES)
    assert {(u.kind, u.webhook) for u in s.undeliverable} == {("isu-invoice", "mail")}
    assert all("404" in u.reason for u in s.undeliverable), s.undeliverable[0].reason


async def invoiced_with_the_adoption(budget: WorkflowHandle[Any, Any]) -> bool:
    """Whether every invoice was scheduled by the workflow task that completed the adoption: its commands are the
    events after that task's completion and before the next task is scheduled."""
    events = [e async for e in budget.fetch_history_events()]
    tasks = {
        e.activity_task_scheduled_event_attributes.workflow_task_completed_event_id
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == SEND_INVOICE
    }
    assert len(tasks) == 1, tasks
    task = tasks.pop()
    after = [e for e in events if e.event_id > task]
    step = after[
        : next(
            (i for i, e in enumerate(after) if e.HasField("workflow_task_scheduled_event_attributes")),
            len(after),
        )
    ]
    return sum(e.HasField("activity_task_scheduled_event_attributes") for e in step) == len(STATES) and any(
        e.HasField("workflow_execution_update_completed_event_attributes") for e in step
    )


async def _count(receiver: Receiver) -> int:
    return len(mails(receiver))


def _day(year: int, month: int, day: int) -> Any:
    from datetime import UTC, datetime

    return datetime(year, month, day, tzinfo=UTC)


async def test_a_shortfall_is_covered_by_a_draw_repaid_from_the_next_contribution(
    ts_env: WorkflowEnvironment, receiver: Receiver, services: ConferenceServices
) -> None:
    client, tq, code = ts_env.client, f"tq-{uuid.uuid4()}", "isureserve"
    year = (await ts_env.get_current_time()).year + 1
    async with build_worker(client, services, tq, mail_url=receiver.url + "/mail"):
        reserve, budget = await start(client, year, tq, code)
        lines = [
            BudgetLine(state="Austria", amount=100_000, category="B"),
            BudgetLine(state="Chile", amount=100_000, category="A"),
        ]
        await budget.execute_update(
            IsuBudgetWorkflow.adopt,
            AdoptBudget(
                decision_id="adopt", reference="para 31", total=200_000, lines=lines, due=date(year, 3, 31)
            ),
        )
        await budget.execute_update(
            IsuBudgetWorkflow.commit_expense,
            CommitExpense(
                decision_id="rent", reference="lease", amount=150_000, purpose="staff and rent, Q1"
            ),
        )
        await budget.execute_update(
            IsuBudgetWorkflow.pay,
            IsuPayment(decision_id="p1", reference="bank", state="Austria", amount=50_000),
        )
        await reserve.execute_update(
            CapitalReserveWorkflow.contribute,
            ContributeReserve(decision_id="c1", reference="letter", donor="Norway", amount=400_000),
        )

        async def reserve_state() -> ReserveState:
            r: ReserveState = await reserve.query(CapitalReserveWorkflow.state)
            return r

        r = await until(reserve_state, lambda r: year in r.positions and r.positions[year].cash == 50_000)
        assert r.positions[year].committed == 150_000
        for purpose, amount, why in [
            ("to pay for a meeting", 50_000, "may only cover a cash-flow shortfall"),
            ("cash-flow shortfall", 120_000, "exceeds the"),
        ]:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await reserve.execute_update(
                    CapitalReserveWorkflow.draw,
                    Draw(
                        decision_id=f"d-{amount}", reference="ISU", year=year, amount=amount, purpose=purpose
                    ),
                    id=f"d-{amount}",
                )
            assert why in str(err.value.cause), err.value.cause
        # Refused by the validator: nothing written, not even the update's acceptance (the contribution's only).
        accepted = [
            e.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
            async for e in reserve.fetch_history_events()
            if e.HasField("workflow_execution_update_accepted_event_attributes")
        ]
        assert not {"d-50000", "d-120000"} & set(accepted) and len(accepted) == 1, accepted
        draw = Draw(decision_id="draw-1", reference="ISU", year=year, amount=100_000)
        await reserve.execute_update(CapitalReserveWorkflow.draw, draw)
        again = await reserve.execute_update(CapitalReserveWorkflow.draw, draw)
        assert again.duplicate
        s = await until(lambda: state_of(budget), lambda s: s.drawn == 100_000)
        assert (s.cash, s.shortfall) == (150_000, 0)
        # Chile's payment repays the reserve first.
        await budget.execute_update(
            IsuBudgetWorkflow.pay,
            IsuPayment(decision_id="p2", reference="bank", state="Chile", amount=80_000),
        )
        s = await state_of(budget)
        assert (s.repaid, s.cash) == (80_000, 150_000)
        r = await until(reserve_state, lambda r: r.repaid.get(year) == 80_000)
        assert (r.balance, r.owed(year)) == (380_000, 20_000)
