"""Residents' feedback on answers, and the administrators' review queue it feeds.

Under each answer the widget offers a thumbs up and a thumbs down; a thumbs down may say why,
from a taxonomy like Tock's (:data:`REASONS`), and carry a comment. The feedback is kept with
the answer's explanation record (one per answer: a later opinion replaces the earlier one), its
comment redacted like the record.

The review queue groups the thumbs-down by document (a source shown with the answer, else the
best passage retrieved, else none) and reason, biggest group first, with examples (question,
answer, comment), so that an administrator sees which page to correct and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from contact_center.conversation.redaction import redact
from contact_center.conversation.schema import AnswerFeedback, ExplanationRecord, Message
from contact_center.db import Database, aware, utcnow

#: Why an answer was judged wrong, as residents and administrators read it.
REASONS: dict[str, str] = {
    "inaccurate": "Réponse inexacte",
    "incomplete": "Réponse incomplète",
    "hallucination": "Information inventée",
    "incomplete_sources": "Sources incomplètes",
    "obsolete_sources": "Sources obsolètes",
    "wrong_format": "Mauvais format",
    "vocabulary": "Vocabulaire inadapté",
    "misunderstood": "Question mal comprise",
}
NO_REASON = "Motif non précisé"
NOT_AN_ANSWER = "Réponse introuvable dans cette conversation."
UNKNOWN_REASON = "Ce motif n'existe pas : choisissez-en un dans la liste."
NO_DOCUMENT = "Aucun document"
MAX_COMMENT = 1000
#: Examples shown per group, newest first.
EXAMPLES = 5

Rating = Literal["up", "down"]


class FeedbackError(Exception):
    """Feedback refused, with the French message the resident reads and an HTTP status."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class FeedbackView:
    """Feedback as stored."""

    record_id: str
    message_id: str
    rating: str
    reason: str | None
    comment: str | None
    created_at: datetime


@dataclass
class ReviewGroup:
    """Answers judged wrong that used one document, for one reason."""

    document_id: str | None
    document_title: str
    reason: str | None
    reason_label: str
    count: int = 0
    last_at: datetime | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)


class AnswerFeedbackStore:
    """Keeps residents' feedback with the explanation records, and reads the review queue."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def give(
        self,
        conversation_id: str,
        message_id: str,
        rating: str,
        *,
        reason: str | None = None,
        comment: str | None = None,
    ) -> FeedbackView:
        """Keep the resident's opinion of the answer ``message_id`` of their conversation.

        Raises:
            FeedbackError: Not an answer of this conversation (404), or an unknown rating or
                reason, or a comment too long (422).
        """
        comment = _checked(rating, reason, comment)
        with self._db.session() as session:
            record = session.scalars(
                select(ExplanationRecord).where(
                    ExplanationRecord.conversation_id == conversation_id,
                    ExplanationRecord.message_id == message_id,
                )
            ).first()
            if record is None:
                raise FeedbackError("not_found", NOT_AN_ANSWER, 404)
            row = session.scalars(
                select(AnswerFeedback).where(AnswerFeedback.record_id == record.id)
            ).first()
            if row is None:
                row = AnswerFeedback(
                    tenant_id=record.tenant_id,
                    conversation_id=conversation_id,
                    record_id=record.id,
                    message_id=message_id,
                )
                session.add(row)
            row.rating = rating
            row.reason = reason if rating == "down" else None
            row.comment = comment
            row.created_at = utcnow()
            session.flush()
            return _view(row)

    def review_queue(self, tenant_id: str) -> list[ReviewGroup]:
        """The commune's thumbs-down grouped by document and reason, biggest group first."""
        with self._db.session() as session:
            rows = session.execute(
                select(AnswerFeedback, ExplanationRecord, Message.sources)
                .join(ExplanationRecord, AnswerFeedback.record_id == ExplanationRecord.id)
                .outerjoin(Message, Message.id == AnswerFeedback.message_id)
                .where(AnswerFeedback.tenant_id == tenant_id, AnswerFeedback.rating == "down")
                .order_by(AnswerFeedback.created_at.desc())
            ).all()
        groups: dict[tuple[str | None, str | None], ReviewGroup] = {}
        for feedback, record, sources in rows:
            for doc_id, title in _documents(record, sources):
                key = (doc_id, feedback.reason)
                group = groups.get(key)
                if group is None:
                    label = REASONS.get(feedback.reason or "", NO_REASON)
                    group = groups[key] = ReviewGroup(doc_id, title, feedback.reason, label)
                _add(group, feedback, record)
        return sorted(groups.values(), key=lambda g: (-g.count, g.document_title, g.reason_label))


def _checked(rating: str, reason: str | None, comment: str | None) -> str | None:
    """The comment to keep (stripped, redacted), once the feedback is valid."""
    if rating not in ("up", "down"):
        raise FeedbackError("invalid_feedback", "Choisissez « utile » ou « pas utile ».", 422)
    if reason is not None and reason not in REASONS:
        raise FeedbackError("invalid_feedback", UNKNOWN_REASON, 422)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        message = f"Votre commentaire est trop long (au maximum {MAX_COMMENT} caractères)."
        raise FeedbackError("comment_too_long", message, 422)
    return redact(comment) if comment else None


def _documents(record: ExplanationRecord, sources: Any) -> list[tuple[str | None, str]]:
    """The documents an answer stood on, as (id, title): the sources shown with it, else the
    best passage retrieved, else none."""
    shown = [s for s in sources or [] if isinstance(s, dict) and s.get("id")]
    if shown:
        titles = {s["id"]: s.get("title") or s["id"] for s in shown}
        return list(titles.items())
    retrieved = [r for r in record.retrieved or [] if isinstance(r, dict)]
    best = retrieved[0].get("document_id") if retrieved else None
    return [(best, best or NO_DOCUMENT)]


def _add(group: ReviewGroup, feedback: AnswerFeedback, record: ExplanationRecord) -> None:
    group.count += 1
    at = aware(feedback.created_at)
    group.last_at = max(group.last_at, at) if group.last_at else at
    if len(group.examples) < EXAMPLES:
        group.examples.append(
            {
                "conversation_id": record.conversation_id,
                "record_id": record.id,
                "question": record.question,
                "answer": record.answer,
                "answer_path": record.answer_path,
                "comment": feedback.comment,
                "created_at": at.isoformat(),
            }
        )


def _view(row: AnswerFeedback) -> FeedbackView:
    return FeedbackView(
        row.record_id, row.message_id, row.rating, row.reason, row.comment, aware(row.created_at)
    )
