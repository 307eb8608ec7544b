"""One way to reach Temporal for the worker and `msp`: temporalio.envconfig, the settings the `temporal` CLI reads.

TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the TOML profile
file all apply; without them the embedded server of `make run` on 127.0.0.1:7233 is used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from temporalio.client import Client, Plugin
from temporalio.runtime import Runtime

from runtime.codec import CodecKeyError, data_converter
from runtime.settings import SettingError, client_connect_config

DEFAULT_ADDRESS = "127.0.0.1:7233"
TASK_QUEUE = os.environ.get("CCM_TASK_QUEUE", "ccm-machinery")


class ConnectError(RuntimeError):
    """Temporal could not be reached (the message names the address tried), or a setting is wrong (named)."""


class BadSetting(ConnectError):
    """A connection setting is wrong (named): bad input, where an unreachable server may come back (`msp` exit
    codes 2 and 3)."""


def connect_config(profile: str | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Client.connect's arguments from envconfig; a missing TLS file, a malformed address or an unknown profile
    fails here, naming the setting (runtime/settings.py)."""
    try:
        config = client_connect_config(profile, env)
    except SettingError as e:
        raise BadSetting(str(e)) from None
    config.setdefault("target_host", DEFAULT_ADDRESS)
    config.setdefault("namespace", "default")
    return config


async def connect(
    profile: str | None = None, *, runtime: Runtime | None = None, plugins: Sequence[Plugin] = ()
) -> Client:
    """``runtime``: the worker's, serving Prometheus metrics (default: the SDK's); ``plugins``: tracing."""
    config = connect_config(profile)
    try:  # the payload codec's keys (CCM_CODEC_KEYS, CCM_CODEC_KEYS_FILE): bad ones fail here, named
        converter = data_converter()
    except CodecKeyError as e:
        raise BadSetting(f"the payload codec keys are invalid: {e}") from None
    try:
        return await Client.connect(**config, data_converter=converter, runtime=runtime, plugins=plugins)
    except Exception as e:
        raise ConnectError(
            f"cannot reach Temporal at {config['target_host']} (namespace {config['namespace']}): {e}. "
            "Is `make run` running, or is TEMPORAL_ADDRESS set to the right server?"
        ) from None
