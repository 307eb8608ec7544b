"""What `msp isu statement` and `msp isu status` print: a State's statement, the year's budget and the reserve."""

from __future__ import annotations

from domain.funds import chf
from domain.isu_budget import IsuBudgetState, Statement, arrears
from domain.reserve import ReserveState, shortfall
from starter.cli.common import plural, table


def statement_text(s: Statement, year: int) -> str:
    rows = [
        ("Statement", f"{s.state}, ISU budget {year}"),
        ("Category", s.category),
        ("Payment reference", s.reference),
        ("Carried from earlier years", chf(s.carried)),
        ("Invoiced", chf(s.invoiced) + ("" if s.invoice_sent else " (invoice not sent yet)")),
        ("Paid", chf(s.paid)),
        ("Outstanding", chf(s.outstanding) + (f" (due {s.due})" if s.outstanding and s.due else "")),
    ]
    return "\n".join(table(rows))


def status_text(s: IsuBudgetState, r: ReserveState | None) -> str:
    owed = arrears(s)
    b = s.budget
    rows = [
        ("ISU budget", f"{s.year} ({s.phase})"),
        ("Adopted", f"{chf(b.total)} on {s.adopted_on} ({b.reference}), due {b.due}" if b else "not yet"),
        ("Invoices sent", f"{len(s.sent)} of {len(b.lines) if b else 0}"),
        ("Received", f"{chf(s.received)} in {plural(s.payments, 'payment')}"),
        ("Outstanding", f"{chf(sum(owed.values()))} from {plural(len(owed), 'State')}"),
        ("Cash position", chf(s.cash)),
        ("Committed", chf(s.committed)),
        ("Shortfall", chf(s.shortfall)),
    ]
    if r is not None:
        rows += [
            ("Reserve", f"{chf(r.balance)} of a target of {chf(r.target)}"),
            ("Owed to the reserve", chf(r.owed(s.year))),
            ("Reserve sees a shortfall of", chf(shortfall(r, s.year))),
        ]
    lines = table(rows)
    if owed:
        lines += [
            "",
            "Unpaid",
            *table([(st, chf(a)) for st, a in owed.items()], header=("STATE", "OUTSTANDING")),
        ]
    return "\n".join(lines)
