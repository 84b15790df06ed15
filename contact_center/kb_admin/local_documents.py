"""The commune's own documents, versioned in the database and published to the search index.

Every save is a new version (author, time, diff against the previous one); restoring a version
saves its content again as a new version, so that the history only grows. Publishing indexes
the document's current version through the app's :class:`~knowledge_base.indexing.Indexer`
(incremental: unchanged chunks keep their vectors, and the store is held while the document's
points are replaced); unpublishing deletes its chunks from the index. Validity dates travel with
the chunks: the store never returns a chunk out of its validity (retrieval/qdrant_store.py).
Every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

import builtins
import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from contact_center.agents.audit import AuditLog
from contact_center.db import Database, utcnow
from contact_center.kb_admin.schema import KbDocumentRow, KbVersionRow
from foundation.errors import ContactCenterError
from knowledge_base.documents import Document
from knowledge_base.indexing import Indexer
from knowledge_base.markdown import PAGE_KEYS, parse_markdown_document, render_page
from retrieval.types import Chunk


class KnowledgeBaseAdminError(ContactCenterError):
    """A refused administration request; ``message`` is French, ``status`` the HTTP code."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


NOT_FOUND = "Ce document n'existe pas dans la base de connaissances de votre commune."


@dataclass(frozen=True)
class DocumentSummary:
    """A document as listed: its state and its current version's dates."""

    id: str
    tenant_id: str
    title: str
    source: str
    service: str | None
    status: str
    current_version: int
    published_version: int | None
    updated_at: datetime
    valid_from: str | None
    valid_until: str | None

    @property
    def expired(self) -> bool:
        """True once ``valid_until`` is past: never retrieved any more."""
        return bool(self.valid_until and self.valid_until < date.today().isoformat())


@dataclass(frozen=True)
class VersionView:
    """One saved version."""

    number: int
    meta: dict[str, Any]
    body: str
    author: str
    created_at: datetime
    diff: str
    note: str


class DocumentLibrary:
    """Documents, versions, publication. ``on_index_change`` runs after each index write."""

    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        indexer: Indexer,
        on_index_change: Callable[[], Any] = lambda: None,
    ) -> None:
        self._db = database
        self._audit = audit
        self._indexer = indexer
        self._on_index_change = on_index_change

    # -- reading ------------------------------------------------------------------------

    def list(
        self,
        tenant_id: str,
        *,
        source: str | None = None,
        service: str | None = None,
        status: str | None = None,
        query: str | None = None,
    ) -> list[DocumentSummary]:
        """The commune's documents, filtered, by title."""
        stmt = select(KbDocumentRow).where(KbDocumentRow.tenant_id == tenant_id)
        if source:
            stmt = stmt.where(KbDocumentRow.source == source)
        if service:
            stmt = stmt.where(KbDocumentRow.service == service)
        if status in ("draft", "published", "unpublished"):
            stmt = stmt.where(KbDocumentRow.status == status)
        if query:
            like = f"%{query.lower()}%"
            stmt = stmt.where(
                or_(func.lower(KbDocumentRow.title).like(like), KbDocumentRow.doc_id.like(like))
            )
        with self._db.session() as session:
            rows = session.scalars(stmt.order_by(KbDocumentRow.title)).all()
            summaries = [self._summary(session, row) for row in rows]
        if status == "expired":
            return [s for s in summaries if s.expired]
        return summaries

    def get(self, tenant_id: str, doc_id: str) -> tuple[DocumentSummary, VersionView]:
        """A document and its current version."""
        with self._db.session() as session:
            row = self._row(session, tenant_id, doc_id)
            return self._summary(session, row), _view(self._version(session, row))

    def versions(self, tenant_id: str, doc_id: str) -> builtins.list[VersionView]:
        """Every version, newest first."""
        with self._db.session() as session:
            row = self._row(session, tenant_id, doc_id)
            stmt = (
                select(KbVersionRow)
                .where(KbVersionRow.document_id == row.id)
                .order_by(KbVersionRow.number.desc())
            )
            return [_view(v) for v in session.scalars(stmt)]

    def chunks(self, tenant_id: str, doc_id: str) -> builtins.list[tuple[Chunk, bool]]:
        """The document's chunks as indexed now, with whether each has its dense vector."""
        return self._indexer.store.document_chunks(tenant_id, doc_id)

    # -- writing ------------------------------------------------------------------------

    def save(
        self,
        tenant_id: str,
        actor: str,
        meta: dict[str, Any],
        body: str,
        *,
        create: bool = False,
        note: str = "",
        source: str = "local",
    ) -> DocumentSummary:
        """Save a new version (a new document when ``create``), checked like an imported page.

        Raises:
            ImportFormatError: The page does not parse (French message).
            KnowledgeBaseAdminError: Unknown document, or ``create`` of an existing id.
        """
        meta = {k: str(meta[k]).strip() for k in PAGE_KEYS if meta.get(k)}
        document = parse_markdown_document(render_page(meta, body), tenant_id, meta.get("id", ""))
        with self._db.session() as session:
            row = session.scalar(_by_doc_id(tenant_id, document.id))
            if create and row is not None:
                raise KnowledgeBaseAdminError(
                    "document_exists",
                    f"Un document porte déjà l'identifiant « {document.id} » : "
                    "choisissez-en un autre ou modifiez-le.",
                    409,
                )
            if row is None and not create:
                raise KnowledgeBaseAdminError("not_found", NOT_FOUND, 404)
            if row is None:
                row = KbDocumentRow(
                    tenant_id=tenant_id,
                    doc_id=document.id,
                    source=source,
                    title=document.title,
                    status="draft",
                    current_version=0,
                )
                session.add(row)
                session.flush()
            previous = self._version(session, row) if row.current_version else None
            number = self._add_version(session, row, actor, meta, body, previous, note)
            action = "kb.document.created" if number == 1 else "kb.document.saved"
            self._audit.record(
                tenant_id,
                actor,
                action,
                document.id,
                {"version": number, "note": note},
                session=session,
            )
            return self._summary(session, row)

    def restore(self, tenant_id: str, actor: str, doc_id: str, number: int) -> DocumentSummary:
        """Save version ``number``'s content again as the new current version."""
        with self._db.session() as session:
            row = self._row(session, tenant_id, doc_id)
            old = self._version(session, row, number)
            note = f"Restauration de la version {number}"
            new = self._add_version(
                session, row, actor, dict(old.meta), old.body, self._version(session, row), note
            )
            self._audit.record(
                tenant_id,
                actor,
                "kb.document.restored",
                doc_id,
                {"from_version": number, "version": new},
                session=session,
            )
            return self._summary(session, row)

    def publish(self, tenant_id: str, actor: str, doc_id: str) -> dict[str, int]:
        """Index the current version; it is retrievable when this returns."""
        summary, version = self.get(tenant_id, doc_id)
        document = self.document(tenant_id, version)
        report = self._indexer.index([document], progress=False, dense="now")
        with self._db.session() as session:
            row = self._row(session, tenant_id, doc_id)
            row.status, row.published_version, row.updated_at = (
                "published",
                version.number,
                utcnow(),
            )
            details = {
                "version": version.number,
                "chunks_written": report.chunks_upserted,
                "chunks_embedded": report.dense_embedded,
            }
            self._audit.record(
                tenant_id, actor, "kb.document.published", doc_id, details, session=session
            )
        self._on_index_change()
        return details

    def unpublish(self, tenant_id: str, actor: str, doc_id: str) -> None:
        """Remove the document from the index (its versions stay)."""
        self.get(tenant_id, doc_id)
        self._indexer.store.delete_documents(tenant_id, [doc_id])
        with self._db.session() as session:
            row = self._row(session, tenant_id, doc_id)
            row.status, row.updated_at = "unpublished", utcnow()
            self._audit.record(tenant_id, actor, "kb.document.unpublished", doc_id, session=session)
        self._on_index_change()

    def seed(self, tenant_id: str, pages: Iterable[tuple[dict[str, str], str]]) -> int:
        """Store pages already in the index as published version 1 (when the commune has none).

        Used at start-up for the demo town's pages, so that administrators can edit them.
        """
        with self._db.session() as session:
            if session.scalar(_count(tenant_id)):
                return 0
        count = 0
        for meta, body in pages:
            self.save(tenant_id, "système", meta, body, create=True, note="Import initial")
            self.publish(tenant_id, "système", meta["id"])
            count += 1
        return count

    def document(self, tenant_id: str, version: VersionView) -> Document:
        """The :class:`Document` a version indexes as."""
        page = render_page(version.meta, version.body)
        return parse_markdown_document(page, tenant_id, version.meta.get("id", ""))

    # -- internals ----------------------------------------------------------------------

    def _row(self, session: Session, tenant_id: str, doc_id: str) -> KbDocumentRow:
        row = session.scalar(_by_doc_id(tenant_id, doc_id))
        if row is None:
            raise KnowledgeBaseAdminError("not_found", NOT_FOUND, 404)
        return row

    @staticmethod
    def _version(session: Session, row: KbDocumentRow, number: int | None = None) -> KbVersionRow:
        wanted = row.current_version if number is None else number
        version = session.scalar(
            select(KbVersionRow).where(
                KbVersionRow.document_id == row.id, KbVersionRow.number == wanted
            )
        )
        if version is None:
            raise KnowledgeBaseAdminError(
                "version_not_found", f"La version {wanted} n'existe pas.", 404
            )
        return version

    @staticmethod
    def _add_version(
        session: Session,
        row: KbDocumentRow,
        actor: str,
        meta: dict[str, Any],
        body: str,
        previous: KbVersionRow | None,
        note: str,
    ) -> int:
        number = row.current_version + 1
        before = render_page(previous.meta, previous.body) if previous else ""
        diff = "\n".join(
            difflib.unified_diff(
                before.splitlines(),
                render_page(meta, body).splitlines(),
                f"version {number - 1}",
                f"version {number}",
                lineterm="",
            )
        )
        session.add(
            KbVersionRow(
                document_id=row.id,
                tenant_id=row.tenant_id,
                number=number,
                meta=meta,
                body=body,
                author=actor,
                diff=diff,
                note=note,
            )
        )
        row.current_version, row.updated_at = number, utcnow()
        row.title, row.service = meta.get("title", row.title), meta.get("service")
        session.flush()
        return number

    def _summary(self, session: Session, row: KbDocumentRow) -> DocumentSummary:
        meta = self._version(session, row).meta if row.current_version else {}
        return DocumentSummary(
            id=row.doc_id,
            tenant_id=row.tenant_id,
            title=row.title,
            source=row.source,
            service=row.service,
            status=row.status,
            current_version=row.current_version,
            published_version=row.published_version,
            updated_at=row.updated_at,
            valid_from=meta.get("valid_from"),
            valid_until=meta.get("valid_until"),
        )


def _by_doc_id(tenant_id: str, doc_id: str) -> Any:
    return select(KbDocumentRow).where(
        KbDocumentRow.tenant_id == tenant_id, KbDocumentRow.doc_id == doc_id
    )


def _count(tenant_id: str) -> Any:
    return (
        select(func.count()).select_from(KbDocumentRow).where(KbDocumentRow.tenant_id == tenant_id)
    )


def _view(row: KbVersionRow) -> VersionView:
    return VersionView(
        row.number, dict(row.meta), row.body, row.author, row.created_at, row.diff, row.note
    )
