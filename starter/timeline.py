"""The timeline picture the board (issue 12) and `msp simulate` (issue 16) draw: a self-contained SVG, one row per
kind of mark, a tick at each month. No scripts, no external references; every label is XML-escaped. No I/O.

(A minimal version written for `msp simulate`; the board's keeps this API.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

KINDS = ("meeting", "handover", "deadline", "review", "report", "silence", "document", "payment")
_LEFT, _ROW, _MONTH, _TOP = 90, 28, 40, 40
_COLOUR, _LATE = "#2b6cb0", "#c53030"


@dataclass(frozen=True)
class Mark:
    day: date  # first day
    kind: str  # one of KINDS
    label: str  # human text: escaped by svg(), never trusted
    end: date | None = None  # last day, for spans (a meeting)
    late: bool = False  # drawn in the warning colour (overdue, issued late, day without interpretation)


def _month_index(day: date, start: date) -> float:
    return (day.year - start.year) * 12 + day.month - start.month + (day.day - 1) / 31


def svg(marks: Sequence[Mark], start: date, months: int = 24, title: str = "") -> str:
    """A self-contained <svg> (no scripts, no external refs), one row per kind, month ticks, text XML-escaped."""
    months = max(1, min(months, 240))
    width = _LEFT + months * _MONTH + 20
    height = _TOP + len(KINDS) * _ROW + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="4" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    for m in range(months + 1):
        x = _LEFT + m * _MONTH
        out.append(f'<line x1="{x}" y1="{_TOP - 8}" x2="{x}" y2="{height - 20}" stroke="#ddd"/>')
        y, mo = divmod(start.month - 1 + m, 12)
        if m < months:
            out.append(f'<text x="{x + 2}" y="{_TOP - 10}">{start.year + y}-{mo + 1:02d}</text>')
    for row, kind in enumerate(KINDS):
        y = _TOP + row * _ROW + _ROW // 2
        out.append(f'<text x="4" y="{y + 4}">{kind}</text>')
        for mark in (m for m in marks if m.kind == kind):
            a = _month_index(mark.day, start)
            if not 0 <= a <= months:
                continue
            cx = _LEFT + a * _MONTH
            colour = _LATE if mark.late else _COLOUR
            label = escape(mark.label)
            if mark.end is not None and mark.end > mark.day:
                w = max((min(_month_index(mark.end, start), months) - a) * _MONTH, 3)
                out.append(
                    f'<rect x="{cx:.1f}" y="{y - 6}" width="{w:.1f}" height="12" fill="{colour}">'
                    f"<title>{label}</title></rect>"
                )
            else:
                out.append(
                    f'<circle cx="{cx:.1f}" cy="{y}" r="4" fill="{colour}"><title>{label}</title></circle>'
                )
    out.append("</svg>")
    return "\n".join(out) + "\n"
