"""Conversations, messages and explanation records: the repository over the database.

Domain code uses these functions with plain values in and out; nothing here knows FastAPI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, or_, select

from contact_center.conversation.redaction import redact
from contact_center.conversation.resident_tokens import token_hash, token_matches
from contact_center.conversation.schema import Conversation, ExplanationRecord, Message
from contact_center.db import Database, new_id, utcnow


@dataclass(frozen=True)
class MessageView:
    """A stored message as shown to the resident."""

    id: str
    role: str
    content: str
    sources: list[dict[str, Any]]
    abstained: bool
    status: str
    created_at: datetime


@dataclass(frozen=True)
class ConversationView:
    """A conversation and its messages in order."""

    id: str
    tenant_id: str
    channel: str
    created_at: datetime
    messages: list[MessageView] = field(default_factory=list)


@dataclass
class RecordDraft:
    """What the engine knows about one assistant turn, before redaction and storage."""

    tenant_id: str
    conversation_id: str
    channel: str
    question: str
    answer: str
    outcome: str
    kb_version: str
    prompt_version: str
    model_id: str
    embedding_model_id: str
    message_id: str | None = None
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    invalid_citations: list[int] = field(default_factory=list)
    relevance: float | None = None
    abstained: bool = False
    reason: str | None = None
    latency_ms: dict[str, float] = field(default_factory=dict)
    routing: dict[str, Any] | None = None
    action: str | None = None
    case_id: str | None = None
    handoff_reason: str | None = None
    handoff_id: str | None = None
    answer_path: str | None = None
    path_reason: str | None = None
    searched_query: str | None = None
    followup: bool = False
    context_documents: list[str] = field(default_factory=list)
    fault: str | None = None
    #: Chosen by the caller so that storing the same draft again stores nothing more.
    id: str | None = None


class ConversationStore:
    """Persistence of conversations for every channel."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def create(
        self, tenant_id: str, channel: str = "web", *, resident_token: str | None = None
    ) -> ConversationView:
        """Open a new conversation; ``resident_token`` is the credential its resident will
        read it back with (only its hash is stored)."""
        with self._db.session() as session:
            conversation = Conversation(
                tenant_id=tenant_id,
                channel=channel,
                resident_token_hash=token_hash(resident_token) if resident_token else None,
            )
            session.add(conversation)
            session.flush()
            return _view(conversation, [])

    def resident_access(
        self, conversation_id: str, token: str | None
    ) -> Literal["granted", "refused", "unknown"]:
        """Whether ``token`` is this conversation's resident credential (``unknown``: no such
        conversation)."""
        with self._db.session() as session:
            stored = session.execute(
                select(Conversation.resident_token_hash).where(Conversation.id == conversation_id)
            ).first()
        if stored is None:
            return "unknown"
        return "granted" if token_matches(token, stored[0]) else "refused"

    def get(self, conversation_id: str, tenant_id: str | None = None) -> ConversationView | None:
        """The conversation with its messages, or None (also when the tenant differs)."""
        with self._db.session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None or (tenant_id and conversation.tenant_id != tenant_id):
                return None
            return _view(conversation, list(conversation.messages))

    def state(self, conversation_id: str) -> dict[str, Any] | None:
        """The conversation's in-progress dialogue state (e.g. a case being collected)."""
        with self._db.session() as session:
            conversation = session.get(Conversation, conversation_id)
            return None if conversation is None else conversation.state

    def set_state(self, conversation_id: str, state: dict[str, Any] | None) -> None:
        """Replace the conversation's dialogue state (``None`` clears it)."""
        with self._db.session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise KeyError(conversation_id)
            conversation.state = state

    def add_message(
        self,
        conversation_id: str,
        role: str,
        content: str,
        *,
        sources: list[dict[str, Any]] | None = None,
        abstained: bool = False,
        status: str = "ok",
        message_id: str | None = None,
    ) -> MessageView:
        """Append a message; the conversation must exist.

        ``message_id``, when given, makes the write idempotent: a message already stored with
        that id is returned as it is (a write retried after a lost connection, whose first
        attempt may have been committed, stores the message once).
        """
        with self._db.session() as session:
            if message_id is not None:
                stored = session.get(Message, message_id)
                if stored is not None:
                    return _message_view(stored)
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise KeyError(conversation_id)
            seq = session.scalar(
                select(func.coalesce(func.max(Message.seq), 0)).where(
                    Message.conversation_id == conversation_id
                )
            )
            message = Message(
                id=message_id or new_id(),
                conversation_id=conversation_id,
                tenant_id=conversation.tenant_id,
                seq=int(seq or 0) + 1,
                role=role,
                content=content,
                sources=sources or [],
                abstained=abstained,
                status=status,
            )
            session.add(message)
            conversation.updated_at = utcnow()
            session.flush()
            return _message_view(message)

    def add_record(self, draft: RecordDraft) -> str:
        """Store an explanation record, personal data redacted. Returns its id (a draft with
        an ``id`` already stored is not stored again)."""
        with self._db.session() as session:
            if draft.id is not None and session.get(ExplanationRecord, draft.id) is not None:
                return draft.id
            record = ExplanationRecord(
                id=draft.id or new_id(),
                tenant_id=draft.tenant_id,
                conversation_id=draft.conversation_id,
                message_id=draft.message_id,
                channel=draft.channel,
                question=redact(draft.question),
                answer=redact(draft.answer),
                retrieved=draft.retrieved,
                cited=draft.cited,
                invalid_citations=draft.invalid_citations,
                relevance=draft.relevance,
                kb_version=draft.kb_version,
                prompt_version=draft.prompt_version,
                model_id=draft.model_id,
                embedding_model_id=draft.embedding_model_id,
                abstained=draft.abstained,
                reason=draft.reason,
                outcome=draft.outcome,
                latency_ms=draft.latency_ms,
                routing=_redact_values(draft.routing),
                action=draft.action,
                case_id=draft.case_id,
                handoff_reason=draft.handoff_reason,
                handoff_id=draft.handoff_id,
                answer_path=draft.answer_path,
                path_reason=draft.path_reason,
                searched_query=_redact_values(draft.searched_query),
                followup=draft.followup,
                context_documents=draft.context_documents,
                fault=draft.fault,
            )
            session.add(record)
            session.flush()
            return record.id

    def records(self, conversation_id: str) -> list[dict[str, Any]]:
        """Explanation records of a conversation, oldest first."""
        with self._db.session() as session:
            rows = session.scalars(
                select(ExplanationRecord)
                .where(ExplanationRecord.conversation_id == conversation_id)
                .order_by(ExplanationRecord.created_at)
            ).all()
            return [_record_dict(row) for row in rows]

    def purge_older_than(self, days: int, *, now: datetime | None = None) -> int:
        """Delete conversations untouched for ``days`` days (GDPR retention)."""
        cutoff = (now or utcnow()) - timedelta(days=days)
        return self._delete_conversations(Conversation.updated_at < cutoff)

    def erase(self, *, conversation_id: str | None = None, containing: str | None = None) -> int:
        """Erase a resident's conversations: by id, or every one whose messages contain a string.

        ``containing`` is typically the resident's e-mail address or phone number.
        """
        if conversation_id:
            return self._delete_conversations(Conversation.id == conversation_id)
        if containing:
            needle = f"%{containing.strip()}%"
            matching = select(Message.conversation_id).where(or_(Message.content.like(needle)))
            return self._delete_conversations(Conversation.id.in_(matching))
        raise ValueError("give a conversation id or a string to look for")

    def _delete_conversations(self, condition: Any) -> int:
        with self._db.session() as session:
            ids = list(session.scalars(select(Conversation.id).where(condition)))
            if not ids:
                return 0
            # Explicit deletes: SQLite only cascades with foreign keys on, and records
            # must go too.
            session.execute(
                delete(ExplanationRecord).where(ExplanationRecord.conversation_id.in_(ids))
            )
            session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
            session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
            return len(ids)


def _message_view(message: Message) -> MessageView:
    return MessageView(
        id=message.id,
        role=message.role,
        content=message.content,
        sources=list(message.sources or []),
        abstained=message.abstained,
        status=message.status,
        created_at=message.created_at,
    )


def _view(conversation: Conversation, messages: list[Message]) -> ConversationView:
    return ConversationView(
        id=conversation.id,
        tenant_id=conversation.tenant_id,
        channel=conversation.channel,
        created_at=conversation.created_at,
        messages=[_message_view(m) for m in messages],
    )


def _record_dict(row: ExplanationRecord) -> dict[str, Any]:
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "message_id": row.message_id,
        "tenant_id": row.tenant_id,
        "channel": row.channel,
        "created_at": row.created_at.isoformat(),
        "question": row.question,
        "answer": row.answer,
        "retrieved": row.retrieved,
        "cited": row.cited,
        "invalid_citations": row.invalid_citations,
        "relevance": row.relevance,
        "kb_version": row.kb_version,
        "prompt_version": row.prompt_version,
        "model_id": row.model_id,
        "embedding_model_id": row.embedding_model_id,
        "abstained": row.abstained,
        "reason": row.reason,
        "outcome": row.outcome,
        "latency_ms": row.latency_ms,
        "routing": row.routing,
        "action": row.action,
        "case_id": row.case_id,
        "handoff_reason": row.handoff_reason,
        "handoff_id": row.handoff_id,
        "answer_path": row.answer_path,
        "path_reason": row.path_reason,
        "searched_query": row.searched_query,
        "followup": bool(row.followup),
        "context_documents": row.context_documents or [],
        "fault": row.fault,
    }


def _redact_values(value: Any) -> Any:
    """``value`` with personal data redacted from every string inside (routing explanations
    quote the resident's own words)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_values(item) for item in value]
    return value
