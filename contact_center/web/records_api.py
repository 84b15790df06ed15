"""Explanation records of a conversation (EU AI Act transparency), for signed-in agents.

An agent reads the records of a conversation of their own commune that belongs to one of
their services (see :func:`contact_center.agents.accounts.conversation_services`: the services its
turns were routed to, else the general reception); supervisors and administrators read every
conversation of their commune. Another commune's conversation answers 404, as if it did not
exist; another service's, 403; without a session, 401.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from contact_center.agents.accounts import conversation_services
from contact_center.web.deps import ConversationStoreDep, CurrentAgent, require_access

router = APIRouter(prefix="/api/v1", tags=["explanation records"])
NOT_FOUND = "Conversation introuvable."


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
    #: The routing decision (service, confidence, runners-up, explanation), if routed.
    routing: dict[str, Any] | None = None
    #: What the assistant did beyond answering (``case_filed`` ...), if anything.
    action: str | None = None
    case_id: str | None = None
    #: Why the conversation went to a person, and that handoff's id.
    handoff_reason: str | None = None
    handoff_id: str | None = None
    #: Which path made the answer shown (``validated``, ``extractive``, ``generated``), and
    #: why the generated one was not shown when it was tried (``llm_busy``...).
    answer_path: str | None = None
    path_reason: str | None = None
    #: What was searched: the question, or for a follow-up the topic of the question it
    #: follows and the question; the previous answer's documents the search favoured.
    searched_query: str | None = None
    followup: bool = False
    context_documents: list[str] = []
    #: A fault the turn went through (``database_unavailable``), or None.
    fault: str | None = None


@router.get("/conversations/{conversation_id}/records")
def conversation_records(
    conversation_id: str, conversations: ConversationStoreDep, agent: CurrentAgent
) -> list[ExplanationRecordOut]:
    """Every explanation record of a conversation, oldest first."""
    conversation = conversations.get(conversation_id)
    if conversation is None:
        raise HTTPException(404, {"code": "not_found", "message": NOT_FOUND})
    records = conversations.records(conversation_id)
    require_access(
        agent, conversation.tenant_id, conversation_services(records), not_found=NOT_FOUND
    )
    return [ExplanationRecordOut(**r) for r in records]
