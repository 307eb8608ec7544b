"""Every custom search attribute, in one list: the dev server, the tests and the cluster setup register these.

Search attributes are not encrypted: they hold codes, phases, dates and State names, never a person.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

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
# webhook refused. One list for every such flag: SQL visibility has only three KeywordList slots.
ATTENTION = SearchAttributeKey.for_keyword_list("CcmAttention")
UNDELIVERABLE = "undeliverable"

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
