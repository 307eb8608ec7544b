"""Finding the extension request a `msp extensions` command means, and what `msp extensions list` shows of each.

A request is found by its State and article (the one still running), or by the year it was submitted (`--year`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.workflow import UpdateMethodMultiParam

from domain import search_attributes as sa
from domain.bounds import EARLIEST, LATEST
from domain.calendar import day_start, local_date, years_later
from domain.config import CycleConfig
from domain.decisions import DecisionOutcome
from domain.extensions import (
    OPEN,
    Article,
    ExtensionInput,
    ExtensionRequest,
    ExtensionState,
    MeetingSlot,
    Status,
    describe_months,
    due_by,
)
from domain.ids import extension_id
from domain.models import STANDARD_DEFAULTS, MeetingRef
from domain.presidency import advance_counters, next_meeting_ref, provisional_start
from starter.cli.calls import listed, presidency_state, query_state, start_once
from starter.cli.common import (
    BAD_INPUT,
    NOT_RUNNING,
    OPTIONS,
    REJECTED,
    CliError,
    attention,
    attention_cell,
    convention_of,
    kind_attributes,
    load_config,
    meeting_ref,
    next_notification_cell,
    one_line,
    state_option,
)
from starter.cli.send import At, Decided, send_decision
from workflows.extension import ExtensionRequestWorkflow

# The option each field of a request or decision comes from, to name it in an error.
OPTIONS.update(
    {
        "request.state": "--state",
        "reported_by": "--reported-by",
        "request.entry_into_force": "--entry-into-force",
        "request.current_deadline": "--deadline",
        "request.submitted_on": "--submitted-on",
        "request.requested_months": "--years/--months",
        "request.plan": "--plan",
        "request.reference": "--ref",
        "summary": "--summary",
        "recommended_months": "--recommend-years/--recommend-months",
        "months": "--grant-years/--grant-months",
        "benchmarks": "--benchmark",
        "completed_on": "--on",
        "procedure_id": "--procedure",
        "initiator": "--initiator",
    }
)


def article_of(n: int) -> Article:
    try:
        return Article(str(n))
    except ValueError:
        raise CliError(f"--article: 3 or 4, not {n}", BAD_INPUT) from None


def state_name(cfg: CycleConfig, name: str) -> str:
    """The State as the configuration lists it (any case, width and spacing); without a list, as given."""
    sp = cfg.states_parties
    return state_option(name, sp.names, "in states_parties.names", aliases=sp.aliases)


def months(years: int | None, months: int | None, option: str) -> int | None:
    if years is not None and months is not None:
        raise CliError(f"{option}: give years or months, not both", BAD_INPUT)
    return years * 12 if years is not None else months


async def meetings(
    client: Client, cfg: CycleConfig, label: str | None, on: date | None
) -> tuple[MeetingSlot, MeetingSlot]:
    """The meeting asked to consider the request and the one after: given, or the Presidency's next ones."""
    if label is not None or on is not None:
        if label is None or on is None:
            raise CliError("--meeting and --meeting-on go together", BAD_INPUT)
        ref = meeting_ref(label)
        # The one after, a year later; its number and date are provisional until it is convened.
        nxt = MeetingRef(number=ref.number + 1, kind=ref.kind)
        return MeetingSlot(label=ref.label, first_day=on), MeetingSlot(
            label=nxt.label, first_day=years_later(on, 1)
        )
    state = await presidency_state(client, cfg.convention_settings())
    plan = state.meeting
    start = provisional_start(plan)
    counters = advance_counters(state.counters, plan.ref, plan.last_day)
    ref = next_meeting_ref(counters, start.year, cfg.defaults.review_conference_cadence_years)
    return (
        MeetingSlot(label=plan.ref.label, first_day=plan.first_day),
        MeetingSlot(label=ref.label, first_day=start),
    )


async def requests(
    client: Client, code: str, state: str | None = None, article: Article | None = None
) -> list[WorkflowExecution]:
    number = article.value if article is not None else None
    return await listed(
        client, sa.Kind.EXTENSION, code, "extension requests", state=state, article=number, latest=False
    )


async def request_state(client: Client, wid: str) -> ExtensionState:
    missing = CliError(f"no extension request {wid}; `msp extensions list` shows them", NOT_RUNNING)
    return await query_state(client, wid, ExtensionRequestWorkflow.state, missing)


def _running(runs: list[WorkflowExecution]) -> list[WorkflowExecution]:
    return [wf for wf in runs if wf.status == WorkflowExecutionStatus.RUNNING]


async def target(client: Client, code: str, state: str, article: Article, year: int | None) -> str:
    """The id of the request meant: of that year, or the State's one still running under that article."""
    if year is not None:
        if not EARLIEST.year <= year <= LATEST.year:
            raise CliError(f"--year: from {EARLIEST.year} to {LATEST.year}, not {year}", BAD_INPUT)
        return extension_id(code, article, state, year)
    running = _running(await requests(client, code, state, article))
    if not running:
        raise CliError(
            f"{state} has no extension request under Article {article.value} running; "
            "`msp extensions list` shows them (name one with --year)",
            NOT_RUNNING,
        )
    return str(max(running, key=lambda wf: wf.start_time).id)


async def previous(client: Client, code: str, state: str, article: Article) -> tuple[str | None, date | None]:
    """The State's request still running under the article, and the deadline it leaves; refuses one undecided."""
    for wf in _running(await requests(client, code, state, article)):
        s = await request_state(client, wf.id)
        if s.status in OPEN:
            raise CliError(
                f"rejected: {state}'s request {wf.id} under Article {article.value} is still {s.status.value}: "
                "it is decided before another is submitted",
                REJECTED,
            )
        return str(wf.id), s.deadline
    return None, None


def row(wid: str, execution: str, s: ExtensionState | None, attrs: TypedSearchAttributes) -> dict[str, Any]:
    due = attrs.get(sa.DUE_DATE)
    return {
        "workflow_id": wid,
        "state": s.request.state if s else attrs.get(sa.STATE),
        "article": s.request.article.value if s else attrs.get(sa.ARTICLE),
        "status": s.status.value if s else (attrs.get(sa.PHASE) or execution),
        "meeting": s.meeting.label if s else attrs.get(sa.MEETING),
        "late": s.late if s else None,
        "deadline": str(s.deadline) if s else (str(local_date(due, STANDARD_DEFAULTS)) if due else None),
        "requested": describe_months(s.request.requested_months) if s else None,
        "analysis": s.analysis.reference if s and s.analysis else None,
        "silence": s.silence if s else None,
        "decision": s.decision.model_dump(mode="json") if s and s.decision else None,
        "next_notification": s.upcoming.model_dump(mode="json") if s and s.upcoming else None,
        "rejected": s.rejected if s else None,
        **attention(s.undeliverable if s else None, attrs),
        "execution_status": execution,
    }


REQUEST_COLUMNS: list[tuple[str, Any]] = [
    ("STATE", lambda r: r["state"] or "-"),
    ("ART.", lambda r: r["article"] or "-"),
    ("STATUS", lambda r: r["status"] + (" (late)" if r["late"] else "")),
    ("MEETING", lambda r: r["meeting"] or "-"),
    ("DEADLINE", lambda r: r["deadline"] or "-"),
    ("NEXT NOTIFICATION", next_notification_cell),
    ("ATTENTION", attention_cell),
    ("WORKFLOW", lambda r: r["workflow_id"]),
]


def request_decision(
    code: str,
    config: Path,
    state: str,
    article: int,
    year: int | None,
    update: UpdateMethodMultiParam[[ExtensionRequestWorkflow, Any], DecisionOutcome],
    message: Callable[[CycleConfig], Decided],
    check: Callable[[Client, Article], Awaitable[None]] | None = None,
) -> None:
    """Sends a decision to the State's request; ``check`` (given the article) asks elsewhere first, and refuses
    before anything is sent."""

    def prepare() -> tuple[Decided, Any]:
        cfg = load_config(config)
        art = article_of(article)
        name = state_name(cfg, state)
        decision = message(cfg)

        async def locate(client: Client) -> At:
            if check is not None:
                await check(client, art)
            wid = await target(client, convention_of(code).code, name, art, year)
            return At(
                wid,
                lambda e: CliError(
                    f"the extension request {wid} is not running ({one_line(e.message)})", NOT_RUNNING
                ),
            )

        return decision, locate

    send_decision(update, prepare)


def submitted(wid: str, inp: ExtensionInput) -> str:
    """What `msp extensions submit` says of the request it started."""
    req, considered, after = inp.request, inp.meeting, inp.next_meeting
    art = req.article.value
    lines = [
        f"started {wid}: {req.state}, Article {art}, {describe_months(req.requested_months)} beyond "
        f"{req.current_deadline}, with the Article {art} Analysis Group"
    ]
    if req.submitted_on > due_by(considered):
        lines.append(
            f"LATE: due by {due_by(considered)} (nine months before the {considered.label} on "
            f"{considered.first_day}); it goes to the {after.label} unless the Presidency keeps it "
            "(`msp extensions keep`)"
        )
    else:
        lines.append(
            f"on time for the {considered.label} ({considered.first_day}; due by {due_by(considered)})"
        )
    if inp.previous:
        lines.append(f"follows {inp.previous}, which stops watching its deadline")
    return "\n".join(lines)


async def start(
    client: Client,
    cfg: CycleConfig,
    code: str,
    name: str,
    req: ExtensionRequest,
    slots: tuple[MeetingSlot, MeetingSlot],
    previous: str | None,
) -> str:
    """Starts the workflow of ``name``'s request, considered at the first of ``slots`` (else the second), after
    ``previous`` (a request or a watch); what `msp extensions submit` says of it. REJECTED when the State has a
    request under that article submitted that year."""
    art, on = req.article, req.submitted_on
    wid = extension_id(code, art, name, on.year)
    considered, after = slots
    inp = ExtensionInput(
        convention=code,
        request=req,
        meeting=considered,
        next_meeting=after,
        webhook=cfg.notifications.webhook,
        previous=previous,
        states_parties=cfg.states_parties.names,
        aliases=cfg.states_parties.aliases,
        defaults=cfg.defaults,
    )
    attributes = kind_attributes(
        sa.Kind.EXTENSION,
        code,
        SearchAttributePair(sa.STATE, name),
        SearchAttributePair(sa.ARTICLE, art.value),
        SearchAttributePair(sa.PHASE, Status.IN_ANALYSIS.value),
        SearchAttributePair(sa.DUE_DATE, day_start(req.current_deadline, cfg.defaults)),
    )
    summary = f"Extension request: {name}, Article {art.value}, {on.year}"
    if not await start_once(client, ExtensionRequestWorkflow.run, inp, wid, summary, attributes):
        raise CliError(
            f"{wid}: {name} already has a request under Article {art.value} submitted in {on.year}",
            REJECTED,
        )
    return submitted(wid, inp)
