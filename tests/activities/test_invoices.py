"""The invoice activity against the real receiver's mail gateway: one PDF per key, a refusal not retried."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from temporalio.exceptions import ApplicationError

from activities.invoices import Mailer, invoice_pdf, mail_url_from_env
from domain.bounds import chf
from domain.isu_budget import REJECTED_BY_GATEWAY, Invoice
from domain.models import Language
from starter.mailbox import listing
from starter.receiver import Receiver

INVOICE = Invoice(
    convention="ccm",
    year=2027,
    state="Perú",
    language=Language.ES,
    amount=41_000,
    category="A",
    carried=3_000,
    due=date(2027, 3, 31),
    reference="ISU-2027-PERU",
    budget_reference="CCM/MSP/2026/9 para 31",
    total=1_512_000,
    key="ccm-isu-invoice-2027-peru",
)


async def test_an_invoice_sent_twice_is_kept_once(tmp_path: Path, http: httpx.AsyncClient) -> None:
    with Receiver(tmp_path, log=None) as receiver:
        mailer = Mailer(http, url=receiver.url + "/mail")
        first = await mailer.send_invoice(INVOICE)
        again = await mailer.send_invoice(INVOICE)
        assert (first.duplicate, again.duplicate, first.reference) == (False, True, again.reference)
        mail = listing(tmp_path)["mail"]
        assert [(m["to"], m["language"], m["receipt"]) for m in mail] == [("Perú", "es", first.reference)]
        assert (tmp_path / "mail" / mail[0]["pdf"]).read_bytes().startswith(b"%PDF")
        listed = (await http.get(receiver.url + "/mail")).json()
        assert listed == {"mail": mail}
        refused = await http.post(
            receiver.url + "/mail",
            json={"to": "x", "pdf_base64": "bm90IGEgcGRm"},
            headers={"Idempotency-Key": "k"},
        )
        assert refused.status_code == 400 and "does not hold a PDF" in refused.json()["error"]


async def test_a_gateway_refusal_is_not_retried(tmp_path: Path, http: httpx.AsyncClient) -> None:
    with Receiver(tmp_path, log=None) as receiver:
        with pytest.raises(ApplicationError) as err:
            await Mailer(http, url=receiver.url + "/no-such-path").send_invoice(INVOICE)
        assert err.value.type == REJECTED_BY_GATEWAY and err.value.non_retryable


async def test_without_a_gateway_the_invoice_is_logged_and_a_bad_url_is_named() -> None:
    async with Mailer(url=None) as mailer:
        assert (await mailer.send_invoice(INVOICE)).reference == "log"
    assert mail_url_from_env({}) is None
    with pytest.raises(ValueError, match="CCM_MAIL_URL: not an http"):
        mail_url_from_env({"CCM_MAIL_URL": "ftp://x"})


def test_the_invoice_writes_money_as_everything_else_does() -> None:
    """One money format (domain.bounds.chf) on the PDF too, not the Swiss apostrophe."""
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(invoice_pdf(INVOICE))).pages)
    assert chf(41_000) in text and chf(1_512_000) in text, text
