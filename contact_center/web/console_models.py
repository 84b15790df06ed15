"""What the agents' console reads and sends: request and response models, and the views
built from the stores (the queue, a conversation with why the assistant said each thing)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from contact_center.conversation.store import MessageView
from contact_center.gru.case_domain import TRANSITIONS, CaseStatus, CaseView
from contact_center.handoffs.agent_assist import Suggestion
from contact_center.handoffs.agent_desk import RESOLUTION_LABELS
from contact_center.handoffs.handoff_brief import HandoffBrief
from contact_center.handoffs.queue import HandoffFigures, HandoffView
from contact_center.handoffs.suggestion_log import SuggestionFigures
from routing.handoff import REASON_LABELS

ServiceNames = Callable[[str], str]


class HandoffOut(BaseModel):
    """A conversation handed to people, as a queue line and in the conversation pane."""

    id: str
    conversation_id: str
    service: str
    service_name: str
    reason: str
    reason_label: str
    priority: str
    summary: str
    status: str
    channel: str
    created_at: datetime
    waiting_seconds: float
    claimed_at: datetime | None
    claimed_by: str | None
    claimed_by_me: bool
    resolution: str | None
    resolution_label: str | None
    case_id: str | None
    csat: int | None
    transfers: list[dict[str, Any]]


class ServiceQueueOut(BaseModel):
    """One service's queue at a glance."""

    service: str
    service_name: str
    waiting: int
    in_progress: int
    longest_waiting_seconds: float


class QueueOut(BaseModel):
    """The agent's queues: every line, and the figures per service."""

    items: list[HandoffOut]
    services: list[ServiceQueueOut]


class SourceOut(BaseModel):
    """A passage retrieved for a turn, with its scores."""

    document_id: str
    chunk_id: str
    title: str | None
    url: str | None
    score: float | None
    dense: float | None
    sparse: float | None
    cited: bool


class RouteOut(BaseModel):
    """A service and the routing's confidence in it."""

    service: str
    service_name: str
    confidence: float


class RoutingOut(RouteOut):
    """Where the request was routed, the runners-up, and why."""

    alternatives: list[RouteOut]
    reason: str | None
    needs_triage: bool


class ExplanationOut(BaseModel):
    """Why the assistant said what it said in one turn (from its explanation record)."""

    record_id: str
    message_id: str | None
    question: str
    outcome: str
    abstained: bool
    reason: str | None
    relevance: float | None
    action: str | None
    sources: list[SourceOut]
    routing: RoutingOut | None
    handoff_reason: str | None
    handoff_reason_label: str | None
    corrected_service: str | None = None


class MessageOut(BaseModel):
    """A message of the conversation (``user``, ``assistant`` or ``agent``)."""

    id: str
    role: str
    content: str
    created_at: datetime


class CaseBriefOut(BaseModel):
    """The case linked to the conversation, and where it may go next."""

    id: str
    number: str
    service: str
    service_name: str
    status: str
    status_label: str
    next_statuses: list[dict[str, str]]


class BriefOut(BaseModel):
    """The brief of a conversation handed off or transferred (top of the conversation)."""

    resident: list[str]
    asked: list[str]
    answered: list[str]
    reason: str
    transfers: list[str]
    text: str


class ConversationOut(BaseModel):
    """A conversation as the agent works on it."""

    id: str
    channel: str
    created_at: datetime
    messages: list[MessageOut]
    explanations: list[ExplanationOut]
    handoff: HandoffOut | None
    case: CaseBriefOut | None
    brief: BriefOut | None = None


class SuggestedSourceOut(BaseModel):
    """A document the suggested reply cites as ``[n]``."""

    n: int
    document_id: str
    title: str
    section: str
    url: str


class SuggestionOut(BaseModel):
    """A cited reply suggested to the agent; ``text`` is empty and ``note`` says why when
    the knowledge base answers none of the resident's last messages."""

    id: str | None
    question: str | None
    text: str
    sources: list[SuggestedSourceOut]
    note: str


class ReplyIn(BaseModel):
    """An agent's message to the resident."""

    text: str = Field(max_length=4000)


class TransferIn(BaseModel):
    """Where to send the conversation."""

    service: str = Field(max_length=64)
    note: str = Field(default="", max_length=1000)


class ConsoleCaseIn(BaseModel):
    """A case filed from the conversation (service: the handoff's by default)."""

    service: str | None = Field(default=None, max_length=64)
    summary: str = Field(max_length=255)
    description: str = Field(default="", max_length=10_000)
    priority: str = Field(default="normal", max_length=16)


class CaseFiledOut(BaseModel):
    """The case filed; the message (with the tracking code) is for the resident, once."""

    case_id: str
    number: str
    tracking_code: str
    service_name: str
    status_label: str
    due_date: date
    message: str


class CaseStatusIn(BaseModel):
    """A status change of the linked case (a reason is quoted to the resident)."""

    status: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=2000)


class CloseIn(BaseModel):
    """How the exchange ended."""

    resolution: str = Field(max_length=32)
    case_id: str | None = Field(default=None, max_length=32)


class CorrectionIn(BaseModel):
    """The service one turn should have been routed to."""

    record_id: str = Field(max_length=32)
    service: str = Field(max_length=64)


class CorrectionOut(BaseModel):
    """A stored correction."""

    id: str
    record_id: str | None
    text: str
    service: str
    previous_service: str | None
    created_at: datetime


class CannedResponseOut(BaseModel):
    """A canned response."""

    id: str
    title: str
    text: str


class ServiceOut(BaseModel):
    """A service of the commune (transfers, cases)."""

    code: str
    name: str


class ReasonFigureOut(BaseModel):
    """Handoffs for one reason."""

    reason: str
    label: str
    count: int
    rate: float


class SuggestionFiguresOut(BaseModel):
    """Replies suggested to agents, by what the agents did with them."""

    shown: int
    unchanged: int
    edited: int
    not_used: int
    pending: int


class FiguresOut(BaseModel):
    """Supervisors' live figures."""

    waiting: int
    in_progress: int
    conversations: int
    handoff_rate: float
    by_reason: list[ReasonFigureOut]
    median_first_response_s: float | None
    first_contact_resolution: float | None
    suggestions: SuggestionFiguresOut | None = None


def handoff_out(view: HandoffView, names: ServiceNames, agent_id: str, now: datetime) -> HandoffOut:
    return HandoffOut(
        id=view.id, conversation_id=view.conversation_id, service=view.service,
        service_name=names(view.service), reason=view.reason, reason_label=view.reason_label,
        priority=view.priority, summary=view.summary, status=view.status, channel=view.channel,
        created_at=view.created_at, waiting_seconds=round(view.waiting_seconds(now), 1),
        claimed_at=view.claimed_at, claimed_by=view.claimed_by,
        claimed_by_me=view.claimed_by == agent_id, resolution=view.resolution,
        resolution_label=RESOLUTION_LABELS.get(view.resolution or ""), case_id=view.case_id,
        csat=view.csat, transfers=list(view.details.get("transfers", [])),
    )  # fmt: skip


def service_queues(items: list[HandoffOut]) -> list[ServiceQueueOut]:
    """Per-service counts and the longest wait among waiting conversations."""
    queues: dict[str, ServiceQueueOut] = {}
    for item in items:
        queue = queues.setdefault(
            item.service,
            ServiceQueueOut(
                service=item.service,
                service_name=item.service_name,
                waiting=0,
                in_progress=0,
                longest_waiting_seconds=0.0,
            ),  # fmt: skip
        )
        if item.status == "waiting":
            queue.waiting += 1
            queue.longest_waiting_seconds = max(queue.longest_waiting_seconds, item.waiting_seconds)
        else:
            queue.in_progress += 1
    return sorted(queues.values(), key=lambda q: -q.longest_waiting_seconds)


def message_out(message: MessageView) -> MessageOut:
    return MessageOut(
        id=message.id, role=message.role, content=message.content, created_at=message.created_at
    )


def explanation_out(
    record: Mapping[str, Any],
    message: MessageView | None,
    names: ServiceNames,
    corrected: str | None,
) -> ExplanationOut:
    """One turn's explanation: sources with scores, routing with runners-up, handoff reason."""
    shown = {s.get("chunk_id"): s for s in (message.sources if message else [])}
    cited = {key for key, s in shown.items() if s.get("n") in (record.get("cited") or [])}
    sources = [
        SourceOut(
            document_id=str(item.get("document_id", "")),
            chunk_id=str(item.get("chunk_id", "")),
            title=shown.get(item.get("chunk_id"), {}).get("title"),
            url=shown.get(item.get("chunk_id"), {}).get("url"),
            score=item.get("score"),
            dense=item.get("dense"),
            sparse=item.get("sparse"),
            cited=item.get("chunk_id") in cited,
        )  # fmt: skip
        for item in record.get("retrieved") or []
    ]
    reason = record.get("handoff_reason")
    return ExplanationOut(
        record_id=record["id"], message_id=record.get("message_id"), question=record["question"],
        outcome=record["outcome"], abstained=record["abstained"], reason=record.get("reason"),
        relevance=record.get("relevance"), action=record.get("action"), sources=sources,
        routing=_routing_out(record.get("routing"), names), handoff_reason=reason,
        handoff_reason_label=REASON_LABELS.get(reason) if reason else None,
        corrected_service=corrected,
    )  # fmt: skip


def _routing_out(routing: Mapping[str, Any] | None, names: ServiceNames) -> RoutingOut | None:
    if not routing or not routing.get("service"):
        return None
    alternatives = [
        RouteOut(
            service=a["service"],
            service_name=names(a["service"]),
            confidence=float(a.get("confidence", 0.0)),
        )  # fmt: skip
        for a in routing.get("alternatives") or []
        if isinstance(a, Mapping) and a.get("service")
    ]
    return RoutingOut(
        service=routing["service"], service_name=names(routing["service"]),
        confidence=float(routing.get("confidence", 0.0)), alternatives=alternatives,
        reason=routing.get("reason"), needs_triage=bool(routing.get("needs_triage")),
    )  # fmt: skip


def case_brief(view: CaseView) -> CaseBriefOut:
    order = list(CaseStatus)
    nexts = sorted(TRANSITIONS[view.status], key=order.index)
    return CaseBriefOut(
        id=view.id, number=view.number, service=view.service, service_name=view.service_name,
        status=view.status.value, status_label=view.status_label,
        next_statuses=[{"status": s.value, "label": s.internal_label} for s in nexts],
    )  # fmt: skip


def brief_out(brief: HandoffBrief) -> BriefOut:
    return BriefOut(
        resident=list(brief.resident), asked=list(brief.asked), answered=list(brief.answered),
        reason=brief.reason, transfers=list(brief.transfers), text=brief.text,
    )  # fmt: skip


def suggestion_out(suggestion: Suggestion, suggestion_id: str | None) -> SuggestionOut:
    return SuggestionOut(
        id=suggestion_id, question=suggestion.question, text=suggestion.text,
        sources=[SuggestedSourceOut(**vars(source)) for source in suggestion.sources],
        note=suggestion.note,
    )  # fmt: skip


def figures_out(
    figures: HandoffFigures, suggestions: SuggestionFigures | None = None
) -> FiguresOut:
    total = figures.conversations
    by_reason = [
        ReasonFigureOut(
            reason=reason,
            label=REASON_LABELS.get(reason, reason),
            count=count,
            rate=round(count / total, 4) if total else 0.0,
        )  # fmt: skip
        for reason, count in sorted(figures.by_reason.items(), key=lambda item: -item[1])
    ]
    return FiguresOut(
        waiting=figures.waiting, in_progress=figures.in_progress, conversations=total,
        handoff_rate=figures.handoff_rate, by_reason=by_reason,
        median_first_response_s=figures.median_first_response_s,
        first_contact_resolution=figures.first_contact_resolution,
        suggestions=SuggestionFiguresOut(**vars(suggestions)) if suggestions else None,
    )  # fmt: skip
