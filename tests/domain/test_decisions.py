"""The decision log: one shape in every workflow's state, read from every shape the logs had before it (those the
recorded histories carry too), and capped."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from domain.decisions import KEEP_IDS, KEEP_RECORDS, DecisionLog, DecisionRecord
from domain.documents import DocumentState
from domain.funds import LedgerLog, LedgerState, Payment
from domain.meeting import MeetingInput
from domain.presidency import PresidencyState
from domain.silence import SilenceState
from worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))
AT = datetime(2027, 1, 11, 9, tzinfo=UTC)


def record(decision_id: str, summary: str = "done") -> dict[str, Any]:
    return {"decision_id": decision_id, "kind": "Designate", "reference": "r", "summary": summary, "at": AT}


def test_a_log_reads_a_list_of_records_a_list_of_ids_a_set_of_ids_and_both_mixed():
    assert DecisionLog.model_validate([record("a"), record("b")]).ids() == ["a", "b"]
    assert DecisionLog.model_validate(["a", "b"]).applied == ["a", "b"]
    # A set's order is no order: sorted, so every worker reads the same log.
    assert DecisionLog.model_validate({"b", "c", "a"}).applied == ["a", "b", "c"]
    mixed = DecisionLog.model_validate(["x", record("a"), "y", record("b")])
    assert [r.decision_id for r in mixed.records] == ["a", "b"] and mixed.applied == ["x", "y"]
    assert mixed.ids() == ["x", "y", "a", "b"] and "a" in mixed and "x" in mixed and "z" not in mixed


def test_the_old_fields_of_each_state_fold_into_one_log():
    pres = PresidencyState.model_validate(
        {**presidency_fields(), "decisions": [record("d1")], "applied_ids": ["earlier-1", "earlier-2"]}
    )
    assert [r.decision_id for r in pres.decisions.records] == ["d1"]
    assert pres.decisions.applied == ["earlier-1", "earlier-2"]
    ledger = LedgerState.model_validate({"meeting": "14MSP", "applied_ids": ["pay-2", "pay-1"]})
    assert isinstance(ledger.decisions, LedgerLog) and ledger.decisions.applied == ["pay-2", "pay-1"]
    # The silence procedure kept the ids of every decision in ``decisions`` and their records in ``log``.
    silence = SilenceState.model_validate(
        {
            "procedure_id": "p",
            "proposal": "To grant",
            "reference": "r",
            "initiator": "the President",
            "deadline": AT,
            "states_parties": ["Chile"],
            "decisions": ["elsewhere", "b1"],
            "log": [record("b1", "Chile broke silence")],
        }
    )
    assert silence.decisions.applied == ["elsewhere"]
    assert silence.log == silence.decisions.records and silence.log[0].summary == "Chile broke silence"
    doc = DocumentState.model_validate(
        {"spec": document_spec(), "translations": {}, "applied_ids": ["delivered-fr"]}
    )
    assert doc.decisions.ids() == ["delivered-fr"]


def test_a_log_keeps_its_last_records_and_the_ids_of_the_rest_and_a_ledger_keeps_more():
    log = DecisionLog()
    for i in range(KEEP_RECORDS + 50):
        log.add(DecisionRecord.model_validate(record(f"d{i}")))
    assert len(log.records) == KEEP_RECORDS and log.records[0].decision_id == "d50"
    assert log.applied == [f"d{i}" for i in range(50)] and "d0" in log
    many = [f"p{i}" for i in range(KEEP_IDS + 10)]
    assert DecisionLog.model_validate(many).applied == many[10:]
    assert LedgerLog.model_validate(many).applied == many


def test_a_decision_held_while_its_handler_waits_is_known_then_recorded_once():
    log = DecisionLog()
    log.hold("w1")
    assert "w1" in log and log.find("w1") is None
    log.add(DecisionRecord.model_validate(record("w1", "withdrawn")))
    assert log.applied == [] and log.ids() == ["w1"] and log.find("w1") is not None


def test_a_log_survives_its_own_json_and_hands_on_only_ids():
    log = DecisionLog.model_validate(["x", record("a")])
    assert DecisionLog.model_validate_json(log.model_dump_json()) == log
    assert log.handed_on(["m1"], keep=2) == DecisionLog(applied=["a", "m1"])


def test_a_payment_still_reads_its_payment_id():
    p = Payment.model_validate({"payment_id": "pay-1", "reference": "bank", "state": "Chile", "amount": 5})
    assert p.decision_id == "pay-1"
    assert "payment_id" not in p.model_dump()


# Every input a recorded history holds (starts, continue-as-new, children, updates) is read by today's models, and
# every decision id its old fields named is in the log it becomes.


def payloads(path: Path) -> list[tuple[str, str, Any]]:
    """(workflow type, update name or "", decoded payload) of every input the history holds."""
    events = json.loads(path.read_text())["events"]
    own = events[0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]
    found: list[tuple[str, str, Any]] = []
    for e in events:
        for key in (
            "workflowExecutionStartedEventAttributes",
            "workflowExecutionContinuedAsNewEventAttributes",
            "startChildWorkflowExecutionInitiatedEventAttributes",
        ):
            if key in e:
                attrs = e[key]
                found += [(attrs["workflowType"]["name"], "", decode(p)) for p in attrs["input"]["payloads"]]
        if "workflowExecutionUpdateAcceptedEventAttributes" in e:
            request = e["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]["input"]
            found += [(own, request["name"], decode(p)) for p in request.get("args", {}).get("payloads", [])]
    return found


def decode(payload: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(payload["data"]))


def model_of(workflow_type: str, update: str) -> type[BaseModel]:
    cls = next(w for w in WORKFLOWS if w.__temporal_workflow_definition.name == workflow_type)  # type: ignore[attr-defined]
    defn = cls.__temporal_workflow_definition  # type: ignore[attr-defined]
    arg_types = defn.updates[update].arg_types if update else defn.arg_types
    model: type[BaseModel] = arg_types[0]
    return model


def old_ids(data: Any) -> set[str]:
    """The decision ids in the fields that held them before the DecisionLog."""
    ids: set[str] = set()
    for name in ("decisions", "applied_ids", "log"):
        value = data.get(name) if isinstance(data, dict) else None
        if isinstance(value, list):
            ids |= {v if isinstance(v, str) else v["decision_id"] for v in value}
    return ids


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
def test_every_input_in_a_recorded_history_is_read_and_keeps_its_decision_ids(path: Path):
    seen = 0
    for workflow_type, update, data in payloads(path):
        value = TypeAdapter(model_of(workflow_type, update)).validate_python(data)
        kept = value.applied_ids if isinstance(value, MeetingInput) else getattr(value, "decisions", None)
        if isinstance(kept, DecisionLog):
            assert old_ids(data) <= set(kept.ids()), (workflow_type, update)
            seen += len(old_ids(data))
        elif isinstance(kept, list):
            assert old_ids(data) <= set(kept)
    if path.stem in ("presidency", "presidency-v1"):
        assert seen > 0, "the handover carries the term's decision ids: the check above saw none"


def presidency_fields() -> dict[str, Any]:
    return {
        "convention": {},
        "president": {"state": "Austria"},
        "began_on": "2026-09-29",
        "meeting": {
            "ref": {"number": 14, "kind": "MSP"},
            "parts": [{"start": "2027-01-11", "end": "2027-01-14"}],
        },
        "counters": {
            "last_msp_number": 13,
            "last_review_conference_number": 3,
            "last_review_conference_year": 2026,
        },
    }


def document_spec() -> dict[str, Any]:
    return {
        "symbol": "CCM/MSP/2027/3",
        "title": "Report",
        "pages": 10,
        "meeting": "14MSP",
        "due": "2027-08-01",
    }
