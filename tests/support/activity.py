"""Running one activity as the worker would (temporalio's ActivityEnvironment), for the activity tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment


async def failure(activity: Callable[[Any], Awaitable[Any]], arg: Any) -> ApplicationError:
    """The ApplicationError ``activity(arg)`` ends with."""
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(activity, arg)
    return info.value
