"""Domain types shared by the knowledge base, retrieval and the conversation engine.

A :class:`Chunk` is the unit that is indexed and cited; a :class:`ScoredChunk` is what a search
returns. Both are plain frozen dataclasses so that every layer can use them without importing
any third-party library.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

#: Tenant id of content shared by every commune (the national service-public.fr fiches).
NATIONAL_TENANT = "national"

_CHUNK_NAMESPACE = uuid.UUID("6f1d8f64-3c1e-4b7a-9a43-0c7a5e2b9d10")


def chunk_point_id(tenant_id: str, document_id: str, ordinal: int) -> str:
    """Deterministic UUID of a chunk, stable across re-imports (Qdrant ids are UUIDs)."""
    return str(uuid.uuid5(_CHUNK_NAMESPACE, f"{tenant_id}/{document_id}/{ordinal}"))


@dataclass(frozen=True)
class Chunk:
    """One indexed passage of a document.

    Attributes:
        id: Deterministic UUID (see :func:`chunk_point_id`).
        tenant_id: Commune that owns the content, or :data:`NATIONAL_TENANT`.
        document_id: Id of the source document (``F1344`` for a service-public fiche).
        ordinal: Position of the chunk in its document, from 0.
        title: Title of the document.
        url: Public link to the document.
        heading_path: Headings from the document title down to this passage.
        text: The passage itself (plain text, French).
        source: ``service-public`` or ``local``.
        version: Content hash of the document version this chunk was cut from.
        modified: ISO date of the document's last important modification, if known.
        service: Municipal service code the document belongs to, if known.
        attribution: Licence / source line to show wherever the content is shown.
        valid_from: ISO date before which the passage must not be retrieved, if any.
        valid_until: ISO date after which the passage must not be retrieved, if any.
    """

    id: str
    tenant_id: str
    document_id: str
    ordinal: int
    title: str
    url: str
    heading_path: tuple[str, ...]
    text: str
    source: str
    version: str
    modified: str | None = None
    service: str | None = None
    attribution: str = ""
    valid_from: str | None = None
    valid_until: str | None = None

    @property
    def heading(self) -> str:
        """Heading path joined for display and for the sparse index."""
        return " > ".join(self.heading_path)


@dataclass(frozen=True)
class ScoredChunk:
    """A chunk found by a search, with its fused score and the per-method scores."""

    chunk: Chunk
    score: float
    dense_score: float | None = None
    sparse_score: float | None = None
    ranks: dict[str, int] = field(default_factory=dict)
