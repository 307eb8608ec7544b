"""Every workflow id the engine builds, in one place: readable, stable, and within the server's limit of 255
characters from the longest inputs the models allow (tests/domain/test_ids.py).

An id is the convention's code, the kind of workflow, and what it is about: ``ccm-meeting-10MSP``,
``ccm-doc-CCM/MSP/2022/3``. Workflows, activities, `msp` and the tests build them here, never by hand.
"""

from __future__ import annotations

from domain.bounds import WORKFLOW_ID_MAX
from domain.models import Convention, MeetingRef, state_slug


def presidency_id(convention: Convention) -> str:
    return presidency_id_of(convention.code)


def presidency_id_of(code: str) -> str:
    """The Presidency of the convention ``code``, as a workflow that has only the code names it."""
    return f"{code}-presidency"


def meeting_id(convention: Convention, ref: MeetingRef) -> str:
    return meeting_label_id(convention.code, ref.label)


def meeting_label_id(code: str, label: str) -> str:
    """The meeting's id from the convention's code and the meeting's label (``10MSP``), as an activity has them."""
    return f"{code}-meeting-{label}"


def funds_id(code: str, meeting: str) -> str:
    """The ledger of the meeting labelled ``meeting``."""
    return f"{code}-funds-{meeting}"


def document_id(code: str, symbol: str) -> str:
    return f"{code}-doc-{symbol}"


def review_id(code: str, subject: str) -> str:
    return f"{code}-review-{subject}"


def extension_id(code: str, article: str, state: str, year: int) -> str:
    """A request under ``article`` ("3" or "4") by ``state``, submitted in ``year``."""
    return f"{code}-extension-art{article}-{state_slug(state)}-{year}"


def silence_id(code: str, procedure_id: str) -> str:
    return f"{code}-silence-{procedure_id}"


def report_id(code: str, state: str) -> str:
    """The Article 7 reports of ``state``."""
    return f"{code}-art7-{state_slug(state)}"


def register_id(code: str) -> str:
    """The register of States of the convention ``code``."""
    return f"{code}-register"


def watch_id(code: str, article: str, state: str) -> str:
    """The watch of ``state``'s Art. ``article`` ("3" or "4") deadline, from its entry into force."""
    return f"{code}-deadline-art{article}-{state_slug(state)}"


def is_workflow_id(value: object) -> bool:
    """Whether ``value`` can be a workflow id: a string of one word within the server's limit (a signal that
    carries one is checked so, as a signal cannot be refused)."""
    return isinstance(value, str) and 0 < len(value) <= WORKFLOW_ID_MAX and value.split() == [value]


def committee_id(code: str) -> str:
    """The Coordination Committee of the convention ``code``: one workflow id, one run per presidential term."""
    return f"{code}-committee"


def isu_budget_id(code: str, year: int) -> str:
    """The ISU's budget for ``year``."""
    return f"{code}-isu-budget-{year}"


def isu_reserve_id(code: str) -> str:
    """The ISU's capital reserve."""
    return f"{code}-isu-reserve"


def sponsorship_id(code: str, meeting: str) -> str:
    """The Sponsorship Programme of the meeting labelled ``meeting``."""
    return f"{code}-sponsorship-{meeting}"
