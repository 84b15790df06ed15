"""Characters no database can store are refused with the project's French error, not a 500.

Each request below was found by the API fuzz (test_api_fuzz.py) or next to what it found: on
PostgreSQL a NUL character ended in a 500, and a lone surrogate did on both databases (or cut
a resident's chat stream off after its 200).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.testing.chat_harness import sign_in
from routing.testing.fakes import FakeRequestClassifier
from tests.conftest import make_settings

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Any]:
    settings = make_settings(
        tmp_path,
        database={"url": database_url},
        embeddings={"backend": "fake"},
        notifications={"backend": "fake", "dispatch_interval_s": 0},
    )
    application = create_app(services=Services(settings, classifier=FakeRequestClassifier()))
    with TestClient(application):
        yield application


@pytest.fixture
def resident(app: Any) -> tuple[TestClient, str]:
    client = TestClient(app, raise_server_exceptions=False)
    conversation = client.post("/api/v1/conversations", json={"tenant_id": "demo"}).json()
    client.headers["Authorization"] = f"Bearer {conversation['resident_token']}"
    return client, conversation["id"]


def test_nul_characters_and_lone_surrogates_get_the_french_400(
    app: Any, resident: tuple[TestClient, str]
) -> None:
    admin = TestClient(app, raise_server_exceptions=False)
    sign_in(admin, role="admin")
    anonymous = TestClient(app, raise_server_exceptions=False)
    chat, conversation_id = resident
    messages = f"/api/v1/conversations/{conversation_id}/messages"
    kb, cases = "/api/v1/tenants/demo/kb", "/api/v1/tenants/demo/cases"
    requests = [
        (admin, "POST", f"{kb}/unanswered/draft", '{"title": ">\\u0000"}'),
        (admin, "GET", "/api/v1/console/history?words=%3E%00", None),
        (admin, "POST", cases, '{"service": "etat_civil", "summary": "a\\u0000"}'),
        (admin, "GET", f"{cases}/a%00b", None),
        (admin, "GET", f"{cases}?service=a%00b", None),
        (admin, "POST", f"{kb}/answers", '{"question": "Q\\u0000", "answer": "R"}'),
        (admin, "POST", f"{kb}/preview", '{"body": "\\ud800"}'),
        (anonymous, "POST", "/api/v1/auth/login", '{"email": "a\\u0000@b.fr", "password": "x"}'),
        (chat, "POST", messages, '{"content": "\\ud800"}'),
    ]
    wrong = []
    for client, method, path, body in requests:
        response = client.request(method, path, content=body, headers=JSON if body else {})
        if response.status_code != 400 or response.json()["code"] != "invalid_characters":
            wrong.append(f"{method} {path} {body}: {response.status_code} {response.text[:80]}")
    assert wrong == []
    refused = anonymous.get("/api/v1/tenants/demo/suivi/AB%00CD").json()
    assert refused["message"].startswith("La demande contient un caractère non autorisé")


def test_escaped_accents_and_emoji_still_reach_the_conversation(
    resident: tuple[TestClient, str],
) -> None:
    chat, conversation_id = resident
    response = chat.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        content='{"content": "Caf\\u00e9 ferm\\u00e9 \\ud83d\\ude00 ?"}',
        headers=JSON,
    )
    assert response.status_code == 200
    assert "event: done" in response.text
