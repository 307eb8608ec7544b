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
# A TranslationBatch submitted in one call, answered with JobAnswers: the languages one grant funded, sent together so
# that a document costs one activity per grant rather than one per language (issue 16: the release of 500 jobs).
SUBMIT_TRANSLATIONS = "submit_translations"


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


class Receipt(Value):
    """Conference services' answer: their reference for the job or booking."""

    reference: str
    duplicate: bool = False


class TranslationBatch(Value):
    """One document's jobs, one per language, sent in one call; each keeps its own idempotency key."""

    jobs: list[TranslationJob] = Field(min_length=1, max_length=len(Language) - 1)


class JobAnswer(Value):
    """What became of one job of a batch: a receipt, conference services' refusal (retrying cannot help), or
    neither: no answer in the batch's patience, or a failure worth retrying, and the job is to be sent alone."""

    target_language: Language
    receipt: Receipt | None = None
    # The refusal in the words the single job's ApplicationError gives, so the document logs it the same way.
    refused: str | None = None


class JobAnswers(Value):
    answers: list[JobAnswer] = Field(max_length=len(Language) - 1)


class InterpretationBooking(Value):
    base_url: str
    idempotency_key: str
    meeting: str
    day: date
    languages: list[Language]
    amount_granted: int


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
