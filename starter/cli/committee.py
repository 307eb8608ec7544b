"""`msp committee`: the Coordination Committee (CommitteeWorkflow, `ccm-committee`): who sits on it, the
coordinators' mandates, its meetings, the tasks it gives its coordinators and their workload, the Analysis Groups.
`msp cycle start` starts it beside the Presidency."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from temporalio.client import Client
from temporalio.common import SearchAttributePair

from domain import committee as rules
from domain import search_attributes as sa
from domain.committee_models import (
    CALLED_ON,
    INVITED,
    AddGroupMember,
    Appoint,
    AssignTask,
    CommitteeState,
    CompleteTask,
    RecordMeeting,
    RemoveGroupMember,
    Renew,
    ScheduleMeeting,
    Theme,
)
from domain.config import CycleConfig, committee_state
from domain.ids import committee_id
from domain.models import Convention
from domain.views import workload
from runtime.connect import connect
from starter.cli.calls import already_started, query_state, running, start_once
from starter.cli.commands import Decisions, Fields, Shown, Views
from starter.cli.common import (
    NOT_RUNNING,
    ArticleOpt,
    CliError,
    RefOpt,
    columns,
    convention_of,
    date_option,
    echo,
    group,
    kind_attributes,
    name_options,
    one_line,
    section,
    table,
    undeliverable_lines,
)
from starter.cli.send import Locate, Target
from workflows.committee import CommitteeWorkflow

app = group("The Coordination Committee: members, mandates, meetings, tasks and workload, Analysis Groups.")
group_app = typer.Typer(help="The Analysis Groups (Article 3, Article 4): who analyses extension requests.")
app.add_typer(group_app, name="group")

name_options("theme person agenda attended conclusions title task member meeting article", states="--state")

ThemeOpt = Annotated[
    str, typer.Option("--theme", help=f"The coordinators' theme: {', '.join(t.value for t in Theme)}.")
]
MemberOpt = Annotated[str, typer.Option("--member", help="The member: a State, or a person and their State.")]


async def start_committee(client: Client, cfg: CycleConfig) -> None:
    """Starts the committee of the configuration's first term unless it runs; the Presidency tells it the rest."""
    state = committee_state(cfg)
    wid = committee_id(state.convention)
    attrs = kind_attributes(sa.Kind.COMMITTEE, state.convention, SearchAttributePair(sa.TERM, state.term))
    summary = "Coordination Committee: one run per presidential term"
    if await start_once(client, CommitteeWorkflow.run, state, wid, summary, attrs):
        echo(f"started {wid}: the Coordination Committee of term {state.term}")
    else:
        echo(await already_started(client, wid, "committee", lambda _: "ended"))


def no_committee(code: str) -> CliError:
    wid = committee_id(code)
    return CliError(
        f"no Coordination Committee is running for {code} ({wid}); start it with `msp cycle start`",
        NOT_RUNNING,
    )


async def committee(client: Client, code: str) -> CommitteeState:
    return await query_state(client, committee_id(code), CommitteeWorkflow.state, no_committee(code))


def committee_at(conv: Convention) -> Locate:
    """The committee, refused before anything is sent when it does not run."""

    async def locate(client: Client) -> Target[CommitteeWorkflow]:
        wid = committee_id(conv.code)
        await running(client, wid, no_committee(conv.code), lambda _: no_committee(conv.code))
        handle = client.get_workflow_handle_for(CommitteeWorkflow.run, wid)
        return Target(handle, lambda _: no_committee(conv.code))

    return locate


decisions = Decisions(app, committee_at)
group_decisions = Decisions(group_app, committee_at)
views = Views(app)


def status_text(s: CommitteeState) -> str:
    p = s.presidency
    lines = [f"Coordination Committee of {s.convention}, term {p.term} (to the {p.meeting})", ""]
    lines += table(rules.members(s), header=("MEMBER", "WHO"))
    lines += ["", f"Invited: {', '.join(INVITED)}", f"Called on: {', '.join(CALLED_ON)}"]
    mandates = [(c.theme.value, c.who(), rules.mandate_text(s, c), c.reference) for c in s.coordinators]
    lines += section(
        "Mandates",
        table(mandates, header=("THEME", "COORDINATORS", "MANDATE", "REFERENCE")) if mandates else [],
        "no coordinators appointed yet",
    )
    if s.renewals:
        lines += ["", f"RENEWAL DUE: {', '.join(t.value for t in s.renewals)}"]
    meetings = [
        (
            str(m.number),
            str(m.on),
            one_line(m.agenda)[:60],
            f"recorded {m.recorded_on}" if m.recorded_on else "record to enter",
        )
        for m in s.meetings
    ]
    lines += section(
        "Meetings",
        table(meetings, header=("#", "ON", "AGENDA", "RECORD")) if meetings else [],
        "none scheduled",
    )
    tasks = [(str(t.number), t.theme.value, t.title, str(t.due), t.status.value) for t in s.tasks]
    lines += section(
        "Tasks",
        table(tasks, header=("#", "THEME", "TITLE", "DUE", "STATUS")) if tasks else [],
        "none assigned",
    )
    groups = [(f"Article {a.value}", ", ".join(g) or "-") for a, g in sorted(s.groups.items())]
    lines += section("Analysis Groups", table(groups), "none")
    lines += undeliverable_lines(s.undeliverable)
    return "\n".join(lines)


@views.command("status")
async def committee_status(convention: str) -> Shown:
    """Show the committee: members (derived from the Presidency), invited, mandates, meetings, tasks, groups."""
    conv = convention_of(convention)
    s = await committee(await connect(), conv.code)
    return Shown(
        lambda: {"id": committee_id(conv.code), "members": rules.members(s), **s.model_dump(mode="json")},
        lambda: status_text(s),
    )


WORKLOAD_COLUMNS: list[tuple[str, Any]] = [
    ("THEME", lambda w: w.theme.value),
    ("COORDINATORS", lambda w: w.coordinators),
    ("OPEN", lambda w: str(w.open)),
    ("OVERDUE", lambda w: str(w.overdue)),
    ("TASKS", lambda w: "; ".join(w.tasks) or "-"),
]


@views.command("workload")
async def committee_workload(convention: str) -> Shown:
    """Each coordinator's open tasks, and how many are overdue."""
    conv = convention_of(convention)
    rows = workload(await committee(await connect(), conv.code))
    return Shown(
        lambda: [w.model_dump(mode="json") for w in rows],
        lambda: "\n".join(columns(rows, WORKLOAD_COLUMNS)) if rows else "no coordinators appointed yet",
    )


@decisions.command("appoint", CommitteeWorkflow.appoint, Appoint)
def committee_appoint(
    theme: ThemeOpt,
    state: Annotated[
        list[str], typer.Option("--state", help="A State coordinating the theme (repeat for more).")
    ],
    ref: RefOpt,
    person: Annotated[
        str | None, typer.Option("--person", help="The person who coordinates, if named.")
    ] = None,
) -> Fields:
    """Appoint a theme's coordinators: two years for a main theme, one renewable year for transparency and national
    implementation measures."""
    return {"reference": ref, "theme": theme, "states": state, "person": person}


@decisions.command("renew", CommitteeWorkflow.renew, Renew)
def committee_renew(theme: ThemeOpt, ref: RefOpt) -> Fields:
    """Renew a one-year mandate (transparency, national implementation measures) for another year."""
    return {"reference": ref, "theme": theme}


@decisions.command("schedule", CommitteeWorkflow.schedule_meeting, ScheduleMeeting)
def committee_schedule(
    on: Annotated[str, typer.Option("--on", help="The meeting's date (YYYY-MM-DD).")],
    agenda: Annotated[str, typer.Option("--agenda", help="The agenda.")],
    ref: RefOpt,
) -> Fields:
    """Schedule a meeting of the committee; its members and invitees are sent an invitation."""
    return {"reference": ref, "on": date_option(on, "--on"), "agenda": agenda}


@decisions.command("record", CommitteeWorkflow.record_meeting, RecordMeeting)
def committee_record(
    meeting: Annotated[int, typer.Option("--meeting", help="The meeting's number, as `schedule` gave it.")],
    attended: Annotated[list[str], typer.Option("--attended", help="Who attended (repeat for each).")],
    conclusions: Annotated[str, typer.Option("--conclusions", help="What the meeting concluded.")],
    ref: RefOpt,
) -> Fields:
    """Enter the record of a meeting once it has met: who attended, what it concluded."""
    return {"reference": ref, "meeting": meeting, "attended": attended, "conclusions": conclusions}


@decisions.command("assign", CommitteeWorkflow.assign_task, AssignTask)
def committee_assign(
    theme: ThemeOpt,
    title: Annotated[str, typer.Option("--title", help="What the coordinators are to do.")],
    due: Annotated[str, typer.Option("--due", help="When it is due (YYYY-MM-DD).")],
    ref: RefOpt,
) -> Fields:
    """Give a theme's coordinators a task with a due date: reminded before it, escalated the day after."""
    return {"reference": ref, "theme": theme, "title": title, "due": date_option(due, "--due")}


@decisions.command("complete", CommitteeWorkflow.complete_task, CompleteTask)
def committee_complete(
    task: Annotated[int, typer.Option("--task", help="The task's number, as `assign` gave it.")],
    ref: RefOpt,
    outcome: Annotated[str | None, typer.Option("--outcome", help="What came of it.")] = None,
) -> Fields:
    """Mark a task done."""
    return {"reference": ref, "task": task, "outcome": outcome}


@group_decisions.command("add", CommitteeWorkflow.add_group_member, AddGroupMember)
def committee_group_add(article: ArticleOpt, member: MemberOpt, ref: RefOpt) -> Fields:
    """Add a member to the Analysis Group of an article."""
    return {"reference": ref, "article": str(article), "member": member}


@group_decisions.command("remove", CommitteeWorkflow.remove_group_member, RemoveGroupMember)
def committee_group_remove(article: ArticleOpt, member: MemberOpt, ref: RefOpt) -> Fields:
    """Remove a member from the Analysis Group of an article."""
    return {"reference": ref, "article": str(article), "member": member}
