"""The browser voice socket against bad frames, foreign pages and borrowed conversations.

The real app through FastAPI's TestClient, with the deterministic speech fakes (what is tested
is the socket's protocol, not the models): every refusal is a close code with a French reason,
and a refused start opens no conversation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.websockets import WebSocketDisconnect

from channels.speech.stack import SpeechStack
from channels.speech.vad import EnergyDetector
from channels.testing.fakes import FakeSynthesizer, FakeTranscriber
from contact_center.app import create_app
from contact_center.conversation.schema import Conversation
from contact_center.services import Services
from contact_center.testing.chat_harness import ChatHarness
from routing.testing.fakes import FakeRequestClassifier
from tests.conftest import make_settings

START = {"type": "start", "tenant_id": "demo", "sample_rate": 16000}
TOWN = "https://www.val-fleuri.example"


def fake_stack() -> SpeechStack:
    return SpeechStack(
        recognizer=FakeTranscriber(script=[]),
        synthesizer=FakeSynthesizer(ms_per_char=1),
        detector_factory=EnergyDetector,
    )


def voice_app(tmp_path: Path, **overrides: Any) -> Any:
    """The app with the fake speech stack; nothing is answered (fake embedder, classifier)."""
    settings = make_settings(tmp_path, embeddings={"backend": "fake"}, **overrides)
    app = create_app(services=Services(settings, classifier=FakeRequestClassifier()))
    app.state.speech = fake_stack()
    return app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = voice_app(
        tmp_path,
        app={"cors_origins": [TOWN]},
        chat={"rate_limit_burst": 20, "rate_limit_per_minute": 1},
    )
    with TestClient(app) as test_client:
        yield test_client


def conversations(client: TestClient) -> int:
    with client.app.state.services.database.session() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(Conversation)) or 0)


def closing(socket: Any) -> WebSocketDisconnect:
    """Read until the server closes; what it closed with (no conversation may start)."""
    with pytest.raises(WebSocketDisconnect) as closed:
        for _ in range(10_000):
            assert json.loads(socket.receive_text()).get("type") != "ready"
    return closed.value


def ready(socket: Any, start: dict[str, Any] | None = None) -> dict[str, Any]:
    socket.send_text(json.dumps(start or START))
    message = json.loads(socket.receive_text())
    assert message["type"] == "ready", message
    return dict(message)


@pytest.mark.parametrize(
    ("frame", "code", "words"),
    [
        ("pas du JSON", 1007, "illisible"),
        ("[1, 2, 3]", 1007, "illisible"),
        (b"\x00\x01\x02\x03", 1003, "premier message"),
        (json.dumps({"type": "start", "sample_rate": "abc"}), 1007, "échantillonnage"),
        (json.dumps({"type": "start", "sample_rate": 10**9}), 1007, "échantillonnage"),
        (json.dumps({"type": "start", "tenant_id": ["demo"]}), 1007, "démarrage invalide"),
        (json.dumps({"type": "bonjour"}), 1008, "premier message"),
        ("[" * 50_000 + "]" * 50_000, 1007, "illisible"),
    ],
)
def test_a_bad_first_frame_is_closed_with_a_reason_and_opens_nothing(
    client: TestClient, frame: str | bytes, code: int, words: str
) -> None:
    before = conversations(client)
    with client.websocket_connect("/api/v1/voice") as socket:
        if isinstance(frame, bytes):
            socket.send_bytes(frame)
        else:
            socket.send_text(frame)
        closed = closing(socket)
    assert closed.code == code
    assert words in closed.reason
    assert conversations(client) == before


@pytest.mark.parametrize(
    ("frame", "words"),
    [(b"\x00\x01\x02", "nombre pair d'octets"), ('{"type": ', "illisible"), ("42", "illisible")],
)
def test_a_bad_frame_during_the_conversation_is_closed_with_a_reason(
    client: TestClient, frame: str | bytes, words: str
) -> None:
    with client.websocket_connect("/api/v1/voice") as socket:
        ready(socket)
        if isinstance(frame, bytes):
            socket.send_bytes(frame)
        else:
            socket.send_text(frame)
        closed = closing(socket)
    assert closed.code == 1007 and words in closed.reason


def test_a_page_of_another_origin_is_refused(client: TestClient) -> None:
    with client.websocket_connect(
        "/api/v1/voice", headers={"Origin": "https://malveillant.example"}
    ) as socket:
        socket.send_text(json.dumps(START))
        closed = closing(socket)
    assert closed.code == 1008 and "pas autorisée" in closed.reason
    for allowed in (TOWN, "http://testserver"):  # a town's website, the app's own /voix page
        with client.websocket_connect("/api/v1/voice", headers={"Origin": allowed}) as socket:
            assert ready(socket)["conversation_id"]


def test_the_voice_socket_goes_on_only_with_the_residents_token(client: TestClient) -> None:
    chat = ChatHarness(client)
    token = chat.conversation["resident_token"]
    with client.websocket_connect("/api/v1/voice") as socket:
        borrowed = ready(socket, {**START, "conversation_id": chat.id})
    assert borrowed["conversation_id"] != chat.id and borrowed["resident_token"]
    with client.websocket_connect("/api/v1/voice") as socket:
        wrong = ready(socket, {**START, "conversation_id": chat.id, "resident_token": "x" * 43})
    assert wrong["conversation_id"] != chat.id
    with client.websocket_connect("/api/v1/voice") as socket:
        own = ready(socket, {**START, "conversation_id": chat.id, "resident_token": token})
    assert own["conversation_id"] == chat.id and "resident_token" not in own


def test_voice_connections_are_rate_limited_like_chat(tmp_path: Path) -> None:
    app = voice_app(tmp_path, chat={"rate_limit_burst": 2, "rate_limit_per_minute": 1})
    with TestClient(app) as client:
        for _ in range(2):
            with client.websocket_connect("/api/v1/voice") as socket:
                ready(socket)
        with client.websocket_connect("/api/v1/voice") as socket:
            socket.send_text(json.dumps(START))
            closed = closing(socket)
    assert closed.code == 1013 and "patienter" in closed.reason
