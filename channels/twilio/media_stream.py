"""Twilio Media Streams, the bidirectional WebSocket protocol, without any transport.

Twilio sends JSON text frames: ``connected``, ``start`` (stream and call ids, custom
parameters, media format: ``audio/x-mulaw`` at 8 kHz mono), ``media`` (base64 μ-law, 20 ms per
frame), ``dtmf`` (a key pressed), ``mark`` (audio we sent has been played up to a mark we
named) and ``stop``. We send ``media`` (base64 μ-law to play), ``mark`` (tell us when played)
and ``clear`` (drop the audio not yet played: barge-in).

:func:`parse` turns one frame into a message value; :func:`media`, :func:`mark`, :func:`clear`
build the frames we send. Nothing here touches a socket.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from channels.speech.audio import TELEPHONY_RATE, pcm16_to_ulaw, resample

#: Bytes of μ-law per media frame we send (100 ms at 8 kHz).
OUT_FRAME_BYTES = 800


class ProtocolError(ValueError):
    """A frame that is not Twilio Media Streams."""


@dataclass(frozen=True)
class Connected:
    """First frame on the socket."""

    protocol: str


@dataclass(frozen=True)
class Start:
    """The stream's metadata."""

    stream_sid: str
    call_sid: str
    account_sid: str
    custom_parameters: dict[str, str] = field(default_factory=dict)
    encoding: str = "audio/x-mulaw"
    sample_rate: int = TELEPHONY_RATE
    channels: int = 1


@dataclass(frozen=True)
class Media:
    """Caller audio: μ-law bytes."""

    payload: bytes
    timestamp_ms: int
    track: str = "inbound"


@dataclass(frozen=True)
class Dtmf:
    """A key the caller pressed."""

    digit: str


@dataclass(frozen=True)
class Mark:
    """Our audio was played up to the mark ``name``."""

    name: str


@dataclass(frozen=True)
class Stop:
    """The stream ended (hang-up or new TwiML)."""


Message = Connected | Start | Media | Dtmf | Mark | Stop


def parse(frame: str | bytes) -> Message:
    """One Media Streams frame as a message value.

    Raises:
        ProtocolError: Not JSON, or an unknown or malformed event.
    """
    try:
        data: dict[str, Any] = json.loads(frame)
        event = data["event"]
        if event == "connected":
            return Connected(protocol=str(data.get("protocol", "")))
        if event == "start":
            start = data["start"]
            fmt = start.get("mediaFormat") or {}
            return Start(
                stream_sid=data.get("streamSid") or start["streamSid"],
                call_sid=start["callSid"],
                account_sid=start.get("accountSid", ""),
                custom_parameters={
                    str(k): str(v) for k, v in (start.get("customParameters") or {}).items()
                },
                encoding=fmt.get("encoding", "audio/x-mulaw"),
                sample_rate=int(fmt.get("sampleRate", TELEPHONY_RATE)),
                channels=int(fmt.get("channels", 1)),
            )
        if event == "media":
            media_ = data["media"]
            return Media(
                payload=base64.b64decode(media_["payload"]),
                timestamp_ms=int(media_.get("timestamp", 0)),
                track=media_.get("track", "inbound"),
            )
        if event == "dtmf":
            return Dtmf(digit=str(data["dtmf"]["digit"]))
        if event == "mark":
            return Mark(name=str(data["mark"]["name"]))
        if event == "stop":
            return Stop()
    except (ValueError, KeyError, TypeError) as exc:
        raise ProtocolError(f"malformed Media Streams frame: {exc}") from exc
    raise ProtocolError(f"unknown Media Streams event: {event!r}")


def media(stream_sid: str, ulaw: bytes) -> str:
    """A frame that plays μ-law audio."""
    payload = base64.b64encode(ulaw).decode()
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def mark(stream_sid: str, name: str) -> str:
    """A frame asking Twilio to tell us when the audio before it has been played."""
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear(stream_sid: str) -> str:
    """A frame that drops the audio not yet played."""
    return json.dumps({"event": "clear", "streamSid": stream_sid})


def audio_frames(stream_sid: str, samples: np.ndarray, sample_rate: int) -> list[str]:
    """Synthesised speech as the ``media`` frames that play it (8 kHz μ-law)."""
    ulaw = pcm16_to_ulaw(resample(samples, sample_rate, TELEPHONY_RATE))
    return [
        media(stream_sid, ulaw[i : i + OUT_FRAME_BYTES])
        for i in range(0, len(ulaw), OUT_FRAME_BYTES)
    ]
