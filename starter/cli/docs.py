"""`msp docs`: official documents (DocumentWorkflow, `ccm-doc-CCM/MSP/2027/3`): submit one for translation,
record deliveries, withdraw, see where each stands."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import TypeAdapter
from temporalio.client import Client
from temporalio.common import SearchAttributePair
from temporalio.service import RPCError

from domain import search_attributes as sa
from domain.documents import (
    Delivered,
    DocumentInput,
    DocumentSpec,
    DocumentState,
    Symbol,
    Withdraw,
    new_state,
    risk_text,
)
from domain.funds import chf
from domain.ids import document_id, funds_id
from domain.models import Convention, Language
from domain.views import held_back
from runtime.connect import connect
from starter.cli.calls import current_meeting, listed, presidency_state, query_state, start_once
from starter.cli.commands import CONVENTION, MEETING, Decisions, Fields, Shown, Views, option
from starter.cli.common import (
    BAD_INPUT,
    NOT_RUNNING,
    OK,
    STATUS_WAIT,
    CliError,
    ConventionOpt,
    IdOpt,
    MeetingOpt,
    RefOpt,
    checked,
    columns,
    convention_of,
    echo,
    execution,
    group,
    kind_attributes,
    meeting_ref,
    name_options,
    new_id,
    one_line,
    plural,
    run,
    table,
    validated,
)
from starter.cli.ledgers import check_ledger
from starter.cli.send import Locate, found, send_to
from workflows.document import DocumentWorkflow

app = group(
    "Official documents: submit one for translation, record deliveries, withdraw, see where each stands."
)

name_options("symbol title pages priority", original_language="--language", language="--lang")

# Languages are checked by the models, so that a wrong one is refused in one line like any other option.
LANGUAGES = ", ".join(lang.value for lang in Language)
SymbolArg = Annotated[str, typer.Argument(help="The document's symbol, e.g. CCM/MSP/2027/3.")]
SYMBOL: TypeAdapter[str] = TypeAdapter(Symbol)


def no_document(symbol: str, wid: str, e: RPCError | None = None) -> CliError:
    if e is not None and "completed" in e.message:
        return CliError(
            f"{symbol} is finished: every language is issued or withdrawn ({wid}); "
            f"see `msp docs status {symbol}`",
            NOT_RUNNING,
        )
    detail = f": {one_line(e.message)}" if e is not None else ""
    return CliError(
        f"no document {symbol} is running ({wid}{detail}); submit it with `msp docs submit`", NOT_RUNNING
    )


@app.command("submit")
def docs_submit(
    symbol: Annotated[str, typer.Option("--symbol", help="The document's symbol, e.g. CCM/MSP/2027/3.")],
    title: Annotated[str, typer.Option("--title", help="Its title.")],
    pages: Annotated[int, typer.Option("--pages", help="Pages to translate (1-2000).")],
    due: Annotated[str, typer.Option("--due", help="When it must be out in every language, YYYY-MM-DD.")],
    language: Annotated[str, typer.Option("--language", help=f"The original language: {LANGUAGES}.")] = "en",
    priority: Annotated[int, typer.Option("--priority", help="1 is translated first (1-9).")] = 2,
    meeting: MeetingOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Submit a document: it asks the meeting's ledger for each translation and is sent off as money comes."""
    fields = {
        "symbol": symbol,
        "title": title,
        "pages": pages,
        "due": due,
        "original_language": language.strip().lower(),
        "priority": priority,
    }

    async def go() -> int:
        conv = convention_of(convention)
        given = meeting_ref(meeting).label if meeting is not None else None
        # Checked before anything is asked of Temporal; the meeting is filled in below when not given.
        spec = DocumentSpec.model_validate({**fields, "meeting": given or "1MSP"})
        client = await connect()
        if given is None:
            pres = await current_meeting(client, conv, STATUS_WAIT)
        else:
            pres = await presidency_state(client, conv)
        label = given or pres.meeting.ref.label
        spec = spec.model_copy(update={"meeting": label})
        fid = funds_id(conv.code, label)
        await check_ledger(client, fid, label, conv.code)
        money = pres.convention.money
        wid = document_id(conv.code, spec.symbol)
        # The clock of the running Presidency: the configured one it was started with.
        defaults = pres.convention.defaults
        inp = DocumentInput(convention=conv.code, spec=spec, money=money, funds_id=fid, defaults=defaults)
        attributes = kind_attributes(sa.Kind.DOCUMENT, conv.code, SearchAttributePair(sa.MEETING, label))
        # A symbol is submitted once; only a run that failed may be started again.
        if not await start_once(
            client, DocumentWorkflow.run, inp, wid, f"{spec.symbol}: {spec.title}", attributes
        ):
            raise CliError(
                f"{spec.symbol} is already submitted ({wid}); see `msp docs status {spec.symbol}`", BAD_INPUT
            )
        plan = new_state(spec, money)
        cost = sum(t.amount for t in plan.translations.values())
        langs = ", ".join(lang.value for lang in plan.translations)
        echo(f"started {wid}")
        echo(
            f"{spec.symbol}: {plural(len(plan.translations), 'translation')} ({langs}) for {chf(cost)}, "
            f"asked of the {label} ledger ({fid}); due {spec.due}"
        )
        return OK

    run(go)


def document_at(conv: Convention, symbol: str) -> Locate:
    wid = document_id(conv.code, checked(SYMBOL, symbol, "SYMBOL"))
    return found(wid, lambda e: no_document(symbol, wid, e))


decisions = Decisions(app, document_at, lead=(option("symbol", SymbolArg),))
views = Views(app, (MEETING, CONVENTION))


@app.command("delivered")
def docs_delivered(
    symbol: SymbolArg,
    lang: Annotated[
        str, typer.Option("--lang", help=f"The language delivered by conference services: {LANGUAGES}.")
    ],
    ref: Annotated[
        str | None, typer.Option("--ref", help="What reported the delivery. Default: conference services.")
    ] = None,
    decision_id: IdOpt = None,
    convention: ConventionOpt = "ccm",
) -> None:
    """Record that a translation was delivered: the document is issued in that language."""
    language = lang.strip().lower()

    def delivery() -> Delivered:
        fields = {"decision_id": decision_id or new_id(), "reference": ref, "language": language}
        return validated(
            Delivered,
            fields,
            sending=lambda d: (
                f"recording: {symbol} delivered in {d.language.value} ({d.reference}; id {d.decision_id})"
            ),
        )

    send_to(convention, DocumentWorkflow.delivered, lambda conv: document_at(conv, symbol), delivery)


@decisions.command("withdraw", DocumentWorkflow.withdraw, Withdraw)
def docs_withdraw(ref: RefOpt) -> Fields:
    """Withdraw a document: its requests leave the queue, money granted to jobs not sent goes back, and jobs sent
    are cancelled at conference services (their money goes back once they confirm; a job already done stays paid)."""
    return {"reference": ref}


def document_json(wid: str, state: DocumentState) -> dict[str, Any]:
    return {
        "id": wid,
        "waiting_for_funds": state.waiting_for_funds,
        "pending_languages": state.pending_languages,
        "finished": state.finished,
        **state.model_dump(mode="json"),
    }


def risk_cell(s: DocumentState) -> str:
    if s.at_risk:
        return "yes: it will miss its due date"
    return "no" if s.late_days is None else f"no: issued {risk_text(s)}"


def document_text(wid: str, s: DocumentState) -> str:
    spec = s.spec
    rows = [
        ("Document", f"{spec.symbol}: {spec.title} ({wid})"),
        ("Meeting", f"{spec.meeting}, due {spec.due}"),
        (
            "Original",
            f"{spec.original_language.value}, {plural(spec.pages, 'page')}, priority {spec.priority}",
        ),
        ("At risk", risk_cell(s)),
        ("Waiting", f"{chf(s.waiting_for_funds)} for funds"),
        ("Held back", held_back(s, str)),
        ("Withdrawn", "yes" if s.withdrawn else "no"),
    ]
    lines = table(rows)
    lines += ["", "Translations"]
    lines += table(
        [
            (
                lang.value,
                t.status.value.replace("_", " "),
                chf(t.amount),
                t.job_reference or "-",
                one_line(t.error) if t.error else "",
            )
            for lang, t in s.translations.items()
        ],
        header=("LANGUAGE", "STATUS", "CHF", "JOB", "ERROR"),
    )
    lines += ["", f"Log ({len(s.log)})", *(s.log or ["nothing yet"])]
    return "\n".join(lines)


async def document_list(client: Client, code: str, label: str) -> list[dict[str, Any]]:
    prefix = document_id(code, "")
    found = [
        {
            "symbol": wf.id.removeprefix(prefix),
            "id": wf.id,
            # A withdrawn document's workflow completes too: its phase says which.
            "status": "withdrawn"
            if wf.typed_search_attributes.get(sa.PHASE) == "withdrawn"
            else execution(wf.status),
            "phase": wf.typed_search_attributes.get(sa.PHASE),
            "started": wf.start_time.isoformat(),
            "pending_languages": list(wf.typed_search_attributes.get(sa.LANGUAGES_PENDING) or []),
            "waiting_for_funds": int(wf.typed_search_attributes.get(sa.WAITING_FOR_FUNDS) or 0),
            "attention": list(wf.typed_search_attributes.get(sa.ATTENTION) or []),
        }
        for wf in await listed(client, sa.Kind.DOCUMENT, code, "documents", meeting=label, latest=False)
    ]
    found.sort(key=lambda d: (d["started"], d["symbol"]))
    return found


DOCUMENT_COLUMNS: list[tuple[str, Any]] = [
    ("SYMBOL", lambda d: d["symbol"]),
    ("WORKFLOW", lambda d: d["status"]),
    ("PENDING", lambda d: " ".join(d["pending_languages"]) or "-"),
    ("WAITING FOR FUNDS", lambda d: chf(int(d["waiting_for_funds"]))),
    ("RISK", lambda d: " ".join(a.replace("_", " ") for a in d["attention"])),
]


def documents_text(label: str, docs: list[dict[str, Any]]) -> str:
    if not docs:
        return f"no documents submitted for the {label}"
    waiting = sum(int(d["waiting_for_funds"]) for d in docs)
    title = f"Documents of the {label} ({len(docs)}; {chf(waiting)} waiting for funds)"
    return "\n".join([title, *columns(docs, DOCUMENT_COLUMNS)])


@views.command("status")
async def docs_status(
    symbol: Annotated[
        str | None, typer.Argument(help="A document's symbol; without it, every document of the meeting.")
    ] = None,
    *,
    meeting: str | None,
    convention: str,
) -> Shown:
    """Show one document (each language, its money, its log), or list the meeting's documents."""
    conv = convention_of(convention)
    given = meeting_ref(meeting).label if meeting is not None else None
    wid = document_id(conv.code, checked(SYMBOL, symbol, "SYMBOL")) if symbol is not None else ""
    client = await connect()
    if symbol is not None:
        state = await query_state(client, wid, DocumentWorkflow.state, no_document(symbol, wid))
        return Shown(lambda: document_json(wid, state), lambda: document_text(wid, state))
    label = given or (await presidency_state(client, conv)).meeting.ref.label
    docs = await document_list(client, conv.code, label)
    return Shown(lambda: {"meeting": label, "documents": docs}, lambda: documents_text(label, docs))
