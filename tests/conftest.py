from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.conference_services import ConferenceServices
from tests.scenario import time_skipping
from tests.support.devserver import Server, dev_server
from worker import build_worker

BIN = Path(sys.executable).parent

# Under CI, property tests draw the same examples every run (a fixed, derandomized profile), so one run's outcome is
# every run's; a local run stays random and may find something new.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def binary(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make test`, which installs the project's dev dependencies")
    return str(path)


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
    """One dev server per test module, set up as `make run` sets up its own (tests/devserver.py)."""
    async with dev_server() as s:
        yield s
