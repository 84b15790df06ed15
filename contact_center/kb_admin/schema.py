"""ORM tables of the knowledge-base administration: local documents, validated answers, versions.

Every save is a new row of ``kb_versions`` (or ``kb_validated_answer_versions``): content,
metadata, author, time and the diff against the previous version; nothing is ever overwritten,
so that any version can be restored (as a new version). The migration is ``0007_kb_admin``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db import Base, new_id, utcnow


class KbDocumentRow(Base):
    """A commune's own document (Markdown), in its latest state."""

    __tablename__ = "kb_documents"
    __table_args__ = (UniqueConstraint("tenant_id", "doc_id", name="uq_kb_documents_doc"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    #: The document id seen in the index and in citations (``vf-mairie-horaires``).
    doc_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(32), default="local")
    title: Mapped[str] = mapped_column(String(300))
    service: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: ``draft`` (never published), ``published`` or ``unpublished``.
    status: Mapped[str] = mapped_column(String(16), default="draft")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KbVersionRow(Base):
    """One saved version of a document."""

    __tablename__ = "kb_versions"
    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_kb_versions_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    document_id: Mapped[str] = mapped_column(
        ForeignKey("kb_documents.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    number: Mapped[int] = mapped_column(Integer)
    #: Front-matter fields: title, url, service, description, valid_from, valid_until.
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Unified diff of the page (front matter and body) against the previous version.
    diff: Mapped[str] = mapped_column(Text, default="")
    #: Why this version exists (``Restauration de la version 2``, ``Import PDF``, ...).
    note: Mapped[str] = mapped_column(String(300), default="")


class ValidatedAnswerRow(Base):
    """An answer an administrator approved for a question and its paraphrases."""

    __tablename__ = "kb_validated_answers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    question: Mapped[str] = mapped_column(Text)
    paraphrases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    #: ``[{"id", "title", "url"}]``: the documents the answer rests on.
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: ``active`` or ``archived`` (never given).
    status: Mapped[str] = mapped_column(String(16), default="active")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ValidatedAnswerVersionRow(Base):
    """One saved version of a validated answer."""

    __tablename__ = "kb_validated_answer_versions"
    __table_args__ = (
        UniqueConstraint("answer_id", "number", name="uq_kb_validated_answer_versions_number"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    answer_id: Mapped[str] = mapped_column(
        ForeignKey("kb_validated_answers.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    number: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    paraphrases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="active")
    author: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    diff: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(String(300), default="")
