"""The base of every error raised on purpose, and the errors of the lower floors.

::

    ContactCenterError
    ├── ConfigurationError          settings that cannot work (missing model, bad URL)
    ├── ModelAssetError             a model cannot be assembled or fails its sha256 check
    ├── SourceUnavailableError      npm missing, a package unreachable, a source file unreadable
    ├── ImportFormatError           a file to import is malformed (reason given, nothing imported)
    └── BackendError                a backend failed at run time
        ├── EmbeddingError
        ├── VectorStoreError
        └── LLMError
            └── LLMTimeoutError

The application's own errors (residents' input, cases, accounts, notifications) extend this
tree in :mod:`contact_center.errors`. Third-party errors are translated once, at the boundary,
with ``raise X(...) from exc``. Outcomes such as abstaining or handing off are values, not
exceptions.
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
