"""Every custom search attribute, in one list: the dev server, the tests and the cluster setup register these.

Search attributes are not encrypted: they hold codes, phases, dates and State names, never a person.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair

from domain.bounds import quote


class Kind(StrEnum):
    """What a workflow is, as its CcmKind says: one value per workflow type."""

    PRESIDENCY = "presidency"
    MEETING = "meeting"
    FUNDS = "funds"
    DOCUMENT = "document"
    REVIEW = "review"
    EXTENSION = "extension"
    SILENCE = "silence"
    REPORT = "report"
    REGISTER = "register"
    DEADLINE = "deadline"
    COMMITTEE = "committee"
    ISU_BUDGET = "isu-budget"
    ISU_RESERVE = "isu-reserve"
    SPONSORSHIP = "sponsorship"


KIND = SearchAttributeKey.for_keyword("CcmKind")
CONVENTION = SearchAttributeKey.for_keyword("CcmConvention")
MEETING = SearchAttributeKey.for_keyword("CcmMeeting")
PHASE = SearchAttributeKey.for_keyword("CcmPhase")
PRESIDENT = SearchAttributeKey.for_keyword("CcmPresident")
TERM = SearchAttributeKey.for_int("CcmTerm")
NEXT_MEETING_START = SearchAttributeKey.for_datetime("CcmNextMeetingStart")
# Money in CHF. Double, not Int: SQL visibility (the dev server's) allows only three custom Int attributes.
BALANCE = SearchAttributeKey.for_float("CcmBalance")
SHORTFALL = SearchAttributeKey.for_float("CcmShortfall")
# Reviews: the day a review falls due (its status is in CcmPhase, the meeting it is due at in CcmMeeting).
DUE_DATE = SearchAttributeKey.for_datetime("CcmDueDate")
# Documents.
LANGUAGES_PENDING = SearchAttributeKey.for_keyword_list("CcmLanguagesPending")
WAITING_FOR_FUNDS = SearchAttributeKey.for_float("CcmWaitingForFunds")
# Extension requests and Article 7 reports: the State Party concerned and the article ("3", "4", "7").
STATE = SearchAttributeKey.for_keyword("CcmState")
ARTICLE = SearchAttributeKey.for_keyword("CcmArticle")
# What needs a person's attention, one keyword each: "undeliverable" while the workflow holds a notification its
# webhook refused; a document's "at_risk" and "late". One list for every such flag: SQL visibility has only three
# KeywordList slots.
ATTENTION = SearchAttributeKey.for_keyword_list("CcmAttention")
UNDELIVERABLE = "undeliverable"
# A document: "at_risk" while it will miss its due date, "late" once issued after it.
AT_RISK = "at_risk"
LATE = "late"
# The Coordination Committee: "renewal" while a mandate that ended waits to be renewed or given to new
# coordinators, "overdue" while a task it assigned is past its due date.
RENEWAL = "renewal"
OVERDUE = "overdue"
# A ledger or the ISU budget: "shortfall" while what it owes exceeds what it holds.
SHORTFALL_FLAG = "shortfall"

# The one query that lists whatever needs a person (the README's "needs attention" link).
NEEDS_ATTENTION = f"{ATTENTION.name} IS NOT NULL"

ALL: tuple[SearchAttributeKey[Any], ...] = (
    KIND,
    CONVENTION,
    MEETING,
    PHASE,
    PRESIDENT,
    TERM,
    NEXT_MEETING_START,
    BALANCE,
    SHORTFALL,
    LANGUAGES_PENDING,
    WAITING_FOR_FUNDS,
    DUE_DATE,
    STATE,
    ARTICLE,
    ATTENTION,
)

_CLI_TYPES = {
    "KEYWORD": "Keyword",
    "INT": "Int",
    "DATETIME": "Datetime",
    "TEXT": "Text",
    "DOUBLE": "Double",
    "BOOL": "Bool",
    "KEYWORD_LIST": "KeywordList",
}


def cli_flags() -> list[str]:
    """``--search-attribute Name=Type`` pairs for ``temporal server start-dev``."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={_CLI_TYPES[key.indexed_value_type.name]}"]
    return flags


# What the server's query language cannot match, tried on the dev server (tests/workflows/test_query_devserver.py): no
# spelling of a value finds its workflow if the value holds one of these characters, or begins or ends with a single
# quote (its parser reads them, but the SQL it writes for its store compares another value). The test fails when a
# server matches them, so this list can shrink then; meanwhile such a value is refused rather than found nowhere.
UNSEARCHABLE = frozenset('\\"\0\b\n\r\t\x1a')


class Unsearchable(ValueError):
    """A value a visibility query cannot match; the message names the search attribute."""


def quoted(value: str, name: str = "value") -> str:
    """``value`` as a string literal of a visibility query: in single quotes, a quote inside it doubled, so that a
    value (a State named Côte d'Ivoire) cannot end the literal and add conditions of its own. A value the server
    cannot match is refused (``Unsearchable``, naming ``name``): one holding a character of UNSEARCHABLE, or
    beginning or ending with a quote."""
    if bad := sorted(UNSEARCHABLE.intersection(value)):
        why = "holds " + " and ".join(repr(ch) for ch in bad)
    elif value.startswith("'") or value.endswith("'"):
        why = "begins or ends with a quote"
    else:
        return "'" + value.replace("'", "''") + "'"
    raise Unsearchable(f"{name}: {quote(value)} {why}, which a visibility query cannot match")


def query(
    kind: Kind,
    convention: str | None = None,
    *,
    meeting: str | None = None,
    state: str | None = None,
    article: str | None = None,
    running: bool = False,
) -> str:
    """The visibility query (``temporal workflow list --query``, ``Client.list_workflows``) for the workflows of
    ``kind``, of a convention, due at or about a meeting, concerning a State, under an article; ``running``: only
    those still running. Every value is quoted (``quoted``); one the server cannot match raises ``Unsearchable``."""
    conditions = [
        (KIND, kind.value),
        (CONVENTION, convention),
        (MEETING, meeting),
        (STATE, state),
        (ARTICLE, article),
    ]
    text = " AND ".join(
        f"{key.name} = {quoted(value, key.name)}" for key, value in conditions if value is not None
    )
    return text + (" AND ExecutionStatus = 'Running'" if running else "")


def started_with(
    kind: Kind, convention: str, *more: SearchAttributePair[Any]
) -> list[SearchAttributePair[Any]]:
    """The search attributes a workflow is started with (its kind, its convention, ``more``): set at start, so that
    a list finds it before it runs; it upserts the same itself."""
    return [SearchAttributePair(KIND, kind.value), SearchAttributePair(CONVENTION, convention), *more]
