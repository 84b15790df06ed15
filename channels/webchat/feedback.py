"""The resident's opinion of an answer: thumbs up or down under it in the widget.

``POST /api/v1/conversations/{id}/messages/{message_id}/feedback`` with
``{"rating": "up"|"down", "reason": ..., "comment": ...}`` (reason and comment optional; the
reasons are those of :data:`contact_center.kb_admin.answer_feedback.REASONS`), sent with the
conversation's ``Authorization: Bearer <resident_token>``; the widget offers the same reasons
in French.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from contact_center.kb_admin.answer_feedback import FeedbackError
from contact_center.web.deps import AnswerFeedbackDep, ResidentConversation

router = APIRouter(tags=["web chat"])


class FeedbackIn(BaseModel):
    """A resident's opinion of one answer (checked by the store, with French messages)."""

    rating: str
    reason: str | None = None
    comment: str | None = None


class FeedbackOut(BaseModel):
    """The opinion kept."""

    message_id: str
    rating: str
    reason: str | None
    comment: str | None


@router.post("/api/v1/conversations/{conversation_id}/messages/{message_id}/feedback",
             status_code=201)  # fmt: skip
def give_feedback(
    conversation_id: ResidentConversation,
    message_id: str,
    body: FeedbackIn,
    feedback: AnswerFeedbackDep,
) -> FeedbackOut:
    """Keep the resident's opinion of one answer (a later one replaces it)."""
    try:
        kept = feedback.give(
            conversation_id, message_id, body.rating, reason=body.reason, comment=body.comment
        )
    except FeedbackError as exc:
        raise HTTPException(exc.status, {"code": exc.code, "message": exc.message}) from exc
    return FeedbackOut(
        message_id=kept.message_id, rating=kept.rating, reason=kept.reason, comment=kept.comment
    )
