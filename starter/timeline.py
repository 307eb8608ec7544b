"""The next months as a picture: one row per kind of mark, a tick per month, drawn as a self-contained SVG.

Used by the board (starter/board/) and by `msp simulate`. It imports nothing from temporalio and does no I/O: the
marks are given, the text is returned. Every label is escaped here, since labels carry text people typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape, quoteattr

from domain.calendar import months_later

KINDS = ("meeting", "handover", "deadline", "review", "report", "silence", "document", "payment")
_COLOURS = {
    "meeting": "#1f5fa8",
    "handover": "#6a3d9a",
    "deadline": "#8c564b",
    "review": "#2b8a3e",
    "report": "#0b7285",
    "silence": "#5f3dc4",
    "document": "#495057",
    "payment": "#e67700",
}
LATE_COLOUR = "#c92a2a"
_LEFT, _RIGHT, _TOP, _ROW, _WIDTH = 90, 20, 34, 28, 1100


@dataclass(frozen=True)
class Mark:
    day: date  # first day
    kind: str  # one of KINDS
    label: str  # human text: escaped by svg(), never trusted
    end: date | None = None  # last day, for spans (a meeting)
    late: bool = False  # drawn in the warning colour (overdue, issued late, day without interpretation)


def svg(marks: Sequence[Mark], start: date, months: int = 24, title: str = "") -> str:
    """A self-contained <svg> (no scripts, no external refs), one row per kind, month ticks, text XML-escaped."""
    stop = months_later(start, months)
    span = max(1, (stop - start).days)
    inner = _WIDTH - _LEFT - _RIGHT

    def x(day: date) -> float:
        return round(_LEFT + inner * min(max((day - start).days, 0), span) / span, 1)

    shown = [m for m in marks if (m.end or m.day) >= start and m.day < stop]
    kinds = [k for k in KINDS if any(m.kind == k for m in shown)] + sorted(
        {m.kind for m in shown} - set(KINDS)
    )
    height = _TOP + _ROW * max(1, len(kinds)) + 24
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" width="100%" '
        f'role="img" aria-label={quoteattr(title or "timeline")} font-family="sans-serif" font-size="11">'
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    bottom = _TOP + _ROW * max(1, len(kinds))
    for i in range(months + 1):
        month = months_later(start.replace(day=1), i)
        if month < start:
            continue
        mx = x(month)
        out.append(f'<line x1="{mx}" y1="{_TOP - 6}" x2="{mx}" y2="{bottom}" stroke="#dee2e6"/>')
        if month < stop and (i % 3 == 0 or months <= 12):
            out.append(f'<text x="{mx + 2}" y="{_TOP - 10}" fill="#495057">{month:%b %Y}</text>')
    for row, kind in enumerate(kinds):
        y = _TOP + _ROW * row
        out.append(f'<text x="4" y="{y + 17}" fill="#212529">{escape(kind)}</text>')
        for m in (m for m in shown if m.kind == kind):
            colour = LATE_COLOUR if m.late else _COLOURS.get(kind, "#343a40")
            tip = f"<title>{escape(_when(m) + ': ' + m.label)}</title>"
            x1 = x(max(m.day, start))
            if m.end is not None and m.end > m.day:
                width = max(3.0, x(m.end) - x1)
                out.append(
                    f'<rect x="{x1}" y="{y + 6}" width="{width}" height="14" fill="{colour}">{tip}</rect>'
                )
            else:
                out.append(f'<circle cx="{x1}" cy="{y + 13}" r="5" fill="{colour}">{tip}</circle>')
    out.append("</svg>")
    return "".join(out)


def _when(m: Mark) -> str:
    return f"{m.day} to {m.end}" if m.end is not None and m.end != m.day else str(m.day)
