"""ORM tables of conversations: conversations, messages, explanation records.

Every row carries the tenant (commune) id. Changes to these classes ship with an Alembic
migration in ``contact_center/migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contact_center.db import Base, new_id, utcnow


class Conversation(Base):
    """One resident's conversation on one channel."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    #: Hash of the resident's credential (contact_center/conversation/resident_tokens.py);
    #: None for conversations no resident reads back (phone calls).
    resident_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The conversation engine's working state (e.g. a case intake in progress).
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=None)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation",
        cascade="all, delete-orphan",
        order_by="Message.seq",
    )


class Message(Base):
    """A message of a conversation (resident or assistant), in order."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_seq", "conversation_id", "seq"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    abstained: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: The agent who wrote it (role ``agent``), else None.
    author_id: Mapped[str | None] = mapped_column(String(32), nullable=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class ExplanationRecord(Base):
    """Why the assistant answered what it answered (EU AI Act transparency).

    Personal data is redacted before a record is written.
    """

    __tablename__ = "explanation_records"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    retrieved: Mapped[list[Any]] = mapped_column(JSON, default=list)
    cited: Mapped[list[Any]] = mapped_column(JSON, default=list)
    invalid_citations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    relevance: Mapped[float | None] = mapped_column(nullable=True)
    kb_version: Mapped[str] = mapped_column(String(64))
    prompt_version: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(255))
    embedding_model_id: Mapped[str] = mapped_column(String(255))
    abstained: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(32))
    latency_ms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The routing decision: service, confidence, runners-up and what drove it.
    routing: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: What the assistant did beyond answering: ``case_intake``, ``case_filed``,
    #: ``case_status``, ``other_administration`` ...
    action: Mapped[str | None] = mapped_column(String(32), nullable=True)
    case_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: Why the conversation went to a person (``routing.handoff.HANDOFF_REASONS``).
    handoff_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    handoff_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: Which path made the answer shown: ``validated``, ``extractive`` or ``generated``.
    answer_path: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: Why the generated answer was not shown (``llm_busy``, ``unfaithful_figures``...).
    path_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: What was searched: the question itself, or for a follow-up the earlier question's topic
    #: words and the question (``retrieval.followup``); None when nothing was searched.
    searched_query: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The question followed the previous one and was searched with it.
    followup: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Documents of the previous answer that the follow-up's search favoured.
    context_documents: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: A fault the turn went through (``database_unavailable``: the database was lost during
    #: the turn, and the turn was stored once it came back); None for an ordinary turn.
    fault: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AnswerFeedback(Base):
    """A resident's opinion of one answer (thumbs up or down, why, a comment), kept with the
    answer's explanation record: one per answer, the latest opinion replacing the earlier.

    The comment is redacted like the record (personal data removed) before it is written.
    """

    __tablename__ = "answer_feedback"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    record_id: Mapped[str] = mapped_column(
        ForeignKey("explanation_records.id", ondelete="CASCADE"), unique=True
    )
    message_id: Mapped[str] = mapped_column(String(32))
    #: ``up`` or ``down``.
    rating: Mapped[str] = mapped_column(String(8))
    #: Why an answer was judged wrong (``contact_center.kb_admin.answer_feedback.REASONS``).
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
