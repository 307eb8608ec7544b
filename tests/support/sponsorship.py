"""A programme shaped like the seed's averages (¶18): about CHF 52,800 a year from four donors, about 40
applications, travel around CHF 2,500-3,800 each; generated the same way every run."""

from __future__ import annotations

from domain.sponsorship import Apply, Contribute

DONORS = {"Australia": 15_000, "Germany": 14_800, "Switzerland": 12_000, "Norway": 11_000}
STATES = [
    "Afghanistan", "Benin", "Bolivia", "Burkina Faso", "Cameroon", "Chad", "Colombia", "Comoros", "Congo",
    "Cuba", "Ecuador", "Fiji", "Gambia", "Ghana", "Guinea", "Iraq", "Lao People's Democratic Republic",
    "Lebanon", "Malawi", "Mali", "Mozambique", "Niger", "Palau", "Peru", "Samoa", "Somalia",
]  # fmt: skip


def contributions() -> list[Contribute]:
    return [
        Contribute(decision_id=f"c-{n}", reference=f"bank advice {n}", donor=donor, amount=amount)
        for n, (donor, amount) in enumerate(DONORS.items(), start=1)
    ]


def applications(n: int = 40) -> list[Apply]:
    """``n`` applications, the first from each State in turn, then a second delegate from some."""
    return [
        Apply(
            decision_id=f"app-{i:02d}",
            reference=f"application form {i}",
            state=STATES[i % len(STATES)],
            delegate=f"Delegate {i:02d}",
            function="Head of delegation" if i < len(STATES) else "Expert",
            travel_cost=2_500 + (i * 3_571) % 1_301,
        )
        for i in range(n)
    ]


def expert(decision_id: str, state: str, delegate: str, travel_cost: int, reference: str = "r") -> Apply:
    """An application to sponsor an expert of ``state``'s delegation."""
    return Apply(
        decision_id=decision_id,
        reference=reference,
        state=state,
        delegate=delegate,
        function="Expert",
        travel_cost=travel_cost,
    )
