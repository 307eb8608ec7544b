"""`msp funds status` reads "today" on the ledger's own clock (the defaults its input carries), not on a clock of its
own: two ledgers configured a day apart say so (no server)."""

from __future__ import annotations

from domain.funds import LedgerState
from domain.models import Defaults
from starter.cli.funds import funds_text, ledger_json

# UTC+14 and UTC-11: at any instant their dates differ by a day.
EAST = Defaults(timezone="Pacific/Kiritimati")
WEST = Defaults(timezone="Pacific/Pago_Pago")


def test_the_ledger_status_is_as_of_today_on_the_ledgers_own_clock():
    east = ledger_json("ccm-funds-14MSP", LedgerState(meeting="14MSP", defaults=EAST))["as_of"]
    west = ledger_json("ccm-funds-14MSP", LedgerState(meeting="14MSP", defaults=WEST))["as_of"]
    assert east != west
    assert f"as of {east}" in funds_text("ccm-funds-14MSP", LedgerState(meeting="14MSP", defaults=EAST))
