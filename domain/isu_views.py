"""What operators read of the ISU's money in the Web UI (current details, markdown)."""

from __future__ import annotations

from domain.bounds import md
from domain.funds import chf
from domain.isu_budget import IsuBudgetState, arrears, reminders_due
from domain.reserve import ReserveState, shortfall


def budget_details(s: IsuBudgetState) -> str:
    lines = [f"## ISU budget {s.year}", f"**Phase:** {s.phase}  "]
    if s.budget is None:
        lines.append("_Waiting for the budget to be adopted (`msp isu budget adopt`)._")
    else:
        lines += [
            f"**Adopted:** {chf(s.budget.total)} on {s.adopted_on} ({md(s.budget.reference)}), due {s.budget.due}  ",
            f"**Invoices sent:** {len(s.sent)} of {len(s.budget.lines)}  ",
        ]
    owed = arrears(s)
    lines += [
        f"**Received:** {chf(s.received)} in {s.payments} payments; **outstanding:** {chf(sum(owed.values()))} "
        f"from {len(owed)} States  ",
        f"**Cash position:** {chf(s.cash)}; **committed:** {chf(s.committed)}; **shortfall:** {chf(s.shortfall)}  ",
        f"**Reserve:** drawn {chf(s.drawn)}, repaid {chf(s.repaid)}",
    ]
    if next_days := reminders_due(s):
        lines.append(f"**Next reminder to the unpaid:** {next_days[0]}")
    if owed:
        lines += ["", "**Unpaid**"]
        lines += [f"- {md(state)}: {chf(amount)}" for state, amount in list(owed.items())[:15]]
        if len(owed) > 15:
            lines.append(f"... and {len(owed) - 15} more")
    if s.undeliverable:
        lines += ["", f"**Undeliverable reminders:** {len(s.undeliverable)}"]
    return "\n".join(lines)


def reserve_details(s: ReserveState) -> str:
    lines = [
        "## ISU capital reserve",
        f"**Balance:** {chf(s.balance)} of a target of {chf(s.target)}; {chf(s.below_target)} below it  ",
        f"**Voluntary contributions:** {chf(s.contributed)} in {s.contributions}  ",
        f"**Owed by the budget:** {chf(s.owed_total)} (repaid from its next contributions first)",
        "",
        "_Drawn only to cover a cash-flow shortfall._",
    ]
    for year, p in sorted(s.positions.items())[-3:]:
        lines.append(
            f"- {year}: cash {chf(p.cash)}, committed {chf(p.committed)}, shortfall {chf(shortfall(s, year))}"
        )
    return "\n".join(lines)
