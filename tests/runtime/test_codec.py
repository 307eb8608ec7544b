"""Encrypted payloads: the AES-GCM codec on its own, then on the real dev server with the worker, `msp` and
`msp codec-server`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.conference_services import ConferenceServices
from domain.ids import silence_id
from domain.silence import SilenceInput, SilenceState
from runtime.codec import (
    ENCODING,
    ENV_KEYS,
    ENV_KEYS_FILE,
    KEY_ID,
    CodecError,
    CodecKeyError,
    CodecKeys,
    EncryptionCodec,
    data_converter,
    load_keys,
    parse_keys,
)
from runtime.connect import BadSetting, connect
from starter.cli import codec_server as codec_server_command
from starter.cli.codec_server import host_name
from tests.support.devserver import MSP, STEP_TIMEOUT, Server, free_port, msp, process_env, spawn
from worker import build_worker
from workflows.silence import SilenceProcedureWorkflow

K1 = bytes(range(32))
K2 = bytes(range(100, 132))
K3 = bytes(range(16))


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def keys(*pairs: tuple[str, bytes], source: str = ENV_KEYS) -> CodecKeys:
    return CodecKeys(tuple(pairs), source)


def clear(value: Any) -> Payload:
    [p] = pydantic_data_converter.payload_converter.to_payloads([value])
    return p


# The codec on its own


async def test_round_trip_encrypts_with_the_active_key_and_a_fresh_nonce():
    codec = EncryptionCodec(keys(("k1", K1), ("k2", K2)))
    original = clear({"proposal": "confidential text"})
    a, b = await codec.encode([original, original])
    for p in (a, b):
        assert p.metadata["encoding"] == ENCODING.encode() and p.metadata[KEY_ID] == b"k1"
        assert b"confidential" not in p.data
    assert a.data[:12] != b.data[:12], "each payload gets its own nonce"
    assert await codec.decode([a, b]) == [original, original]
    # Through the data converter, as the client uses it.
    converter = data_converter(keys=keys(("k1", K1)))
    encoded = await converter.encode([{"x": 1}, "text"])
    assert all(p.metadata["encoding"] == ENCODING.encode() for p in encoded)
    assert await converter.decode(encoded) == [{"x": 1}, "text"]


async def test_rotation_new_key_encrypts_old_key_still_decrypts():
    before = EncryptionCodec(keys(("k1", K1)))
    old = await before.encode([clear("written in 2026")])
    after = EncryptionCodec(keys(("k2", K2), ("k1", K1)))
    new = await after.encode([clear("written in 2027")])
    assert new[0].metadata[KEY_ID] == b"k2"
    assert await after.decode(old + new) == [clear("written in 2026"), clear("written in 2027")]
    # Once k1 is dropped, what it encrypted no longer reads: the error names the key.
    with pytest.raises(CodecError, match="'k1'"):
        await EncryptionCodec(keys(("k2", K2))).decode(old)


async def test_unknown_key_id_names_the_key_and_the_known_ones():
    old = await EncryptionCodec(keys(("k2025", K3))).encode([clear("x")])
    codec = EncryptionCodec(parse_keys(f"k2027:{b64(K1)},k2026:{b64(K2)}"))
    with pytest.raises(CodecError) as e:
        await codec.decode(old)
    assert (
        str(e.value) == "payload encrypted with key 'k2025', which is not among CCM_CODEC_KEYS (k2027, k2026)"
    )


async def test_same_key_id_other_material_fails_clearly():
    payloads = await EncryptionCodec(keys(("k1", K1))).encode([clear("x")])
    with pytest.raises(CodecError, match="'k1' does not decrypt with the key of that id in CCM_CODEC_KEYS"):
        await EncryptionCodec(keys(("k1", K2))).decode(payloads)


async def test_unencrypted_payloads_pass_through_decode_unchanged():
    codec = EncryptionCodec(keys(("k1", K1)))
    plain = [clear({"a": 1}), clear(None), Payload(metadata={"encoding": b"binary/plain"}, data=b"raw")]
    assert await codec.decode(plain) == plain
    assert await data_converter(keys=keys(("k1", K1))).decode(plain[:2]) == [{"a": 1}, None]


def test_keys_from_the_environment_first_is_active():
    loaded = load_keys({ENV_KEYS: f" k2027:{b64(K1)} , k2026:{b64(K3)} "})
    assert loaded is not None and loaded.ids == ("k2027", "k2026") and loaded.active == "k2027"
    assert loaded.keys[1][1] == K3
    assert load_keys({}) is None
    assert data_converter(environ={}) is pydantic_data_converter
    assert isinstance(data_converter(environ={ENV_KEYS: f"a:{b64(K1)}"}).payload_codec, EncryptionCodec)


def private_file(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_keys_from_a_file_with_comments(tmp_path: Path):
    f = private_file(
        tmp_path / "keys",
        f"# rotated 2027-01-01\nk2027={b64(K1)}\n\nk2026 = {b64(K2)}  # kept to read old runs\n",
    )
    loaded = load_keys({ENV_KEYS_FILE: str(f)})
    assert loaded is not None and loaded.ids == ("k2027", "k2026") and loaded.keys[1][1] == K2
    assert loaded.source == f"CCM_CODEC_KEYS_FILE {f}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("k1:not-base64!", "CCM_CODEC_KEYS entry 1: the key is not base64"),
        (f"k1:{b64(K1)},k2:{b64(b'short')}", "CCM_CODEC_KEYS entry 2: the key is 5 bytes, not 16, 24 or 32"),
        (f"k1:{b64(K1)},:{b64(K2)}", "CCM_CODEC_KEYS entry 2: the key id is empty"),
        (f"k1:{b64(K1)},k1:{b64(K2)}", "CCM_CODEC_KEYS entry 2: key id 'k1' already given (entry 1)"),
        (f"k1:{b64(K1)},", "CCM_CODEC_KEYS entry 2: empty"),
        (b64(K1), "CCM_CODEC_KEYS entry 1: expected id:base64key"),
        (f"k 1:{b64(K1)}", "CCM_CODEC_KEYS entry 1: the key id is not letters, digits, '.', '_' or '-'"),
    ],
)
def test_bad_keys_in_the_variable_name_it_and_the_entry(value: str, message: str):
    with pytest.raises(CodecKeyError) as e:
        load_keys({ENV_KEYS: value})
    assert str(e.value).startswith(message), str(e.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"# keys\nk1={b64(K1)}\nk2=%%%\n", "line 3: the key is not base64"),
        (f"k1={b64(K1)}\nk1={b64(K2)}\n", "line 2: key id 'k1' already given (line 1)"),
        (f"\n={b64(K1)}\n", "line 2: the key id is empty"),
        (f"k1={b64(K1[:20])}\n", "line 1: the key is 20 bytes, not 16, 24 or 32"),
        (
            f"k1 {b64(K1)}\n",
            "line 1: the key id is not letters, digits, '.', '_' or '-' (expected id=base64key)",
        ),
        (f"k1:{b64(K3)}\n", "line 1: the key id is not letters"),
        ("k1 AAAA\n", "line 1: expected id=base64key"),
        ("# nothing yet\n", "no key in it"),
    ],
)
def test_bad_keys_in_the_file_name_it_and_the_line(tmp_path: Path, text: str, message: str):
    f = private_file(tmp_path / "keys", text)
    with pytest.raises(CodecKeyError) as e:
        load_keys({ENV_KEYS_FILE: str(f)})
    assert str(e.value).startswith(
        f"CCM_CODEC_KEYS_FILE {f}{':' if message == 'no key in it' else ''} {message}"
    )
    assert b64(K1) not in str(e.value) and b64(K3) not in str(e.value), "key material is never echoed"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o660], ids=lambda m: f"{m:04o}")
def test_a_key_file_group_or_others_can_read_or_change_is_refused_naming_it_and_its_mode(
    tmp_path: Path, mode: int
):
    f = private_file(tmp_path / "keys", f"k1={b64(K1)}\n")
    f.chmod(mode)
    with pytest.raises(CodecKeyError) as e:
        load_keys({ENV_KEYS_FILE: str(f)})
    assert str(e.value) == (
        f"CCM_CODEC_KEYS_FILE {f}: mode {mode:04o} lets group or others read or change it; keys must be the "
        f"owner's alone: chmod 600 {f}"
    )
    assert b64(K1) not in str(e.value)
    for private in (0o600, 0o400):
        f.chmod(private)
        loaded = load_keys({ENV_KEYS_FILE: str(f)})
        assert loaded is not None and loaded.ids == ("k1",)


def test_missing_file_and_both_variables_are_named(tmp_path: Path):
    with pytest.raises(CodecKeyError, match=f"CCM_CODEC_KEYS_FILE {tmp_path / 'nope'}: cannot read it"):
        load_keys({ENV_KEYS_FILE: str(tmp_path / "nope")})
    with pytest.raises(CodecKeyError, match="both CCM_CODEC_KEYS and CCM_CODEC_KEYS_FILE are set"):
        load_keys({ENV_KEYS: f"a:{b64(K1)}", ENV_KEYS_FILE: str(tmp_path / "keys")})


async def test_connect_fails_at_start_naming_the_bad_key_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENV_KEYS, "k1:????")
    monkeypatch.delenv(ENV_KEYS_FILE, raising=False)
    # A setting to correct, not a server to wait for: `msp` exits 2 (bad input), not 3 (unreachable).
    with pytest.raises(BadSetting, match="payload codec keys are invalid: CCM_CODEC_KEYS entry 1"):
        await connect()


# On the dev server: the worker and `msp` with the codec, the server storing ciphertext

KEYS = keys(("k2027", K1), ("k2026", K2))
KEYS_ENV = f"k2027:{b64(K1)},k2026:{b64(K2)}"
MARKER = f"CONFIDENTIAL-{uuid.uuid4().hex[:12]}"
STATES = ["Austria", "Chile", "Mexico"]
UI = "http://localhost:8233"


@pytest.fixture(scope="module")
async def encrypted(server: Server) -> AsyncIterator[tuple[Client, WorkflowHandle[Any, Any]]]:
    """A worker and a client with the codec, and one silence procedure whose proposal carries MARKER."""
    client = await Client.connect(server.address, data_converter=data_converter(keys=KEYS))
    task_queue = f"codec-{uuid.uuid4().hex[:8]}"
    async with ConferenceServices() as services, build_worker(client, services, task_queue):
        inp = SilenceInput(
            procedure_id=f"codec-{uuid.uuid4().hex[:8]}",
            proposal=f"To adopt the budget set out in {MARKER}.",
            reference="CCM/MSP/2027/WP.9",
            initiator="the President (Chile)",
            deadline=datetime.now(UTC) + timedelta(days=30),
            states_parties=STATES,
        )
        handle = await client.start_workflow(
            SilenceProcedureWorkflow.run, inp, id=silence_id("ccm", inp.procedure_id), task_queue=task_queue
        )
        state: SilenceState = await handle.query(SilenceProcedureWorkflow.state)
        assert MARKER in state.proposal
        yield client, handle


async def started_input(server: Server, workflow_id: str) -> Payload:
    """The workflow's input as stored, read through a client without the codec (history is never decoded)."""
    async for event in server.client.get_workflow_handle(workflow_id).fetch_history_events():
        assert event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
        payload: Payload = event.workflow_execution_started_event_attributes.input.payloads[0]
        return payload
    raise AssertionError("no history")


async def test_the_server_stores_ciphertext_the_worker_and_client_see_clear_text(server, encrypted):
    client, handle = encrypted
    # The worker decrypted the input (the proposal is in its state) and the client reads its answer.
    state: SilenceState = await handle.query(SilenceProcedureWorkflow.state)
    assert MARKER in state.proposal and state.states_parties == STATES
    # Raw, through a client without the codec: encrypted, with the active key's id, and nowhere in clear.
    raw = await started_input(server, handle.id)
    assert raw.metadata["encoding"] == b"binary/encrypted" and raw.metadata[KEY_ID] == b"k2027"
    assert MARKER.encode() not in raw.data
    history = await server.client.get_workflow_handle(handle.id).fetch_history()
    assert MARKER.encode() not in history.to_json().encode()
    for event in history.events:
        assert MARKER.encode() not in event.SerializeToString(), event
    # The same client decodes the stored payload to the input.
    [decoded] = await client.data_converter.decode([raw], [SilenceInput])
    assert MARKER in decoded.proposal
    # Without the codec, the answer cannot be read at all.
    with pytest.raises(Exception, match="binary/encrypted"):
        await server.client.get_workflow_handle(handle.id).query(SilenceProcedureWorkflow.state)


async def test_a_client_with_a_wrong_key_fails_with_a_clear_error(server, encrypted):
    _, handle = encrypted
    raw = await started_input(server, handle.id)
    other_id = data_converter(keys=keys(("k2025", K3), source=ENV_KEYS))
    with pytest.raises(CodecError, match=r"key 'k2027', which is not among CCM_CODEC_KEYS \(k2025\)"):
        await other_id.decode([raw])
    same_id = await Client.connect(server.address, data_converter=data_converter(keys=keys(("k2027", K2))))
    with pytest.raises(CodecError, match="'k2027' does not decrypt with the key of that id"):
        await same_id.get_workflow_handle(handle.id).query(SilenceProcedureWorkflow.state)


async def test_msp_with_the_keys_reads_clear_text_and_without_them_fails(server, encrypted):
    _, handle = encrypted
    procedure = handle.id.removeprefix("ccm-silence-")
    env = process_env(server.address, "unused")
    run = await msp({**env, ENV_KEYS: KEYS_ENV}, "silence", "status", procedure, "--json")
    assert run.code == 0, run
    assert MARKER in json.loads(run.out)["proposal"]
    bad = await msp({**env, ENV_KEYS: "k2027:AAAA"}, "silence", "status", procedure)
    assert bad.code == 2 and "CCM_CODEC_KEYS entry 1: the key is 3 bytes" in bad.err, bad
    assert "Traceback" not in bad.err, bad


# `msp codec-server`


@contextlib.asynccontextmanager
async def codec_server(*args: str, env_keys: str = KEYS_ENV, log: Path | None = None) -> AsyncIterator[str]:
    """`msp codec-server` as a process on a free port; yields its URL. ``log``: where its stderr goes."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CCM_"))}
    env[ENV_KEYS] = env_keys
    with log.open("wb") if log is not None else contextlib.nullcontext() as err:
        stderr = err if err is not None else asyncio.subprocess.PIPE
        proc = await spawn(
            str(MSP),
            "codec-server",
            "--port",
            str(port),
            *args,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STEP_TIMEOUT
        async with httpx.AsyncClient() as http:
            while True:
                if proc.returncode is not None:
                    said = log.read_text() if log is not None else ""
                    if proc.stderr is not None:
                        said = (await proc.stderr.read()).decode()
                    raise AssertionError(f"msp codec-server exited: {said}")
                try:
                    await http.options(url + "/decode")
                    break
                except httpx.TransportError:
                    if loop.time() > deadline:
                        raise
                    await asyncio.sleep(0.1)
        yield url
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()


def as_json(*payloads: Payload) -> dict[str, Any]:
    body: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=payloads))
    return body


def from_json(body: dict[str, Any]) -> list[Payload]:
    return list(json_format.ParseDict(body, Payloads()).payloads)


async def test_codec_server_decodes_a_stored_payload_and_round_trips(server, encrypted):
    _, handle = encrypted
    raw = await started_input(server, handle.id)
    async with codec_server() as url, httpx.AsyncClient() as http:
        # What the Web UI sends: protobuf JSON, base64 metadata and data.
        body = as_json(raw)
        assert body["payloads"][0]["metadata"]["encoding"] == base64.b64encode(b"binary/encrypted").decode()
        r = await http.post(url + "/decode", json=body, headers={"Origin": UI, "X-Namespace": "default"})
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == UI
        [decoded] = from_json(r.json())
        assert decoded.metadata["encoding"] == b"json/plain"
        assert json.loads(decoded.data)["proposal"] == f"To adopt the budget set out in {MARKER}."
        # Encode then decode gives back what went in; the encoded one is ciphertext with the active key.
        plain = clear({"note": MARKER})
        r = await http.post(url + "/encode", json=as_json(plain))
        assert r.status_code == 200, r.text
        [enc] = from_json(r.json())
        assert enc.metadata[KEY_ID] == b"k2027" and MARKER.encode() not in enc.data
        r = await http.post(url + "/decode", json=r.json())
        assert from_json(r.json()) == [plain]
        # A payload not encrypted passes through; one with an unknown key is a 400 naming it.
        r = await http.post(url + "/decode", json=as_json(plain))
        assert from_json(r.json()) == [plain]
        foreign = await EncryptionCodec(keys(("k2025", K3))).encode([plain])
        r = await http.post(url + "/decode", json=as_json(*foreign))
        assert r.status_code == 400 and "key 'k2025', which is not among CCM_CODEC_KEYS" in r.json()["error"]
        r = await http.post(
            url + "/decode", content=b"not json", headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400
        # The browser's preflight.
        r = await http.options(
            url + "/decode",
            headers={
                "Origin": UI,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-namespace",
            },
        )
        assert r.status_code in (200, 204)
        assert r.headers["access-control-allow-origin"] == UI
        allowed = {h.strip() for h in r.headers["access-control-allow-headers"].split(",")}
        assert {"content-type", "x-namespace"} <= allowed
        assert "POST" in r.headers["access-control-allow-methods"]
        # Another origin is not allowed.
        r = await http.options(url + "/decode", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in r.headers


async def test_codec_server_with_a_token_refuses_requests_without_it():
    async with (
        codec_server("--token", "s3cret", "--ui-origin", "http://ui.example:8080") as url,
        httpx.AsyncClient() as http,
    ):
        plain = as_json(clear("x"))
        r = await http.post(url + "/encode", json=plain)
        assert r.status_code == 401 and "Bearer" in r.headers["www-authenticate"]
        r = await http.post(url + "/encode", json=plain, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
        # The preflight carries no credentials; it is answered, for the configured origin only.
        r = await http.options(url + "/encode", headers={"Origin": "http://ui.example:8080"})
        assert r.status_code in (200, 204)
        assert r.headers["access-control-allow-origin"] == "http://ui.example:8080"
        assert "authorization" in r.headers["access-control-allow-headers"]
        r = await http.options(url + "/encode", headers={"Origin": UI})
        assert "access-control-allow-origin" not in r.headers
        r = await http.post(url + "/encode", json=plain, headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200
        [enc] = from_json(r.json())
        assert enc.metadata["encoding"] == b"binary/encrypted"


async def test_codec_server_without_keys_or_with_bad_keys_says_so():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CCM_"))}
    for extra, message in (
        ({}, "no keys: set CCM_CODEC_KEYS or CCM_CODEC_KEYS_FILE"),
        ({ENV_KEYS: "k1:AAAA,"}, "CCM_CODEC_KEYS entry 1: the key is 3 bytes"),
    ):
        run = await msp({**env, **extra}, "codec-server", "--port", str(free_port()))
        assert run.code == 2 and message in run.err, run


# `msp codec-server` against raw requests: what a browser page, a script or a stalled client can send


async def raw(url: str, request: bytes) -> tuple[int, bytes]:
    """Sends ``request`` as is and reads the status and the body of the answer, without sending anything more."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), STEP_TIMEOUT)
        status = int(head.split(b" ", 2)[1])
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.lower().split(b"\r\n")
                if line.startswith(b"content-length:")
            ),
            0,
        )
        body = await asyncio.wait_for(reader.readexactly(length), STEP_TIMEOUT)
        return status, body
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def post(url: str, *headers: str, body: bytes = b"", host: str | None = None) -> bytes:
    """A POST /encode with the given header lines (Host the server's address unless ``host``), then ``body``."""
    lines = ["POST /encode HTTP/1.1", f"Host: {host if host is not None else url.removeprefix('http://')}"]
    return ("\r\n".join([*lines, *headers]) + "\r\n\r\n").encode() + body


async def test_codec_server_checks_the_token_and_the_length_before_reading_the_body(tmp_path: Path):
    """The body is never sent here: a server that read it before answering would wait for it."""
    log = tmp_path / "codec-server.log"
    async with codec_server("--token", "s3cret", log=log) as url:
        # 50 MB announced, no token: refused at once, from the headers alone.
        status, body = await raw(url, post(url, "Content-Length: 50000000"))
        assert status == 401 and b"Bearer" in body
        status, _ = await raw(url, post(url, "Content-Length: 1000", "Authorization: Bearer wrong"))
        assert status == 401
        # With the token, a body over the cap is refused before it is read.
        status, body = await raw(url, post(url, "Authorization: Bearer s3cret", "Content-Length: 50000000"))
        assert status == 413 and b"over the limit" in body
        # A length that is not a whole number: 400, not a traceback, and -1 does not hold a thread.
        for length in ("abc", "-1", "1e3", " ", "0x10", "12345678901234567890"):
            status, body = await raw(
                url, post(url, "Authorization: Bearer s3cret", f"Content-Length: {length}")
            )
            assert status == 400 and b"Content-Length" in body, (length, status, body)
        status, _ = await raw(
            url,
            post(url, "Authorization: Bearer s3cret", "Content-Length: 2", "Content-Length: 3", body=b"{}"),
        )
        assert status == 400
        status, _ = await raw(url, post(url, "Authorization: Bearer s3cret", "Transfer-Encoding: chunked"))
        assert status == 411
        # Bodies that are not protobuf JSON: 400 whatever they hold.
        for junk in (b"\xff\xfe", b"[" * 100_000, b'{"payloads": 3}'):
            status, _ = await raw(
                url, post(url, "Authorization: Bearer s3cret", f"Content-Length: {len(junk)}", body=junk)
            )
            assert status == 400, junk[:20]
        # And a good request on a fresh connection still works.
        good = json.dumps(as_json(clear("x"))).encode()
        status, body = await raw(
            url, post(url, "Authorization: Bearer s3cret", f"Content-Length: {len(good)}", body=good)
        )
        assert status == 200 and b"payloads" in body
    said = log.read_text()
    assert "Traceback" not in said, said


async def test_codec_server_serves_only_the_host_names_it_is_given(tmp_path: Path):
    log = tmp_path / "codec-server.log"
    good = json.dumps(as_json(clear("x"))).encode()
    length = f"Content-Length: {len(good)}"
    async with codec_server(log=log) as url:
        port = url.rsplit(":", 1)[1]
        for name in (
            f"127.0.0.1:{port}",
            f"localhost:{port}",
            f"LOCALHOST.:{port}",
            f"[::1]:{port}",
            "localhost",
        ):
            status, _ = await raw(url, post(url, length, body=good, host=name))
            assert status == 200, name
        # DNS rebinding: a page of another site, its name pointed at 127.0.0.1, sends its own name.
        for name in (f"rebind.example:{port}", "127.0.0.1.nip.io", ""):
            status, body = await raw(url, post(url, length, body=good, host=name))
            assert status == 403 and b"--allow-host" in body, (name, status)
        status, _ = await raw(
            url, f"OPTIONS /decode HTTP/1.1\r\nHost: rebind.example:{port}\r\n\r\n".encode()
        )
        assert status == 403
        # No Host at all (HTTP/1.0).
        status, _ = await raw(url, f"POST /encode HTTP/1.0\r\n{length}\r\n\r\n".encode() + good)
        assert status == 400
    async with codec_server("--allow-host", "codec.ccm.example", log=log) as url:
        status, _ = await raw(url, post(url, length, body=good, host="codec.ccm.example:443"))
        assert status == 200
        status, _ = await raw(url, post(url, length, body=good, host="127.0.0.1"))
        assert status == 200
        status, _ = await raw(url, post(url, length, body=good, host="rebind.example"))
        assert status == 403
    said = log.read_text()
    assert "Traceback" not in said, said


def test_host_names_are_read_without_port_case_or_final_dot():
    assert host_name("Example.ORG:8888") == "example.org"
    assert host_name("[::1]:8888") == "::1"
    assert host_name("[::1]") == "::1"
    assert host_name("localhost.") == "localhost"
    assert host_name(" 127.0.0.1 ") == "127.0.0.1"


async def test_codec_server_refuses_a_key_file_others_can_read(tmp_path: Path):
    f = private_file(tmp_path / "keys", f"k1={b64(K1)}\n")
    f.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CCM_"))}
    run = await msp({**env, ENV_KEYS_FILE: str(f)}, "codec-server", "--port", str(free_port()))
    assert run.code == 2, run
    assert run.err.strip() == (
        f"the payload codec keys are invalid: CCM_CODEC_KEYS_FILE {f}: mode 0644 lets group or others read or "
        f"change it; keys must be the owner's alone: chmod 600 {f}"
    ), run


async def test_codec_server_drops_a_client_that_stalls(monkeypatch: pytest.MonkeyPatch, capsys):
    """In this process, with the read timeout shortened: a client that stops sending, mid-headers or mid-body, is
    disconnected (its thread freed), said in one line, while others are served."""
    monkeypatch.setattr(codec_server_command, "READ_TIMEOUT", 0.5)
    server = codec_server_command.build_server(EncryptionCodec(KEYS), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for stalled in (
            b"POST /encode HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            post(url, "Content-Length: 100", body=b'{"payloads":'),
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.server_address[1])
            writer.write(stalled)
            await writer.drain()
            # Another client meanwhile is served.
            good = json.dumps(as_json(clear("x"))).encode()
            status, _ = await raw(url, post(url, f"Content-Length: {len(good)}", body=good))
            assert status == 200
            # The stalled one is cut off: the server closes its end (read returns nothing, no answer sent).
            assert await asyncio.wait_for(reader.read(), STEP_TIMEOUT) == b""
            writer.close()
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err
    assert "timed out" in err and "Traceback" not in err, err
