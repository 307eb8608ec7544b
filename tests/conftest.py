"""The fixtures every folder shares, and the markers, set here by folder and by fixture rather than in each file.

    domain     tests/domain/: the pure rules, no server
    replay     tests/workflows/test_replay.py: the recorded histories replayed against today's code
    timeskip   uses the time-skipping test server (fixture ts_env)
    devserver  uses a dev server (fixture server or dev_env)
    faults     tests/faults/: the fault suite
    slow       a module or test in SLOW: hypothesis-heavy, or a long scenario

`make test-fast` runs `(domain or replay or timeskip) and not slow`; `make test` runs everything.
"""

from __future__ import annotations

import gc
import os
import uuid
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.conference_services import ConferenceServices
from tests.scenario import time_skipping
from tests.support.devserver import Server, binary, dev_server
from worker import build_worker

TESTS = Path(__file__).parent
BY_PATH = {"domain": "domain", "faults": "faults", "workflows/test_replay.py": "replay"}
BY_FIXTURE = {"ts_env": "timeskip", "server": "devserver", "dev_env": "devserver"}
# Modules, or single tests, that take 7 to 60 s on 2 cores (measured with --durations): the fuzzed fault suite, the
# outage scenario, and the reviews' webhook-down scenario, which waits out real retries.
SLOW = {
    "faults/test_fuzz.py",
    "faults/test_fuzz_inputs.py",
    "faults/test_fuzz_starts.py",
    "faults/test_outage.py",
    "workflows/test_reviews.py::test_reminders_sent_while_the_webhook_is_down_arrive_once_it_is_back",
}

# The longest modules (20 to 110 s each, measured with --durations), longest first: under pytest-xdist (`make test`,
# --dist loadfile) they are handed out first, so that no worker is left with a long one while the other idles.
LONGEST_FIRST = [
    "workflows/test_withdraw_property.py",
    "cli/test_silence_reports_devserver.py",
    "cli/test_reviews_devserver.py",
    "faults/test_fuzz.py",
    "faults/test_fuzz_inputs.py",
    "faults/test_worker_crash.py",
    "cli/test_funds_devserver.py",
    "workflows/test_ledger_continue_as_new.py",
    "faults/test_server_restart.py",
    "cli/test_devserver.py",
    "deploy/test_embedded.py",
]

# Under CI, property tests draw the same examples every run (a fixed, derandomized profile), so one run's outcome is
# every run's; a local run stays random and may find something new.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


# A workflow whose __init__ refuses its input (the fuzzed starts, a State not listed) fails its run as the tests
# assert; but the SDK calls __init__ after it has made the run's top-level coroutine and before it first steps it
# (temporalio/worker/_workflow_instance.py, _run_once), so that coroutine, the SDK's, is collected unawaited: in
# whichever test the collection falls, which is why the filter is the whole suite's, by this one message.
SDK_UNAWAITED = (
    "coroutine '_WorkflowInstanceImpl._apply_initialize_workflow.<locals>.run_workflow' was never awaited"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("filterwarnings", f"ignore:{SDK_UNAWAITED}:RuntimeWarning")


def pytest_sessionfinish() -> None:
    # Collected now, under the same filter: else pytest's own last collection, after the filters are gone, prints
    # the warning below the summary.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", SDK_UNAWAITED, RuntimeWarning)
        gc.collect()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = item.path.relative_to(TESTS)
        for path, marker in BY_PATH.items():
            if where.is_relative_to(path):
                item.add_marker(marker)
        for fixture in sorted(set(getattr(item, "fixturenames", ())) & BY_FIXTURE.keys()):
            item.add_marker(BY_FIXTURE[fixture])
        if {where.as_posix(), f"{where.as_posix()}::{item.name}"} & SLOW:
            item.add_marker("slow")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        rank = {path: n for n, path in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda i: rank.get(i.path.relative_to(TESTS).as_posix(), len(rank)))


@pytest.fixture(scope="module")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping test server per test module."""
    async with time_skipping(binary("temporal-test-server")) as env:
        yield env


@pytest.fixture
async def ts_worker(ts_env: WorkflowEnvironment) -> AsyncIterator[Worker]:
    async with (
        ConferenceServices() as services,
        build_worker(ts_env.client, services, f"tq-{uuid.uuid4()}") as w,
    ):
        yield w


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[Server]:
    """One dev server per test module, set up as `make run` sets up its own (tests/support/devserver.py)."""
    async with dev_server() as s:
        yield s
