"""What an administrator browses: the commune's own documents and the national fiches.

The commune's documents are versioned in the database
(:mod:`contact_center.kb_admin.local_documents`). The
service-public.fr fiches live only in the search index, under the shared tenant ``national``:
they are listed read-only (published, no versions), from each fiche's first chunk (title, link,
modification date, content version). Reading those is one filtered scroll over every point
(about two seconds over the 33k chunks in local mode), so the list is kept per knowledge-base
version: it is read again only after the index changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from contact_center.kb_admin.local_documents import (
    DocumentLibrary,
    DocumentSummary,
    KnowledgeBaseAdminError,
)
from retrieval.qdrant_store import QdrantStore
from retrieval.types import NATIONAL_TENANT, Chunk

#: ``source`` of the national fiches (knowledge_base/service_public.py).
SERVICE_PUBLIC = "service-public"


@dataclass(frozen=True)
class IndexedDocument:
    """A national fiche as indexed: shared by every commune, read-only, always published."""

    id: str
    title: str
    url: str
    source: str
    service: str | None
    version: str
    modified: str | None
    valid_from: str | None
    valid_until: str | None
    status: str = "published"

    @property
    def expired(self) -> bool:
        """True once ``valid_until`` is past: never retrieved any more."""
        return bool(self.valid_until and self.valid_until < date.today().isoformat())


@dataclass(frozen=True)
class DocumentPage:
    """One page of a listing: ``total`` documents matched, ``items`` from the asked offset."""

    total: int
    items: list[DocumentSummary | IndexedDocument]


class DocumentBrowser:
    """The commune's documents first (by title), then the national fiches (by title).

    Args:
        library: The commune's documents.
        store: The search index, where the national fiches are.
        kb_version: The current knowledge-base version (changes with every index write).
    """

    def __init__(
        self, library: DocumentLibrary, store: QdrantStore, kb_version: Callable[[], str]
    ) -> None:
        self._library = library
        self._store = store
        self._kb_version = kb_version
        self._lock = threading.Lock()
        self._national: tuple[str, list[IndexedDocument]] | None = None

    def page(
        self,
        tenant_id: str,
        *,
        source: str | None = None,
        service: str | None = None,
        status: str | None = None,
        query: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> DocumentPage:
        """The documents matching every filter given; ``query`` searches titles and ids."""
        local: Sequence[DocumentSummary | IndexedDocument] = []
        if source != SERVICE_PUBLIC:
            local = self._library.list(
                tenant_id, source=source, service=service, status=status, query=query
            )
        national: list[IndexedDocument] = []
        if source in (None, SERVICE_PUBLIC):
            national = [d for d in self.national() if _matches(d, service, status, query)]
        found = [*local, *national]
        return DocumentPage(total=len(found), items=found[offset : offset + limit])

    def national(self) -> list[IndexedDocument]:
        """Every national fiche by title, read again from the index when its version changed."""
        version = self._kb_version()
        with self._lock:
            if self._national is None or self._national[0] != version:
                heads = self._store.document_heads(NATIONAL_TENANT)
                fiches = sorted(map(_indexed, heads), key=lambda d: (d.title.casefold(), d.id))
                self._national = (version, fiches)
            return self._national[1]

    def chunks(self, tenant_id: str, doc_id: str) -> list[tuple[Chunk, bool]]:
        """The indexed chunks of the commune's document ``doc_id``, else of the national fiche.

        Raises:
            KnowledgeBaseAdminError: Neither the commune nor the index has that document.
        """
        try:
            self._library.get(tenant_id, doc_id)
        except KnowledgeBaseAdminError:
            found = self._store.document_chunks(NATIONAL_TENANT, doc_id)
            if not found:
                raise
            return found
        return self._library.chunks(tenant_id, doc_id)


def _indexed(head: Chunk) -> IndexedDocument:
    return IndexedDocument(
        id=head.document_id,
        title=head.title,
        url=head.url,
        source=head.source,
        service=head.service,
        version=head.version,
        modified=head.modified,
        valid_from=head.valid_from,
        valid_until=head.valid_until,
    )


def _matches(
    doc: IndexedDocument, service: str | None, status: str | None, query: str | None
) -> bool:
    if service and doc.service != service:
        return False
    if status == "expired":  # the same filters as DocumentLibrary.list
        if not doc.expired:
            return False
    elif status in ("draft", "published", "unpublished") and status != doc.status:
        return False
    if query:
        wanted = query.casefold()
        return wanted in doc.title.casefold() or wanted in doc.id.casefold()
    return True
