"""`make run` end to end: `python -m starter.embedded` starts the dev server, the worker and the cycle; SIGINT
stops them all; a second start on the same state directory resumes the same Presidency run.

Free ports on 127.0.0.1, a temporary state directory and a copy of config/cycle.toml; nothing else is reached.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from domain.extensions import Article
from domain.ids import extension_id
from domain.presidency import PresidencyState
from starter.receiver import safe_name
from tests.support.devserver import msp
from tests.support.embedded import PRESIDENCY, alive, children, connect, eventually, make_run, running_run_id
from tests.support.requests import LAO, submit_art4
from workflows.presidency import PresidencyWorkflow

MEETING = "ccm-meeting-14MSP"

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads child processes from /proc"
)


async def msp_notifies_the_receiver(state_dir: Path, port: int, config: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CCM_"))}
    env.update(TEMPORAL_ADDRESS=f"127.0.0.1:{port}", TEMPORAL_CONFIG_FILE=os.devnull)
    today = date.today()
    procedure = ("--procedure", "embedded-1", "--proposal", "To adopt the revised budget", "--ref", "letter")
    runs = [
        await msp(
            env,
            "silence",
            "start",
            *procedure,
            "--deadline",
            str(today + timedelta(days=10)),
            "--config",
            str(config),
        ),
        await msp(env, "silence", "break", "embedded-1", "--state", "France", "--reason", "to be discussed"),
        await msp(
            env,
            *submit_art4(LAO, today - timedelta(days=365 * 9), "--years", "5", "--config", str(config)),
            *("--plan", "Clearance.", "--ref", "r"),
        ),
    ]
    for run in runs:
        assert run.code == 0 and "Traceback" not in run.err, run
    request = extension_id("ccm", Article.ART4, LAO, today.year)
    wanted = {"ccm-silence-embedded-1:circulated", "ccm-silence-embedded-1:outcome", f"{request}:submitted"}
    folder = state_dir / "receiver" / "notifications"

    async def stored() -> bool | None:
        keys = {json.loads(p.read_text())["idempotency_key"] for p in folder.glob("*.json")}
        return True if wanted <= keys else None

    await eventually(stored, 20, f"{sorted(wanted)} in {folder}")


def open_to_others(state_dir: Path) -> list[str]:
    """Every folder and file under ``state_dir`` (itself included) that group or others may use."""
    found = []
    for path in [state_dir, *state_dir.rglob("*")]:
        mode = path.lstat().st_mode & 0o777
        expected = 0o700 if path.is_dir() else 0o600
        if mode & 0o077 or mode != expected:
            found.append(f"{path.relative_to(state_dir.parent)}: {mode:04o}")
    return found


async def test_make_run_starts_stops_and_resumes(tmp_path: Path) -> None:
    setup = make_run(tmp_path)
    state_dir, config, port, ui_port, receiver_port = setup
    receiver = f"http://127.0.0.1:{receiver_port}"

    first = await setup.start()
    try:
        await first.wait_for_banner()
        assert f"http://127.0.0.1:{ui_port}/namespaces/default/workflows" in first.output
        assert f"export TEMPORAL_ADDRESS=127.0.0.1:{port}" in first.output
        assert receiver in first.output
        assert str(state_dir / "receiver" / "translation-jobs") in first.output
        assert str(state_dir / "receiver" / "notifications") + "/" in first.output
        # Which initial reports are overdue: none at the first import; those due before it are not recorded.
        assert re.search(
            r"initial Art\. 7 reports: none overdue; 1\d\d due before \S+ not recorded", first.output
        )

        # The conference-services receiver answers, and stores what it accepts where the banner says.
        async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
            health = await http.get(f"{receiver}/health")
            assert health.status_code == 200, health.text
            posted = await http.post(
                f"{receiver}/translation-jobs",
                json={"symbol": "CCM/MSP/2027/1"},
                headers={"Idempotency-Key": "k1"},
            )
            assert posted.status_code == 201, posted.text
            notified = await http.post(
                f"{receiver}/notifications", json={"text": "hello"}, headers={"Idempotency-Key": "n1"}
            )
            # The register's Article 7 workflows may already have notified: ours is one more, numbered in turn.
            assert notified.status_code == 201 and notified.json()["reference"].startswith("UNOG-N-"), (
                notified.text
            )
        assert len(list((state_dir / "receiver" / "translation-jobs").glob("*.json"))) == 1
        # The board, on the port the banner names, shows the Presidency of config/cycle.toml.
        board = re.search(r"board: +(http://127\.0\.0\.1:\d+/)", first.output)
        assert board is not None, first.output

        async def shows_the_president() -> bool | None:
            async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
                page = await http.get(board.group(1))
            return True if page.status_code == 200 and 'id="president"' in page.text else None

        await eventually(shows_the_president, 30, f"the President on the board at {board.group(1)}")
        assert (state_dir / "receiver" / "notifications" / safe_name("n1")).is_file()
        # The state is private: the database, the server's log, the profile and what the receiver stored.
        assert {p.name for p in state_dir.iterdir()} >= {"ccm.db", "server.log", "temporal.toml", "receiver"}
        assert open_to_others(state_dir) == []

        client = await connect(port)
        run_id = await running_run_id(client, PRESIDENCY)
        # The Presidency starts its meeting as a child, once the worker has run its first task.
        await eventually(lambda: running_run_id(client, MEETING), 20, f"{MEETING} running")
        # Running is not enough (a workflow task failing forever looks Running): it must have started its meeting.
        state: PresidencyState = await client.get_workflow_handle(PRESIDENCY).query(PresidencyWorkflow.state)
        assert state.meeting_started and state.term == 1

        async def meeting_listed() -> bool | None:
            ids = [w.id async for w in client.list_workflows("CcmKind = 'meeting'")]
            return True if MEETING in ids else None

        await eventually(meeting_listed, 20, "the meeting in the visibility query CcmKind = 'meeting'")

        async def ui_answers() -> int | None:
            async with httpx.AsyncClient(trust_env=False, follow_redirects=True, timeout=5) as http:
                r = await http.get(f"http://127.0.0.1:{ui_port}/namespaces/default/workflows")
            return r.status_code if r.status_code == 200 else None

        await eventually(ui_answers, 20, f"HTTP 200 from the Web UI on 127.0.0.1:{ui_port}")

        kids = children(first.proc.pid)
        assert any("temporal" in c and "start-dev" in c for c in kids.values()), kids
        [worker_pid] = [pid for pid, c in kids.items() if c.endswith("worker.py")]
        # The worker is told where the receiver takes conference-services requests and notifications.
        worker_env = Path(f"/proc/{worker_pid}/environ").read_bytes().split(b"\0")
        assert f"CCM_CONFERENCE_SERVICES_URL={receiver}".encode() in worker_env
        assert f"CCM_WEBHOOK_URL={receiver}/notifications".encode() in worker_env

        # What `msp` starts from a shell of its own, which knows only the server's address, reaches the receiver:
        # the worker resolves the webhook (issue 11: these logged "no webhook configured" instead).
        await msp_notifies_the_receiver(state_dir, port, config)

        assert await first.interrupt() == 0, first.output
        assert first.output.splitlines()[-1] == "stopped", first.output
        left = [f"{pid}: {cmd}" for pid, cmd in kids.items() if alive(pid)]
        assert not left, f"left running after SIGINT: {left}"
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{receiver}/health", trust_env=False, timeout=5)
    finally:
        await first.kill()

    # As an earlier version left it: everything readable by all.
    for path in [state_dir, *state_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    second = await setup.start()
    try:
        await second.wait_for_banner()
        assert f"made {state_dir} private: " in second.output, second.output
        assert open_to_others(state_dir) == []
        client = await connect(port)
        # Resumed from the SQLite file: the same run, not a new one.
        assert await running_run_id(client, PRESIDENCY) == run_id
        await running_run_id(client, MEETING)
        # The receiver's state is its files: the same key after a restart is the same job.
        async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
            again = await http.post(
                f"{receiver}/translation-jobs",
                json={"symbol": "CCM/MSP/2027/1"},
                headers={"Idempotency-Key": "k1"},
            )
        assert again.status_code == 200 and again.json()["reference"] == posted.json()["reference"], (
            again.text
        )
        assert await second.interrupt() == 0, second.output
    finally:
        await second.kill()
