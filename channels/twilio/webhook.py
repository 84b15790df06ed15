"""Twilio's side of the phone channel: the incoming-call webhook and the Media Streams socket.

``POST /twilio/voice`` is the number's "A call comes in" webhook. It checks
``X-Twilio-Signature`` with twilio's ``RequestValidator`` over the URL Twilio called: behind a
reverse proxy that is ``CC_TWILIO_VOICE__PUBLIC_URL`` + the path (or, when
``trust_forwarded_headers``, the ``X-Forwarded-Proto``/``X-Forwarded-Host`` the proxy sets),
never the internal URL. A bad signature gets 403. The answer is TwiML
``<Connect><Stream url="wss://.../twilio/media-stream">`` with the commune as a parameter;
nothing is recorded (no ``<Record>``, no ``record`` attribute).

``/twilio/media-stream`` is the WebSocket Twilio connects to (its handshake is signed the same
way, over the ``wss://`` URL); :class:`channels.twilio.call.TwilioCall` handles the frames.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response
from starlette.datastructures import URL
from starlette.requests import HTTPConnection

from channels.twilio.call import CallRegistry
from channels.twilio.media_stream import ProtocolError
from channels.twilio.transfer import CallControl, TwilioCallControl
from contact_center.web.deps import SettingsDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["phone (Twilio)"])

STREAM_PATH = "/twilio/media-stream"
UNAVAILABLE = (
    "Le service téléphonique de la mairie n'est pas disponible pour le moment. "
    "Merci de rappeler plus tard."
)


def public_url(url: URL, headers: Any, settings: Any) -> str:
    """The URL Twilio used for this request (what its signature covers)."""
    query = f"?{url.query}" if url.query else ""
    if settings.public_url:
        base = settings.public_url.rstrip("/")
        if url.scheme in ("ws", "wss"):
            base = base.replace("https://", "wss://").replace("http://", "ws://")
        return f"{base}{url.path}{query}"
    if settings.trust_forwarded_headers:
        proto = (headers.get("x-forwarded-proto") or url.scheme).split(",")[0].strip()
        if url.scheme in ("ws", "wss"):
            proto = {"https": "wss", "http": "ws"}.get(proto, proto)
        host = (headers.get("x-forwarded-host") or headers.get("host") or url.netloc).split(",")[0]
        return f"{proto}://{host.strip()}{url.path}{query}"
    return str(url)


def _valid(signature: str | None, url: str, params: dict[str, str], settings: Any) -> bool:
    if not settings.validate_signature:
        return True
    token = settings.auth_token.get_secret_value() if settings.auth_token else ""
    if not token or not signature:
        return False
    from twilio.request_validator import RequestValidator

    return bool(RequestValidator(token).validate(url, params, signature))


def call_control(settings: Any) -> CallControl | None:
    """The REST client for transfers (``CC_TWILIO_VOICE__*``), or None without credentials."""
    if not (settings.account_sid and settings.auth_token):
        return None
    return TwilioCallControl(
        settings.account_sid,
        settings.auth_token.get_secret_value(),
        base_url=settings.base_url,
        timeout_s=settings.timeout_s,
    )


def get_calls(connection: HTTPConnection) -> CallRegistry | None:
    """The phone calls' registry the lifespan built (None: no speech stack, no phone)."""
    calls: CallRegistry | None = connection.app.state.phone_calls
    return calls


CallRegistryDep = Annotated[CallRegistry | None, Depends(get_calls)]


def _twiml(body: str) -> Response:
    return Response(body, media_type="application/xml")


@router.post("/twilio/voice", include_in_schema=False)
async def incoming_call(
    request: Request, calls: CallRegistryDep, app_settings: SettingsDep
) -> Response:
    """TwiML connecting the call to the media stream (403 when the signature is wrong)."""
    from twilio.twiml.voice_response import Connect, VoiceResponse

    settings = app_settings.twilio_voice
    # Twilio posts application/x-www-form-urlencoded (no python-multipart needed for that),
    # always in UTF-8: any other body is no Twilio request, refused like an unsigned one.
    try:
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        form = None
    url = public_url(request.url, request.headers, settings)
    if form is None or not _valid(request.headers.get("x-twilio-signature"), url, form, settings):
        log.warning("twilio webhook refused: bad signature or body")
        raise HTTPException(403, {"code": "forbidden", "message": "Signature invalide."})
    response = VoiceResponse()
    if calls is None:
        response.say(UNAVAILABLE, language="fr-FR")
        return _twiml(str(response))
    tenant = settings.numbers.get(form.get("To", ""), app_settings.app.default_tenant)
    stream_url = public_url(
        request.url.replace(path=STREAM_PATH, query=""), request.headers, settings
    )
    stream_url = stream_url.replace("https://", "wss://").replace("http://", "ws://")
    connect = Connect()
    stream = connect.stream(url=stream_url)
    stream.parameter(name="tenant", value=tenant)
    response.append(connect)
    return _twiml(str(response))


@router.websocket(STREAM_PATH)
async def media_stream(
    websocket: WebSocket, calls: CallRegistryDep, app_settings: SettingsDep
) -> None:
    """Twilio Media Streams for one call."""
    settings = app_settings.twilio_voice
    url = public_url(websocket.url, websocket.headers, settings)
    if calls is None or not _valid(websocket.headers.get("x-twilio-signature"), url, {}, settings):
        await websocket.close(code=1008)
        return
    await websocket.accept()
    async with calls.open(websocket.send_text) as call:
        try:
            while await call.handle(await websocket.receive_text()):
                pass
        except (WebSocketDisconnect, ProtocolError) as exc:
            log.info("media stream ended call_sid=%s (%s)", call.call_sid, type(exc).__name__)
