"""How the app is put together: routes receive narrow services, built once by the lifespan."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, get_type_hints

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from channels.twilio.webhook import UNAVAILABLE
from channels.voice.routes import UNAVAILABLE as VOICE_UNAVAILABLE
from contact_center.app import create_app
from contact_center.services import Services
from contact_center.settings import Settings
from retrieval.embeddings import Embedder
from routing.classifier import RequestClassifier
from tests.conftest import make_settings


def _routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute | APIWebSocketRoute]:
    """Every API route, also inside included routers (FastAPI may keep those unflattened)."""
    for route in routes:
        if isinstance(route, APIRoute | APIWebSocketRoute):
            yield route
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from _routes(included.routes)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def test_no_route_receives_the_whole_services_container(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    checked, offenders = 0, []
    for route in _routes(app.routes):
        for call in (route.endpoint, *_calls(route.dependant)):
            checked += 1
            if Services in get_type_hints(call).values():
                offenders.append(f"{route.path}: {call.__qualname__}")
    assert checked > 50  # every route and dependency was looked at
    assert offenders == []


def test_without_a_speech_stack_phone_and_voice_say_so_in_french(
    settings: Settings, embedder: Embedder, request_classifier: RequestClassifier
) -> None:
    settings = make_settings(
        settings.app.data_dir.parent,
        qdrant={"path": settings.qdrant_path},
        twilio_voice={"validate_signature": False},
    )
    assert not settings.speech.enabled
    app = create_app(services=Services(settings, embedder=embedder, classifier=request_classifier))
    with TestClient(app) as client:
        call = client.post("/twilio/voice", data={"CallSid": "CA1", "To": "+33199000000"})
        assert call.status_code == 200
        assert UNAVAILABLE in call.text
        assert "<Stream" not in call.text
        with client.websocket_connect("/api/v1/voice") as socket:
            socket.send_text(json.dumps({"type": "start", "tenant_id": "demo"}))
            assert json.loads(socket.receive_text()) == VOICE_UNAVAILABLE


def test_the_api_description_is_not_served_in_production(tmp_path: Path) -> None:
    """/docs and /openapi.json map every route: off in production unless asked for."""
    hidden = TestClient(create_app(make_settings(tmp_path, app={"api_docs": False})))
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert hidden.get(path).status_code == 404, path
    shown = TestClient(create_app(make_settings(tmp_path)))
    assert shown.get("/openapi.json").status_code == 200
    production = make_settings(tmp_path).app.model_copy(update={"environment": "production"})
    assert production.api_docs_served is False
    asked = production.model_copy(update={"api_docs": True})
    assert asked.api_docs_served is True
