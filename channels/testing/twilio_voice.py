"""Local stand-ins for Twilio, for the tests and the latency benchmark (no network).

* :class:`TwilioVoiceStandIn`: Twilio's REST API, whose Calls resource a transfer uses
  (``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` with ``Twiml``); it is
  :class:`contact_center.testing.twilio_standin.TwilioStandIn`, which also serves the Messages
  resource. Accepted updates are kept in its ``updates``.
* :class:`MediaStreamsClient`: plays Twilio's part of a Media Streams call against our
  WebSocket: ``connected``, ``start``, caller audio as 20 ms μ-law ``media`` frames, ``dtmf``,
  ``stop``; it acknowledges our ``mark`` frames as Twilio does once audio is played, and keeps
  what it received (audio decoded back to PCM, ``clear`` frames) with arrival times.
* :func:`signature`: the ``X-Twilio-Signature`` Twilio would send for a URL and its form.
* :func:`dialled`: the transfers a stand-in accepted, read back from their TwiML.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from channels.speech.audio import TELEPHONY_RATE, pcm16_to_ulaw, resample, ulaw_to_pcm16
from contact_center.testing.twilio_standin import TwilioStandIn

#: The REST API stand-in, under the name the voice channel's tests use.
TwilioVoiceStandIn = TwilioStandIn

__all__ = [
    "MediaStreamsClient",
    "Received",
    "TwilioStandIn",
    "TwilioVoiceStandIn",
    "dialled",
    "signature",
]


def signature(auth_token: str, url: str, params: dict[str, str] | None = None) -> str:
    """The ``X-Twilio-Signature`` of a request to ``url`` with form ``params``."""
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(auth_token).compute_signature(url, params or {}))


def dialled(stand_in: TwilioStandIn) -> list[tuple[str, str, str]]:
    """``(call_sid, number, announcement)`` of each call update the stand-in accepted.

    The number is the ``<Dial><Number>`` of the update's TwiML, the announcement the text of
    its ``<Say>`` ("" without one).
    """
    found = []
    for update in stand_in.updates:
        response = ET.fromstring(update["twiml"])
        number = response.findtext("Dial/Number") or ""
        found.append((str(update["call_sid"]), number.strip(), response.findtext("Say") or ""))
    return found


@dataclass
class Received:
    """One frame from our server, with its arrival time (``time.perf_counter``)."""

    at: float
    data: dict[str, Any]


@dataclass
class MediaStreamsClient:
    """Twilio's side of a Media Streams call, over any text WebSocket.

    Args:
        send: Sends one text frame.
        receive: Receives one text frame, or None after ``timeout`` seconds.
        tenant: The commune passed as the stream's custom parameter.
    """

    send: Callable[[str], None]
    receive: Callable[[float], str | None]
    tenant: str = "demo"
    call_sid: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    stream_sid: str = field(default_factory=lambda: "MZ" + uuid.uuid4().hex)
    account_sid: str = "AC" + "0" * 32
    #: Acknowledge marks at once (playback is instantaneous here).
    ack_marks: bool = True
    received: list[Received] = field(default_factory=list)
    _sent_ms: int = 0
    _seq: int = 0

    def _frame(self, event: str, **body: Any) -> None:
        self._seq += 1
        self.send(
            json.dumps(
                {
                    "event": event,
                    "sequenceNumber": str(self._seq),
                    "streamSid": self.stream_sid,
                    **body,
                }
            )
        )

    def start(self) -> None:
        """``connected`` then ``start`` (μ-law, 8 kHz, mono)."""
        self.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        self._frame(
            "start",
            start={
                "streamSid": self.stream_sid,
                "accountSid": self.account_sid,
                "callSid": self.call_sid,
                "tracks": ["inbound"],
                "customParameters": {"tenant": self.tenant},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
        )

    def speak(self, samples: np.ndarray, sample_rate: int, *, realtime: bool = False) -> None:
        """Send caller audio as 20 ms μ-law frames (paced in real time if asked)."""
        ulaw = pcm16_to_ulaw(resample(samples, sample_rate, TELEPHONY_RATE))
        started = time.perf_counter()
        for n, i in enumerate(range(0, len(ulaw), 160)):
            payload = base64.b64encode(ulaw[i : i + 160]).decode()
            self._frame(
                "media",
                media={
                    "track": "inbound",
                    "chunk": str(n + 1),
                    "timestamp": str(self._sent_ms),
                    "payload": payload,
                },
            )
            self._sent_ms += 20
            if realtime:
                delay = started + (n + 1) * 0.02 - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            self.poll()

    def silence(self, seconds: float, *, realtime: bool = False) -> None:
        """Send line noise-free silence."""
        self.speak(
            np.zeros(int(seconds * TELEPHONY_RATE), np.int16), TELEPHONY_RATE, realtime=realtime
        )

    def dtmf(self, digit: str) -> None:
        self._frame("dtmf", dtmf={"track": "inbound_track", "digit": digit})

    def stop(self) -> None:
        self._frame("stop", stop={"accountSid": self.account_sid, "callSid": self.call_sid})

    def poll(self, timeout: float = 0.0) -> Received | None:
        """Read one frame if there is one within ``timeout``."""
        raw = self.receive(timeout)
        if raw is None:
            return None
        item = Received(time.perf_counter(), json.loads(raw))
        self.received.append(item)
        if item.data.get("event") == "mark" and self.ack_marks:
            self._frame("mark", mark=item.data["mark"])
        return item

    def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 60.0) -> Received:
        """Read frames until one matches; raises ``TimeoutError``."""
        for item in self.received[self._checked :]:
            self._checked += 1
            if predicate(item):
                return item
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            polled = self.poll(timeout=min(0.5, max(0.0, deadline - time.perf_counter())))
            if polled is not None:
                self._checked = len(self.received)
                if predicate(polled):
                    return polled
        raise TimeoutError("no such frame from the server")

    _checked: int = 0

    def audio(self, since: int = 0) -> np.ndarray:
        """Our server's audio received from frame ``since`` on, decoded to 8 kHz PCM16."""
        chunks = [
            base64.b64decode(r.data["media"]["payload"])
            for r in self.received[since:]
            if r.data.get("event") == "media"
        ]
        return ulaw_to_pcm16(b"".join(chunks)) if chunks else np.zeros(0, np.int16)

    def events(self, name: str) -> list[Received]:
        return [r for r in self.received if r.data.get("event") == name]
