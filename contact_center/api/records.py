"""Explanation records of a conversation (EU AI Act transparency).

To be restricted to agents and administrators once sign-in exists (console issue).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from contact_center.api.deps import ServicesDep

router = APIRouter(prefix="/api/v1", tags=["explanation records"])


class ExplanationRecordOut(BaseModel):
    """Why the assistant answered what it did, for one turn."""

    id: str
    conversation_id: str
    message_id: str | None
    tenant_id: str
    channel: str
    created_at: str
    question: str
    answer: str
    retrieved: list[dict[str, Any]]
    cited: list[int]
    invalid_citations: list[int]
    relevance: float | None
    kb_version: str
    prompt_version: str
    model_id: str
    embedding_model_id: str
    abstained: bool
    reason: str | None
    outcome: str
    latency_ms: dict[str, float]


@router.get("/conversations/{conversation_id}/records")
def conversation_records(
    conversation_id: str, services: ServicesDep
) -> list[ExplanationRecordOut]:
    """Every explanation record of a conversation, oldest first."""
    if services.conversations.get(conversation_id) is None:
        raise HTTPException(404, {"code": "not_found", "message": "Conversation introuvable."})
    return [ExplanationRecordOut(**r) for r in services.conversations.records(conversation_id)]
