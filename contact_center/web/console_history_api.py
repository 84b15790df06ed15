"""The console's history and agents' figures.

``GET /api/v1/console/history`` searches the commune's closed conversations (dates, service,
outcome, words), a page at a time; an agent finds those of their services, supervisors and
administrators every one of their commune. ``GET /api/v1/console/history/{id}`` opens one,
read-only: its messages and the explanation records of the assistant's decisions, under the
same rule as :mod:`contact_center.web.records_api` (another commune's: 404; another service's:
403). ``GET /api/v1/console/agent-figures`` gives supervisors each agent's work over a period.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from contact_center.agents.accounts import Agent
from contact_center.gru.service_catalogue import ServiceCatalogue
from contact_center.handoffs.agent_desk import RESOLUTION_LABELS
from contact_center.handoffs.history import (
    MAX_PER_PAGE,
    OUTCOME_LABELS,
    HistoryItem,
    HistoryQuery,
    Outcome,
)
from contact_center.web.console_models import MessageOut, message_out
from contact_center.web.deps import (
    AuthDep,
    CatalogueDep,
    ConversationStoreDep,
    CurrentAgent,
    HistoryDep,
    require_access,
    require_role,
)
from contact_center.web.records_api import ExplanationRecordOut

router = APIRouter(prefix="/api/v1/console", tags=["agents' console"])

NOT_FOUND = "Conversation introuvable."
Supervisor = Annotated[Agent, Depends(require_role("supervisor"))]


class HistoryItemOut(BaseModel):
    """A closed conversation as a line of the history."""

    id: str
    channel: str
    created_at: datetime
    updated_at: datetime
    outcome: str
    outcome_label: str
    services: list[str]
    service_names: list[str]
    excerpt: str
    messages: int
    resolution_label: str | None
    agent_name: str | None
    csat: int | None


class HistoryPageOut(BaseModel):
    """One page of the history."""

    items: list[HistoryItemOut]
    total: int
    page: int
    per_page: int
    pages: int


class HistoryConversationOut(BaseModel):
    """A conversation opened from the history, read-only."""

    conversation: HistoryItemOut
    messages: list[MessageOut]
    records: list[ExplanationRecordOut]


class AgentFiguresOut(BaseModel):
    """One agent's work over the period."""

    agent_id: str
    agent_name: str
    taken: int
    closed: int
    median_first_reply_s: float | None
    csat_average: float | None
    csat_count: int


class AgentFiguresPageOut(BaseModel):
    """Every agent's figures over one period."""

    date_from: date | None
    date_to: date | None
    agents: list[AgentFiguresOut]


def _refuse(status: int, code: str, message: str) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message})


def _period(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise _refuse(422, "invalid_period", "La date de début doit précéder la date de fin.")


def _item_out(
    item: HistoryItem, catalogue: ServiceCatalogue, tenant_id: str, names: dict[str, str]
) -> HistoryItemOut:
    services = {entry.code: entry.name for entry in catalogue.list(tenant_id)}
    return HistoryItemOut(
        id=item.id, channel=item.channel, created_at=item.created_at,
        updated_at=item.updated_at, outcome=item.outcome,
        outcome_label=OUTCOME_LABELS.get(item.outcome, item.outcome), services=item.services,
        service_names=[services.get(code, code) for code in item.services],
        excerpt=item.excerpt, messages=item.messages,
        resolution_label=RESOLUTION_LABELS.get(item.resolution or "") or None,
        agent_name=names.get(item.agent_id or "") or None, csat=item.csat,
    )  # fmt: skip


def _agent_names(auth: AuthDep, tenant_id: str) -> dict[str, str]:
    return {account.agent.id: account.agent.name for account in auth.accounts.list(tenant_id)}


@router.get("/history")
def history(
    found: HistoryDep,
    catalogue: CatalogueDep,
    auth: AuthDep,
    agent: CurrentAgent,
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    outcome: Outcome | None = None,
    words: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
) -> HistoryPageOut:
    """Closed conversations of the agent's commune (of their services for agents)."""
    _period(date_from, date_to)
    query = HistoryQuery(
        date_from=date_from, date_to=date_to, service=service or None, outcome=outcome,
        words=words, page=page, per_page=per_page,
    )  # fmt: skip
    result = found.search(agent.tenant_id, query, agent.readable_services)
    names = _agent_names(auth, agent.tenant_id)
    return HistoryPageOut(
        items=[_item_out(i, catalogue, agent.tenant_id, names) for i in result.items],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
        pages=max(1, -(-result.total // result.per_page)),
    )


@router.get("/history/{conversation_id}")
def history_conversation(
    conversation_id: str,
    found: HistoryDep,
    conversations: ConversationStoreDep,
    catalogue: CatalogueDep,
    auth: AuthDep,
    agent: CurrentAgent,
) -> HistoryConversationOut:
    """One conversation, read-only: its messages and its explanation records."""
    view = conversations.get(conversation_id)
    item = found.item(view.tenant_id, conversation_id) if view is not None else None
    if view is None or item is None:
        raise _refuse(404, "not_found", NOT_FOUND)
    require_access(agent, view.tenant_id, item.services, not_found=NOT_FOUND)
    names = _agent_names(auth, agent.tenant_id)
    return HistoryConversationOut(
        conversation=_item_out(item, catalogue, agent.tenant_id, names),
        messages=[message_out(m) for m in view.messages],
        records=[ExplanationRecordOut(**r) for r in conversations.records(conversation_id)],
    )


@router.get("/agent-figures")
def agent_figures(
    found: HistoryDep,
    auth: AuthDep,
    agent: Supervisor,
    date_from: date | None = None,
    date_to: date | None = None,
) -> AgentFiguresPageOut:
    """Each agent's conversations taken and closed, median time to first reply and average
    rating over the period (supervisors and administrators)."""
    _period(date_from, date_to)
    names = _agent_names(auth, agent.tenant_id)
    figures = found.agent_figures(agent.tenant_id, date_from, date_to)
    return AgentFiguresPageOut(
        date_from=date_from,
        date_to=date_to,
        agents=[
            AgentFiguresOut(agent_name=names.get(f.agent_id, "Agent supprimé"), **f.__dict__)
            for f in figures
        ],
    )
