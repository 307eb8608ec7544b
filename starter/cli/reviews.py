"""`msp reviews`: mandated reviews (ReviewWorkflow, `ccm-review-hosting-agreement`): what falls due when, who was
reminded, and the decisions that conclude them. `msp cycle start` starts those of the configuration."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError
from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

from domain import search_attributes as sa
from domain.bounds import quote
from domain.calendar import day_start, local_date
from domain.config import CycleConfig
from domain.ids import review_id
from domain.models import STANDARD_DEFAULTS, Convention
from domain.reviews import (
    Conclude,
    Periodicity,
    ReviewInput,
    ReviewState,
    Subject,
    WithdrawReview,
    parse_periodicity,
)
from runtime.connect import connect
from starter.cli.calls import already_started, each, listed, query_state, start_once, state_if_running
from starter.cli.commands import Decisions, Fields, Shown, Views, option
from starter.cli.common import (
    BAD_INPUT,
    NOT_RUNNING,
    CliError,
    RefOpt,
    attention,
    attention_cell,
    checked,
    columns,
    convention_of,
    echo,
    execution,
    group,
    kind_attributes,
    name_options,
    next_notification_cell,
    one_line,
    section,
    table,
    today_in_geneva,
    undeliverable_lines,
)
from starter.cli.send import Locate, found
from workflows.review import ReviewWorkflow

app = group("Mandated reviews: what falls due when, who was reminded, and the decisions that conclude them.")

name_options("outcome next")

SubjectArg = Annotated[str, typer.Argument(help="The review's subject, e.g. hosting-agreement.")]
SUBJECT: TypeAdapter[str] = TypeAdapter(Subject)


async def start_reviews(client: Client, cfg: CycleConfig) -> None:
    """Starts every review of the configuration that has not been started; one line for each."""
    code = cfg.convention.code
    for spec in cfg.reviews:
        wid = review_id(code, spec.subject)
        attrs = kind_attributes(
            sa.Kind.REVIEW,
            code,
            SearchAttributePair(sa.PHASE, "pending"),
            SearchAttributePair(sa.DUE_DATE, day_start(spec.due.on, cfg.defaults)),
            *([SearchAttributePair(sa.MEETING, spec.due.meeting)] if spec.due.meeting else []),
        )
        inp = ReviewInput(
            convention=code,
            spec=spec,
            webhook=cfg.notifications.webhook,
            cadence_years=cfg.defaults.review_conference_cadence_years,
            defaults=cfg.defaults,
        )
        # A review concluded or withdrawn is not started again; set at start, its attributes let its meeting find it.
        if not await start_once(client, ReviewWorkflow.run, inp, wid, f"Review: {spec.title}", attrs):
            echo(await already_started(client, wid, f"review {spec.subject}", _phase))
            continue
        echo(f"started {wid}: review of {spec.title}, due {spec.due.describe()}")


def _phase(desc: WorkflowExecutionDescription) -> str:
    return desc.typed_search_attributes.get(sa.PHASE) or "ended"


def no_review(code: str, subject: str) -> CliError:
    return CliError(f"no review {subject} for {code}; `msp reviews list` shows them", NOT_RUNNING)


def review_ended(subject: str, phase: str | None = None) -> CliError:
    how = phase if phase in ("concluded", "withdrawn") else "withdrawn/concluded"
    return CliError(f"the review {subject} is {how} and no longer running", NOT_RUNNING)


def review_gone(code: str, subject: str, e: RPCError) -> CliError:
    """An update found no running review: it ended since it was looked up, or never was."""
    if "completed" in e.message:
        return review_ended(subject)
    return no_review(code, subject)


async def review_state(client: Client, code: str, subject: str) -> ReviewState:
    return await query_state(client, review_id(code, subject), ReviewWorkflow.state, no_review(code, subject))


def review_at(conv: Convention, subject: str) -> Locate:
    name = checked(SUBJECT, subject.strip(), "SUBJECT")
    ended = lambda desc: review_ended(name, desc.typed_search_attributes.get(sa.PHASE))  # noqa: E731
    missing = no_review(conv.code, name)
    return found(review_id(conv.code, name), lambda e: review_gone(conv.code, name, e), missing, ended)


decisions = Decisions(app, review_at, lead=(option("subject", SubjectArg),))
views = Views(app)


def due_text(s: ReviewState) -> str:
    return s.spec.due.model_copy(update={"on": s.due}).describe()


def review_row(
    subject: str, wid: str, status: str, s: ReviewState | None, today: date, attrs: TypedSearchAttributes
) -> dict[str, Any]:
    """One row of `msp reviews list`: from the review's state when it runs, else its search attributes."""
    due: date | None
    if s is not None:
        due = s.due
        phase = s.status.value
        meeting = s.spec.due.meeting
        upcoming = {"kind": s.upcoming.kind, "on": str(s.upcoming.on)} if s.upcoming else None
    else:
        at = attrs.get(sa.DUE_DATE)
        due = local_date(at, STANDARD_DEFAULTS) if at is not None else None
        phase = attrs.get(sa.PHASE) or "unknown"
        meeting = attrs.get(sa.MEETING)
        upcoming = None
    return {
        "subject": subject,
        "id": wid,
        "execution_status": status,
        "status": phase,
        "due": str(due) if due is not None else None,
        "days_left": (due - today).days if due is not None else None,
        "meeting": meeting,
        "due_point": due_text(s) if s is not None else None,
        "cycle": s.cycle if s is not None else None,
        "next_notification": upcoming,
        **attention(s.undeliverable if s is not None else None, attrs),
    }


async def review_list(client: Client, code: str) -> list[dict[str, Any]]:
    prefix = review_id(code, "")
    today = today_in_geneva()
    # A review concluded with a periodicity continues as new under the same id: its latest run stands for it.
    found = await listed(client, sa.Kind.REVIEW, code, "reviews")
    states = await each(
        found, lambda wf: state_if_running(wf, review_state, client, code, wf.id.removeprefix(prefix))
    )
    rows = [
        review_row(
            wf.id.removeprefix(prefix), wf.id, execution(wf.status), state, today, wf.typed_search_attributes
        )
        for wf, state in zip(found, states, strict=True)
    ]
    rows.sort(key=lambda r: (r["due"] or "9999", r["subject"]))
    return rows


REVIEW_COLUMNS: list[tuple[str, Any]] = [
    ("SUBJECT", lambda r: r["subject"]),
    ("DUE", lambda r: r["due"] or "-"),
    ("DAYS LEFT", lambda r: str(r["days_left"]) if r["days_left"] is not None else "-"),
    ("STATUS", lambda r: r["status"]),
    ("MEETING", lambda r: r["meeting"] or "-"),
    ("NEXT NOTIFICATION", next_notification_cell),
    ("ATTENTION", attention_cell),
    ("WORKFLOW", lambda r: r["execution_status"]),
]


def reviews_text(code: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return f"no reviews for {code}; `msp cycle start` starts those of the configuration"
    title = f"Reviews of {code} ({len(rows)}; as of {today_in_geneva()})"
    return "\n".join([title, *columns(rows, REVIEW_COLUMNS)])


def review_text(wid: str, s: ReviewState) -> str:
    spec = s.spec
    today = today_in_geneva()
    rows = [
        ("Review", f"{spec.subject}: {spec.title} ({wid})"),
        ("Mandate", f"{spec.mandate.decided_by}, {spec.mandate.reference}"),
        ("Due", f"{due_text(s)}; {(s.due - today).days} days left (as of {today})"),
        ("Status", f"{s.status.value}, review number {s.cycle}"),
        ("Periodicity", spec.periodicity.describe() if spec.periodicity else "not decided"),
        ("Upcoming", f"{s.upcoming.kind} on {s.upcoming.on}" if s.upcoming else "none"),
    ]
    lines = table(rows)
    lines += section(
        f"Notifications sent ({len(s.sent)})",
        table([(str(r.on), r.kind, r.text) for r in s.sent]) if s.sent else [],
        "none yet",
    )
    lines += undeliverable_lines(s.undeliverable)
    history = [
        (
            str(h.cycle),
            str(h.due),
            str(h.concluded_on),
            h.reference,
            h.next.describe() if h.next else "-",
            one_line(h.outcome),
        )
        for h in s.history
    ]
    header = ("#", "DUE", "CONCLUDED", "REFERENCE", "NEXT", "OUTCOME")
    lines += section(f"Conclusions ({len(s.history)})", table(history, header) if history else [], "none yet")
    return "\n".join(lines)


@views.command("list")
async def reviews_list(convention: str) -> Shown:
    """List the reviews, running and ended, by due date: days left, status, meeting, next notification."""
    conv = convention_of(convention)
    client = await connect()
    rows = await review_list(client, conv.code)
    return Shown(
        lambda: {"convention": conv.code, "as_of": str(today_in_geneva()), "reviews": rows},
        lambda: reviews_text(conv.code, rows),
    )


@views.command("show")
async def reviews_show(subject: SubjectArg, convention: str) -> Shown:
    """Show one review: mandate, due point, status, periodicity, notifications, conclusions."""
    conv = convention_of(convention)
    name = checked(SUBJECT, subject.strip(), "SUBJECT")
    client = await connect()
    state = await review_state(client, conv.code, name)
    wid = review_id(conv.code, name)
    return Shown(
        lambda: {"id": wid, "due_point": due_text(state), **state.model_dump(mode="json")},
        lambda: review_text(wid, state),
    )


def periodicity_option(text: str | None) -> Periodicity | None:
    if text is None:
        return None
    try:
        return parse_periodicity(text)
    except ValidationError as e:
        reason = "; ".join(str(err["msg"]).removeprefix("Value error, ") for err in e.errors())
        raise CliError(f"--next: {one_line(reason)} (got {quote(text)})", BAD_INPUT) from None
    except ValueError as e:
        raise CliError(f"--next: {one_line(str(e))}", BAD_INPUT) from None


@decisions.command("conclude", ReviewWorkflow.conclude, Conclude)
def reviews_conclude(
    outcome: Annotated[str, typer.Option("--outcome", help="What the States Parties concluded.")],
    ref: RefOpt,
    next_: Annotated[
        str | None,
        typer.Option(
            "--next",
            help="When the next review falls: 'every N years' or 'at every Review Conference'. "
            "Default: the periodicity already decided, if any (without one, no next review).",
        ),
    ] = None,
) -> Fields:
    """Conclude a review; with a periodicity, the next review of the subject starts at once."""
    return {"reference": ref, "outcome": outcome, "next": periodicity_option(next_)}


@decisions.command("withdraw", ReviewWorkflow.withdraw, WithdrawReview)
def reviews_withdraw(ref: RefOpt) -> Fields:
    """Withdraw a review the States Parties no longer require; it ends without a conclusion."""
    return {"reference": ref}
