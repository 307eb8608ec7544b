"""The ISU's file of assessed shares (Art. 14: the UN scale of assessment, adjusted to the States Parties).

A CSV file with the header ``state,share_percent`` and one State per line::

    state,share_percent
    Austria,2.91
    "Korea, Republic of",1.20

Blank lines and lines starting with ``#`` are skipped; a share may end with ``%``. At most one row per State, and
at most MAX_STATES of them. Every error names the file, the line and the column, e.g.
``shares.csv:7: share_percent: not a number ('1,5')``.
"""

from __future__ import annotations

import csv
import math
import re

from pydantic import TypeAdapter, ValidationError

from domain.bounds import MAX_STATES, NAME_MAX, Name, quote
from domain.models import name_key

COLUMNS = ("state", "share_percent")
STATE, SHARE = COLUMNS
# As the ledger's own check: shares may add up to a little over 100 by rounding, not more.
TOTAL_TOLERANCE = 1e-4
MAX_STATE_LENGTH = NAME_MAX
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_NAME: TypeAdapter[str] = TypeAdapter(Name)


class SharesError(ValueError):
    """A problem in the file of shares; the message names ``file:line`` and the column."""


def parse_shares(text: str, source: str) -> dict[str, float]:
    """The share of each State, in percent, in the file's order; raises SharesError naming file:line:column."""
    rows = [
        (n, cells)
        for n, cells in _records(text, source)
        if cells and not (len(cells) == 1 and not cells[0].strip()) and not cells[0].lstrip().startswith("#")
    ]
    if not rows:
        raise SharesError(f"{source}:1: the file is empty; expected the header {','.join(COLUMNS)}")
    header_line, header = rows[0]
    names = [c.strip().casefold() for c in header]
    index = _header_index(names, source, header_line)
    if len(rows) == 1:
        raise SharesError(f"{source}:{header_line}: no States after the header {','.join(COLUMNS)}")

    shares: dict[str, float] = {}
    first_seen: dict[str, tuple[str, int]] = {}
    total = 0.0
    for count, (n, cells) in enumerate(rows[1:], start=1):
        where = f"{source}:{n}"
        if count > MAX_STATES:
            raise SharesError(f"{where}: more than {MAX_STATES} States: an assessment has one row per State")
        if len(cells) != len(names):
            if len(cells) < len(names):
                missing = names[len(cells)]
                raise SharesError(
                    f"{where}: {missing}: missing (expected {len(names)} columns, got {len(cells)})"
                )
            raise SharesError(
                f"{where}: column {len(names) + 1}: extra value {quote(cells[len(names)].strip())} "
                f"(expected {len(names)} columns: {','.join(COLUMNS)})"
            )
        state = " ".join(cells[index[STATE]].split())
        if not state:
            raise SharesError(f"{where}: {STATE}: empty; name the State")
        if len(state) > MAX_STATE_LENGTH:
            raise SharesError(f"{where}: {STATE}: longer than {MAX_STATE_LENGTH} characters")
        try:
            state = _NAME.validate_python(state)
        except ValidationError as e:
            reason = str(e.errors()[0]["msg"]).removeprefix("Value error, ")
            raise SharesError(f"{where}: {STATE}: {reason} ({quote(state)})") from None
        share = _share(cells[index[SHARE]], where)
        key = name_key(state)
        if key in first_seen:
            earlier, line = first_seen[key]
            raise SharesError(
                f"{where}: {STATE}: {state} appears twice (first as {quote(earlier)} on line {line})"
            )
        first_seen[key] = (state, n)
        total += share
        if total > 100 + TOTAL_TOLERANCE:
            raise SharesError(
                f"{where}: {SHARE}: the shares reach {total:.4f}% with {state}, more than 100% in all"
            )
        shares[state] = share
    return shares


def _records(text: str, source: str) -> list[tuple[int, list[str]]]:
    """Each record with the line it starts on (1-based)."""
    reader = csv.reader(text.removeprefix("\ufeff").splitlines(keepends=True), strict=True)
    out: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            out.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as e:
        raise SharesError(f"{source}:{start}: not valid CSV: {e}") from None
    return out


def _header_index(names: list[str], source: str, line: int) -> dict[str, int]:
    where = f"{source}:{line}"
    for i, name in enumerate(names):
        if name not in COLUMNS:
            shown = name or "(empty)"
            raise SharesError(
                f"{where}: column {i + 1}: unknown column {quote(shown)}; the header is {','.join(COLUMNS)}"
            )
        if names.index(name) != i:
            raise SharesError(f"{where}: {name}: the column appears twice in the header")
    for column in COLUMNS:
        if column not in names:
            raise SharesError(f"{where}: {column}: missing column; the header is {','.join(COLUMNS)}")
    return {name: i for i, name in enumerate(names)}


def _share(cell: str, where: str) -> float:
    raw = cell.strip()
    text = raw.removesuffix("%").strip()
    if len(text) > 20 or not _NUMBER.match(text):
        raise SharesError(f"{where}: {SHARE}: not a number ({quote(raw)}); write it like 2.91")
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise SharesError(f"{where}: {SHARE}: must be more than 0 (got {raw})")
    if value > 100:
        raise SharesError(f"{where}: {SHARE}: must be at most 100 (got {raw})")
    return value
