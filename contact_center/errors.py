"""The contact centre's exception tree.

::

    ContactCenterError
    ├── ConfigurationError          settings that cannot work (missing model, bad URL)
    ├── ModelAssetError             a model cannot be assembled or fails its sha256 check
    ├── SourceUnavailableError      npm missing, a package unreachable, a source file unreadable
    ├── ImportFormatError           a file to import is malformed (reason given, nothing imported)
    ├── BackendError                a backend failed at run time
    │   ├── EmbeddingError
    │   ├── VectorStoreError
    │   └── LLMError
    │       └── LLMTimeoutError
    └── InputError                  a resident's input is refused (French message for residents)
        ├── MessageTooLongError
        ├── EmptyMessageError
        └── RateLimitedError

Third-party errors are translated once, at the boundary, with ``raise X(...) from exc``.
Outcomes such as abstaining or handing off are values, not exceptions.
"""

from __future__ import annotations


class ContactCenterError(Exception):
    """Root of every error raised on purpose by the contact centre."""


class ConfigurationError(ContactCenterError):
    """The settings cannot work as given."""


class ModelAssetError(ContactCenterError):
    """A model could not be assembled from its packages, or its checksum differs."""


class SourceUnavailableError(ContactCenterError):
    """A knowledge-base source cannot be reached (npm missing, package unreachable...)."""


class ImportFormatError(ContactCenterError):
    """A file to import is malformed; nothing of it was imported."""


class BackendError(ContactCenterError):
    """A backend (embeddings, vector store, LLM) failed while serving."""


class EmbeddingError(BackendError):
    """The embedding model failed."""


class VectorStoreError(BackendError):
    """Qdrant failed."""


class LLMError(BackendError):
    """The LLM server failed or answered something unusable."""


class LLMTimeoutError(LLMError):
    """The LLM did not answer in time."""


class InputError(ContactCenterError):
    """A resident's input is refused; ``message_fr`` is shown to the resident."""

    status_code = 400
    code = "invalid_input"

    def __init__(self, message_fr: str) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr


class EmptyMessageError(InputError):
    """The message is empty."""

    code = "empty_message"

    def __init__(self) -> None:
        super().__init__("Votre message est vide. Pouvez-vous écrire votre question ?")


class MessageTooLongError(InputError):
    """The message exceeds the configured size."""

    status_code = 413
    code = "message_too_long"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Votre message est trop long (au maximum {limit} caractères). "
            "Pouvez-vous le raccourcir ou l'envoyer en plusieurs fois ?"
        )
        self.limit = limit


class RateLimitedError(InputError):
    """The client sends messages too fast."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "Vous avez envoyé beaucoup de messages en peu de temps. "
            f"Merci de patienter {retry_after_s} secondes avant de réessayer."
        )
        self.retry_after_s = retry_after_s
