"""The notification activity against real HTTP servers on 127.0.0.1: the scriptable stand-in and the receiver.

Each call runs in ``ActivityEnvironment``: delivered, retryable (500, no listener), refused (400), and logged when no
webhook is configured. The receiver of `make run` stores one file per key under ``notifications/``. A notification
names its webhook target; the notifier holds the URLs (from the worker's environment), and shows them nowhere with
their credentials or query.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from structlog.testing import capture_logs
from temporalio.testing import ActivityEnvironment

from activities.conference_services import ConferenceServices
from activities.notifications import UNDELIVERED, Notifier, webhooks_from_env
from domain.config import ConfigError, parse_config
from domain.extensions import ExtensionInput
from domain.notifications import (
    REJECTED_BY_WEBHOOK,
    SEND_NOTIFICATION,
    Delivery,
    Notification,
    redact_in,
    redact_url,
    webhook_env,
)
from domain.reports import ReportsInput
from domain.reviews import ReviewInput
from domain.silence import SilenceInput
from runtime.connect import ConnectError
from starter.receiver import NOTIFICATIONS, Receiver, safe_name
from tests.support.activity import failure
from tests.support.scripted_services import Services, Step
from worker import activities
from worker import serve as serve_worker

PATH = "/notifications"
KEY = "ccm-review-14MSP-reminder-1"


def notification(key: str = KEY, webhook: str = "default") -> Notification:
    return Notification(
        webhook=webhook,
        idempotency_key=key,
        text="Reminder: the 14MSP programme review is due on 2027-08-20.",
        review="14MSP-programme",
        kind="reminder",
        due="2027-08-20",
    )


def to(http: httpx.AsyncClient, url: str, **kw: Any) -> Notifier:
    """A notifier whose default webhook is ``url``."""
    return Notifier(http, webhooks={"default": url}, **kw)


async def test_delivered_with_its_key_and_the_fields_as_json(
    services: Services, http: httpx.AsyncClient
) -> None:
    n = notification()
    delivery = await ActivityEnvironment().run(to(http, services.url + PATH).send_notification, n)
    assert delivery == Delivery(delivered_to="default", duplicate=False)
    [seen] = services.seen
    assert seen.path == PATH and seen.key == KEY
    assert seen.body == {
        "text": n.text,
        "review": "14MSP-programme",
        "kind": "reminder",
        "due": "2027-08-20",
        "key": KEY,
    }


async def test_a_plain_text_200_is_delivered_as_a_duplicate(
    services: Services, http: httpx.AsyncClient
) -> None:
    services.script(PATH, Step(status=200, body="ok"))
    delivery = await ActivityEnvironment().run(
        to(http, services.url + PATH).send_notification, notification()
    )
    assert delivery == Delivery(delivered_to="default", duplicate=True)


@pytest.mark.parametrize("status", [500, 503, 408, 429])
async def test_5xx_408_429_are_retryable_naming_the_url(
    services: Services, http: httpx.AsyncClient, status: int
) -> None:
    services.script(PATH, Step(status=status))
    err = await failure(to(http, services.url + PATH).send_notification, notification())
    assert err.type == UNDELIVERED == "NotificationUndelivered" and not err.non_retryable
    assert f"{services.url}{PATH}" in err.message and str(status) in err.message


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_4xx_is_a_non_retryable_rejection(
    services: Services, http: httpx.AsyncClient, status: int
) -> None:
    services.script(PATH, Step(status=status))
    err = await failure(to(http, services.url + PATH).send_notification, notification())
    assert err.type == REJECTED_BY_WEBHOOK and err.non_retryable
    assert f"refused by {services.url}{PATH}: {status}" in err.message


async def test_a_slow_webhook_and_no_listener_are_retryable(
    services: Services, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    services.script(PATH, Step(delay=5))
    slow = await failure(to(http, services.url + PATH, total_timeout=0.5).send_notification, notification())
    assert slow.type == UNDELIVERED and not slow.non_retryable and "0.5 s" in slow.message
    with Receiver(tmp_path, log=None) as gone:
        url = gone.url + PATH  # a port that was free a moment ago and now has no listener
    err = await failure(to(http, url).send_notification, notification())
    assert err.type == UNDELIVERED and not err.non_retryable
    assert f"cannot reach the webhook 'default' at {url}" in err.message


async def test_without_a_webhook_it_is_logged_and_nothing_is_sent() -> None:
    closed = httpx.AsyncClient()
    await closed.aclose()  # any request on it would raise
    n = notification()
    with capture_logs() as logs:
        delivery = await ActivityEnvironment().run(Notifier(closed).send_notification, n)
    assert delivery == Delivery(delivered_to="log", duplicate=False)
    [entry] = logs
    assert entry["log_level"] == "info"
    assert (entry["about"], entry["kind"], entry["key"], entry["text"]) == (
        "14MSP-programme",
        "reminder",
        KEY,
        n.text,
    )


async def test_the_receiver_stores_one_file_per_key_and_answers_a_repeat_with_200(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    with Receiver(tmp_path, log=None) as receiver:
        url = receiver.url + PATH
        notifier = to(http, url)
        first = await ActivityEnvironment().run(notifier.send_notification, notification())
        again = await ActivityEnvironment().run(notifier.send_notification, notification())
        raw = await http.post(url, json={"text": "x"}, headers={"Idempotency-Key": KEY})
        other = await http.post(url, json={"text": "y"}, headers={"Idempotency-Key": "another"})
    assert first == Delivery(delivered_to="default", duplicate=False)
    assert again == Delivery(delivered_to="default", duplicate=True)
    assert raw.status_code == 200 and raw.json()["reference"] == "UNOG-N-000001" and raw.json()["duplicate"]
    assert other.status_code == 201 and other.json()["reference"] == "UNOG-N-000002"
    folder = tmp_path / NOTIFICATIONS
    assert sorted(p.name for p in folder.iterdir()) == sorted([safe_name(KEY), safe_name("another")])
    stored = json.loads((folder / safe_name(KEY)).read_text())
    assert stored["reference"] == "UNOG-N-000001" and stored["body"]["key"] == KEY
    assert stored["body"]["text"] == notification().text


async def test_the_worker_registers_it_on_the_services_client() -> None:
    client: Any = None  # the Temporal client is only kept by the reviews finder, not used here
    async with ConferenceServices() as services:
        names = [fn.__name__ for fn in activities(client, services)]
        assert "send_notification" in names and SEND_NOTIFICATION == "send_notification"
        [notify] = [fn for fn in activities(client, services) if fn.__name__ == "send_notification"]
        assert getattr(notify, "__self__").client is services.client  # noqa: B009 - a bound method's owner
    assert services.client.is_closed


# Webhook targets by name, and URLs shown without their secrets.

TOKEN = "s3cr3t-t0ken-42"


async def test_a_token_and_credentials_in_the_url_appear_in_no_result_error_or_log(
    services: Services, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    secret_path = f"{PATH}?token={TOKEN}"
    url = services.url.replace("http://", "http://hook-user:hook-pass@") + secret_path
    notifier = to(http, url)
    with capture_logs() as logs:
        delivery = await ActivityEnvironment().run(notifier.send_notification, notification())
        # A refusal that echoes the request back, as some servers do.
        services.script(
            secret_path, Step(status=404, body=f"no route for POST {secret_path} (hook-user:hook-pass)")
        )
        refused = await failure(notifier.send_notification, notification(key="k2"))
        with Receiver(tmp_path, log=None) as gone:
            down = gone.url.replace("http://", "http://hook-user:hook-pass@") + secret_path
        unreachable = await failure(to(http, down).send_notification, notification(key="k3"))
    # It did reach the URL, token and all.
    assert [s.path for s in services.seen] == [secret_path, secret_path]
    assert delivery == Delivery(delivered_to="default")
    assert refused.type == REJECTED_BY_WEBHOOK and f"refused by {services.url}{PATH}: 404" in refused.message
    assert "no route for POST /notifications" in refused.message
    assert f"at {gone.url}{PATH}" in unreachable.message
    for text in (refused.message, unreachable.message, repr(logs), delivery.model_dump_json()):
        for secret in (TOKEN, "token=", "hook-user", "hook-pass"):
            assert secret not in text, (secret, text)


async def test_a_named_target_goes_to_its_own_url_and_an_unknown_one_is_retried_naming_its_setting(
    services: Services, http: httpx.AsyncClient
) -> None:
    notifier = Notifier(
        http, webhooks={"default": services.url + "/default", "isu-chat": services.url + "/isu"}
    )
    delivery = await ActivityEnvironment().run(notifier.send_notification, notification(webhook="isu-chat"))
    assert delivery == Delivery(delivered_to="isu-chat") and [s.path for s in services.seen] == ["/isu"]
    err = await failure(notifier.send_notification, notification(webhook="presidency"))
    assert err.type == UNDELIVERED and not err.non_retryable
    assert (
        err.message
        == "this worker has no webhook named 'presidency': set CCM_WEBHOOK_URL_PRESIDENCY in its environment"
    )


def test_the_worker_reads_its_webhook_targets_from_its_environment_and_refuses_a_malformed_one() -> None:
    env = {
        "CCM_WEBHOOK_URL": f"https://chat.example.org/hooks/ccm?token={TOKEN}",
        "CCM_WEBHOOK_URL_ISU_CHAT": "http://127.0.0.1:9/isu",
        "CCM_WEBHOOK_URL_SPARE": "  ",
        "CCM_WEBHOOKS": "not ours",
    }
    assert webhooks_from_env(env) == {
        "default": f"https://chat.example.org/hooks/ccm?token={TOKEN}",
        "isu-chat": "http://127.0.0.1:9/isu",
    }
    assert (
        webhook_env("isu-chat") == "CCM_WEBHOOK_URL_ISU_CHAT" and webhook_env("default") == "CCM_WEBHOOK_URL"
    )
    for bad in (
        f"ftp://chat.example.org/x?token={TOKEN}",
        f"chat.example.org/hooks?token={TOKEN}",
        "https://",
    ):
        with pytest.raises(ValueError) as err:
            webhooks_from_env({"CCM_WEBHOOK_URL_ISU": bad})
        assert str(err.value).startswith("CCM_WEBHOOK_URL_ISU: not an http(s) URL with a host")
        assert TOKEN not in str(err.value)
    with pytest.raises(ValueError, match=r"^CCM_WEBHOOK_URL_A\.B: a webhook target's name"):
        webhooks_from_env({"CCM_WEBHOOK_URL_A.B": "http://127.0.0.1:9/x"})


async def test_the_worker_does_not_start_with_a_malformed_webhook_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CCM_METRICS_ADDRESS", raising=False)
    monkeypatch.setenv("CCM_WEBHOOK_URL", f"hooks.example.org/ccm?token={TOKEN}")
    with pytest.raises(ConnectError, match=r"^CCM_WEBHOOK_URL: not an http\(s\) URL") as err:
        await serve_worker()
    assert TOKEN not in str(err.value)


def test_a_url_is_shown_as_scheme_host_port_and_path_only() -> None:
    assert (
        redact_url(f"https://me:pw@hooks.example.org:8443/a/b?token={TOKEN}#x")
        == "https://hooks.example.org:8443/a/b"
    )
    assert redact_url("http://[::1]:7299/notifications?x=1") == "http://[::1]:7299/notifications"
    assert redact_url("http://127.0.0.1:7299") == "http://127.0.0.1:7299"
    for bad in ("hooks.example.org/x", "http://host:port/x", ""):
        assert redact_url(bad) == "(a malformed URL)"
    url = f"https://hook-user:hook-pass@h.example.org/a?token={TOKEN}"
    assert redact_in(f"POST {url} failed; /a?token={TOKEN} for hook-user", url) == (
        "POST https://h.example.org/a failed; /a?[redacted] for [redacted]"
    )


HISTORIES = Path(__file__).parents[1] / "histories"


def payload(p: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(p["data"]))


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("review", ReviewInput),
        ("extension", ExtensionInput),
        ("silence", SilenceInput),
        ("report", ReportsInput),
    ],
)
def test_inputs_recorded_with_a_webhook_url_decode_without_it(name: str, model: type[BaseModel]) -> None:
    """Runs started before targets had names carry ``webhook_url`` in their input and in each notification: they
    decode, name the default target, and the URL is not carried on (into a next run, say)."""
    events = json.loads((HISTORIES / f"{name}.json").read_text())["events"]
    raw = payload(events[0]["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0])
    assert raw["webhook_url"].startswith("http://127.0.0.1:")
    inp = model.model_validate(raw)
    assert getattr(inp, "webhook") == "default" and "webhook_url" not in inp.model_dump()  # noqa: B009
    scheduled = [
        e["activityTaskScheduledEventAttributes"]
        for e in events
        if "activityTaskScheduledEventAttributes" in e
    ]
    notes = [
        payload(a["input"]["payloads"][0])
        for a in scheduled
        if a["activityType"]["name"] == SEND_NOTIFICATION
    ]
    assert notes and all("webhook_url" in n for n in notes)
    assert {Notification.model_validate(n).webhook for n in notes} == {"default"}


def test_the_cycle_names_its_webhook_target_and_refuses_a_url_saying_where_it_goes() -> None:
    base = (Path(__file__).parents[2] / "config" / "cycle.toml").read_text()
    assert parse_config(base).notifications.webhook == "default"
    line = next(n for n, text in enumerate(base.splitlines(), start=1) if text == 'webhook = "default"')
    url = base.replace(
        'webhook = "default"', f'webhook_url = "https://chat.example.org/hooks/ccm?token={TOKEN}"'
    )
    with pytest.raises(ConfigError) as err:
        parse_config(url, source="cycle.toml")
    assert str(err.value).startswith(
        f"cycle.toml:{line}: notifications.webhook_url: a webhook's URL is the worker's setting, not the cycle's: "
        "set CCM_WEBHOOK_URL in the worker's environment"
    )
    assert TOKEN not in str(err.value)
    with pytest.raises(ConfigError, match=rf"^cycle\.toml:{line}: notifications\.webhook: "):
        parse_config(base.replace('webhook = "default"', 'webhook = "ISU Chat"'), source="cycle.toml")
