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

The turn ends on silence (server-side endpointing): the page has no push-to-talk.
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
from channels.voice.session import VoiceSession
from contact_center.conversation.engine import AI_NOTICE, ConversationEngine
from contact_center.conversation.resident_tokens import new_resident_token
from contact_center.conversation.store import ConversationStore, ConversationView
from contact_center.settings import Settings
from contact_center.web.deps import ConversationStoreDep, EngineDep, SettingsDep

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
) -> tuple[VoiceSession, int] | None:
    start = json.loads(await websocket.receive_text())
    tenant_id = str(start.get("tenant_id") or settings.app.default_tenant)
    if stack is None or start.get("type") != "start":
        await _send(websocket, UNAVAILABLE)
        return None
    if tenant_id not in settings.app.tenants:
        await _send(websocket, UNKNOWN_TENANT)
        return None
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
    return session, int(start.get("sample_rate") or STT_RATE)


def _resident_conversation(
    conversations: ConversationStore, start: dict[str, Any], tenant_id: str
) -> ConversationView | None:
    """The conversation the start frame goes on with, if it carries its resident credential."""
    requested, token = start.get("conversation_id"), start.get("resident_token")
    if not isinstance(requested, str) or not isinstance(token, str) or not requested:
        return None
    if conversations.resident_access(requested, token) != "granted":
        return None
    return conversations.get(requested, tenant_id)


@router.websocket("/api/v1/voice")
async def voice_socket(
    websocket: WebSocket,
    stack: SpeechDep,
    engine: EngineDep,
    conversations: ConversationStoreDep,
    settings: SettingsDep,
) -> None:
    """One spoken conversation with the page."""
    await websocket.accept()
    opened = await _open(websocket, stack, engine, conversations, settings)
    if opened is None:
        await websocket.close(code=1011)
        return
    session, rate = opened
    await session.start()
    try:
        while True:
            message = await websocket.receive()
            if message.get("type") == "websocket.disconnect":
                break
            if message.get("bytes") is not None:
                pcm = np.frombuffer(message["bytes"], dtype="<i2").astype(np.int16)
                await session.feed(resample(pcm, rate, STT_RATE))
                continue
            data = json.loads(message.get("text") or "{}")
            if data.get("type") == "played":
                session.on_mark(str(data.get("mark", "")))
            elif data.get("type") == "agent":
                await session.request_agent()
            elif data.get("type") == "stop":
                break
    except WebSocketDisconnect:
        pass
    finally:
        await session.close()


@router.get("/voix", include_in_schema=False)
def voice_page() -> FileResponse:
    """A page to talk to the assistant with the microphone."""
    return FileResponse(STATIC_DIR / "voice.html", media_type="text/html")


@router.get("/voice.js", include_in_schema=False)
def voice_js() -> FileResponse:
    """The voice mode, loaded by the widget and the voice page."""
    return FileResponse(WIDGET_STATIC / "voice.js", media_type="text/javascript")
