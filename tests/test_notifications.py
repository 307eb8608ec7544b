"""The notification activity against real HTTP servers on 127.0.0.1: the scriptable stand-in and the receiver.

Each call runs in ``ActivityEnvironment``: delivered, retryable (500, no listener), refused (400), and logged when no
webhook is configured. The receiver of `make run` stores one file per key under ``notifications/``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.conference_services import ConferenceServices
from activities.notifications import SEND_NOTIFICATION, UNDELIVERED, Notifier
from domain.notifications import REJECTED_BY_WEBHOOK, Delivery, Notification
from starter.receiver import NOTIFICATIONS, Receiver, safe_name
from tests.scripted_services import Services, Step, serve
from worker import activities

PATH = "/notifications"
KEY = "ccm-review-14MSP-reminder-1"


@pytest.fixture
def services() -> Iterator[Services]:
    with serve() as state:
        yield state


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy set in the environment must not carry calls to 127.0.0.1.
    async with httpx.AsyncClient(trust_env=False, timeout=httpx.Timeout(15, connect=5)) as client:
        yield client


def notification(webhook_url: str | None, key: str = KEY) -> Notification:
    return Notification(
        webhook_url=webhook_url,
        idempotency_key=key,
        text="Reminder: the 14MSP programme review is due on 2027-08-20.",
        review="14MSP-programme",
        kind="reminder",
        due="2027-08-20",
    )


async def failure(notifier: Notifier, n: Notification) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(notifier.send_notification, n)
    return info.value


async def test_delivered_with_its_key_and_the_fields_as_json(
    services: Services, http: httpx.AsyncClient
) -> None:
    n = notification(services.url + PATH)
    delivery = await ActivityEnvironment().run(Notifier(http).send_notification, n)
    assert delivery == Delivery(delivered_to=services.url + PATH, duplicate=False)
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
        Notifier(http).send_notification, notification(services.url + PATH)
    )
    assert delivery == Delivery(delivered_to=services.url + PATH, duplicate=True)


@pytest.mark.parametrize("status", [500, 503, 408, 429])
async def test_5xx_408_429_are_retryable_naming_the_url(
    services: Services, http: httpx.AsyncClient, status: int
) -> None:
    services.script(PATH, Step(status=status))
    err = await failure(Notifier(http), notification(services.url + PATH))
    assert err.type == UNDELIVERED == "NotificationUndelivered" and not err.non_retryable
    assert f"{services.url}{PATH}" in err.message and str(status) in err.message


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_4xx_is_a_non_retryable_rejection(
    services: Services, http: httpx.AsyncClient, status: int
) -> None:
    services.script(PATH, Step(status=status))
    err = await failure(Notifier(http), notification(services.url + PATH))
    assert err.type == REJECTED_BY_WEBHOOK and err.non_retryable
    assert f"refused by {services.url}{PATH}: {status}" in err.message


async def test_a_slow_webhook_and_no_listener_are_retryable(
    services: Services, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    services.script(PATH, Step(delay=5))
    slow = await failure(Notifier(http, total_timeout=0.5), notification(services.url + PATH))
    assert slow.type == UNDELIVERED and not slow.non_retryable and "0.5 s" in slow.message
    with Receiver(tmp_path, log=None) as gone:
        url = gone.url + PATH  # a port that was free a moment ago and now has no listener
    err = await failure(Notifier(http), notification(url))
    assert err.type == UNDELIVERED and not err.non_retryable
    assert f"cannot reach the webhook at {url}" in err.message


async def test_without_a_webhook_it_is_logged_and_nothing_is_sent() -> None:
    closed = httpx.AsyncClient()
    await closed.aclose()  # any request on it would raise
    n = notification(None)
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
        notifier = Notifier(http)
        first = await ActivityEnvironment().run(notifier.send_notification, notification(url))
        again = await ActivityEnvironment().run(notifier.send_notification, notification(url))
        raw = await http.post(url, json={"text": "x"}, headers={"Idempotency-Key": KEY})
        other = await http.post(url, json={"text": "y"}, headers={"Idempotency-Key": "another"})
    assert first == Delivery(delivered_to=url, duplicate=False)
    assert again == Delivery(delivered_to=url, duplicate=True)
    assert raw.status_code == 200 and raw.json()["reference"] == "UNOG-N-000001" and raw.json()["duplicate"]
    assert other.status_code == 201 and other.json()["reference"] == "UNOG-N-000002"
    folder = tmp_path / NOTIFICATIONS
    assert sorted(p.name for p in folder.iterdir()) == sorted([safe_name(KEY), safe_name("another")])
    stored = json.loads((folder / safe_name(KEY)).read_text())
    assert stored["reference"] == "UNOG-N-000001" and stored["body"]["key"] == KEY
    assert stored["body"]["text"] == notification(url).text


async def test_the_worker_registers_it_on_the_services_client() -> None:
    client: Any = None  # the Temporal client is only kept by the reviews finder, not used here
    async with ConferenceServices() as services:
        names = [fn.__name__ for fn in activities(client, services)]
        assert "send_notification" in names and SEND_NOTIFICATION == "send_notification"
        [notify] = [fn for fn in activities(client, services) if fn.__name__ == "send_notification"]
        assert getattr(notify, "__self__").client is services.client  # noqa: B009 - a bound method's owner
    assert services.client.is_closed
