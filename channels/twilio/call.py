"""One phone call: Twilio Media Streams frames in, a :class:`VoiceSession` in the middle.

Caller audio (μ-law 8 kHz) is decoded and resampled to 16 kHz for the endpointer and Whisper;
speech goes back resampled to 8 kHz μ-law in ``media`` frames, each sentence followed by a
``mark``; barge-in sends ``clear``. DTMF 0 asks for a person. A handoff is worded for the phone
(:func:`phone_notice`: « Restez en ligne, je vous transfère ») and transfers the call to the
routed service's number with a ``<Dial>`` through Twilio's REST API; when that cannot be done
the caller hears the service's number instead of silence.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from functools import partial
from typing import Any

import anyio
import numpy as np

from channels.speech.audio import STT_RATE, resample, ulaw_to_pcm16
from channels.speech.stack import SpeechStack
from channels.twilio import media_stream as ms
from channels.twilio.transfer import CallControl, e164
from channels.voice.session import VoiceSession
from contact_center.conversation.engine import AI_NOTICE, ConversationEngine
from contact_center.conversation.store import ConversationStore
from contact_center.conversation.turns import HandoffNotice
from contact_center.gru.service_catalogue import ServiceCatalogue
from routing.service_definitions import TRIAGE_SERVICE

log = logging.getLogger(__name__)

PHONE_EMERGENCY = (
    "Si vous êtes en danger, raccrochez et appelez le {police}, la police, ou le {european}. "
    "Pour un hébergement d'urgence ce soir, le {shelter}, le Samu social, répond jour et nuit, "
    "gratuitement. En cas de violences, le {violence} est gratuit et anonyme.\n"
)
PHONE_TRANSFER = (
    "Je vous mets en relation avec un agent : {service}. Il aura le résumé de notre échange : "
    "vous n'aurez pas à tout répéter. Restez en ligne, je vous transfère."
)
#: Without call control the transfer cannot happen: the caller then hears the service's number.
PHONE_NO_TRANSFER = "Je transmets votre demande à un agent : {service}."
PHONE_CLOSED = (
    "Les agents ({service}) ne sont pas disponibles en ce moment. Horaires : {hours}\n"
    "Je peux enregistrer votre demande pour qu'un agent vous rappelle. "
)
#: Said after the AI notice when the call can be transferred (DTMF 0 asks for a person).
PHONE_KEYPAD = " Il vous suffit de taper 0."


def phone_notice(notice: HandoffNotice, *, transfer: bool) -> str:
    """The handoff notice as a caller hears it: the call is transferred, no page to stay on.

    Args:
        notice: What happened.
        transfer: Whether this call can be transferred (Twilio's call control is configured).
    """
    prefix = PHONE_EMERGENCY.format(**asdict(notice.emergency)) if notice.emergency else ""
    if not notice.agents_available:
        hours = notice.opening_hours or "non communiqués"
        return prefix + PHONE_CLOSED.format(service=notice.service_name, hours=hours)
    said = PHONE_TRANSFER if transfer else PHONE_NO_TRANSFER
    return prefix + said.format(service=notice.service_name)


TRANSFER_FAILED = (
    "Je n'arrive pas à vous transférer. Vous pouvez joindre le service au {number}. "
    "Merci de votre appel."
)

Send = Callable[[str], Awaitable[None]]


class TwilioCall:
    """Protocol adapter for one call (a :class:`~channels.voice.session.VoiceOutput`)."""

    def __init__(
        self,
        send: Send,
        *,
        stack: SpeechStack,
        engine: ConversationEngine,
        conversations: ConversationStore,
        catalogue: ServiceCatalogue,
        call_control: CallControl | None,
        default_tenant: str,
    ) -> None:
        self._raw_send = send
        self._send_lock = anyio.Lock()
        self.stack = stack
        self.engine = engine
        self.conversations = conversations
        self.catalogue = catalogue
        self.call_control = call_control
        self.default_tenant = default_tenant
        self.stream_sid = ""
        self.call_sid = ""
        self.session: VoiceSession | None = None
        #: What a screen would show (the phone has none): kept for tests and the benchmark.
        self.shown: list[dict[str, Any]] = []
        self.transfers: list[str] = []

    async def handle(self, frame: str) -> bool:
        """Process one frame; False once the stream stopped."""
        message = ms.parse(frame)
        if isinstance(message, ms.Start):
            await self._start(message)
        elif self.session is None:
            return not isinstance(message, ms.Stop)
        elif isinstance(message, ms.Media):
            if message.track in ("inbound", ""):
                pcm = resample(ulaw_to_pcm16(message.payload), ms.TELEPHONY_RATE, STT_RATE)
                await self.session.feed(pcm)
        elif isinstance(message, ms.Dtmf):
            if message.digit == "0":
                await self.session.request_agent()
        elif isinstance(message, ms.Mark):
            self.session.on_mark(message.name)
        elif isinstance(message, ms.Stop):
            await self.session.close()
            return False
        return True

    async def _start(self, start: ms.Start) -> None:
        self.stream_sid, self.call_sid = start.stream_sid, start.call_sid
        tenant = start.custom_parameters.get("tenant") or self.default_tenant
        view = await anyio.to_thread.run_sync(lambda: self.conversations.create(tenant, "phone"))
        log.info("call started conversation_id=%s call_sid=%s", view.id, self.call_sid)
        self.session = VoiceSession(
            self.stack,
            self.engine,
            conversation_id=view.id,
            tenant_id=tenant,
            channel="phone",
            output=self,
            wording=partial(phone_notice, transfer=self.call_control is not None),
            opening=AI_NOTICE + PHONE_KEYPAD if self.call_control is not None else AI_NOTICE,
        )
        await self.session.start()

    async def _send(self, frame: str) -> None:
        async with self._send_lock:  # the session's task and the receive loop both send
            try:
                await self._raw_send(frame)
            except RuntimeError:  # the call is over: nobody to play to
                log.debug("media stream closed call_sid=%s", self.call_sid)

    # --- VoiceOutput -----------------------------------------------------------------------

    async def play(self, audio: np.ndarray, sample_rate: int, mark: str) -> None:
        for frame in ms.audio_frames(self.stream_sid, audio, sample_rate):
            await self._send(frame)
        await self._send(ms.mark(self.stream_sid, mark))

    async def clear(self) -> None:
        await self._send(ms.clear(self.stream_sid))

    async def event(self, data: dict[str, Any]) -> None:
        self.shown.append(data)

    async def hand_off(self, handoff: dict[str, Any], *, failure: bool) -> None:
        assert self.session is not None
        service = handoff.get("service") or TRIAGE_SERVICE
        entry = await anyio.to_thread.run_sync(
            lambda: self.catalogue.get(self.session.tenant_id, service)  # type: ignore[union-attr]
        )
        if entry is None and service != TRIAGE_SERVICE:
            entry = self.catalogue.get(self.session.tenant_id, TRIAGE_SERVICE)
        number = e164(entry.phone) if entry is not None else None
        if number and self.call_control is not None:
            try:
                await anyio.to_thread.run_sync(
                    lambda: self.call_control.transfer(self.call_sid, number)  # type: ignore[union-attr]
                )
                self.transfers.append(number)
                log.info("call transferred call_sid=%s service=%s", self.call_sid, service)
                return
            except Exception:  # noqa: BLE001 - the caller gets the number instead
                log.exception("transfer failed call_sid=%s", self.call_sid)
        spoken = entry.phone if entry is not None else "de la mairie"
        await self.session.say(TRANSFER_FAILED.format(number=spoken))


class CallRegistry:
    """Opens each phone call with what it needs, and knows the calls in progress.

    Built once by the app's lifespan (when the speech stack is there) with the services every
    call shares; the media-stream route opens one call per Twilio socket through
    :meth:`open`.
    """

    def __init__(
        self,
        *,
        stack: SpeechStack,
        engine: ConversationEngine,
        conversations: ConversationStore,
        catalogue: ServiceCatalogue,
        call_control: CallControl | None,
        default_tenant: str,
    ) -> None:
        self.stack = stack
        self._engine = engine
        self._conversations = conversations
        self._catalogue = catalogue
        self.call_control = call_control
        self._default_tenant = default_tenant
        #: The calls whose media stream is open.
        self.live: list[TwilioCall] = []

    @asynccontextmanager
    async def open(self, send: Send) -> AsyncIterator[TwilioCall]:
        """One call while its media stream lasts; its voice session is closed at the end."""
        call = TwilioCall(
            send,
            stack=self.stack,
            engine=self._engine,
            conversations=self._conversations,
            catalogue=self._catalogue,
            call_control=self.call_control,
            default_tenant=self._default_tenant,
        )
        self.live.append(call)
        try:
            yield call
        finally:
            self.live.remove(call)
            if call.session is not None:
                await call.session.close()
