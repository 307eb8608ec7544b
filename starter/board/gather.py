"""What the board and the calendar show, read afresh on every request: visibility lists (by search attribute) and
the workflows' own queries, through the same calls as `msp`. Nothing is kept between requests.

A part that cannot be read (a workflow without a worker, a list the server refuses) is named in ``problems`` and
the rest of the page is still shown.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from domain import search_attributes as sa
from domain.bounds import chf
from domain.calendar import local_date, local_text, months_later
from domain.extensions import due_by
from domain.ids import document_id, funds_id, meeting_id, presidency_id
from domain.meeting import Interpretation, MeetingState
from domain.models import STANDARD_DEFAULTS, Convention, MeetingPlan
from domain.queue import waiting
from domain.watch import ENDED, REQUEST_LEAD_MONTHS
from starter.cli import extension_requests as requests
from starter.cli.calls import each, listed, presidency_state, query_if_any, rpc_error
from starter.cli.common import ANSWER_TIMEOUT, CliError
from starter.cli.reports import report_list
from starter.cli.reviews import review_list
from starter.cli.silence_text import procedure_list
from starter.timeline import Mark
from workflows.document import DocumentWorkflow
from workflows.funds import MeetingFundsWorkflow
from workflows.meeting import MeetingWorkflow
from workflows.watch import DeadlineWatchWorkflow

SILENCE_SOON = timedelta(days=7)
DEADLINE_MONTHS = 15
TIMELINE_MONTHS = 24


@dataclass(frozen=True)
class Dated:
    """One thing on a day: a calendar event and a mark on the timeline. ``wid`` and ``what`` name it for good (the
    calendar's UID), whatever its date; ``at``: an instant, for what ends at a time of day (a silence deadline)."""

    wid: str
    what: str
    kind: str
    day: date
    label: str
    late: bool = False
    at: datetime | None = None


@dataclass(frozen=True)
class Row:
    """A line of a list on the board, linking to its workflow."""

    wid: str
    title: str
    detail: str = ""


@dataclass(frozen=True)
class Day:
    day: date
    part: int
    number: int
    money: str  # interpretation money, in words
    funded: bool | None  # None: not yet known


@dataclass
class Board:
    convention: str
    as_of: datetime
    today: date
    president: str | None = None
    outgoing: str | None = None
    designates: list[str] = field(default_factory=list)
    presidency_wid: str = ""
    meeting: str | None = None
    meeting_wid: str = ""
    meeting_dates: str = ""
    days: list[Day] = field(default_factory=list)
    attention: list[Row] = field(default_factory=list)
    funds_wid: str = ""
    funds: str = ""
    waiting: list[Row] = field(default_factory=list)
    reviews: list[Row] = field(default_factory=list)
    extensions: list[Row] = field(default_factory=list)
    reports: list[Row] = field(default_factory=list)
    silences: list[Row] = field(default_factory=list)
    dated: list[Dated] = field(default_factory=list)
    spans: list[Mark] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def as_of_text(self) -> str:
        return local_text(self.as_of)

    def marks(self) -> list[Mark]:
        """The timeline: the meeting's parts as spans, every other dated thing as a point."""
        points = [Mark(d.day, d.kind, d.label, late=d.late) for d in self.dated if d.kind != "meeting"]
        return [*self.spans, *points]


async def gather(client: Client, code: str, now: datetime | None = None) -> Board:
    now = now or datetime.now(UTC)
    board = Board(convention=code, as_of=now, today=local_date(now, STANDARD_DEFAULTS))
    for part in (
        _presidency,
        _reviews,
        _reports,
        _extensions,
        _watches,
        _silences,
        _documents,
        _undeliverable,
    ):
        await _read(board, part(client, board))
    board.dated.sort(key=lambda d: (d.day, d.wid, d.what))
    return board


async def _read(board: Board, part: Awaitable[None]) -> None:
    try:
        await part
    except CliError as e:
        board.problems.append(e.message)


async def _presidency(client: Client, board: Board) -> None:
    conv = Convention(code=board.convention)
    pres = await presidency_state(client, conv)
    board.presidency_wid = presidency_id(conv)
    board.president = str(pres.president)
    board.outgoing = str(pres.outgoing) if pres.outgoing else None
    board.designates = [str(p) for p in pres.designates]
    plan = pres.meeting
    mid = meeting_id(conv, plan.ref)
    meet = await query_if_any(client, mid, MeetingWorkflow.state)
    if meet is not None:
        plan = meet.plan
    board.meeting = f"{plan.ref.title()} ({plan.ref.label})"
    board.meeting_wid = mid
    board.meeting_dates = plan.describe_dates()
    board.spans += [Mark(p.start, "meeting", f"{plan.ref.label}, {p.place}", end=p.end) for p in plan.parts]
    board.days = days(plan, meet)
    board.dated += meeting_dated(conv, plan, board.days)
    fid = funds_id(conv.code, plan.ref.label)
    ledger = await query_if_any(client, fid, MeetingFundsWorkflow.ledger)
    if ledger is None:
        return
    board.funds_wid = fid
    board.funds = f"balance {chf(ledger.balance)}, waiting {chf(ledger.waiting_total)}"
    if ledger.shortfall > 0:
        board.attention.append(Row(fid, f"Ledger shortfall: {chf(ledger.shortfall)}", board.funds))
    prefix = document_id(conv.code, "")
    for w in waiting(ledger, prefix):
        doc = await query_if_any(client, w.wid, DocumentWorkflow.state)
        what = f"{doc.spec.title}, {len(doc.pending_languages)} translations" if doc else w.purpose
        detail = f"place {w.place} in the queue, {chf(w.ahead)} ahead, {chf(w.amount)} needed"
        board.waiting.append(Row(w.wid, f"{w.wid.removeprefix(prefix)}: {what}", detail))


def meeting_dated(conv: Convention, plan: MeetingPlan, days: list[Day]) -> list[Dated]:
    """The meeting's days, the handover on its last day, and the day extension requests for it are due. Named by
    part and day number, not by date, so that a meeting moved keeps its events."""
    mid = meeting_id(conv, plan.ref)
    label = plan.ref.label
    out = [
        Dated(
            mid,
            f"day-{d.part}-{d.number}",
            "meeting",
            d.day,
            f"{label} day {d.number}"
            + (f" of part {d.part}" if len(plan.parts) > 1 else "")
            + ("" if d.funded is not False else ", no interpretation money"),
            late=d.funded is False,
        )
        for d in days
    ]
    out.append(
        Dated(
            presidency_id(conv),
            f"handover-{label}",
            "handover",
            plan.last_day,
            f"handover of the Presidency at the close of the {label}",
        )
    )
    due = months_later(plan.first_day, -REQUEST_LEAD_MONTHS)
    out.append(Dated(mid, "requests-due", "deadline", due, f"extension requests due for the {label}"))
    return out


def days(plan: MeetingPlan, meet: MeetingState | None) -> list[Day]:
    """Each day of the plan, with its interpretation money as the meeting knows it (``meet``)."""
    held = {d.date: d.interpretation for d in meet.days_held} if meet else {}
    money = meet.interpretation if meet else {}
    out = []
    for i, part in enumerate(plan.parts, start=1):
        for n, day in enumerate((part.start + timedelta(days=k) for k in range(part.days)), start=1):
            state = money.get(day)
            funded: bool | None = None
            words = state.value.replace("_", " ") if state else "not requested yet"
            if day in held:
                funded = held[day]
                words = "held with interpretation" if funded else "held without interpretation"
            elif state in (Interpretation.GRANTED, Interpretation.BOOKED):
                funded, words = True, f"funded ({state.value})"
            elif state is Interpretation.NOT_FUNDED:
                funded = False
            out.append(Day(day, i, n, words, funded))
    return out


async def _reviews(client: Client, board: Board) -> None:
    for r in await review_list(client, board.convention):
        if r["execution_status"] != "running" or r["due"] is None:
            continue
        due = date.fromisoformat(r["due"])
        late = r["status"] == "overdue"
        detail = f"due {due} ({r['status']})" + (f", at the {r['meeting']}" if r["meeting"] else "")
        row = Row(r["id"], f"Review: {r['subject']}", detail)
        board.reviews.append(row)
        board.dated.append(Dated(r["id"], "due", "review", due, f"review {r['subject']} due", late=late))
        if late:
            board.attention.append(Row(r["id"], f"Review overdue: {r['subject']}", detail))


async def _reports(client: Client, board: Board) -> None:
    for r in await report_list(client, board.convention):
        if r["execution_status"] != "running" or r["due"] is None:
            continue
        late = r["status"] == "overdue"
        detail = f"due {r['due']} ({r['status']})"
        board.reports.append(Row(r["id"], f"Article 7 report: {r['state']}", detail))
        due = date.fromisoformat(r["due"])
        board.dated.append(
            Dated(r["id"], "due", "report", due, f"Art. 7 report of {r['state']} due", late=late)
        )
        if late:
            board.attention.append(Row(r["id"], f"Article 7 report overdue: {r['state']}", detail))


def _soon(board: Board, deadline: date) -> bool:
    return deadline <= months_later(board.today, DEADLINE_MONTHS)


async def _extensions(client: Client, board: Board) -> None:
    for wf in await requests.requests(client, board.convention, None):
        if wf.status != WorkflowExecutionStatus.RUNNING:
            continue
        s = await requests.request_state(client, wf.id)
        who = f"Art. {s.request.article.value} request of {s.request.state}"
        detail = f"{s.status.value.replace('_', ' ')}, at the {s.meeting.label}; deadline {s.deadline}"
        board.extensions.append(Row(wf.id, who, detail))
        board.dated.append(Dated(wf.id, "deadline", "deadline", s.deadline, f"{who}: deadline"))
        board.dated.append(
            Dated(wf.id, "request-due", "deadline", due_by(s.meeting), f"{who}: due for its meeting")
        )
        if _soon(board, s.deadline):
            board.attention.append(_deadline_row(board, wf.id, who, s.deadline, detail))


def _deadline_row(board: Board, wid: str, who: str, deadline: date, detail: str) -> Row:
    if deadline < board.today:
        return Row(wid, f"Deadline passed: {who}", f"on {deadline}; {detail}")
    return Row(wid, f"Deadline within {DEADLINE_MONTHS} months: {who}", f"on {deadline}; {detail}")


async def _watches(client: Client, board: Board) -> None:
    found = await listed(client, sa.Kind.DEADLINE, board.convention, "deadline watches")
    running = [wf for wf in found if wf.status == WorkflowExecutionStatus.RUNNING]
    states = await each(running, lambda wf: query_if_any(client, wf.id, DeadlineWatchWorkflow.state))
    for wf, s in zip(running, states, strict=True):
        if s is None or s.status in ENDED:
            continue
        who = f"Art. {s.article} deadline of {s.state}"
        board.dated.append(Dated(wf.id, "deadline", "deadline", s.deadline, who))
        board.dated.append(
            Dated(wf.id, "request-due", "deadline", s.request_due, f"{who}: extension request due")
        )
        if _soon(board, s.deadline):
            board.attention.append(
                _deadline_row(
                    board,
                    wf.id,
                    who,
                    s.deadline,
                    f"a request {'was' if s.request_due < board.today else 'is'} due by {s.request_due}",
                )
            )


async def _silences(client: Client, board: Board) -> None:
    for r in await procedure_list(client, board.convention):
        if r["execution_status"] != "running" or r["deadline"] is None:
            continue
        at = datetime.fromisoformat(r["deadline"])
        detail = f"closes {r['deadline_local']} ({r['status'].replace('_', ' ')})"
        row = Row(r["id"], f"Silence procedure {r['procedure']}", detail)
        board.silences.append(row)
        day = local_date(at, STANDARD_DEFAULTS)
        board.dated.append(
            Dated(r["id"], "deadline", "silence", day, f"silence {r['procedure']} closes", at=at)
        )
        if at - board.as_of <= SILENCE_SOON:
            board.attention.append(Row(r["id"], f"Silence closes within 7 days: {r['procedure']}", detail))


async def _documents(client: Client, board: Board) -> None:
    for wf in await listed(client, sa.Kind.DOCUMENT, board.convention, "documents"):
        flags = wf.typed_search_attributes.get(sa.ATTENTION) or []
        if wf.status == WorkflowExecutionStatus.RUNNING and sa.AT_RISK in flags:
            symbol = wf.id.removeprefix(document_id(board.convention, ""))
            board.attention.append(Row(wf.id, f"Document at risk: {symbol}", "it will miss its due date"))


async def _undeliverable(client: Client, board: Board) -> None:
    query = (
        f"{sa.CONVENTION.name} = {sa.quoted(board.convention, sa.CONVENTION.name)} AND "
        f"{sa.ATTENTION.name} = {sa.quoted(sa.UNDELIVERABLE)} AND ExecutionStatus = 'Running'"
    )
    try:
        found = [wf async for wf in client.list_workflows(query, rpc_timeout=ANSWER_TIMEOUT)]
    except RPCError as e:
        raise rpc_error(f"the list of undeliverable notifications ({query})", e) from None
    for wf in sorted(found, key=lambda w: w.id):
        board.attention.append(
            Row(wf.id, "Undeliverable notifications", "the webhook refused a notification")
        )
