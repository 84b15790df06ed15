"""Web chat channel: conversations over HTTP with answers streamed as Server-Sent Events,
the embeddable widget and the demo town's page.

Opening a conversation returns its ``resident_token``, once: every later request about it
(reading it back, a message, the agent's events, the rating) sends it as
``Authorization: Bearer …`` (:func:`contact_center.web.deps.resident_conversation`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from channels.webchat.live import HandoffStateOut, handoff_state
from channels.webchat.sse import chat_notice, encode_event
from contact_center.conversation.engine import AI_NOTICE, ConversationEngine
from contact_center.conversation.resident_tokens import new_resident_token
from contact_center.conversation.turns import TurnCompleted, TurnEvent
from contact_center.errors import InputError, RateLimitedError
from contact_center.metrics import Metrics
from contact_center.web.deps import (
    CommunesDep,
    ConversationStoreDep,
    EngineDep,
    HandoffStoreDep,
    MetricsDep,
    RateLimiterDep,
    ResidentConversation,
    client_key,
    require_tenant,
)

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(tags=["web chat"])


class NewConversation(BaseModel):
    """Opening a conversation from a widget bound to a commune."""

    tenant_id: str = Field(min_length=1, max_length=64)


class NewMessage(BaseModel):
    """A resident's message (its length is checked by the engine, with the French « trop
    long » and the configured limit, rather than by a generic 422 here)."""

    content: str


class MessageOut(BaseModel):
    """A message as the widget shows it."""

    id: str
    role: str
    content: str
    sources: list[dict[str, Any]]
    abstained: bool
    status: str
    created_at: datetime


class ConversationOut(BaseModel):
    """A conversation with the AI notice shown at its start."""

    id: str
    tenant_id: str
    notice: str
    messages: list[MessageOut]
    #: The latest exchange with an agent, if any (the page follows it live, or asks a rating).
    handoff: HandoffStateOut | None = None


class OpenedConversationOut(ConversationOut):
    """A new conversation, with the resident's credential for it (shown this once)."""

    resident_token: str


@router.post("/api/v1/conversations", status_code=201)
def open_conversation(
    body: NewConversation, conversations: ConversationStoreDep, communes: CommunesDep
) -> OpenedConversationOut:
    """Start a conversation for a commune; keep ``resident_token`` to come back to it."""
    tenant_id = require_tenant(communes, body.tenant_id)
    token = new_resident_token()
    view = conversations.create(tenant_id, channel="web", resident_token=token)
    return OpenedConversationOut(
        id=view.id, tenant_id=tenant_id, notice=AI_NOTICE, messages=[], resident_token=token
    )


@router.get("/api/v1/conversations/{conversation_id}")
def get_conversation(
    conversation_id: ResidentConversation,
    conversations: ConversationStoreDep,
    handoffs: HandoffStoreDep,
) -> ConversationOut:
    """A conversation and its messages (a reload of the page restores it)."""
    view = conversations.get(conversation_id)
    if view is None:
        raise HTTPException(404, {"code": "not_found", "message": "Conversation introuvable."})
    messages = [MessageOut(**m.__dict__) for m in view.messages]
    handoff = handoff_state(handoffs.latest_for(conversation_id))
    return ConversationOut(
        id=view.id, tenant_id=view.tenant_id, notice=AI_NOTICE, messages=messages, handoff=handoff
    )


@router.post("/api/v1/conversations/{conversation_id}/messages", response_model=None)
def post_message(
    conversation_id: ResidentConversation,
    body: NewMessage,
    request: Request,
    conversations: ConversationStoreDep,
    engine: EngineDep,
    limiter: RateLimiterDep,
    metrics: MetricsDep,
) -> StreamingResponse | JSONResponse:
    """Send a message; the answer streams back as ``text/event-stream``."""
    view = conversations.get(conversation_id)
    if view is None:
        raise HTTPException(404, {"code": "not_found", "message": "Conversation introuvable."})
    try:
        text = engine.validate(body.content)
        wait = limiter.hit(client_key(request))
        if wait:
            raise RateLimitedError(wait)
    except InputError as exc:
        metrics.rejected_inputs.labels(code=exc.code).inc()
        return JSONResponse(
            {"code": exc.code, "message": exc.message_fr}, status_code=exc.status_code
        )
    stream = _stream(engine, metrics, conversation_id, view.tenant_id, text)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


#: Turns running now. A turn, once accepted, runs to its end and is stored with its
#: explanation record even when its resident closes the page: it runs in its own task, and
#: the response only reads what it says.
_RUNNING_TURNS: set[asyncio.Task[None]] = set()


async def _stream(
    engine: ConversationEngine, metrics: Metrics, conversation_id: str, tenant_id: str, text: str
) -> AsyncIterator[str]:
    send, receive = anyio.create_memory_object_stream[TurnEvent](max_buffer_size=math.inf)
    task = asyncio.create_task(_run_turn(engine, metrics, conversation_id, tenant_id, text, send))
    _RUNNING_TURNS.add(task)
    task.add_done_callback(_RUNNING_TURNS.discard)
    async with receive:
        async for event in receive:
            yield encode_event(event)


async def _run_turn(
    engine: ConversationEngine,
    metrics: Metrics,
    conversation_id: str,
    tenant_id: str,
    text: str,
    send: MemoryObjectSendStream[TurnEvent],
) -> None:
    async with send:
        async for event in engine.run_turn(conversation_id, tenant_id, text, wording=chat_notice):
            if isinstance(event, TurnCompleted):
                _observe(metrics, conversation_id, event)
            try:
                send.send_nowait(event)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass  # the resident left: the turn goes on and is stored


def _observe(metrics: Metrics, conversation_id: str, event: TurnCompleted) -> None:
    metrics.observe_turn(
        "web",
        event.abstained,
        event.reason,
        event.latency_ms,
        path=event.path,
        path_reason=event.path_reason,
    )
    log.info(
        "turn done conversation_id=%s abstained=%s reason=%s path=%s total_ms=%s",
        conversation_id,
        event.abstained,
        event.reason,
        event.path,
        event.latency_ms.get("total"),
    )


@router.get("/widget.js", include_in_schema=False)
def widget_js() -> FileResponse:
    """The embeddable widget (one ``<script>`` tag on any town website)."""
    return FileResponse(STATIC_DIR / "widget.js", media_type="text/javascript")


@router.get("/", include_in_schema=False)
def demo_page() -> FileResponse:
    """The demo town's home page with the widget."""
    return FileResponse(STATIC_DIR / "demo.html", media_type="text/html")
