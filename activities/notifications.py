"""Notifications to people (the President, the ISU): one JSON POST to a webhook, over HTTP with httpx.

One ``Notifier`` per worker process; its bound method ``send_notification`` is the activity. The request carries
the notification's idempotency key (``Idempotency-Key`` header and ``key`` in the body), so a retry after a lost
answer notifies no one twice. Without a webhook (``webhook_url`` None) the notification is logged instead.

What becomes of an answer:

- 2xx: a ``Delivery`` to the URL; ``duplicate`` when the webhook had the key already (the JSON field
  ``duplicate`` when the answer has it, else status 200 rather than 201). The body need not be JSON;
- 5xx, 408, 429, timeouts, connection errors: a retryable ``ApplicationError`` of type ``UNDELIVERED`` naming
  the URL, so Temporal retries with the workflow's policy;
- any other 4xx (and 3xx): non-retryable ``ApplicationError`` of type ``REJECTED_BY_WEBHOOK``.

Workflows call it by name, so that they import neither this module nor httpx::

    workflow.execute_activity("send_notification", n, result_type=Delivery, ...)
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import structlog
from structlog.stdlib import BoundLogger
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.conference_services import (
    RETRYABLE_4XX,
    HttpActivities,
    _excerpt,
    _retry_after,
)
from domain.notifications import REJECTED_BY_WEBHOOK, Delivery, Notification

SEND_NOTIFICATION = "send_notification"

# The ApplicationError type of a failure worth retrying: the webhook could not be reached or answered 5xx/408/429.
UNDELIVERED = "NotificationUndelivered"

log = structlog.get_logger("activities.notifications")


class Notifier(HttpActivities):
    """The notification activity; ``worker.py`` gives it the client ``ConferenceServices`` holds."""

    @activity.defn(name=SEND_NOTIFICATION)
    async def send_notification(self, n: Notification) -> Delivery:
        """Posts one notification to its webhook, or logs it when there is none; one key notifies once."""
        bound = log.bind(review=n.review, kind=n.kind, idempotency_key=n.idempotency_key)
        if n.webhook_url is None:
            bound.info("notification (no webhook configured)", key=n.idempotency_key, due=n.due, text=n.text)
            return Delivery(delivered_to="log")
        url = n.webhook_url
        payload = {"text": n.text, "review": n.review, "kind": n.kind, "due": n.due, "key": n.idempotency_key}
        attempt = activity.info().attempt if activity.in_activity() else 1
        bound = bound.bind(url=url, attempt=attempt)
        try:
            async with asyncio.timeout(self.total_timeout):
                response = await self.client.post(
                    url, json=payload, headers={"Idempotency-Key": n.idempotency_key}
                )
        except (TimeoutError, httpx.TimeoutException) as e:
            bound.warning("notification: no answer in time, will retry", error=type(e).__name__)
            raise ApplicationError(
                f"the webhook at {url} did not answer the notification within {self.total_timeout:g} s "
                f"({type(e).__name__})",
                type=UNDELIVERED,
            ) from None
        except httpx.TransportError as e:
            bound.warning("notification: cannot reach the webhook, will retry", error=repr(e))
            raise ApplicationError(
                f"cannot reach the webhook at {url} for the notification: {type(e).__name__}: {e}",
                type=UNDELIVERED,
            ) from None
        return self._delivery(response, url, bound)

    @staticmethod
    def _delivery(response: httpx.Response, url: str, bound: BoundLogger) -> Delivery:
        status = response.status_code
        if response.is_success:
            flag: Any = None
            try:
                body: Any = response.json()
                if isinstance(body, dict):
                    flag = body.get("duplicate")
            except ValueError:
                pass  # a webhook may answer plain text ("ok"): delivered all the same
            duplicate = flag if isinstance(flag, bool) else status == 200
            bound.info("notification delivered", status=status, duplicate=duplicate)
            return Delivery(delivered_to=url, duplicate=duplicate)
        if status >= 500 or status in RETRYABLE_4XX:
            bound.warning(f"notification: the webhook answered {status}, will retry", status=status)
            raise ApplicationError(
                f"the webhook at {url} answered the notification with {status} "
                f"{response.reason_phrase}: {_excerpt(response.text)}",
                type=UNDELIVERED,
                next_retry_delay=_retry_after(response),
            )
        bound.error("notification refused", status=status, body=_excerpt(response.text))
        raise ApplicationError(
            f"notification refused by {url}: {status} {response.reason_phrase}: {_excerpt(response.text)}",
            type=REJECTED_BY_WEBHOOK,
            non_retryable=True,
        )
