"""A notification to people (the President, the ISU): JSON with a plain-text field chat tools can show."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# The ApplicationError type of a notification the webhook refused (HTTP 4xx): retrying cannot help.
REJECTED_BY_WEBHOOK = "NotificationRejected"


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    # None: no webhook configured; the notification is logged instead.
    webhook_url: str | None
    # One per review and reminder: delivered once however often it is sent.
    idempotency_key: str
    text: str
    # What it is about: a review's subject (the field reviews have always sent), or for anything else ``subject``
    # (an extension request, a silence procedure, an Article 7 report).
    review: str = ""
    kind: str
    due: str
    subject: str = ""

    @property
    def about(self) -> str:
        return self.subject or self.review


class Delivery(BaseModel):
    model_config = ConfigDict(frozen=True)

    delivered_to: str  # the URL, or "log"
    duplicate: bool = False
