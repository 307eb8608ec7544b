"""`msp cycle start`: the presidency from the configuration file, its Coordination Committee, then the reviews and Article 7 workflows it
lists; what already runs is left as it is."""

from __future__ import annotations

import os

import typer
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from domain.bounds import md
from domain.ids import presidency_id
from runtime.connect import TASK_QUEUE, connect
from starter.cli.calls import rpc_error
from starter.cli.committee import start_committee
from starter.cli.common import DEFAULT_CONFIG, OK, ConfigOpt, echo, load_config, run
from starter.cli.register import import_shipped
from starter.cli.reports import start_reports
from starter.cli.reviews import start_reviews
from workflows.presidency import PresidencyWorkflow

app = typer.Typer(help="Start the presidential cycle.", no_args_is_help=True)


@app.command("start")
def cycle_start(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Start the presidency from the configuration file; does nothing if it already runs."""

    async def go() -> int:
        cfg = load_config(config)
        if url := os.environ.get("CCM_CONFERENCE_SERVICES_URL"):
            # `make run` moves its receiver with its ports; the workflows must send jobs where it listens.
            money = cfg.money.model_copy(update={"conference_services_url": url, "travel_agent_url": url})
            cfg = cfg.model_copy(update={"money": money})
        state = cfg.initial_state()
        wid = presidency_id(state.convention)
        client = await connect()
        try:
            await client.start_workflow(
                PresidencyWorkflow.run,
                state,
                id=wid,
                task_queue=TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                # Static, so it cannot go stale across terms: who presides is in the current details.
                static_summary=md(f"Presidency of the {state.convention.name}: one run per term"),
            )
        except WorkflowAlreadyStartedError:
            echo(f"{wid}: already running")
        except RPCError as e:
            raise rpc_error(wid, e) from None
        else:
            echo(f"started {wid}")
            echo(
                f"term {state.term}: {state.president} presides over the {state.meeting.ref.label}, "
                f"{state.meeting.describe_dates()}"
            )
        await start_committee(client, cfg)
        await start_reviews(client, cfg)
        await import_shipped(client, cfg, config)
        await start_reports(client, cfg)
        return OK

    run(go)
