"""What `msp silence status` reads and prints: one procedure in detail, or a table of them all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.service import RPCError

from domain import search_attributes as sa
from domain.calendar import local_clock, local_text
from domain.ids import silence_id
from domain.models import STANDARD_DEFAULTS
from domain.silence import SilenceOutcome, SilenceState, SilenceStatus
from starter.cli.calls import answer, listed, query_state, rpc_error
from starter.cli.common import (
    ANSWER_TIMEOUT,
    NOT_RUNNING,
    CliError,
    attention,
    attention_cell,
    columns,
    execution,
    one_line,
    section,
    table,
    today,
    undeliverable_lines,
)
from workflows.silence import SilenceProcedureWorkflow


def no_procedure(code: str, procedure: str) -> CliError:
    return CliError(
        f"no silence procedure {procedure} for {code} ({silence_id(code, procedure)}); "
        "`msp silence status` lists them",
        NOT_RUNNING,
    )


async def procedure_state(client: Client, code: str, procedure: str) -> SilenceState:
    wid = silence_id(code, procedure)
    return await query_state(client, wid, SilenceProcedureWorkflow.state, no_procedure(code, procedure))


def outcome_words(o: SilenceOutcome) -> str:
    if o.status is SilenceStatus.ADOPTED:
        return f"adopted at {local_text(o.at)}: no State Party broke silence"
    if o.status is SilenceStatus.NOT_ADOPTED:
        return f"not adopted: {o.broken_by} broke silence on {local_text(o.at)} ({one_line(o.reason or '')})"
    return f"withdrawn on {local_text(o.at)} ({one_line(o.reason or '')})"


async def outcome(handle: WorkflowHandle[Any, Any]) -> SilenceOutcome | None:
    """The outcome of a procedure that has completed; None if it did not complete (failed, terminated...)."""
    try:
        result = await answer(handle.id, handle.result(follow_runs=False, rpc_timeout=ANSWER_TIMEOUT))
    except WorkflowFailureError:
        return None
    except RPCError as e:
        raise rpc_error(handle.id, e) from None
    return result if isinstance(result, SilenceOutcome) else None


def _status_words(s: SilenceState) -> str:
    return {
        SilenceStatus.OPEN: "open: adopted at the deadline unless a State Party breaks silence",
        SilenceStatus.ADOPTED: "adopted: no State Party broke silence",
        SilenceStatus.NOT_ADOPTED: "not adopted: silence was broken",
        SilenceStatus.WITHDRAWN: "withdrawn by the initiator",
    }[s.status]


def procedure_text(wid: str, s: SilenceState) -> str:
    now = today()
    deadline = local_text(s.deadline)
    if s.status is SilenceStatus.OPEN and s.deadline > now:
        left = s.deadline - now
        hours = int(left.total_seconds() // 3600)
        deadline += f" (in {hours // 24} days {hours % 24} hours)" if hours >= 24 else f" (in {hours} hours)"
    rows = [
        ("Procedure", f"{s.procedure_id} ({wid})"),
        ("Proposal", one_line(s.proposal)),
        ("Reference", s.reference),
        ("Initiator", s.initiator),
        ("Deadline", deadline),
        ("Status", _status_words(s)),
        ("States Parties", str(len(s.states_parties))),
    ]
    if s.broken_by:
        at = f" on {local_text(s.ended_at)}" if s.ended_at else ""
        rows.append(("Broken by", f"{s.broken_by}{at}"))
        rows.append(("Reason", one_line(s.reason or "")))
    elif s.status is SilenceStatus.WITHDRAWN and s.ended_at:
        rows.append(("Withdrawn", f"on {local_text(s.ended_at)} ({s.reason})"))
    if s.concerns:
        told = (
            "told"
            if s.delivered
            else (f"not told ({s.delivery_error})" if s.delivery_error else "not yet told")
        )
        rows.append(("Concerns", f"{s.concerns} ({told} of the outcome)"))
    log = [(local_clock(r.at, STANDARD_DEFAULTS), r.kind, r.reference, one_line(r.summary)) for r in s.log]
    header = ("AT (GENEVA)", "KIND", "REFERENCE", "SUMMARY")
    lines = table(rows) + undeliverable_lines(s.undeliverable)
    lines += section(f"Decisions ({len(s.log)})", table(log, header) if log else [], "none")
    return "\n".join(lines)


def procedure_json(wid: str, s: SilenceState) -> dict[str, Any]:
    return {"id": wid, "deadline_local": local_text(s.deadline), **s.model_dump(mode="json")}


async def procedure_list(client: Client, code: str) -> list[dict[str, Any]]:
    prefix = silence_id(code, "")
    rows = []
    for wf in await listed(client, sa.Kind.SILENCE, code, "silence procedures"):
        procedure = wf.id.removeprefix(prefix)
        status = execution(wf.status)
        attrs = wf.typed_search_attributes
        deadline: datetime | None = attrs.get(sa.DUE_DATE)
        phase = attrs.get(sa.PHASE) or "unknown"
        broken_by = reason = concerns = None
        seen = attention(None, attrs)
        if wf.status == WorkflowExecutionStatus.RUNNING:
            s = await procedure_state(client, code, procedure)
            seen = attention(s.undeliverable, attrs)
            deadline, phase, broken_by, reason, concerns = (
                s.deadline,
                s.status.value,
                s.broken_by,
                s.reason,
                s.concerns,
            )
        elif wf.status == WorkflowExecutionStatus.COMPLETED:
            result = await outcome(
                client.get_workflow_handle(wf.id, run_id=wf.run_id, result_type=SilenceOutcome)
            )
            if result is not None:
                phase, broken_by = result.status.value, result.broken_by
                reason = result.reason if result.broken_by else None
        else:
            # Failed, terminated, timed out: it decided nothing, whatever its last phase was.
            phase = status
        rows.append(
            {
                "procedure": procedure,
                "id": wf.id,
                "deadline": deadline.isoformat() if deadline else None,
                "deadline_local": local_text(deadline) if deadline else None,
                "status": phase,
                "broken_by": broken_by,
                "reason": reason,
                "concerns": concerns,
                **seen,
                "execution_status": status,
            }
        )
    rows.sort(key=lambda r: (r["deadline"] or "9999", r["procedure"]))
    return rows


PROCEDURE_COLUMNS: list[tuple[str, Any]] = [
    ("PROCEDURE", lambda r: r["procedure"]),
    (
        "DEADLINE (GENEVA)",
        lambda r: (
            local_clock(datetime.fromisoformat(r["deadline"]), STANDARD_DEFAULTS) if r["deadline"] else "-"
        ),
    ),
    ("STATUS", lambda r: r["status"].replace("_", " ")),
    ("BROKEN BY", lambda r: r["broken_by"] or "-"),
    ("ATTENTION", attention_cell),
]


def procedures_text(code: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return f"no silence procedures for {code}; `msp silence start` circulates one"
    return "\n".join([f"Silence procedures of {code} ({len(rows)})", *columns(rows, PROCEDURE_COLUMNS)])
