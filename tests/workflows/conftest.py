"""The worker the tests of reminding workflows share: every workflow, and the real notifier logging what it is told
(tests/support/reminding.py). A module that needs another (test workflows, every activity) defines its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.support.reminding import notifier_worker


@pytest.fixture
async def worker(ts_env: WorkflowEnvironment) -> AsyncIterator[Worker]:
    async with notifier_worker(ts_env) as w:
        yield w
