"""The review queue of answers residents judged wrong, for a commune's administrators.

``GET /api/v1/tenants/{tenant_id}/kb/feedback``: the thumbs-down grouped by document and
reason, biggest group first, with examples (contact_center/kb_admin/answer_feedback.py). The
administrator then corrects the document or writes a validated answer in ``/admin``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from contact_center.web.deps import AnswerFeedbackDep
from contact_center.web.kb_admin_api import PREFIX, CommuneAdmin

router = APIRouter(prefix=PREFIX, tags=["base de connaissances"])


class ReviewGroupOut(BaseModel):
    """Answers judged wrong that used one document, for one reason."""

    document_id: str | None
    document_title: str
    reason: str | None
    reason_label: str
    count: int
    last_at: datetime | None
    examples: list[dict[str, Any]]


@router.get("/feedback")
def review_queue(
    tenant_id: str, admin: CommuneAdmin, feedback: AnswerFeedbackDep
) -> list[ReviewGroupOut]:
    """The commune's answers judged wrong, by document and reason."""
    return [ReviewGroupOut(**vars(group)) for group in feedback.review_queue(tenant_id)]
