"""One way to reach Temporal for the worker and `msp`: temporalio.envconfig, the settings the `temporal` CLI reads.

TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the TOML profile
file all apply; without them the embedded server of `make run` on 127.0.0.1:7233 is used.
"""

from __future__ import annotations

import os
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig

DEFAULT_ADDRESS = "127.0.0.1:7233"
TASK_QUEUE = os.environ.get("CCM_TASK_QUEUE", "ccm-machinery")


class ConnectError(RuntimeError):
    """Temporal could not be reached; the message names the address tried."""


def connect_config(profile: str | None = None) -> dict[str, Any]:
    try:
        config: dict[str, Any] = dict(ClientConfig.load_client_connect_config(profile=profile))
    except Exception as e:  # envconfig reports bad files and variables with several exception types
        raise ConnectError(f"the Temporal connection settings are invalid: {e}") from None
    config.setdefault("target_host", DEFAULT_ADDRESS)
    config.setdefault("namespace", "default")
    return config


async def connect(profile: str | None = None) -> Client:
    config = connect_config(profile)
    try:
        return await Client.connect(**config, data_converter=pydantic_data_converter)
    except Exception as e:
        raise ConnectError(
            f"cannot reach Temporal at {config['target_host']} (namespace {config['namespace']}): {e}. "
            "Is `make run` running, or is TEMPORAL_ADDRESS set to the right server?"
        ) from None
