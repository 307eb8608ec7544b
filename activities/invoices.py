"""The ISU's invoices: one PDF note and invoice per State, built here (never in a workflow) with fpdf2 and mailed
through the mail gateway over HTTP with httpx; and the arrears a year's budget carries to the next year's.

The gateway's URL is the worker's (``CCM_MAIL_URL``, read once at start like the webhooks): no URL is written to a
workflow's history. Without one, an invoice is logged instead of mailed. Every request carries the invoice's
``Idempotency-Key`` (one per State and year): the gateway keeps one invoice per key, so an invoice sent again after
a worker died before its answer reached Temporal is not sent twice; and the workflow records each one acknowledged.
"""

from __future__ import annotations

import base64
import os
import unicodedata
from collections.abc import Mapping
from typing import Any

import httpx
import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.conference_services import HttpActivities
from domain import search_attributes as sa
from domain.bounds import chf
from domain.ids import isu_budget_id
from domain.isu_budget import (
    CARRIED,
    CARRY_ARREARS,
    MAIL_URL_ENV,
    REJECTED_BY_GATEWAY,
    SEND_INVOICE,
    Carried,
    Invoice,
    InvoiceSent,
    IsuBudgetInput,
)
from domain.isu_texts import texts
from domain.notifications import redact_url

# A gateway that could not be reached or answered 5xx/408/429: retried.
MAIL_UNAVAILABLE = "MailGatewayUnavailable"

log = structlog.get_logger("activities.invoices")


def mail_url_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The mail gateway's URL (CCM_MAIL_URL), or None; ValueError naming the variable when it is not http(s)."""
    url = (os.environ if env is None else env).get(MAIL_URL_ENV, "").strip()
    if not url:
        return None
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{MAIL_URL_ENV}: not an http(s) URL with a host ({redact_url(url)})")
    return url


def _latin(text: str) -> str:
    """``text`` in the PDF core fonts' Latin-1: accents of French and Spanish kept, anything else transliterated."""
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
        else:
            plain = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(plain or {"\u2014": "-", "\u2013": "-", "\u2019": "'", "\u2009": "'"}.get(ch, "?"))
    return "".join(out)


def invoice_pdf(inv: Invoice) -> bytes:
    """The note and invoice, in the State's language."""
    # Here rather than at the top: fpdf2 brings fontTools (about 0.3 s of CPU), which every worker and `msp simulate`
    # would pay for at start, though most never send an invoice.
    from fpdf import FPDF

    t = texts(inv.language)
    pdf = FPDF(format="A4")
    pdf.set_title(_latin(f"{t.title} {inv.reference}"))
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin(t.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    pdf.ln(2)
    rows = [
        (t.to, inv.state),
        (t.year, str(inv.year)),
        (t.amount, chf(inv.amount)),
        (t.category, inv.category),
        (t.due, inv.due.isoformat()),
        (t.reference, inv.reference),
        (t.budget, f"{chf(inv.total)} ({inv.budget_reference})"),
    ]
    if inv.carried:
        rows.append((t.carried, chf(inv.carried)))
    for label, value in rows:
        pdf.multi_cell(0, 7, _latin(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.multi_cell(0, 6, _latin(t.explanation.format(due=inv.due.isoformat(), reference=inv.reference)))
    return bytes(pdf.output())


class Mailer(HttpActivities):
    """The invoice activity, sharing the worker's HTTP client; ``url``: the gateway (None: invoices are logged)."""

    def __init__(self, client: httpx.AsyncClient | None = None, *, url: str | None = None) -> None:
        super().__init__(client)
        self.url = url

    @activity.defn(name=SEND_INVOICE)
    async def send_invoice(self, inv: Invoice) -> InvoiceSent:
        bound = log.bind(state=inv.state, year=inv.year, idempotency_key=inv.key)
        pdf = invoice_pdf(inv)
        if self.url is None:
            bound.info("invoice (no mail gateway configured)", reference=inv.reference, amount=inv.amount)
            return InvoiceSent(state=inv.state, reference="log")
        t = texts(inv.language)
        payload: dict[str, Any] = {
            "to": inv.state,
            "subject": f"{t.title} {inv.reference}",
            "language": inv.language.value,
            "reference": inv.reference,
            "amount": inv.amount,
            "filename": f"{inv.reference}.pdf",
            "pdf_base64": base64.b64encode(pdf).decode(),
        }
        response, bound = await self._post_json(
            self.url,
            payload,
            inv.key,
            "invoice",
            "the mail gateway",
            bound,
            retry_type=MAIL_UNAVAILABLE,
            refused_type=REJECTED_BY_GATEWAY,
        )
        try:
            body: Any = response.json()
        except ValueError:
            body = {}
        flag = body.get("duplicate") if isinstance(body, dict) else None
        duplicate = flag if isinstance(flag, bool) else response.status_code == 200
        reference = str(body.get("reference") or "sent") if isinstance(body, dict) else "sent"
        bound.info("invoice mailed", reference=reference, duplicate=duplicate)
        return InvoiceSent(state=inv.state, reference=reference, duplicate=duplicate)


class ArrearsCarrier:
    """Carries a year's arrears to the next year's budget: signals it, starting it first if it is not running."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @activity.defn(name=CARRY_ARREARS)
    async def carry_arrears(self, nxt: IsuBudgetInput, carried: Carried) -> None:
        wid = isu_budget_id(nxt.convention, nxt.year)
        attrs = [
            SearchAttributePair(sa.KIND, sa.Kind.ISU_BUDGET.value),
            SearchAttributePair(sa.CONVENTION, nxt.convention),
        ]
        try:
            await self.client.start_workflow(
                "IsuBudgetWorkflow",
                nxt,
                id=wid,
                task_queue=activity.info().task_queue,
                start_signal=CARRIED,
                start_signal_args=[carried],
                search_attributes=TypedSearchAttributes(attrs),
            )
        except WorkflowAlreadyStartedError:  # that year has ended too: nothing left to carry to
            log.warning("arrears not carried: the next year's budget has ended", workflow_id=wid)
