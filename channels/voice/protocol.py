"""The browser voice socket's frames, checked apart from the transport.

Every frame the page may send is read here into plain values, or refused with a
:class:`FrameRefused` that carries the WebSocket close code (RFC 6455) and the French reason
the page shows. The socket (channels/voice/routes.py) closes with them and never lets a bad
frame raise: a resident's page gets a reason, not a dropped connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from channels.speech.audio import STT_RATE

#: Close codes (RFC 6455, section 7.4.1).
UNSUPPORTED_DATA = 1003
INVALID_PAYLOAD = 1007
POLICY_VIOLATION = 1008
UNAVAILABLE = 1011
TRY_AGAIN_LATER = 1013

#: Sample rates a microphone may announce (telephone band to studio).
MIN_RATE, MAX_RATE = 8_000, 48_000
#: A close reason fits in 123 bytes of UTF-8 (the frame's limit).
MAX_REASON_BYTES = 123


class FrameRefused(Exception):
    """A frame the socket does not take: close with ``code`` and the French ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = close_reason(reason)


def close_reason(text: str) -> str:
    """``text`` cut to what a close frame carries (whole characters only)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_REASON_BYTES:
        return text
    return encoded[:MAX_REASON_BYTES].decode("utf-8", "ignore")


START_EXPECTED = "Le premier message doit être la demande de démarrage (JSON)."
UNREADABLE = "Message illisible : un objet JSON est attendu."
BAD_RATE = "Fréquence d'échantillonnage invalide (8000 à 48000 Hz)."
BAD_AUDIO = "Audio invalide : PCM 16 bits, un nombre pair d'octets."
BAD_FIELD = "Demande de démarrage invalide."
ORIGIN_REFUSED = "Cette page n'est pas autorisée à utiliser la conversation vocale."


@dataclass(frozen=True)
class StartRequest:
    """What the page asks for in its first frame."""

    tenant_id: str | None
    sample_rate: int
    conversation_id: str | None
    resident_token: str | None


def parse_start(message: Mapping[str, Any]) -> StartRequest:
    """The first frame (an ASGI ``websocket.receive`` message), or :class:`FrameRefused`."""
    if message.get("text") is None:
        raise FrameRefused(UNSUPPORTED_DATA, START_EXPECTED)
    data = parse_object(message["text"])
    if data.get("type") != "start":
        raise FrameRefused(POLICY_VIOLATION, START_EXPECTED)
    rate = data.get("sample_rate", STT_RATE)
    if rate is None:
        rate = STT_RATE
    if isinstance(rate, bool) or not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
        raise FrameRefused(INVALID_PAYLOAD, BAD_RATE)
    fields = {name: data.get(name) for name in ("tenant_id", "conversation_id", "resident_token")}
    for value in fields.values():
        if value is not None and (not isinstance(value, str) or len(value) > 256):
            raise FrameRefused(INVALID_PAYLOAD, BAD_FIELD)
    return StartRequest(sample_rate=rate, **{k: v or None for k, v in fields.items()})


def parse_object(text: str) -> dict[str, Any]:
    """A JSON text frame that must hold an object."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FrameRefused(INVALID_PAYLOAD, UNREADABLE) from exc
    if not isinstance(data, dict):
        raise FrameRefused(INVALID_PAYLOAD, UNREADABLE)
    return data


def pcm_samples(data: bytes) -> np.ndarray:
    """A binary frame as 16-bit little-endian samples, or :class:`FrameRefused`."""
    if len(data) % 2:
        raise FrameRefused(INVALID_PAYLOAD, BAD_AUDIO)
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """Whether a page of ``origin`` may open the socket.

    Browsers always send ``Origin`` on a WebSocket: a page of the app itself (same host), or
    of a town website listed in the allowed origins (``*``: any). A client that sends none is
    not a browser page, which is what the check protects.
    """
    if origin is None or "*" in allowed:
        return True
    if origin.rstrip("/") in {o.rstrip("/") for o in allowed}:
        return True
    return bool(host) and urlsplit(origin).netloc == host
