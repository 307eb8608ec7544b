"""The bounds every input is held to: dates, money, texts, names and lists, as pydantic types.

The same types check what `msp` is given (before it sends anything) and what a workflow's validator or start
receives, so an input either fails here, with a reason naming the field, or can be carried out. Each bound is a
named constant; docs/reliability.md lists them.

- Dates people give lie in the window EARLIEST..LATEST. The engine adds to them at most HEADROOM_YEARS (a
  provisional meeting a year on, a review every twenty years, an extension of ten), and date arithmetic in
  ``domain/`` is total on the window widened by that headroom (tests/domain/test_bounds.py asserts it).
- Money is whole Swiss francs, 1 to MAX_CHF.
- Human text is normalised to Unicode NFC and stripped; control characters (and the bidirectional overrides that
  reorder what a terminal shows) are refused. Single-line texts (names, references, titles) fold runs of spaces.
- A rejection quotes at most QUOTE_MAX characters of what it was given (``quote``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints


class Value(BaseModel):
    """A model that does not change once made (a message, a record, an answer): every field is set at once."""

    model_config = ConfigDict(frozen=True)


# The Convention was adopted on 30 May 2008: no date the engine deals with is earlier.
EARLIEST = date(2008, 1, 1)
LATEST = date(2200, 12, 31)
# What the rules add to a date at most (kept generous): dates the engine derives stay within this of the window.
HEADROOM_YEARS = 50
# Whole Swiss francs: an estimate, a payment, a rate.
MAX_CHF = 1_000_000_000

NAME_MAX = 200  # a State, a person, a place, an initiator
REFERENCE_MAX = 500  # the document or paragraph that adopted a decision
TITLE_MAX = 300  # a document's or a review's title
BENCHMARK_MAX = 500
REASON_MAX = 2000  # a State's reason for breaking silence, a review's outcome
TEXT_MAX = 4000  # a plan, a proposal, a summary: may span lines
URL_MAX = 2000
WORKFLOW_ID_MAX = 1000  # the Temporal server's default limit on ids

MAX_STATES = 200  # States Parties listed, rows of an assessment (the UN has 193 members)
MAX_ALIASES = 5  # other names of one State in the register ("Lao PDR")
MAX_BENCHMARKS = 50
MAX_PARTS = 10  # parts of one meeting
MAX_REMINDERS = 10

QUOTE_MAX = 80

# Reorder or hide what a terminal shows: refused in text, escaped on output.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe(ch: str) -> bool:
    """A control character (C0, DEL, C1), an unpaired surrogate, a line/paragraph separator or a bidi override."""
    return unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch in _BIDI


def escape_controls(text: str, keep: str = "") -> str:
    """``text`` with each unsafe character shown as ``\\uXXXX`` (valid inside JSON strings too); ``keep`` lists
    characters left as they are (a newline between the lines of a table)."""
    if not any(unsafe(ch) and ch not in keep for ch in text):
        return text
    return "".join(f"\\u{ord(ch):04x}" if unsafe(ch) and ch not in keep else ch for ch in text)


def quote(value: object, limit: int = QUOTE_MAX) -> str:
    """What a rejection shows of a value: at most ``limit`` characters, control characters escaped."""
    text = (
        value
        if isinstance(value, str)
        else str(value)
        if isinstance(value, date | int | float)
        else repr(value)
    )
    shown = escape_controls(text)
    note = ""
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
        note = f" ({len(text):,} characters)"
    return (f"'{shown}'" if isinstance(value, str) else shown) + note


def _text(max_length: int, min_length: int = 1, lines: bool = False) -> Callable[[str], str]:
    allowed = "\n\t" if lines else ""

    def clean(value: str) -> str:
        text = unicodedata.normalize("NFC", value.replace("\r\n", "\n") if lines else value)
        bad = next((ch for ch in text if unsafe(ch) and ch not in allowed), None)
        if bad is not None:
            raise ValueError(f"control character U+{ord(bad):04X} is not allowed")
        text = text.strip() if lines else " ".join(text.split())
        if len(text) < min_length:
            raise ValueError(f"at least {min_length} character{'s' if min_length > 1 else ''}, please")
        if len(text) > max_length:
            raise ValueError(f"at most {max_length} characters")
        return text

    return clean


def _strip(max_length: int, min_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Name = Annotated[str, _strip(NAME_MAX, 1), AfterValidator(_text(NAME_MAX))]
# Each other name of a State, as the register lists it, to the State's short name ("Lao PDR" -> "Lao People's
# Democratic Republic"): carried beside a list of States Parties so that every check of a name takes them.
Aliases = Annotated[dict[Name, Name], Field(max_length=MAX_STATES * MAX_ALIASES)]
Reference = Annotated[str, _strip(REFERENCE_MAX, 1), AfterValidator(_text(REFERENCE_MAX))]
Title = Annotated[str, _strip(TITLE_MAX, 1), AfterValidator(_text(TITLE_MAX))]
Benchmark = Annotated[str, _strip(BENCHMARK_MAX, 3), AfterValidator(_text(BENCHMARK_MAX, 3))]
Reason = Annotated[str, _strip(REASON_MAX, 3), AfterValidator(_text(REASON_MAX, 3, lines=True))]
Text = Annotated[str, _strip(TEXT_MAX, 3), AfterValidator(_text(TEXT_MAX, 3, lines=True))]
Url = Annotated[str, StringConstraints(max_length=URL_MAX, pattern=r"^https?://[^\s]+$")]
WorkflowId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=WORKFLOW_ID_MAX, pattern=r"^[^\s]+$"),
]


def chf(amount: int) -> str:
    """An amount as people read it, the one way the engine writes money (details, ``msp``, invoices, notices):
    CHF 1,234,567."""
    return f"CHF {amount:,}"


# What can start markup (emphasis, links, HTML, tables, headings, lists) or a typographic replacement ("(c)" to
# "©", "--" to "–"). The Temporal Web UI's renderer honours a backslash before these, as CommonMark does.
_BACKSLASHED = "!#$&()*+-.:<>[\\]^_`{|}~"
# The UI's renderer shows a backslash before these as typed, so they go as numeric character references, which it
# and CommonMark both decode: "=" (a line of them makes a heading), quotes (curled by CommonMark's typographer; the
# UI's curls even these), "," and "?" (",," becomes "," and "????" "???" in the typographer's replacements). Other
# punctuation (% / ; @) starts no markup in either and is left as it is.
_REFERENCED = "\"'=,?"
_ESCAPES = {ord(c): "\\" + c for c in _BACKSLASHED} | {ord(c): f"&#{ord(c)};" for c in _REFERENCED}


def md(text: object) -> str:
    """Text a person gave (or what holds it, as ``str`` writes it), shown in markdown as written, in CommonMark and
    in the Web UI's renderer alike (checked in Chromium: tests/cli/test_web_ui_browser.py): markup characters
    escaped, line breaks kept as line breaks (and leading spaces dropped, which would start a code block)."""
    lines = [line.strip().translate(_ESCAPES) for line in str(text).split("\n")]
    return "  \n".join(lines)


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])|&#(34|39|44|61|63);")


def plain(markdown: str) -> str:
    """The engine's own markdown (current details) as plain text for a terminal: headings, bold and hard breaks
    dropped, the escapes of ``md`` undone."""
    lines = []
    for line in markdown.split("\n"):
        line = line.rstrip().removeprefix("## ")
        lines.append(_ESCAPED.sub(_unescape, line.replace("**", "")))
    return "\n".join(lines)


def _unescape(m: re.Match[str]) -> str:
    return m.group(1) or chr(int(m.group(2)))


def in_window(day: date) -> date:
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"{day} is outside the dates the engine handles ({EARLIEST} to {LATEST})")
    return day


def _instant_in_window(at: datetime) -> datetime:
    in_window(at.date())
    return at


def _derived(day: date) -> date:
    headroom = timedelta(days=366 * HEADROOM_YEARS)
    if not EARLIEST - headroom <= day <= LATEST + headroom:
        raise ValueError(f"{day} is too far outside the dates the engine handles ({EARLIEST} to {LATEST})")
    return day


# A date a person gives: a meeting's first day, a due date, a date of entry into force.
Day = Annotated[date, AfterValidator(in_window)]
# An instant a person gives (a silence procedure's deadline), with its time zone.
Instant = Annotated[AwareDatetime, AfterValidator(_instant_in_window)]
# A date the engine derives and carries (the provisional dates of the next meeting): the window and its headroom.
DerivedDay = Annotated[date, AfterValidator(_derived)]
# Whole Swiss francs.
Chf = Annotated[int, Field(gt=0, le=MAX_CHF)]
