"""The resident's side of a conversation held by an agent: live events and the rating.

``GET /api/v1/conversations/{id}/events`` is a Server-Sent Events stream: first a
``status`` snapshot (``waiting``, ``claimed``, ``closed``, ``returned`` or ``none``, and whether a
rating is still expected), the agent's messages written after ``after`` (or the
``Last-Event-ID`` that EventSource sends when it reconnects), then live events: ``agent_joined``,
``agent_message``, ``transferred``, ``closed`` (the page asks for a rating) and ``handed_back``.
The stream ends after ``closed`` or ``handed_back``, or at once when no agent holds the
conversation. Like the conversation itself, it needs the resident's credential
(``Authorization: Bearer <resident_token>``, see channels/webchat/routes.py).

``POST /api/v1/conversations/{id}/typing`` says that the resident is writing: the agent who
holds the conversation sees « L'usager écrit… » (throttled, never stored); the stream above
carries ``agent_typing`` the other way.

``POST /api/v1/conversations/{id}/rating`` takes ``{"score": 1..5}`` once, after the exchange.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from contact_center.handoffs.agent_desk import message_payload
from contact_center.handoffs.queue import ACTIVE, HandoffView
from contact_center.handoffs.realtime import Event, conversation_channel
from contact_center.web.deps import (
    AgentDeskDep,
    ConversationStoreDep,
    EventBusDep,
    HandoffStoreDep,
    ResidentConversation,
    SettingsDep,
)
from contact_center.web.streams import bus_stream, sse_frame

router = APIRouter(tags=["web chat"])

#: Events after which an agent no longer holds the conversation.
FINAL = ("closed", "handed_back")


class HandoffStateOut(BaseModel):
    """Where the exchange with an agent stands, as the resident's page needs it."""

    status: str
    rating_pending: bool


class RatingIn(BaseModel):
    """The resident's satisfaction with the exchange (checked with a French message)."""

    score: Any = Field(default=None, json_schema_extra={"type": "integer", "minimum": 1,
                                                        "maximum": 5})  # fmt: skip


class RatingOut(BaseModel):
    """The rating kept."""

    score: int
    message: str


def handoff_state(view: HandoffView | None) -> HandoffStateOut | None:
    """The resident's view of the latest handoff (None when there was none)."""
    if view is None:
        return None
    return HandoffStateOut(
        status=view.status, rating_pending=view.status == "closed" and view.csat is None
    )


@router.get("/api/v1/conversations/{conversation_id}/events", response_class=StreamingResponse)
def conversation_events(
    conversation_id: ResidentConversation,
    request: Request,
    conversations: ConversationStoreDep,
    handoffs: HandoffStoreDep,
    bus: EventBusDep,
    settings: SettingsDep,
    after: str | None = None,
) -> StreamingResponse:
    """What the agent does in this conversation, live (Server-Sent Events)."""
    resume_after = request.headers.get("last-event-id") or after

    def opening() -> tuple[list[str], bool]:
        view = conversations.get(conversation_id)
        handoff = handoffs.latest_for(conversation_id)
        state = handoff_state(handoff)
        status = state.model_dump() if state else {"status": "none", "rating_pending": False}
        frames = [sse_frame("status", status)]
        messages = view.messages if view is not None else []
        ids = [m.id for m in messages]
        if resume_after in ids:
            for message in messages[ids.index(resume_after) + 1 :]:
                if message.role == "agent":
                    payload = {"type": "agent_message", **message_payload(message)}
                    frames.append(sse_frame("agent_message", payload, event_id=message.id))
        return frames, handoff is None or handoff.status not in ACTIVE

    def render(event: Event) -> str:
        kind = str(event.get("type", "message"))
        return sse_frame(kind, event, event_id=event.get("id") if kind == "agent_message" else None)

    return bus_stream(
        bus,
        conversation_channel(conversation_id),
        opening=opening,
        render=render,
        heartbeat_s=settings.console.heartbeat_s,
        last=lambda event: event.get("type") in FINAL,
    )


@router.post("/api/v1/conversations/{conversation_id}/typing", status_code=204)
def resident_typing(conversation_id: ResidentConversation, desk: AgentDeskDep) -> None:
    """The resident is writing to the agent who holds the conversation."""
    desk.resident_typing(conversation_id)


@router.post("/api/v1/conversations/{conversation_id}/rating", status_code=201)
def rate_exchange(
    conversation_id: ResidentConversation,
    body: RatingIn,
    handoffs: HandoffStoreDep,
) -> RatingOut:
    """The resident rates the exchange with the agent, once, after it ended."""
    score = body.score
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise HTTPException(
            422, {"code": "invalid_rating", "message": "Choisissez une note entre 1 et 5."}
        )
    latest = handoffs.latest_for(conversation_id)
    if latest is None or latest.status != "closed":
        raise HTTPException(
            409,
            {
                "code": "rating_not_open",
                "message": "Vous pourrez donner votre avis à la fin de l'échange avec l'agent.",
            },
        )
    if latest.csat is not None:
        raise HTTPException(
            409,
            {"code": "already_rated", "message": "Vous avez déjà donné votre avis, merci."},
        )
    handoffs.rate(conversation_id, score)
    return RatingOut(score=score, message="Merci pour votre avis.")
