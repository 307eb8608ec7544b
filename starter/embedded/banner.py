"""The banner `make run` prints once the server, the receiver, the worker and the cycle are up."""

from __future__ import annotations

import os

from domain.notifications import WEBHOOK_URL_ENV
from starter.embedded.devserver import NAMESPACE
from starter.embedded.options import BIN, CONFERENCE_SERVICES_URL_ENV, DEFAULT_PORT, REPO, Options
from starter.embedded.process import shown
from starter.receiver import KINDS, NOTIFICATIONS

BANNER_TITLE = "CCM machinery is running"


def banner(o: Options, cycle: str) -> str:
    """What `make run` prints once all is up: where each part is, and `msp` commands to try."""
    msp = shown(BIN / "msp")
    temporal = shown(BIN / "temporal")
    other = os.environ.get("TEMPORAL_ADDRESS") not in (None, o.address)
    lines = [
        "",
        f"=== {BANNER_TITLE} ===",
        f"  Web UI:   {o.ui_url}",
        f"  board:    {o.board_url}   (what needs attention; {o.board_url}calendar.ics)",
        f"  gRPC:     {o.address}   (namespace {NAMESPACE})",
        f"  state:    {shown(o.state_dir)}   (ccm.db; server log: {shown(o.server_log)})",
        f"  services: {o.receiver_url}   (local conference-services receiver; "
        f"{CONFERENCE_SERVICES_URL_ENV} for the worker)",
        f"  received: {', '.join(shown(o.receiver_dir / kind) + '/' for kind in KINDS if kind != NOTIFICATIONS)}"
        "   (one JSON file per job)",
        f"  notices:  {shown(o.receiver_dir / NOTIFICATIONS)}/   (one JSON file per notification; "
        f"{WEBHOOK_URL_ENV}={o.notifications_url} for the worker)",
        "  worker:   logs to this terminal",
        f"  config:   {shown(o.config)}",
        *(f"  cycle:    {line}" for line in cycle.splitlines()),
        "",
        f"Try, in another terminal in {REPO}:",
    ]
    if o.port != DEFAULT_PORT or other:
        lines.append(f"  export TEMPORAL_ADDRESS={o.address}")
    lines += [
        f"  {msp} status",
        f'  {msp} decide designate --state "New Zealand" --ref "CCM/MSP/2027/5, para. 12"',
        f'  {msp} decide postpone --to YYYY-MM-DD --ref "Letter of the President"',
        f"  {msp} reviews list; {msp} reports list; {msp} extensions list; {msp} silence status",
        f"  {temporal} workflow list --address {o.address} --query \"CcmKind='meeting'\"",
        "",
        "Ctrl-C stops the worker, the receiver, then the server; running `make run` again resumes from the "
        "state directory.",
        "",
    ]
    return "\n".join(lines)
