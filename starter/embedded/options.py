"""What `make run` is told: ports, the state directory, the configuration; and what its children are told (their
environment, the client profile it writes)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from domain.isu_budget import MAIL_URL_ENV
from domain.notifications import WEBHOOK_URL_ENV
from starter.embedded.devserver import HOST, NAMESPACE
from starter.receiver import NOTIFICATIONS
from starter.receiver_store import MAIL

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEFAULT_PORT = 7233
# The receiver's port by default: the gRPC port + 66 (7299), so that `make run PORT=...` moves all three ports.
RECEIVER_PORT_OFFSET = 66
# The board's port by default: the gRPC port + 1066 (8299), next to the Web UI's (+ 1000).
BOARD_PORT_OFFSET = 1066
# The variable that tells the worker and `msp` where conference services are.
CONFERENCE_SERVICES_URL_ENV = "CCM_CONFERENCE_SERVICES_URL"


@dataclass(frozen=True)
class Options:
    state_dir: Path
    port: int
    ui_port: int
    config: Path
    receiver_port: int = DEFAULT_PORT + RECEIVER_PORT_OFFSET
    board_port: int = DEFAULT_PORT + BOARD_PORT_OFFSET

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.ui_port}/namespaces/{NAMESPACE}/workflows"

    @property
    def board_url(self) -> str:
        return f"http://{HOST}:{self.board_port}/"

    @property
    def db(self) -> Path:
        return self.state_dir / "ccm.db"

    @property
    def server_log(self) -> Path:
        return self.state_dir / "server.log"

    @property
    def profile(self) -> Path:
        return self.state_dir / "temporal.toml"

    @property
    def receiver_dir(self) -> Path:
        return self.state_dir / "receiver"

    @property
    def receiver_url(self) -> str:
        return f"http://{HOST}:{self.receiver_port}"

    @property
    def notifications_url(self) -> str:
        return f"{self.receiver_url}/{NOTIFICATIONS}"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def parse_options(argv: Sequence[str] | None = None) -> Options:
    env = os.environ
    p = argparse.ArgumentParser(
        prog="python -m starter.embedded",
        description="Run the embedded Temporal dev server, the worker and the cycle (what `make run` runs).",
    )
    p.add_argument(
        "--state-dir",
        default=env.get("CCM_STATE_DIR") or str(REPO / ".temporal"),
        help="where the SQLite file and server.log live (env CCM_STATE_DIR; default .temporal/)",
    )
    p.add_argument(
        "--port",
        type=_port,
        default=env.get("CCM_PORT") or str(DEFAULT_PORT),
        help=f"gRPC port of the server (env CCM_PORT; default {DEFAULT_PORT})",
    )
    p.add_argument(
        "--ui-port",
        type=_port,
        default=env.get("CCM_UI_PORT") or None,
        help="Web UI port (env CCM_UI_PORT; default the gRPC port + 1000, so 8233)",
    )
    p.add_argument(
        "--receiver-port",
        type=_port,
        default=env.get("CCM_RECEIVER_PORT") or None,
        help="port of the local conference-services receiver (env CCM_RECEIVER_PORT; default the gRPC port + "
        f"{RECEIVER_PORT_OFFSET}, so {DEFAULT_PORT + RECEIVER_PORT_OFFSET})",
    )
    p.add_argument(
        "--board-port",
        type=_port,
        default=env.get("CCM_BOARD_PORT") or None,
        help=f"port of the board (env CCM_BOARD_PORT; default the gRPC port + {BOARD_PORT_OFFSET}, so "
        f"{DEFAULT_PORT + BOARD_PORT_OFFSET})",
    )
    p.add_argument(
        "--config",
        default=env.get("CCM_CONFIG") or str(REPO / "config" / "cycle.toml"),
        help="the cycle's configuration, used when no cycle runs yet (env CCM_CONFIG; default config/cycle.toml)",
    )
    args = p.parse_args(argv)
    port: int = args.port
    ui_port: int = args.ui_port if args.ui_port is not None else port + 1000
    if ui_port > 65535 or ui_port == port:
        p.error(f"choose a Web UI port with --ui-port (or CCM_UI_PORT): {ui_port} cannot be used")
    receiver_port: int = args.receiver_port if args.receiver_port is not None else port + RECEIVER_PORT_OFFSET
    if receiver_port > 65535 or receiver_port in (port, ui_port):
        p.error(
            f"choose a receiver port with --receiver-port (or CCM_RECEIVER_PORT): {receiver_port} cannot be used"
        )
    board_port: int = args.board_port if args.board_port is not None else port + BOARD_PORT_OFFSET
    if board_port > 65535 or board_port in (port, ui_port, receiver_port):
        p.error(f"choose a board port with --board-port (or CCM_BOARD_PORT): {board_port} cannot be used")
    return Options(
        state_dir=Path(args.state_dir).expanduser().resolve(),
        port=port,
        ui_port=ui_port,
        config=Path(args.config).expanduser().resolve(),
        receiver_port=receiver_port,
        board_port=board_port,
    )


def child_env(opts: Options) -> dict[str, str]:
    """The environment of the worker and of `msp`: this server and this receiver, nothing else.

    Every TEMPORAL_* variable of the caller is dropped and the client profile file is replaced by ours, so an
    API key or TLS setting meant for another cluster (in the environment or ~/.config/temporalio) cannot leak in.
    Conference services, the default webhook and the mail gateway (CCM_MAIL_URL) are the local receiver, whatever CCM_CONFERENCE_SERVICES_URL and
    CCM_WEBHOOK_URL said, and no other webhook target is passed on: a laptop run sends no job to a real service and
    notifies no one.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", WEBHOOK_URL_ENV))}
    env["TEMPORAL_ADDRESS"] = opts.address
    env["TEMPORAL_NAMESPACE"] = NAMESPACE
    env["TEMPORAL_CONFIG_FILE"] = str(opts.profile)
    env[CONFERENCE_SERVICES_URL_ENV] = opts.receiver_url
    env[WEBHOOK_URL_ENV] = opts.notifications_url
    env[MAIL_URL_ENV] = f"{opts.receiver_url}/{MAIL}"
    return env


def write_profile(opts: Options) -> None:
    opts.profile.write_text(
        "# Written by `make run` (starter/embedded/) at each start: how to reach its embedded server.\n"
        f"# `msp` and `temporal` read it with TEMPORAL_CONFIG_FILE={opts.profile}\n"
        "[profile.default]\n"
        f'address = "{opts.address}"\n'
        f'namespace = "{NAMESPACE}"\n'
    )
