"""Encrypted payloads: an AES-GCM payload codec whose keys are named, so they can be rotated.

Every payload the worker and `msp` send to Temporal (workflow and activity inputs and results, signals, updates,
queries, memos, failure details) is replaced by one with metadata ``encoding: binary/encrypted`` and
``encryption-key-id: <id>``, whose data is a fresh 12-byte nonce followed by the AES-GCM ciphertext of the original
``Payload`` protobuf (as temporalio's samples-python ``encryption`` sample, so its Go and TypeScript codec servers
read them too). The codec runs in the client, never inside workflow code.

Keys come from the environment, first one active (it encrypts), every one known (any decrypts):

- ``CCM_CODEC_KEYS="k2027:<base64 key>,k2026:<base64 key>"``, or
- ``CCM_CODEC_KEYS_FILE=/path/keys`` with one ``id=<base64 key>`` a line; ``#`` starts a comment. The file must
  be readable by its owner alone (0600 or 0400): one that group or others can read or change is refused.

A key is 16, 24 or 32 bytes (AES-128/192/256). Without either variable there is no codec: payloads stay as the
pydantic converter makes them. Payloads not encrypted pass through decoding unchanged, so histories written before
the codec was turned on still read.

Not encrypted, by Temporal's design: search attributes (the server indexes them; no codec ever sees them), and
failure messages and stack traces (the SDK's default failure converter leaves them in the clear). Keep confidential
data out of both.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

ENV_KEYS = "CCM_CODEC_KEYS"
ENV_KEYS_FILE = "CCM_CODEC_KEYS_FILE"

ENCODING = "binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_SIZES = (16, 24, 32)
_KEY_ID_RE = re.compile(r"[A-Za-z0-9._-]+")


class CodecKeyError(ValueError):
    """The key material is unusable; the message names the variable or file, and the entry or line."""


class CodecError(ValueError):
    """A payload cannot be decrypted: its key is unknown, or the key of that id does not open it."""


@dataclass(frozen=True)
class CodecKeys:
    """Named AES keys, the first being the active one; ``source`` says where they came from, for messages."""

    keys: tuple[tuple[str, bytes], ...]
    source: str = "the codec keys"

    def __post_init__(self) -> None:
        if not self.keys:
            raise CodecKeyError(f"{self.source}: no key")
        seen: set[str] = set()
        for key_id, key in self.keys:
            if not _KEY_ID_RE.fullmatch(key_id):
                raise CodecKeyError(f"{self.source}: a key id is not letters, digits, '.', '_' or '-'")
            if key_id in seen:
                raise CodecKeyError(f"{self.source}: key id {key_id!r} appears twice")
            if len(key) not in KEY_SIZES:
                raise CodecKeyError(f"{self.source}: key {key_id!r} is {len(key)} bytes, not 16, 24 or 32")
            seen.add(key_id)

    @property
    def active(self) -> str:
        return self.keys[0][0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key_id for key_id, _ in self.keys)


def _key_bytes(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CodecKeyError(f"{where}: the key is not base64") from None
    if len(key) not in KEY_SIZES:
        raise CodecKeyError(f"{where}: the key is {len(key)} bytes, not 16, 24 or 32 (AES-128/192/256)")
    return key


def _entry(key_id: str, key_text: str, where: str, seen: Mapping[str, str], form: str) -> tuple[str, bytes]:
    key_id = key_id.strip()
    if not key_id:
        raise CodecKeyError(f"{where}: the key id is empty")
    if not _KEY_ID_RE.fullmatch(key_id):
        # Not echoed: with the separator missing, the "id" would be the key itself.
        raise CodecKeyError(f"{where}: the key id is not letters, digits, '.', '_' or '-' (expected {form})")
    if key_id in seen:
        raise CodecKeyError(f"{where}: key id {key_id!r} already given ({seen[key_id]})")
    return key_id, _key_bytes(key_text, where)


def _add(
    keys: list[tuple[str, bytes]], seen: dict[str, str], item: str, sep: str, where: str, place: str
) -> None:
    """Appends the key ``item`` gives (``id``, ``sep``, the base64 key); ``place`` names it should its id recur."""
    form = f"id{sep}base64key"
    key_id, found, key_text = item.partition(sep)
    if not found:
        raise CodecKeyError(f"{where}: expected {form}")
    entry = _entry(key_id, key_text, where, seen, form)
    seen[entry[0]] = place
    keys.append(entry)


def parse_keys(text: str, variable: str = ENV_KEYS) -> CodecKeys:
    """``id:base64,id:base64`` (the form of ``CCM_CODEC_KEYS``), first active."""
    keys: list[tuple[str, bytes]] = []
    seen: dict[str, str] = {}
    for n, item in enumerate(text.split(","), start=1):
        where = f"{variable} entry {n}"
        if not item.strip():
            raise CodecKeyError(f"{where}: empty (expected id:base64key, comma-separated)")
        _add(keys, seen, item, ":", where, f"entry {n}")
    return CodecKeys(tuple(keys), variable)


def parse_keys_file(path: Path, variable: str = ENV_KEYS_FILE) -> CodecKeys:
    """A file of ``id=base64`` lines, first active; blank lines and ``#`` comments are skipped."""
    source = f"{variable} {path}"
    try:
        mode = path.stat().st_mode & 0o777
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CodecKeyError(f"{source}: cannot read it ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise CodecKeyError(f"{source}: not UTF-8 text") from None
    if mode & 0o077:
        # Whoever reads the keys reads every payload; whoever can change them chooses the key new ones use.
        raise CodecKeyError(
            f"{source}: mode {mode:04o} lets group or others read or change it; keys must be the owner's "
            f"alone: chmod 600 {path}"
        )
    keys: list[tuple[str, bytes]] = []
    seen: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source} line {n}"
        _add(keys, seen, line, "=", where, f"line {n}")
    if not keys:
        raise CodecKeyError(f"{source}: no key in it (expected lines id=base64key, the first being active)")
    return CodecKeys(tuple(keys), source)


def load_keys(environ: Mapping[str, str] | None = None) -> CodecKeys | None:
    """The keys ``CCM_CODEC_KEYS`` or ``CCM_CODEC_KEYS_FILE`` give, or None when neither is set."""
    env = os.environ if environ is None else environ
    text = env.get(ENV_KEYS, "").strip()
    file = env.get(ENV_KEYS_FILE, "").strip()
    if text and file:
        raise CodecKeyError(f"both {ENV_KEYS} and {ENV_KEYS_FILE} are set: set one of them")
    if text:
        return parse_keys(text)
    if file:
        return parse_keys_file(Path(file))
    return None


def new_key() -> str:
    """A fresh 256-bit key, base64, for a keys entry."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


class EncryptionCodec(PayloadCodec):
    """AES-GCM with the active key on the way out; on the way in, the key the payload's metadata names."""

    def __init__(self, keys: CodecKeys) -> None:
        super().__init__()
        self.keys = keys
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys}
        self._active = keys.active

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self.encode_payloads(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self.decode_payloads(payloads)

    def encode_payloads(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self._active]
        out = []
        for p in payloads:
            nonce = os.urandom(NONCE_BYTES)
            out.append(
                Payload(
                    metadata={"encoding": ENCODING.encode(), KEY_ID: self._active.encode()},
                    data=nonce + cipher.encrypt(nonce, p.SerializeToString(), None),
                )
            )
        return out

    def decode_payloads(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decode_one(p) for p in payloads]

    def _decode_one(self, p: Payload) -> Payload:
        if p.metadata.get("encoding", b"") != ENCODING.encode():
            return p
        key_id = p.metadata.get(KEY_ID, b"").decode("utf-8", errors="replace")
        known = ", ".join(self.keys.ids)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            if not key_id:
                raise CodecError(f"encrypted payload without an {KEY_ID} in its metadata")
            raise CodecError(
                f"payload encrypted with key {key_id!r}, which is not among {self.keys.source} ({known})"
            )
        if len(p.data) <= NONCE_BYTES:
            raise CodecError(f"payload encrypted with key {key_id!r} is truncated")
        try:
            clear = cipher.decrypt(p.data[:NONCE_BYTES], p.data[NONCE_BYTES:], None)
            return Payload.FromString(clear)
        except (InvalidTag, DecodeError):
            raise CodecError(
                f"payload encrypted with key {key_id!r} does not decrypt with the key of that id in "
                f"{self.keys.source}: the key material differs, or the payload was altered"
            ) from None


def data_converter(keys: CodecKeys | None = None, environ: Mapping[str, str] | None = None) -> DataConverter:
    """The project's converter: pydantic, plus the encryption codec when keys are given or configured
    (``CCM_CODEC_KEYS`` / ``CCM_CODEC_KEYS_FILE`` in ``environ``, the process environment by default).

    Raises CodecKeyError, naming the variable or file and the entry or line, when the key material is bad.
    """
    if keys is None:
        keys = load_keys(environ)
    if keys is None:
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(keys))
