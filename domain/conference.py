"""What is sent to conference services (UNOG): translation jobs and interpretation bookings, and what comes back."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from domain.bounds import Value
from domain.models import Language

# The ApplicationError type of a request conference services refused (HTTP 4xx): retrying cannot help.
REJECTED_BY_SERVICES = "ConferenceServicesRejected"

# The activities (activities/conference_services.py): a TranslationJob submitted, an InterpretationBooking made (each
# answered with a Receipt), a JobCancellation asked (answered with a Cancellation).
SUBMIT_TRANSLATION = "submit_translation"
BOOK_INTERPRETATION = "book_interpretation"
CANCEL_TRANSLATION = "cancel_translation"


class TranslationJob(Value):
    base_url: str
    # One per document and language: sending it again creates no second job.
    idempotency_key: str
    symbol: str
    title: str
    meeting: str
    source_language: Language
    target_language: Language
    pages: int = Field(ge=1)
    due: date
    amount_granted: int


class InterpretationBooking(Value):
    base_url: str
    idempotency_key: str
    meeting: str
    day: date
    languages: list[Language]
    amount_granted: int


class Receipt(Value):
    """Conference services' answer: their reference for the job or booking."""

    reference: str
    duplicate: bool = False


class JobCancellation(Value):
    """Asks conference services to cancel the translation job sent (or perhaps still on its way) with a key."""

    base_url: str
    # The key the job was submitted with: it names the job whether or not its receipt ever came back.
    idempotency_key: str
    symbol: str
    target_language: Language
    reason: str


class Cancellation(Value):
    """Conference services' answer to a cancellation: the job is cancelled, or it was completed (too late)."""

    cancelled: bool
    # The job's reference; None when no job had arrived with the key (none will now be accepted with it).
    reference: str | None = None
    detail: str = ""
