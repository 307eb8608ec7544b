"""The receiver's mail gateway (``starter/receiver.py``): the ISU's invoices, one PDF per Idempotency-Key.

    POST /mail   JSON {"to", "subject", "filename", "pdf_base64", ...}, header Idempotency-Key -> 201 | 200 duplicate
    GET  /mail                                                   -> 200 {"mail": [one entry per invoice kept]}

Each invoice is kept as ``<dir>/mail/<key, made file-safe>.pdf`` beside its record (``.json``, the body without the
PDF): the same key again stores nothing new, so a State gets one invoice per key however often it is sent.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any, Protocol

from starter.receiver_store import MAIL, safe_name


class MailError(ValueError):
    """A mail the gateway cannot take (answered 400)."""


class Accepting(Protocol):
    root: Path

    def accept(self, kind: str, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]: ...


def accept_mail(store: Accepting, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Stores the invoice under ``key`` unless it is stored already; MailError for a body without a PDF."""
    encoded = body.get("pdf_base64")
    if not isinstance(encoded, str) or not encoded:
        raise MailError("a mail needs its PDF in pdf_base64")
    try:
        pdf = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise MailError("pdf_base64 is not base64") from None
    if not pdf.startswith(b"%PDF"):
        raise MailError("pdf_base64 does not hold a PDF")
    path = store.root / MAIL / (_stem(key) + ".pdf")
    meta = {k: v for k, v in body.items() if k != "pdf_base64"} | {"pdf": path.name}
    if not path.exists():  # written before its record: a record always has its PDF
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(pdf)
        tmp.replace(path)
    return store.accept(MAIL, key, meta)


def listing(root: Path) -> dict[str, Any]:
    """Every invoice kept, as mailed (``reference``: the payment reference), with its key and the receipt it was
    given (``UNOG-M-000001``), oldest receipt first."""
    records = []
    for path in sorted((root / MAIL).glob("*.json")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    entries = [
        {**(r.get("body") or {}), "key": r.get("idempotency_key"), "receipt": r.get("reference")}
        for r in records
    ]
    return {MAIL: sorted(entries, key=lambda e: str(e["receipt"]))}


def _stem(key: str) -> str:
    return safe_name(key).removesuffix(".json")
