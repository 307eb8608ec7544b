"""What `msp status`, `msp funds status` and `msp docs status` print, from states built here (no server)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from typer.testing import CliRunner

from domain.config import parse_config
from domain.decisions import DecisionRecord
from domain.documents import DocumentSpec, LanguageStatus, new_state
from domain.funds import Assess, FundsRequest, LedgerState, Payment, SetEstimate, assess, chf, record_payment
from domain.funds import set_estimate as estimate
from domain.meeting import HeldDay, Interpretation, MeetingState
from domain.models import Language, Money
from domain.presidency import PresidencyState
from domain.queue import QueuePlace
from domain.views import document_details, funds_details, meeting_details
from starter.cli import app
from starter.cli.docs import document_text
from starter.cli.funds import funds_text
from starter.cli.status import status_text
from tests.support.devserver import config_text

TODAY = date(2027, 8, 1)


def states() -> tuple[PresidencyState, MeetingState]:
    pres = parse_config(config_text("ccm", TODAY)).initial_state()
    start = pres.meeting.first_day
    meet = MeetingState(
        convention=pres.convention,
        plan=pres.meeting,
        president=pres.president,
        days_held=[
            HeldDay(date=start, part=1, day=1),
            HeldDay(date=start + timedelta(days=1), part=1, day=2, interpretation=False),
        ],
        interpretation={
            start: Interpretation.BOOKED,
            start + timedelta(days=1): Interpretation.NOT_FUNDED,
            start + timedelta(days=2): Interpretation.REQUESTED,
        },
    )
    return pres, meet


def test_status_shows_funds_interpretation_per_day_and_days_without_it():
    pres, meet = states()
    start = meet.plan.first_day
    ledger = LedgerState(meeting="14MSP", payments_total=60_000, granted_total=56_000)
    ledger = ledger.model_copy(
        update={
            "pending": [
                FundsRequest(request_id="r", requester="x", purpose="p", amount=28_000, priority=1),
            ]
        }
    )
    text = status_text(pres, "ccm-meeting-14MSP", meet, None, "ccm-funds-14MSP", ledger)
    lines = text.splitlines()
    assert f"Funds           balance {chf(4_000)}, shortfall {chf(24_000)} (ccm-funds-14MSP)" in lines
    assert f"Interpretation  {start}: booked" in lines
    assert f"                {start + timedelta(days=1)}: not funded" in lines
    assert f"                {start + timedelta(days=2)}: requested" in lines
    held = next(line for line in lines if line.startswith("Days held"))
    assert f"{start} (part 1, day 1), " in held
    assert (
        f"{start + timedelta(days=1)} (part 1, day 2, informal consultations without interpretation)" in held
    )


def test_status_of_a_term_without_a_ledger():
    pres, meet = states()
    meet = meet.model_copy(update={"interpretation": {}})
    text = status_text(pres, "ccm-meeting-14MSP", meet, None, "ccm-funds-14MSP", None)
    assert "Funds           no ledger (ccm-funds-14MSP does not exist" in text
    assert "Interpretation  not tracked" in text


def test_funds_status_lists_arrears_and_the_queue_in_grant_order():
    ledger = LedgerState(meeting="14MSP")
    ledger = estimate(ledger, SetEstimate(decision_id="e", reference="CCM/MSP/2027/2", amount=100_000))
    ledger = assess(
        ledger,
        Assess(decision_id="a", reference="r", shares={"Austria": 60, "Chile": 40}, due=date(2020, 1, 1)),
    )
    ledger = record_payment(ledger, Payment(payment_id="p", reference="r", state="Chile", amount=40_000))
    ledger = ledger.model_copy(
        update={
            "pending": [
                FundsRequest(request_id="d", requester="x", purpose="translation", amount=500, priority=3),
                FundsRequest(request_id="i", requester="x", purpose="interpretation", amount=900, priority=1),
            ]
        }
    )
    text = funds_text("ccm-funds-14MSP", ledger)
    rows = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert rows["Austria"].endswith("OVERDUE") and chf(60_000) in rows["Austria"]
    assert not rows["Chile"].endswith("OVERDUE")
    assert text.index("interpretation") < text.index("translation")
    assert f"Balance        {chf(40_000)}" in text


def test_document_status_shows_each_language():
    spec = DocumentSpec(symbol="CCM/MSP/2027/3", title="Report", pages=2, meeting="14MSP", due=TODAY)
    state = new_state(spec, Money())
    state.translations[Language.FR].status = LanguageStatus.ISSUED
    state.translations[Language.FR].job_reference = "UNOG-T-000001"
    state.translations[Language.AR].status = LanguageStatus.FAILED
    state.translations[Language.AR].error = "refused:\n400 Bad Request"
    state.log.append(f"{datetime(2027, 7, 1, tzinfo=UTC):%Y-%m-%d %H:%M} issued in fr")
    text = document_text("ccm-doc-CCM/MSP/2027/3", state)
    lines = text.splitlines()
    assert any(line.split()[:3] == ["fr", "issued", "CHF"] and "UNOG-T-000001" in line for line in lines), (
        text
    )
    assert any(line.startswith("ar") and "refused: 400 Bad Request" in line for line in lines), text
    assert "Waiting    CHF" in text and "At risk    no" in text
    assert "2027-07-01 00:00 issued in fr" in lines


def test_funds_status_and_details_show_the_order_of_need_and_what_is_too_late():
    day = date(2027, 9, 13)
    pending = [
        FundsRequest(
            request_id="i", requester="m", purpose="interpretation", amount=900, priority=1, needed_by=day
        ),
        FundsRequest(
            request_id="d",
            requester="x",
            purpose="translation",
            amount=500,
            priority=1,
            needed_by=date(2027, 8, 1),
        ),
    ]
    ledger = LedgerState(meeting="14MSP", pending=pending, by_need=True, too_late=["d"])
    text = funds_text("ccm-funds-14MSP", ledger)
    assert "NEEDED BY" in text and text.index("translation") < text.index("interpretation"), text
    row = next(line for line in text.splitlines() if "translation" in line)
    assert "2027-08-01" in row and row.endswith("TOO LATE"), row
    details = funds_details(ledger, date(2027, 8, 5))
    assert f"1. P1 {chf(500)}: translation, needed by 2027-08-01" in details, details
    assert "**Too late to fund in time**" in details and "- translation: needed by 2027-08-01" in details


def test_status_shows_decision_times_in_geneva_time_labelled():
    pres, meet = states()
    at = datetime(2027, 8, 1, 8, 0, tzinfo=UTC)  # 10:00 in Geneva (summer time)
    record = DecisionRecord(decision_id="d1", kind="postpone", reference="r", summary="postponed", at=at)
    pres.decisions.records.append(record)
    text = status_text(pres, "ccm-meeting-14MSP", meet, None, "ccm-funds-14MSP", None)
    assert "TIME (Geneva)" in text and "UTC" not in text, text
    row = next(line for line in text.splitlines() if "postponed" in line)
    assert row.startswith("2027-08-01 10:00 "), row


def test_help_shows_no_type_for_a_flag():
    """A flag takes no value: `msp --help` must not read "--help <bool>"."""
    for args in (["--help"], ["status", "--help"], ["docs", "status", "--help"]):
        out = CliRunner().invoke(app, args, terminal_width=100).output
        assert "--help" in out and "<bool>" not in out, out
    assert "<str>" in CliRunner().invoke(app, ["status", "--help"], terminal_width=100).output


def test_meeting_details_show_each_days_interpretation_money():
    pres, meet = states()
    start = meet.plan.first_day
    per_day = chf(meet.convention.money.interpretation_per_day)
    details = meeting_details(meet, "the first day")
    assert f"- {start}: funded and booked" in details, details
    assert f"- {start + timedelta(days=1)}: not funded ({per_day} missing)" in details, details
    assert f"- {start + timedelta(days=2)}: waiting for money: {per_day} missing" in details, details
    assert f"- {start + timedelta(days=3)}: not yet asked for" in details, details


def test_document_details_say_what_holds_it_back():
    spec = DocumentSpec(symbol="CCM/MSP/2027/3", title="Report", pages=2, meeting="14MSP", due=TODAY)
    state = new_state(spec, Money())
    state.translations[Language.FR].status = LanguageStatus.IN_TRANSLATION
    details = document_details(state)
    assert (
        f"**Held back by:** waiting for the ledger of the 14MSP to grant {chf(state.waiting_for_funds)} ("
        in details
    )
    assert "fr" not in details.split("**Held back by:**")[1].split(")")[0], details


def test_a_document_told_its_place_says_it_in_its_details_and_status():
    spec = DocumentSpec(symbol="CCM/MSP/2027/3", title="Report", pages=2, meeting="14MSP", due=TODAY)
    state = new_state(spec, Money())
    state.queue = QueuePlace(
        meeting="14MSP",
        place=3,
        ahead=12_400,
        needed=state.waiting_for_funds,
        available=800,
        at=datetime(2027, 3, 1, 13, tzinfo=UTC),
    )
    place = (
        f"money. Place 3 in the ledger's queue of the 14MSP, CHF 12,400 asked for ahead of it; it needs "
        f"{chf(state.waiting_for_funds)} and the ledger holds CHF 800 (as of 1 March 2027, 14:00 Geneva time)."
    )
    assert f"**Held back by:** {place}" in document_details(state)
    assert f"Held back  {place}" in document_text("ccm-doc-CCM/MSP/2027/3", state).splitlines()
    for t in state.translations.values():
        t.status = LanguageStatus.FUNDED
    assert "**Held back by:** nothing: no language waits for money" in document_details(state)
