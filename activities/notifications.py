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

from typing import Any

import structlog
from temporalio import activity

from activities.conference_services import HttpActivities
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
        bound = log.bind(about=n.about, kind=n.kind, idempotency_key=n.idempotency_key)
        if n.webhook_url is None:
            bound.info("notification (no webhook configured)", key=n.idempotency_key, due=n.due, text=n.text)
            return Delivery(delivered_to="log")
        url = n.webhook_url
        payload: dict[str, Any] = {"text": n.text, "kind": n.kind, "due": n.due, "key": n.idempotency_key}
        payload.update({"review": n.review} if n.review else {"subject": n.subject})
        response, bound = await self._post_json(
            url,
            payload,
            n.idempotency_key,
            "notification",
            "the webhook",
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
        return Delivery(delivered_to=url, duplicate=duplicate)
