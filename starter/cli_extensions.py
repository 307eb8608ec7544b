"""`msp extensions`: requests for more time under Article 3 or 4, from submission to decision and after.

A request is found by its State and article (the one still running), or by the year it was submitted (`--year`).
The treaty's limits are checked here before anything is started, and again by the workflow's validators.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import typer
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from domain import search_attributes as sa
from domain.bounds import EARLIEST, LATEST
from domain.calendar import day_start, local_date, parse_local_instant, years_later
from domain.config import CycleConfig
from domain.decisions import DecisionOutcome
from domain.extensions import (
    OPEN,
    Analysis,
    Article,
    Decide,
    DeclareCompletion,
    ExtensionInput,
    ExtensionRequest,
    ExtensionState,
    KeepAtMeeting,
    MeetingSlot,
    ProposeBySilence,
    Status,
    check_request,
    describe_months,
    due_by,
    extension_id,
    original_deadline,
)
from domain.meeting_rules import Rejected
from domain.models import Defaults, MeetingRef
from domain.presidency import advance_counters, next_meeting_ref, provisional_start
from domain.views import extension_details
from starter.cli_base import (
    _OPTIONS,
    ANSWER_TIMEOUT,
    BAD_INPUT,
    DEFAULT_CONFIG,
    NOT_RUNNING,
    OK,
    REJECTED,
    CliError,
    ConfigOpt,
    ConventionOpt,
    IdOpt,
    JsonOpt,
    M,
    RefOpt,
    _answer,
    _attention,
    _attention_cell,
    _convention,
    _date_option,
    _echo,
    _load_config,
    _meeting_ref,
    _new_id,
    _one_line,
    _presidency_state,
    _rpc_error,
    _run,
    _send_update,
    _start_once,
    _state_option,
    _table,
    _today,
    _validated,
)
from starter.cli_register import running_watch
from starter.connect import connect
from workflows.extension import ExtensionRequestWorkflow

extensions_app = typer.Typer(
    help="Extension requests under Articles 3 and 4: submit, analyse, decide (at the meeting or by silence "
    "procedure), declare completion, list.",
    no_args_is_help=True,
)

_OPTIONS.update(
    {
        "request.state": "--state",
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

StateOpt = Annotated[str, typer.Option("--state", help="The State Party, as the configuration names it.")]
ArticleOpt = Annotated[int, typer.Option("--article", help="3 (stockpile destruction) or 4 (clearance).")]
YearOpt = Annotated[
    int | None,
    typer.Option(
        "--year", help="The year the request was submitted. Default: the State's request still running."
    ),
]


def _article(n: int) -> Article:
    try:
        return Article(str(n))
    except ValueError:
        raise CliError(f"--article: 3 or 4, not {n}", BAD_INPUT) from None


def _state_name(cfg: CycleConfig, name: str) -> str:
    """The State as the configuration lists it (any case, width and spacing); without a list, as given."""
    sp = cfg.states_parties
    return _state_option(name, sp.names, "in states_parties.names", aliases=sp.aliases)


def _months(years: int | None, months: int | None, option: str) -> int | None:
    if years is not None and months is not None:
        raise CliError(f"{option}: give years or months, not both", BAD_INPUT)
    return years * 12 if years is not None else months


async def _meetings(
    client: Client, cfg: CycleConfig, label: str | None, on: date | None
) -> tuple[MeetingSlot, MeetingSlot]:
    """The meeting asked to consider the request and the one after: given, or the Presidency's next ones."""
    if label is not None or on is not None:
        if label is None or on is None:
            raise CliError("--meeting and --meeting-on go together", BAD_INPUT)
        ref = _meeting_ref(label)
        # The one after, a year later; its number and date are provisional until it is convened.
        nxt = MeetingRef(number=ref.number + 1, kind=ref.kind)
        return MeetingSlot(label=ref.label, first_day=on), MeetingSlot(
            label=nxt.label, first_day=years_later(on, 1)
        )
    state = await _presidency_state(client, cfg.convention_settings())
    plan = state.meeting
    start = provisional_start(plan)
    counters = advance_counters(state.counters, plan.ref, plan.last_day)
    ref = next_meeting_ref(counters, start.year, cfg.defaults.review_conference_cadence_years)
    return (
        MeetingSlot(label=plan.ref.label, first_day=plan.first_day),
        MeetingSlot(label=ref.label, first_day=start),
    )


async def _requests(
    client: Client, code: str, state: str | None = None, article: Article | None = None
) -> list[Any]:
    query = f"CcmKind = 'extension' AND CcmConvention = '{code}'"
    if state is not None:
        query += " AND CcmState = '" + state.replace("'", "\\'") + "'"
    if article is not None:
        query += f" AND CcmArticle = '{article.value}'"
    try:
        return [wf async for wf in client.list_workflows(query, rpc_timeout=ANSWER_TIMEOUT)]
    except RPCError as e:
        raise _rpc_error(f"the list of extension requests ({query})", e) from None


async def _request_state(client: Client, wid: str) -> ExtensionState:
    handle = client.get_workflow_handle_for(ExtensionRequestWorkflow.run, wid)
    try:
        return await _answer(wid, handle.query(ExtensionRequestWorkflow.state, rpc_timeout=ANSWER_TIMEOUT))
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise CliError(
                f"no extension request {wid}; `msp extensions list` shows them", NOT_RUNNING
            ) from None
        raise _rpc_error(wid, e) from None


async def _target(client: Client, code: str, state: str, article: Article, year: int | None) -> str:
    """The id of the request meant: of that year, or the State's one still running under that article."""
    if year is not None:
        if not EARLIEST.year <= year <= LATEST.year:
            raise CliError(f"--year: from {EARLIEST.year} to {LATEST.year}, not {year}", BAD_INPUT)
        return extension_id(code, article, state, year)
    running = [
        wf
        for wf in await _requests(client, code, state, article)
        if wf.status == WorkflowExecutionStatus.RUNNING
    ]
    if not running:
        raise CliError(
            f"{state} has no extension request under Article {article.value} running; "
            "`msp extensions list` shows them (name one with --year)",
            NOT_RUNNING,
        )
    return str(max(running, key=lambda wf: wf.start_time).id)


def _update(
    convention: str,
    config: Any,
    state: str,
    article: int,
    year: int | None,
    update: UpdateMethodMultiParam[[ExtensionRequestWorkflow, M], DecisionOutcome],
    message: Callable[[CycleConfig], M],
) -> None:
    async def go() -> int:
        cfg = _load_config(config)
        art = _article(article)
        name = _state_name(cfg, state)
        decision = message(cfg)
        client = await connect()
        wid = await _target(client, _convention(convention).code, name, art, year)
        handle = client.get_workflow_handle_for(ExtensionRequestWorkflow.run, wid)

        def gone(e: RPCError) -> CliError:
            return CliError(
                f"the extension request {wid} is not running ({_one_line(e.message)})", NOT_RUNNING
            )

        return await _send_update(handle, update, decision, str(getattr(decision, "decision_id")), gone)  # noqa: B009

    _run(go)


@extensions_app.command("submit")
def extensions_submit(
    state: StateOpt,
    article: ArticleOpt,
    plan: Annotated[str, typer.Option("--plan", help="The plan the request sets out (a summary).")],
    ref: Annotated[str, typer.Option("--ref", help="The request's document, e.g. CCM/MSP/2019/4.")],
    entry_into_force: Annotated[
        str | None,
        typer.Option("--entry-into-force", help="Entry into force for the State (YYYY-MM-DD)."),
    ] = None,
    years: Annotated[int | None, typer.Option("--years", help="Extension requested, in years.")] = None,
    months: Annotated[int | None, typer.Option("--months", help="Extension requested, in months.")] = None,
    deadline: Annotated[
        str | None,
        typer.Option(
            "--deadline",
            help="The deadline the request extends. Default: the end of the extension last granted (from the "
            "State's earlier request), else entry into force + 8 (Art. 3) or 10 (Art. 4) years.",
        ),
    ] = None,
    submitted_on: Annotated[
        str | None, typer.Option("--submitted-on", help="The day it reached the ISU. Default: today.")
    ] = None,
    meeting: Annotated[
        str | None,
        typer.Option(
            "--meeting", help="The meeting asked to consider it, e.g. 15MSP. Default: the next meeting."
        ),
    ] = None,
    meeting_on: Annotated[
        str | None, typer.Option("--meeting-on", help="That meeting's first day (with --meeting).")
    ] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """Submit a request; it goes to the Analysis Group of its article, before the meeting that considers it."""

    async def go() -> int:
        cfg = _load_config(config)
        art = _article(article)
        name = _state_name(cfg, state)
        requested = _months(years, months, "--years/--months")
        if requested is None:
            raise CliError("--years or --months: say how long an extension is requested", BAD_INPUT)
        today = local_date(_today(), cfg.defaults)
        on = _date_option(submitted_on, "--submitted-on") or today
        # Every date given is checked before anything is asked of Temporal.
        eif = _date_option(entry_into_force, "--entry-into-force")
        given_deadline = _date_option(deadline, "--deadline")
        given_meeting_on = _date_option(meeting_on, "--meeting-on")
        client = await connect()
        code = _convention(convention).code
        previous, current = await _previous(client, code, name, art)
        if eif is None:
            if previous is None:
                raise CliError("--entry-into-force: needed for a State's first request", BAD_INPUT)
            eif = (await _request_state(client, previous)).request.entry_into_force
        current = given_deadline or current or original_deadline(art, eif)
        previous = previous or await running_watch(client, code, art.value, name)  # the watch hands over
        req = _validated(
            ExtensionRequest,
            {
                "state": name,
                "article": art,
                "entry_into_force": eif,
                "current_deadline": current,
                "submitted_on": on,
                "requested_months": requested,
                "plan": plan,
                "reference": ref,
            },
            "reference",
            "request",
        )
        considered, after = await _meetings(client, cfg, meeting, given_meeting_on)
        try:
            check_request(req, considered, today)
        except Rejected as e:
            raise CliError(f"rejected: {e}", REJECTED) from None
        wid = extension_id(code, art, name, on.year)
        inp = ExtensionInput(
            convention=code,
            request=req,
            meeting=considered,
            next_meeting=after,
            webhook=cfg.notifications.webhook,
            previous=previous,
            states_parties=cfg.states_parties.names,
            aliases=cfg.states_parties.aliases,
        )
        attributes: list[SearchAttributePair[Any]] = [
            SearchAttributePair(sa.KIND, "extension"),
            SearchAttributePair(sa.CONVENTION, code),
            SearchAttributePair(sa.STATE, name),
            SearchAttributePair(sa.ARTICLE, art.value),
            SearchAttributePair(sa.PHASE, Status.IN_ANALYSIS.value),
            SearchAttributePair(sa.DUE_DATE, day_start(current, Defaults())),
        ]
        summary = f"Extension request: {name}, Article {art.value}, {on.year}"
        if not await _start_once(client, ExtensionRequestWorkflow.run, inp, wid, summary, attributes):
            raise CliError(
                f"{wid}: {name} already has a request under Article {art.value} submitted in {on.year}",
                REJECTED,
            )
        _echo(
            f"started {wid}: {name}, Article {art.value}, {describe_months(requested)} beyond {current}, "
            f"with the Article {art.value} Analysis Group"
        )
        if on > due_by(considered):
            _echo(
                f"LATE: due by {due_by(considered)} (nine months before the {considered.label} on "
                f"{considered.first_day}); it goes to the {after.label} unless the Presidency keeps it "
                "(`msp extensions keep`)"
            )
        else:
            _echo(f"on time for the {considered.label} ({considered.first_day}; due by {due_by(considered)})")
        if previous:
            _echo(f"follows {previous}, which stops watching its deadline")
        return OK

    _run(go)


async def _previous(
    client: Client, code: str, state: str, article: Article
) -> tuple[str | None, date | None]:
    """The State's request still running under the article, and the deadline it leaves; refuses one undecided."""
    for wf in await _requests(client, code, state, article):
        if wf.status != WorkflowExecutionStatus.RUNNING:
            continue
        s = await _request_state(client, wf.id)
        if s.status in OPEN:
            raise CliError(
                f"rejected: {state}'s request {wf.id} under Article {article.value} is still {s.status.value}: "
                "it is decided before another is submitted",
                REJECTED,
            )
        return str(wf.id), s.deadline
    return None, None


@extensions_app.command("analyse")
def extensions_analyse(
    state: StateOpt,
    article: ArticleOpt,
    summary: Annotated[str, typer.Option("--summary", help="What the Analysis Group concluded.")],
    ref: RefOpt,
    recommend_years: Annotated[
        int | None, typer.Option("--recommend-years", help="The period the group recommends, in years.")
    ] = None,
    recommend_months: Annotated[
        int | None, typer.Option("--recommend-months", help="The same, in months.")
    ] = None,
    year: YearOpt = None,
    decision_id: IdOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """Enter the Analysis Group's report on a request (again to revise it, until the request is decided)."""

    def message(_: CycleConfig) -> Analysis:
        fields = {
            "decision_id": decision_id or _new_id(),
            "reference": ref,
            "summary": summary,
            "recommended_months": _months(
                recommend_years, recommend_months, "--recommend-years/--recommend-months"
            ),
        }
        return _validated(Analysis, fields, "decision_id", "decision")

    _update(convention, config, state, article, year, ExtensionRequestWorkflow.analyse, message)


@extensions_app.command("decide")
def extensions_decide(
    state: StateOpt,
    article: ArticleOpt,
    ref: RefOpt,
    granted: Annotated[
        bool, typer.Option("--granted/--not-granted", help="Granted (the default) or not granted.")
    ] = True,
    grant_years: Annotated[
        int | None, typer.Option("--grant-years", help="The period granted, in years. Default: as requested.")
    ] = None,
    grant_months: Annotated[
        int | None, typer.Option("--grant-months", help="The period granted, in months.")
    ] = None,
    benchmark: Annotated[
        list[str] | None, typer.Option("--benchmark", help="A benchmark the meeting set (repeat for more).")
    ] = None,
    by_silence_until: Annotated[
        str | None,
        typer.Option(
            "--by-silence-until",
            help="Between meetings: put the decision to a silence procedure ending then ('YYYY-MM-DD' at 23:59 "
            "Geneva time, or 'YYYY-MM-DD HH:MM'). Without it the decision is the meeting's, entered while it sits.",
        ),
    ] = None,
    procedure: Annotated[
        str | None,
        typer.Option("--procedure", help="The silence procedure's id. Default: made from the request."),
    ] = None,
    initiator: Annotated[
        str, typer.Option("--initiator", help="Who circulates the silence procedure.")
    ] = "the President",
    year: YearOpt = None,
    decision_id: IdOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """Decide a request: at the meeting that considers it, while it sits, or by silence procedure between meetings."""
    months = _months(grant_years, grant_months, "--grant-years/--grant-months")
    base: dict[str, Any] = {
        "decision_id": decision_id or _new_id(),
        "reference": ref,
        "granted": granted,
        "months": months,
        "benchmarks": benchmark or [],
    }
    if by_silence_until is None:
        _update(
            convention,
            config,
            state,
            article,
            year,
            ExtensionRequestWorkflow.decide,
            lambda _: _validated(Decide, base, "decision_id", "decision"),
        )
        return

    def proposal(cfg: CycleConfig) -> ProposeBySilence:
        try:
            deadline = parse_local_instant(by_silence_until, cfg.defaults)
        except ValueError as e:
            raise CliError(f"--by-silence-until: {e}", BAD_INPUT) from None
        if not cfg.states_parties.names:
            raise CliError(
                f"{config}: states_parties.names is empty: a silence procedure needs the States Parties who may "
                "break it",
                BAD_INPUT,
            )
        stamp = deadline.strftime("%Y%m%d")
        pid = procedure or f"art{article}-{_state_name(cfg, state).lower()}-{stamp}"
        pid = "".join(c if c.isalnum() else "-" for c in pid.lower()).strip("-")[:80]
        fields = base | {
            "procedure_id": pid,
            "initiator": initiator,
            "deadline": deadline,
            "states_parties": cfg.states_parties.names,
            "aliases": cfg.states_parties.aliases,
        }
        return _validated(ProposeBySilence, fields, "decision_id", "decision")

    _update(convention, config, state, article, year, ExtensionRequestWorkflow.put_to_silence, proposal)


@extensions_app.command("keep")
def extensions_keep(
    state: StateOpt,
    article: ArticleOpt,
    ref: RefOpt,
    year: YearOpt = None,
    decision_id: IdOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """Keep a late request at the meeting it was submitted for (the Presidency's call)."""
    fields = {"decision_id": decision_id or _new_id(), "reference": ref}
    _update(
        convention,
        config,
        state,
        article,
        year,
        ExtensionRequestWorkflow.keep_at_meeting,
        lambda _: _validated(KeepAtMeeting, fields, "decision_id", "decision"),
    )


@extensions_app.command("complete")
def extensions_complete(
    state: StateOpt,
    article: ArticleOpt,
    ref: RefOpt,
    on: Annotated[
        str | None, typer.Option("--on", help="The day completion was reached. Default: today.")
    ] = None,
    year: YearOpt = None,
    decision_id: IdOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record the State's declaration of completion: the request is closed and its deadline no longer watched."""

    def message(cfg: CycleConfig) -> DeclareCompletion:
        day = _date_option(on, "--on") or local_date(_today(), cfg.defaults)
        fields = {"decision_id": decision_id or _new_id(), "reference": ref, "completed_on": day}
        return _validated(DeclareCompletion, fields, "decision_id", "decision")

    _update(convention, config, state, article, year, ExtensionRequestWorkflow.declare_completion, message)


def _row(wid: str, execution: str, s: ExtensionState | None, attrs: TypedSearchAttributes) -> dict[str, Any]:
    due = attrs.get(sa.DUE_DATE)
    return {
        "workflow_id": wid,
        "state": s.request.state if s else attrs.get(sa.STATE),
        "article": s.request.article.value if s else attrs.get(sa.ARTICLE),
        "status": s.status.value if s else (attrs.get(sa.PHASE) or execution),
        "meeting": s.meeting.label if s else attrs.get(sa.MEETING),
        "late": s.late if s else None,
        "deadline": str(s.deadline) if s else (str(local_date(due, Defaults())) if due else None),
        "requested": describe_months(s.request.requested_months) if s else None,
        "analysis": s.analysis.reference if s and s.analysis else None,
        "silence": s.silence if s else None,
        "decision": s.decision.model_dump(mode="json") if s and s.decision else None,
        "next_notification": s.upcoming.model_dump(mode="json") if s and s.upcoming else None,
        "rejected": s.rejected if s else None,
        **_attention(s.undeliverable if s else None, attrs),
        "execution_status": execution,
    }


@extensions_app.command("list")
def extensions_list(
    state: Annotated[str | None, typer.Option("--state", help="Only this State's requests.")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """Every extension request: its status, the meeting that considers it, the deadline in force."""

    async def go() -> int:
        code = _convention(convention).code
        name = _state_name(_load_config(config), state) if state else None
        client = await connect()
        rows = []
        for wf in await _requests(client, code, name):
            execution = wf.status.name.lower() if wf.status is not None else "unknown"
            s = await _request_state(client, wf.id) if wf.status == WorkflowExecutionStatus.RUNNING else None
            rows.append(_row(wf.id, execution, s, wf.typed_search_attributes))
        rows.sort(key=lambda r: (r["state"] or "", r["article"] or "", r["workflow_id"]))
        if as_json:
            _echo(json.dumps({"convention": code, "requests": rows}, indent=2))
            return OK
        if not rows:
            _echo(f"no extension requests for {code}; `msp extensions submit` starts one")
            return OK
        lines = [f"Extension requests of {code} ({len(rows)})"]
        lines += _table(
            [
                (
                    r["state"] or "-",
                    r["article"] or "-",
                    r["status"] + (" (late)" if r["late"] else ""),
                    r["meeting"] or "-",
                    r["deadline"] or "-",
                    f"{r['next_notification']['kind']} on {r['next_notification']['on']}"
                    if r["next_notification"]
                    else "-",
                    _attention_cell(r),
                    r["workflow_id"],
                )
                for r in rows
            ],
            header=(
                "STATE",
                "ART.",
                "STATUS",
                "MEETING",
                "DEADLINE",
                "NEXT NOTIFICATION",
                "ATTENTION",
                "WORKFLOW",
            ),
        )
        _echo("\n".join(lines))
        return OK

    _run(go)


@extensions_app.command("show")
def extensions_show(
    state: StateOpt,
    article: ArticleOpt,
    year: YearOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """One request in full: the request, its analysis, the decision, the deadline watched and what was sent."""

    async def go() -> int:
        code = _convention(convention).code
        name = _state_name(_load_config(config), state)
        art = _article(article)
        client = await connect()
        wid = await _target(client, code, name, art, year)
        s = await _request_state(client, wid)
        if as_json:
            _echo(s.model_dump_json(indent=2))
            return OK
        _echo(f"{wid}\n" + extension_details(s).replace("**", ""))
        if s.sent:
            _echo("Sent: " + "; ".join(f"{r.kind} on {r.on}" for r in s.sent))
        return OK

    _run(go)
