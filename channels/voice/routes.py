"""The browser's voice channel: a WebSocket that carries the microphone and the spoken answer.

Protocol (``/api/v1/voice``), JSON text frames unless said otherwise:

* client -> server: ``{"type": "start", "tenant_id": "demo", "sample_rate": 16000,
  "conversation_id": optional, "resident_token": optional}`` first (a conversation goes on
  only with its resident's credential; otherwise a new one opens); then **binary** frames of
  16-bit little-endian mono PCM at that rate (the microphone); ``{"type": "played",
  "mark": "m3"}`` when playback reached a mark; ``{"type": "agent"}`` to ask for a person;
  ``{"type": "stop"}``.
* server -> client: ``ready`` (conversation id, AI notice, and ``resident_token`` when a new
  conversation was opened: the page keeps it to go on with it), ``audio`` (``data``: base64
  PCM16, ``sample_rate``, ``mark``), ``clear`` (stop playback now: barge-in), ``transcript``,
  ``sources``, ``answer_delta``, ``done`` (answer, sources, action, stage timings),
  ``barge_in``, ``handoff`` (the conversation continues with an agent in the chat), ``error``.

The server finds the end of each turn (a short pause that Smart Turn judges final, or a longer
silence): the page has no push-to-talk.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from starlette.requests import HTTPConnection

from channels.speech.audio import STT_RATE, resample
from channels.speech.stack import SpeechStack
from channels.voice import protocol
from channels.voice.protocol import (
    ORIGIN_REFUSED,
    FrameRefused,
    StartRequest,
    close_reason,
    origin_allowed,
    parse_object,
    parse_start,
    pcm_samples,
)
from channels.voice.session import VoiceSession
from contact_center.communes.registry import CommuneRegistry
from contact_center.conversation.engine import AI_NOTICE, ConversationEngine
from contact_center.conversation.resident_tokens import new_resident_token
from contact_center.conversation.store import ConversationStore, ConversationView
from contact_center.errors import RateLimitedError
from contact_center.settings import Settings
from contact_center.web.deps import (
    CommunesDep,
    ConversationStoreDep,
    EngineDep,
    RateLimiterDep,
    SettingsDep,
    client_key,
)

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
WIDGET_STATIC = Path(__file__).parents[1] / "webchat" / "static"
router = APIRouter(tags=["voice"])

UNAVAILABLE = {
    "type": "error",
    "code": "voice_unavailable",
    "message": "La conversation vocale n'est pas disponible pour le moment.",
}
UNKNOWN_TENANT = {
    "type": "error",
    "code": "unknown_tenant",
    "message": "Cette commune n'est pas desservie.",
}


class BrowserOutput:
    """Sends a session's audio and text to the page (a :class:`VoiceOutput`)."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def play(self, audio: np.ndarray, sample_rate: int, mark: str) -> None:
        data = base64.b64encode(audio.astype("<i2").tobytes()).decode()
        await self.event({"type": "audio", "sample_rate": sample_rate, "mark": mark, "data": data})

    async def clear(self) -> None:
        await self.event({"type": "clear"})

    async def event(self, data: dict[str, Any]) -> None:
        try:
            await self.websocket.send_text(json.dumps(data, ensure_ascii=False))
        except (WebSocketDisconnect, RuntimeError):  # the page is gone: nothing to tell it
            log.debug("voice socket closed before %s", data.get("type"))

    async def hand_off(self, handoff: dict[str, Any], *, failure: bool) -> None:
        await self.event({"type": "handoff", "handoff": handoff, "failure": failure})


def get_speech(connection: HTTPConnection) -> SpeechStack | None:
    """The speech stack the lifespan built and warmed up (None: voice is off)."""
    stack: SpeechStack | None = connection.app.state.speech
    return stack


SpeechDep = Annotated[SpeechStack | None, Depends(get_speech)]


async def _send(websocket: WebSocket, data: dict[str, Any]) -> None:
    await websocket.send_text(json.dumps(data, ensure_ascii=False))


async def _open(
    websocket: WebSocket,
    stack: SpeechStack | None,
    engine: ConversationEngine,
    conversations: ConversationStore,
    settings: Settings,
    communes: CommuneRegistry,
) -> tuple[VoiceSession, int] | None:
    """Read the start frame and open the session (None: the page left first).

    Everything is checked before a conversation is opened: a refused start opens nothing.
    """
    message = await websocket.receive()
    if message.get("type") == "websocket.disconnect":
        return None
    start = parse_start(message)
    tenant_id = start.tenant_id or settings.app.default_tenant
    if stack is None:
        await _send(websocket, UNAVAILABLE)
        raise FrameRefused(protocol.UNAVAILABLE, UNAVAILABLE["message"])
    if not communes.is_served(tenant_id):
        await _send(websocket, UNKNOWN_TENANT)
        raise FrameRefused(protocol.POLICY_VIOLATION, UNKNOWN_TENANT["message"])
    view = _resident_conversation(conversations, start, tenant_id)
    new_token = None
    if view is None:
        new_token = new_resident_token()
        view = conversations.create(tenant_id, channel="voice", resident_token=new_token)
    session = VoiceSession(
        stack,
        engine,
        conversation_id=view.id,
        tenant_id=tenant_id,
        channel="voice",
        output=BrowserOutput(websocket),
    )
    ready = {"type": "ready", "conversation_id": view.id, "notice": AI_NOTICE}
    if new_token is not None:
        ready["resident_token"] = new_token
    await _send(websocket, ready)
    return session, start.sample_rate


def _resident_conversation(
    conversations: ConversationStore, start: StartRequest, tenant_id: str
) -> ConversationView | None:
    """The conversation the start frame goes on with, if it carries its resident credential."""
    if not start.conversation_id or not start.resident_token:
        return None
    if conversations.resident_access(start.conversation_id, start.resident_token) != "granted":
        return None
    return conversations.get(start.conversation_id, tenant_id)


async def _converse(websocket: WebSocket, session: VoiceSession, rate: int) -> None:
    """The page's frames until it stops or leaves (:class:`FrameRefused` on a bad one)."""
    while True:
        message = await websocket.receive()
        if message.get("type") == "websocket.disconnect":
            return
        if message.get("bytes") is not None:
            await session.feed(resample(pcm_samples(message["bytes"]), rate, STT_RATE))
            continue
        data = parse_object(message.get("text") or "")
        if data.get("type") == "played":
            session.on_mark(str(data.get("mark", "")))
        elif data.get("type") == "agent":
            await session.request_agent()
        elif data.get("type") == "stop":
            await websocket.close(code=1000)
            return


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Close with a code and a French reason, unless the page already left."""
    try:
        await websocket.close(code=code, reason=close_reason(reason))
    except (WebSocketDisconnect, RuntimeError):
        log.debug("voice socket gone before its close code=%s", code)


@router.websocket("/api/v1/voice")
async def voice_socket(
    websocket: WebSocket,
    stack: SpeechDep,
    engine: EngineDep,
    conversations: ConversationStoreDep,
    settings: SettingsDep,
    communes: CommunesDep,
    limiter: RateLimiterDep,
) -> None:
    """One spoken conversation with the page.

    A page of an origin that is not allowed, a client over the chat's rate limit and any bad
    frame get a close code with a French reason (channels/voice/protocol.py), nothing else.
    """
    await websocket.accept()
    origin, host = websocket.headers.get("origin"), websocket.headers.get("host")
    if not origin_allowed(origin, host, settings.app.cors_origins):
        await _refuse(websocket, protocol.POLICY_VIOLATION, ORIGIN_REFUSED)
        return
    wait = limiter.hit(f"voice:{client_key(websocket)}")
    if wait:
        await _refuse(websocket, protocol.TRY_AGAIN_LATER, RateLimitedError(wait).message_fr)
        return
    session: VoiceSession | None = None
    try:
        opened = await _open(websocket, stack, engine, conversations, settings, communes)
        if opened is None:
            return
        session, rate = opened
        await session.start()
        await _converse(websocket, session, rate)
    except FrameRefused as refused:
        await _refuse(websocket, refused.code, refused.reason)
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("voice socket failed")
        await _refuse(websocket, protocol.UNAVAILABLE, UNAVAILABLE["message"])
    finally:
        if session is not None:
            await session.close()


#: Headers of the voice page: same origin only, never framed. The microphone's tap is an audio
#: worklet that voice.js loads from a ``blob:`` URL (it is also loaded by the widget on a town's
#: own site, where a worklet file of ours would be cross-origin), hence ``blob:`` in script-src;
#: ``connect-src 'self'`` covers the voice socket on the same host.
VOICE_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' blob:; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "microphone=(self)",
}


@router.api_route("/voix", methods=["GET", "HEAD"], include_in_schema=False)
def voice_page() -> FileResponse:
    """A page to talk to the assistant with the microphone."""
    return FileResponse(
        STATIC_DIR / "voice.html", media_type="text/html", headers=VOICE_PAGE_HEADERS
    )


@router.get("/voix.js", include_in_schema=False)
def voice_page_js() -> FileResponse:
    """The voice page's own script: the conversation shown like the chat's."""
    return FileResponse(STATIC_DIR / "page.js", media_type="text/javascript")


@router.get("/voix.css", include_in_schema=False)
def voice_page_css() -> FileResponse:
    """The voice page's own style sheet, on top of the shared one (/shared/pages.css)."""
    return FileResponse(STATIC_DIR / "voice.css", media_type="text/css")


@router.get("/voice.js", include_in_schema=False)
def voice_js() -> FileResponse:
    """The voice mode, loaded by the widget and the voice page."""
    return FileResponse(WIDGET_STATIC / "voice.js", media_type="text/javascript")
