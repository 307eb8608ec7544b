"""The fixtures of the activity tests: the scriptable stand-in for conference services and the notification
webhook (tests/support/scripted_services.py), and the HTTP client the activities call it with."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.support.scripted_services import Services, serve


@pytest.fixture
def services() -> Iterator[Services]:
    with serve() as state:
        yield state


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy set in the environment must not carry calls to 127.0.0.1.
    async with httpx.AsyncClient(trust_env=False, timeout=httpx.Timeout(15, connect=5)) as client:
        yield client
