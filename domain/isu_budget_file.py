"""The ISU's budget file: each State Party's contribution for the year, in whole Swiss francs, and its category.

A CSV file with the header ``state,contribution_chf,category`` and one State per line::

    state,contribution_chf,category
    Austria,61200,B
    "Korea, Republic of",48000,B

Read as the file of assessed shares is (``domain/assessments.py``): blank lines and ``#`` lines skipped, at most one
row per State and MAX_STATES rows, and every error names the file, the line and the column, e.g.
``budget.csv:7: contribution_chf: not a whole number of francs ('1,5')``.
"""

from __future__ import annotations

import re

from pydantic import TypeAdapter, ValidationError

from domain.assessments import _records
from domain.bounds import MAX_CHF, MAX_STATES, Name, quote
from domain.isu_budget import BudgetLine, Category
from domain.models import name_key

COLUMNS = ("state", "contribution_chf", "category")
STATE, AMOUNT, CATEGORY = COLUMNS
_WHOLE = re.compile(r"^\d{1,10}$")
_NAME: TypeAdapter[str] = TypeAdapter(Name)
_CATEGORY: TypeAdapter[str] = TypeAdapter(Category)


class BudgetFileError(ValueError):
    """A problem in the budget file; the message names ``file:line`` and the column."""


def _checked(adapter: TypeAdapter[str], value: str, where: str, column: str) -> str:
    try:
        return adapter.validate_python(value)
    except ValidationError as e:
        reason = str(e.errors()[0]["msg"]).removeprefix("Value error, ")
        raise BudgetFileError(f"{where}: {column}: {reason} ({quote(value)})") from None


def parse_budget(text: str, source: str) -> list[BudgetLine]:
    """Each State's line, in the file's order; raises BudgetFileError naming file:line:column."""
    rows = [
        (n, cells)
        for n, cells in _records(text, source)
        if cells and any(c.strip() for c in cells) and not cells[0].lstrip().startswith("#")
    ]
    header = ",".join(COLUMNS)
    if not rows:
        raise BudgetFileError(f"{source}:1: the file is empty; expected the header {header}")
    first, names = rows[0][0], [c.strip().casefold() for c in rows[0][1]]
    if sorted(names) != sorted(COLUMNS):
        odd = next((c for c in names if c not in COLUMNS), None)
        what = f"unknown column {quote(odd)}" if odd is not None else "a column is missing or repeated"
        raise BudgetFileError(f"{source}:{first}: {what}; the header is {header}")
    index = {name: i for i, name in enumerate(names)}
    if len(rows) == 1:
        raise BudgetFileError(f"{source}:{first}: no States after the header {header}")
    lines: list[BudgetLine] = []
    seen: dict[str, int] = {}
    for count, (n, cells) in enumerate(rows[1:], start=1):
        where = f"{source}:{n}"
        if count > MAX_STATES:
            raise BudgetFileError(f"{where}: more than {MAX_STATES} States: a budget has one row per State")
        if len(cells) != len(COLUMNS):
            raise BudgetFileError(f"{where}: expected {len(COLUMNS)} columns ({header}), got {len(cells)}")
        state = _checked(_NAME, " ".join(cells[index[STATE]].split()), where, STATE)
        if (line := seen.get(name_key(state))) is not None:
            raise BudgetFileError(f"{where}: {STATE}: {state} appears twice (first on line {line})")
        seen[name_key(state)] = n
        raw = cells[index[AMOUNT]].strip()
        if not _WHOLE.match(raw) or not 0 < int(raw) <= MAX_CHF:
            raise BudgetFileError(
                f"{where}: {AMOUNT}: not a whole number of francs from 1 to {MAX_CHF:,} ({quote(raw)})"
            )
        category = _checked(_CATEGORY, cells[index[CATEGORY]].strip(), where, CATEGORY)
        lines.append(BudgetLine(state=state, amount=int(raw), category=category))
    return lines
