"""The typed seams between the parts: the ``funds_granted`` contract every requester of money keeps, workflow ids
built in one module, and visibility queries whose values cannot break out of their quotes."""

from __future__ import annotations

import inspect
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import documents, extensions, ids, presidency, reports, reviews, silence
from domain.funds import FUNDS_GRANTED, FUNDS_GRANTED_ALL, FUNDS_TOO_LATE, FundsRequester
from domain.queue import QUEUE_PLACE, QueuePlace
from domain.search_attributes import UNSEARCHABLE, Kind, Unsearchable, query, quoted
from workflows.document import DocumentWorkflow
from workflows.meeting import MeetingWorkflow

# The contract of a workflow that asks a ledger for money, kept by each requester.


def requesters(meeting: MeetingWorkflow, document: DocumentWorkflow) -> list[FundsRequester]:
    """Never called: mypy checks here that both requesters conform to the protocol."""
    return [meeting, document]


@pytest.mark.parametrize("name", [FUNDS_GRANTED, FUNDS_GRANTED_ALL, FUNDS_TOO_LATE])
@pytest.mark.parametrize("requester", [MeetingWorkflow, DocumentWorkflow], ids=lambda c: c.__name__)
def test_every_requester_of_money_takes_the_ledger_s_grant_as_the_protocol_says(requester: type, name: str):
    signal = requester.__temporal_workflow_definition.signals.get(name)  # type: ignore[attr-defined]
    assert signal is not None, f"{requester.__name__} has no signal {name!r}: what the ledger says is lost"
    params = list(inspect.signature(signal.fn).parameters)[1:]
    promised = typing.get_type_hints(getattr(FundsRequester, name))
    (param,) = promised.keys() - {"return"}
    assert len(params) == 1 and typing.get_type_hints(signal.fn)[params[0]] == promised[param]
    assert signal.fn.__name__ == getattr(FundsRequester, name).__name__ == name


def test_the_ledger_tells_places_only_to_documents_which_have_a_handler_for_it():
    """A signal to a workflow without its handler is an error in the SDK's log: the meeting, which asks the same
    ledger for interpretation money, has none, and is not told (domain/queue.py tells ids of documents only)."""
    signals = DocumentWorkflow.__temporal_workflow_definition.signals  # type: ignore[attr-defined]
    fn = signals[QUEUE_PLACE].fn
    assert typing.get_type_hints(fn)[list(inspect.signature(fn).parameters)[1]] is QueuePlace
    assert QUEUE_PLACE not in MeetingWorkflow.__temporal_workflow_definition.signals  # type: ignore[attr-defined]
    assert ids.document_id("ccm", "X").startswith(ids.document_id("ccm", ""))
    assert not ids.meeting_label_id("ccm", "14MSP").startswith(ids.document_id("ccm", ""))


# Workflow ids: built in domain/ids.py only; the names they had elsewhere are gone.


def test_the_id_builders_once_spread_over_the_domain_live_only_in_domain_ids():
    moved = {
        presidency: ("presidency_id", "meeting_id"),
        documents: ("funds_id", "document_id"),
        reviews: ("review_id",),
        extensions: ("extension_id",),
        silence: ("silence_id",),
        reports: ("report_id",),
    }
    assert [f"{m.__name__}.{n}" for m, names in moved.items() for n in names if hasattr(m, n)] == []
    assert ids.extension_id("ccm", extensions.Article.ART4, "Côte d'Ivoire", 2018) == (
        "ccm-extension-art4-cote-d-ivoire-2018"
    )
    assert ids.meeting_label_id("ccm", "10MSP") == "ccm-meeting-10MSP"


# Visibility queries.


def test_a_query_names_the_kind_then_each_value_given_quoted():
    assert query(Kind.MEETING) == "CcmKind = 'meeting'"
    assert query(Kind.REVIEW, "ccm", meeting="4RC", running=True) == (
        "CcmKind = 'review' AND CcmConvention = 'ccm' AND CcmMeeting = '4RC' AND ExecutionStatus = 'Running'"
    )
    assert query(Kind.REPORT, "ccm", state="Côte d'Ivoire", article="7") == (
        "CcmKind = 'report' AND CcmConvention = 'ccm' AND CcmState = 'Côte d''Ivoire' AND CcmArticle = '7'"
    )
    assert {k.value for k in Kind} == {
        "presidency",
        "meeting",
        "funds",
        "document",
        "review",
        "extension",
        "silence",
        "report",
        "register",
        "deadline",
        "committee",
        "isu-budget",
        "isu-reserve",
        "sponsorship",
    }


def literal_at(text: str, start: int) -> tuple[str, int]:
    """The string literal opening at ``start`` as the server's query parser reads it (its tokenizer: a backslash
    escapes the next character, two quotes stand for one), and the index just past its closing quote."""
    assert text[start] == "'"
    out: list[str] = []
    i = start + 1
    while True:
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1]
            out.append({"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "Z": "\x1a"}.get(nxt, nxt))
            i += 2
        elif ch == "'" and text[i + 1 : i + 2] == "'":
            out.append("'")
            i += 2
        elif ch == "'":
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1


def conditions(q: str) -> list[tuple[str, str]]:
    """The conditions of a query of ``Name = 'value'`` joined by AND, read as the server reads them."""
    found: list[tuple[str, str]] = []
    i = 0
    while True:
        eq = q.index(" = ", i)
        value, i = literal_at(q, eq + 3)
        found.append((q[q.rfind(" ", 0, eq) + 1 : eq], value))
        if i == len(q):
            return found
        assert q[i : i + 5] == " AND ", q[i:]
        i += 5


searchable = st.text(st.characters(blacklist_characters=sorted(UNSEARCHABLE)), max_size=40).filter(
    lambda v: not v.startswith("'") and not v.endswith("'")
)


@given(searchable, searchable)
def test_values_are_read_back_whole_and_none_adds_a_condition(state: str, meeting: str):
    literal = quoted(state)
    assert literal_at(literal, 0) == (state, len(literal))
    assert conditions(query(Kind.REPORT, "ccm", meeting=meeting, state=state, article="7")) == [
        ("CcmKind", "report"),
        ("CcmConvention", "ccm"),
        ("CcmMeeting", meeting),
        ("CcmState", state),
        ("CcmArticle", "7"),
    ]


def test_a_value_made_to_break_out_stays_a_value():
    attack = "x' OR CcmKind = 'report"
    assert conditions(query(Kind.REPORT, state=attack)) == [("CcmKind", "report"), ("CcmState", attack)]
    # Unquoted, it would have ended its literal and added an OR of its own.
    with pytest.raises(AssertionError, match="OR CcmKind"):
        conditions(f"CcmKind = 'report' AND CcmState = '{attack}'")


@pytest.mark.parametrize("value", [*(f"4{ch}RC" for ch in sorted(UNSEARCHABLE)), "'4RC", "4RC'", "'"])
def test_a_value_the_server_cannot_match_is_refused_naming_its_attribute(value: str):
    with pytest.raises(Unsearchable, match=r"^CcmMeeting: .* which a visibility query cannot match$"):
        query(Kind.REVIEW, "ccm", meeting=value)
    with pytest.raises(Unsearchable, match="^CcmConvention: "):
        query(Kind.REVIEW, value)


def test_quotes_inside_a_value_are_doubled():
    assert query(Kind.REVIEW, meeting="4''R'C") == "CcmKind = 'review' AND CcmMeeting = '4''''R''C'"
