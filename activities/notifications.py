"""Notifications to people (the President, the ISU): one JSON POST to a webhook, over HTTP with httpx.

One ``Notifier`` per worker process; its bound method ``send_notification`` is the activity. A notification names
its webhook target (``"default"``, or another name); the notifier resolves the name to a URL from the worker's own
environment, read once at start (``webhooks_from_env``): ``CCM_WEBHOOK_URL`` for the default target,
``CCM_WEBHOOK_URL_<NAME>`` for another. Without a default webhook, a notification to it is logged instead. The
request carries the notification's idempotency key (``Idempotency-Key`` header and ``key`` in the body), so a retry
after a lost answer notifies no one twice.

What becomes of an answer:

- 2xx: a ``Delivery`` to the target (its name); ``duplicate`` when the webhook had the key already (the JSON field
  ``duplicate`` when the answer has it, else status 200 rather than 201). The body need not be JSON;
- 5xx, 408, 429, timeouts, connection errors, a target this worker does not know: a retryable ``ApplicationError``
  of type ``UNDELIVERED``, so Temporal retries with the workflow's policy;
- any other 4xx (and 3xx): non-retryable ``ApplicationError`` of type ``REJECTED_BY_WEBHOOK``; the workflow
  records the notification as undeliverable and goes on.

A URL appears in messages and logs only as ``domain.notifications.redact_url`` shows it: never its credentials or
query. Workflows call the activity by name, so that they import neither this module nor httpx::

    workflow.start_activity("send_notification", n, result_type=Delivery, ...)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import httpx
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.conference_services import CONNECT_TIMEOUT, TOTAL_TIMEOUT, HttpActivities
from domain.notifications import (
    DEFAULT_WEBHOOK,
    REJECTED_BY_WEBHOOK,
    SEND_NOTIFICATION,
    WEBHOOK_NAME_PATTERN,
    WEBHOOK_URL_ENV,
    Delivery,
    Notification,
    redact_url,
    webhook_env,
)

# The ApplicationError type of a failure worth retrying: the webhook could not be reached or answered 5xx/408/429,
# or the worker has no URL for the target named.
UNDELIVERED = "NotificationUndelivered"

log = structlog.get_logger("activities.notifications")


def webhooks_from_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The webhook targets the worker knows: name -> URL, from CCM_WEBHOOK_URL and CCM_WEBHOOK_URL_<NAME>.

    Raises ValueError naming the variable when a value is not an http(s) URL with a host; an empty one is unset.
    """
    env = os.environ if env is None else env
    targets: dict[str, str] = {}
    for var, value in sorted(env.items()):
        if var == WEBHOOK_URL_ENV:
            name = DEFAULT_WEBHOOK
        elif var.startswith(WEBHOOK_URL_ENV + "_") and len(var) > len(WEBHOOK_URL_ENV) + 1:
            name = var.removeprefix(WEBHOOK_URL_ENV + "_").lower().replace("_", "-")
        else:
            continue
        url = value.strip()
        if not url:
            continue
        if not re.fullmatch(WEBHOOK_NAME_PATTERN, name):
            raise ValueError(
                f"{var}: a webhook target's name is lower-case letters, digits and dashes ({name!r})"
            )
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"{var}: not an http(s) URL with a host ({redact_url(url)})")
        targets[name] = url
    return targets


class Notifier(HttpActivities):
    """The notification activity; ``worker.py`` gives it the client ``ConferenceServices`` holds and the webhook
    targets of its environment (``webhooks_from_env``). Without ``webhooks`` it knows none: everything is logged."""

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        webhooks: Mapping[str, str] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        total_timeout: float = TOTAL_TIMEOUT,
    ) -> None:
        super().__init__(client, connect_timeout=connect_timeout, total_timeout=total_timeout)
        self.webhooks = dict(webhooks or {})

    @activity.defn(name=SEND_NOTIFICATION)
    async def send_notification(self, n: Notification) -> Delivery:
        """Posts one notification to its webhook, or logs it when there is none; one key notifies once."""
        bound = log.bind(about=n.about, kind=n.kind, idempotency_key=n.idempotency_key, webhook=n.webhook)
        url = self.webhooks.get(n.webhook)
        if url is None:
            if n.webhook == DEFAULT_WEBHOOK:
                bound.info(
                    "notification (no webhook configured)", key=n.idempotency_key, due=n.due, text=n.text
                )
                return Delivery(delivered_to="log")
            # Named on purpose, so not to be dropped: retried until the worker is given the target's URL.
            bound.warning(
                "notification: no URL for this webhook target, will retry", setting=webhook_env(n.webhook)
            )
            raise ApplicationError(
                f"this worker has no webhook named {n.webhook!r}: set {webhook_env(n.webhook)} in its environment",
                type=UNDELIVERED,
            )
        payload: dict[str, Any] = {"text": n.text, "kind": n.kind, "due": n.due, "key": n.idempotency_key}
        payload.update({"review": n.review} if n.review else {"subject": n.subject})
        response, bound = await self._post_json(
            url,
            payload,
            n.idempotency_key,
            "notification",
            f"the webhook {n.webhook!r}",
            bound,
            retry_type=UNDELIVERED,
            refused_type=REJECTED_BY_WEBHOOK,
        )
        flag: Any = None
        try:
            body: Any = response.json()
            if isinstance(body, dict):
                flag = body.get("duplicate")
        except ValueError:
            pass  # a webhook may answer plain text ("ok"): delivered all the same
        duplicate = flag if isinstance(flag, bool) else response.status_code == 200
        bound.info("notification delivered", status=response.status_code, duplicate=duplicate)
        return Delivery(delivered_to=n.webhook, duplicate=duplicate)
