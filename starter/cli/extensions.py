"""`msp extensions`: requests for more time under Article 3 or 4, from submission to decision and after.

A request is found by its State and article (the one still running), or by the year it was submitted (`--year`):
`starter/cli/extension_requests.py`. The treaty's limits are checked here before anything is started, and again by
the workflow's validators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from temporalio.client import Client

from domain.bounds import plain
from domain.calendar import local_date, parse_local_instant
from domain.committee import group_member
from domain.config import CycleConfig
from domain.decisions import Decision, Rejected
from domain.extensions import (
    Analysis,
    Article,
    Decide,
    DeclareCompletion,
    ExtensionRequest,
    KeepAtMeeting,
    ProposeBySilence,
    check_request,
    original_deadline,
)
from domain.views import extension_details
from runtime.connect import connect
from starter.cli import extension_requests as found
from starter.cli.calls import state_if_running
from starter.cli.committee import committee as committee_state
from starter.cli.common import (
    BAD_INPUT,
    DEFAULT_CONFIG,
    OK,
    REJECTED,
    ArticleOpt,
    CliError,
    ConfigOpt,
    ConventionOpt,
    IdOpt,
    JsonOpt,
    RefOpt,
    columns,
    convention_of,
    date_option,
    decided,
    echo,
    echo_json,
    execution,
    group,
    load_config,
    run,
    states_parties,
    today,
    validated,
)
from starter.cli.register import running_watch
from workflows.extension import ExtensionRequestWorkflow

app = group(
    "Extension requests under Articles 3 and 4: submit, analyse, decide (at the meeting or by silence "
    "procedure), declare completion, list."
)

StateOpt = Annotated[str, typer.Option("--state", help="The State Party, as the configuration names it.")]
YearOpt = Annotated[
    int | None,
    typer.Option(
        "--year", help="The year the request was submitted. Default: the State's request still running."
    ),
]


@app.command("submit")
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
        cfg = load_config(config)
        art = found.article_of(article)
        name = found.state_name(cfg, state)
        requested = found.months(years, months, "--years/--months")
        if requested is None:
            raise CliError("--years or --months: say how long an extension is requested", BAD_INPUT)
        now = local_date(today(), cfg.defaults)
        on = date_option(submitted_on, "--submitted-on") or now
        # Every date given is checked before anything is asked of Temporal.
        eif = date_option(entry_into_force, "--entry-into-force")
        given_deadline = date_option(deadline, "--deadline")
        given_meeting_on = date_option(meeting_on, "--meeting-on")
        client = await connect()
        code = convention_of(convention).code
        previous, current = await found.previous(client, code, name, art)
        if eif is None:
            if previous is None:
                raise CliError("--entry-into-force: needed for a State's first request", BAD_INPUT)
            eif = (await found.request_state(client, previous)).request.entry_into_force
        current = given_deadline or current or original_deadline(art, eif)
        previous = previous or await running_watch(client, code, art.value, name)  # the watch hands over
        fields = {
            "state": name,
            "article": art,
            "entry_into_force": eif,
            "current_deadline": current,
            "submitted_on": on,
            "requested_months": requested,
            "plan": plan,
            "reference": ref,
        }
        req = validated(ExtensionRequest, fields, "request", "reference")
        considered, after = await found.meetings(client, cfg, meeting, given_meeting_on)
        try:
            check_request(req, considered, now)
        except Rejected as e:
            raise CliError(f"rejected: {e}", REJECTED) from None
        echo(await found.start(client, cfg, code, name, req, (considered, after), previous))
        return OK

    run(go)


@app.command("analyse")
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
    reported_by: Annotated[
        str | None,
        typer.Option(
            "--reported-by",
            help="The member of the article's Analysis Group who reported, as `msp committee status` lists them.",
        ),
    ] = None,
    year: YearOpt = None,
    decision_id: IdOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """Enter the Analysis Group's report on a request (again to revise it, until the request is decided)."""

    def message(_: CycleConfig) -> Analysis:
        recommended = found.months(recommend_years, recommend_months, "--recommend-years/--recommend-months")
        fields = {"summary": summary, "recommended_months": recommended, "reported_by": reported_by}
        return decided(Analysis, decision_id, ref, **fields)

    async def member(client: Client, article: Article) -> None:
        # The committee keeps the groups: checked there before anything is sent, so a refusal changes nothing.
        if reported_by is not None:
            s = await committee_state(client, convention_of(convention).code)
            try:
                group_member(s, article, reported_by)
            except Rejected as e:
                raise CliError(f"rejected: --reported-by: {e}", REJECTED) from None

    found.request_decision(
        convention, config, state, article, year, ExtensionRequestWorkflow.analyse, message, member
    )


@app.command("decide")
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

    def base() -> dict[str, Any]:
        period = found.months(grant_years, grant_months, "--grant-years/--grant-months")
        return {"granted": granted, "months": period, "benchmarks": benchmark or []}

    def decision(_: CycleConfig) -> Decide:
        return decided(Decide, decision_id, ref, **base())

    def proposal(cfg: CycleConfig) -> ProposeBySilence:
        fields = base()
        assert by_silence_until is not None
        try:
            deadline = parse_local_instant(by_silence_until, cfg.defaults)
        except ValueError as e:
            raise CliError(f"--by-silence-until: {e}", BAD_INPUT) from None
        names = states_parties(cfg, config, "break it")
        stamp = deadline.strftime("%Y%m%d")
        pid = procedure or f"art{article}-{found.state_name(cfg, state).lower()}-{stamp}"
        pid = "".join(c if c.isalnum() else "-" for c in pid.lower()).strip("-")[:80]
        fields |= {"procedure_id": pid, "initiator": initiator, "deadline": deadline, "states_parties": names}
        fields["aliases"] = cfg.states_parties.aliases
        fields["roster"] = cfg.states_parties.roster
        return decided(ProposeBySilence, decision_id, ref, **fields)

    if by_silence_until is None:
        update: Any = ExtensionRequestWorkflow.decide
        message: Callable[[CycleConfig], Decision] = decision
    else:
        update, message = ExtensionRequestWorkflow.put_to_silence, proposal
    found.request_decision(convention, config, state, article, year, update, message)


@app.command("keep")
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
    found.request_decision(
        convention,
        config,
        state,
        article,
        year,
        ExtensionRequestWorkflow.keep_at_meeting,
        lambda _: decided(KeepAtMeeting, decision_id, ref),
    )


@app.command("complete")
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
        day = date_option(on, "--on") or local_date(today(), cfg.defaults)
        return decided(DeclareCompletion, decision_id, ref, completed_on=day)

    found.request_decision(
        convention, config, state, article, year, ExtensionRequestWorkflow.declare_completion, message
    )


@app.command("list")
def extensions_list(
    state: Annotated[str | None, typer.Option("--state", help="Only this State's requests.")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = DEFAULT_CONFIG,
    convention: ConventionOpt = "ccm",
) -> None:
    """Every extension request: its status, the meeting that considers it, the deadline in force."""

    async def go() -> int:
        code = convention_of(convention).code
        name = found.state_name(load_config(config), state) if state else None
        client = await connect()
        rows = []
        for wf in await found.requests(client, code, name):
            s = await state_if_running(wf, found.request_state, client, wf.id)
            rows.append(found.row(wf.id, execution(wf.status), s, wf.typed_search_attributes))
        rows.sort(key=lambda r: (r["state"] or "", r["article"] or "", r["workflow_id"]))
        if as_json:
            # Non-ASCII escaped, as this command always printed it.
            echo_json({"convention": code, "requests": rows}, ensure_ascii=True)
        elif not rows:
            echo(f"no extension requests for {code}; `msp extensions submit` starts one")
        else:
            echo(
                "\n".join(
                    [f"Extension requests of {code} ({len(rows)})", *columns(rows, found.REQUEST_COLUMNS)]
                )
            )
        return OK

    run(go)


@app.command("show")
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
        code = convention_of(convention).code
        name = found.state_name(load_config(config), state)
        art = found.article_of(article)
        client = await connect()
        wid = await found.target(client, code, name, art, year)
        s = await found.request_state(client, wid)
        if as_json:
            echo(s.model_dump_json(indent=2))
            return OK
        echo(f"{wid}\n" + plain(extension_details(s)))
        if s.sent:
            echo("Sent: " + "; ".join(f"{r.kind} on {r.on}" for r in s.sent))
        return OK

    run(go)
