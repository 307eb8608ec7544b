"""The receiver's state: each request it accepted, one JSON file under ``<dir>/<kind>/`` (see starter/receiver.py
for what it answers). The files are the whole state: a store opened again on the same directory knows every key and
continues the numbering."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starter.travel import TRAVEL_BOOKINGS

# The kinds of request, by path: the directory they are stored in and the letter in their references.
# The ISU's invoices (starter/mailbox.py) are kept under "mail".
MAIL = "mail"
KINDS: dict[str, str] = {
    "translation-jobs": "T",
    "interpretation-bookings": "I",
    "notifications": "N",
    MAIL: "M",
    TRAVEL_BOOKINGS: "B",
}
# The kind the notification webhook posts to (the others are conference services').
NOTIFICATIONS = "notifications"
TRANSLATIONS = "translation-jobs"
# What can be done to a stored translation job, by POST /translation-jobs/<action>.
CANCEL, COMPLETE = "cancel", "complete"
RECEIVED, COMPLETED, CANCELLED = "received", "completed", "cancelled"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def safe_name(key: str) -> str:
    """A file name for ``key``: readable, and distinct for distinct keys (``a/b`` and ``a_b`` differ by the hash)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    readable = _UNSAFE.sub("_", key).strip("._")[:100] or "key"
    return f"{readable}.{digest}.json"


class Store:
    """Accepted requests as JSON files under ``root``; thread-safe within one process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}
        for kind, letter in KINDS.items():
            folder = root / kind
            folder.mkdir(parents=True, exist_ok=True)
            self._next[kind] = self._highest(folder, letter) + 1

    @staticmethod
    def _highest(folder: Path, letter: str) -> int:
        pattern = re.compile(rf"^UNOG-{letter}-(\d+)$")
        highest = 0
        for path in folder.glob("*.json"):
            try:
                reference = json.loads(path.read_text(encoding="utf-8")).get("reference", "")
            except (OSError, ValueError, AttributeError):
                continue
            m = pattern.match(str(reference))
            if m:
                highest = max(highest, int(m.group(1)))
        return highest

    def _read(self, path: Path, key: str) -> dict[str, Any] | None:
        if not path.exists():
            return None
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return record if record.get("idempotency_key") == key else None

    @staticmethod
    def _write(path: Path, record: dict[str, Any]) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def accept(self, kind: str, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The stored record for ``key`` and whether it is new; stores ``body`` under a new reference if so.

        A key already stored returns its record as it is, a cancelled one included: the caller refuses that.
        """
        path = self.root / kind / safe_name(key)
        with self._lock:
            if (record := self._read(path, key)) is not None:
                return record, False
            number = self._next[kind]
            record = {
                "reference": f"UNOG-{KINDS[kind]}-{number:06d}",
                "idempotency_key": key,
                "received_at": _now(),
                "body": body,
            }
            if kind == TRANSLATIONS:
                record["status"] = RECEIVED
            self._write(path, record)
            self._next[kind] = number + 1
            return record, True

    def change(self, key: str, action: str, reason: str) -> tuple[dict[str, Any] | None, bool]:
        """Cancels or completes the translation job sent with ``key``: its record afterwards (None: no such job
        to complete) and whether this call changed it. A job already completed stays completed, one already
        cancelled stays cancelled; cancelling a key never received records the cancellation alone."""
        path = self.root / TRANSLATIONS / safe_name(key)
        with self._lock:
            record = self._read(path, key)
            if record is None:
                if action == COMPLETE:
                    return None, False
                record = {"reference": None, "idempotency_key": key, "received_at": None, "body": None}
            elif record.get("status", RECEIVED) != RECEIVED:
                return record, False
            target = CANCELLED if action == CANCEL else COMPLETED
            record = {**record, "status": target, f"{target}_at": _now()}
            if action == CANCEL:
                record["cancel_reason"] = reason
            self._write(path, record)
            return record, True
