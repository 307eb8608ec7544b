"""Every workflow id the engine builds fits the server's id limit (limit.maxIDLength in
config/temporal-dynamicconfig.yaml: 255, the width of the PostgreSQL schema's workflow_id columns), from the
longest inputs the models allow; and those models do refuse anything longer, so the bound is the one checked here.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.decisions import DecisionId
from domain.documents import Symbol
from domain.extensions import Article, ProposeBySilence
from domain.ids import (
    document_id,
    extension_id,
    funds_id,
    isu_budget_id,
    isu_reserve_id,
    meeting_id,
    presidency_id,
    report_id,
    review_id,
    silence_id,
    sponsorship_id,
)
from domain.models import Code, Convention, MeetingKind, MeetingRef, Name, state_slug
from domain.reviews import Subject
from domain.silence import ProcedureId

REPO = Path(__file__).resolve().parents[2]


def max_id_length() -> int:
    text = (REPO / "config" / "temporal-dynamicconfig.yaml").read_text()
    m = re.search(r"^limit\.maxIDLength:\n\s+- value: (\d+)$", text, re.M)
    assert m, "config/temporal-dynamicconfig.yaml sets no limit.maxIDLength"
    return int(m[1])


def longest(kind: Any, first: str, rest: str, limit: int = 10_000) -> str:
    """The longest value ``kind`` accepts made of ``first`` then ``rest`` repeated (it refuses the next one)."""
    adapter: TypeAdapter[str] = TypeAdapter(kind)
    found: str | None = None
    for n in range(limit):
        value = first + rest * n
        try:
            adapter.validate_python(value)
        except ValidationError:
            if found is not None:
                break
            continue
        found = value
    assert found is not None, f"{kind} accepts no {first}{rest}..."
    return found


CODE = longest(Code, "c", "9")
SYMBOL = longest(Symbol, "A", "/")
STATE = longest(Name, "S", "x")
SUBJECT = longest(Subject, "r", "-")
PROCEDURE = longest(ProcedureId, "p", "-")
DECISION = longest(DecisionId, "d", "-")


def test_the_server_refuses_ids_over_255_characters():
    assert max_id_length() == 255


def test_the_longest_inputs_allowed_are_bounded():
    # If a bound were lifted, these would grow without end (`longest` stops at 10,000) and the ids with them.
    assert len(CODE) == 16 and len(SYMBOL) == 80 and len(STATE) == 200
    assert len(SUBJECT) == 61 and len(PROCEDURE) == 81 and len(DECISION) == 128
    # A silence procedure proposed on an extension request has the same bound as one started by `msp silence`.
    assert ProposeBySilence.model_fields["procedure_id"].metadata == list(get_args(ProcedureId)[1:])
    # A State's name of any length, in any script, becomes at most 60 characters in an id.
    assert len(state_slug("Ä" * 10_000)) <= 60 and len(state_slug("x-" * 10_000)) <= 60


def every_longest_id() -> dict[str, str]:
    convention = Convention(code=CODE)
    meeting = MeetingRef(number=999, kind=MeetingKind.MSP)
    return {
        "presidency": presidency_id(convention),
        "meeting": meeting_id(convention, meeting),
        "funds": funds_id(CODE, meeting.label),
        "sponsorship": sponsorship_id(CODE, meeting.label),
        "document": document_id(CODE, SYMBOL),
        "extension": extension_id(CODE, Article.ART4, STATE, date.max.year),
        "silence": silence_id(CODE, PROCEDURE),
        "review": review_id(CODE, SUBJECT),
        "report": report_id(CODE, STATE),
        "isu-budget": isu_budget_id(CODE, 2200),
        "isu-reserve": isu_reserve_id(CODE),
        # Decision ids are the ids of the updates that carry them.
        "update": DECISION,
    }


@pytest.mark.parametrize("kind", every_longest_id())
def test_every_id_the_engine_builds_stays_within_the_limit(kind: str):
    wid = every_longest_id()[kind]
    assert len(wid) <= max_id_length(), (kind, len(wid), wid)
