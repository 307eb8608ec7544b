"""A notification to people (the President, the ISU): JSON with a plain-text field chat tools can show.

Workflows name the webhook a notification goes to (``"default"``, or another target's name); the worker alone knows
the URL behind each name (``CCM_WEBHOOK_URL``, ``CCM_WEBHOOK_URL_<NAME>``), so no URL, and no token in one, is
written to a workflow's history. What cannot be delivered is recorded as ``Undeliverable`` in the workflow's state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.bounds import Value

# The ApplicationError type of a notification the webhook refused (HTTP 4xx): retrying cannot help.
REJECTED_BY_WEBHOOK = "NotificationRejected"

DEFAULT_WEBHOOK = "default"
# The worker's environment variable for the default webhook; another target ``isu-chat`` is read from
# CCM_WEBHOOK_URL_ISU_CHAT (see ``webhook_env``).
WEBHOOK_URL_ENV = "CCM_WEBHOOK_URL"
# A webhook target's name, as workflows carry it.
WEBHOOK_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
WebhookName = Annotated[str, StringConstraints(pattern=WEBHOOK_NAME_PATTERN)]
# At most this many undeliverable notifications are kept in a workflow's state (and carried when it continues as
# new): enough to see what went wrong, bounded however long the webhook refuses.
KEEP_UNDELIVERABLE = 20


def webhook_env(name: str) -> str:
    """The worker's environment variable holding the URL of the webhook target ``name``."""
    if name == DEFAULT_WEBHOOK:
        return WEBHOOK_URL_ENV
    return f"{WEBHOOK_URL_ENV}_{name.upper().replace('-', '_')}"


# The activity that sends a Notification (activities/notifications.py), answered with a Delivery.
SEND_NOTIFICATION = "send_notification"


class Notification(BaseModel):
    # Not extra="forbid": a notification scheduled before targets had names carries ``webhook_url``, ignored.
    model_config = ConfigDict(frozen=True)

    # The webhook target, by name; the worker resolves it to a URL.
    webhook: WebhookName = DEFAULT_WEBHOOK
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


class Delivery(Value):
    # The webhook target's name, or "log" when no webhook is configured (runs recorded earlier hold a URL here).
    delivered_to: str
    duplicate: bool = False


class Undeliverable(Value):
    """A notification the webhook refused (a 4xx other than 408 and 429): recorded, and the workflow goes on."""

    key: str
    kind: str
    webhook: str
    at: datetime
    # The refusal as the worker reported it: status and an excerpt of the answer, the URL without its secrets.
    reason: str = Field(max_length=600)


def redact_url(url: str) -> str:
    """``scheme://host:port/path`` of a URL, for logs and error messages: no credentials, query or fragment."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "(a malformed URL)"
    if not parts.scheme or not host:
        return "(a malformed URL)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}{parts.path}"


def redact_in(text: str, url: str) -> str:
    """``text`` with the URL's credentials and query taken out, should the other side have echoed them back."""
    try:
        parts = urlsplit(url.strip())
        secrets = [url.strip(), parts.query, parts.fragment, parts.username or "", parts.password or ""]
    except ValueError:
        secrets = [url.strip()]
    for secret in sorted(secrets, key=len, reverse=True):
        # Shorter than this, a "secret" is more likely a word of the answer than a credential.
        if len(secret) >= 4:
            text = text.replace(secret, redact_url(secret) if secret == url.strip() else "[redacted]")
    return text
