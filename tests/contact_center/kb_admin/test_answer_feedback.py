"""Residents' thumbs up and down on answers, and the administrators' review queue, through the
real app (SQLite and PostgreSQL, fake LLM): the feedback is kept with the answer's explanation
record, needs the resident's own credential, and shows grouped by document and reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from contact_center.app import create_app
from contact_center.conversation.schema import AnswerFeedback
from contact_center.services import Services
from contact_center.settings import Settings
from contact_center.testing.chat_harness import ChatHarness, sign_in
from retrieval.embeddings import Embedder
from retrieval.qdrant_edge import copy_index
from routing.classifier import RequestClassifier
from tests.conftest import make_settings

KB = "/api/v1/tenants/demo/kb"


@pytest.fixture
def client(
    tmp_path: Path,
    indexed_qdrant: Path,
    database_url: str,
    embedder: Embedder,
    request_classifier: RequestClassifier,
) -> Iterator[TestClient]:
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    settings: Settings = make_settings(tmp_path, database={"url": database_url})
    app = create_app(services=Services(settings, embedder=embedder, classifier=request_classifier))
    with TestClient(app) as client:
        yield client


def feedback_url(chat: ChatHarness, message_id: str) -> str:
    return f"/api/v1/conversations/{chat.id}/messages/{message_id}/feedback"


def test_a_thumbs_down_is_kept_with_the_answer_and_reaches_the_review_queue(
    client: TestClient,
) -> None:
    chat = ChatHarness(client)
    turn = chat.send("J'ai perdu ma carte d'identité, que faire ?")
    message_id = turn.done["message_id"]
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    record = services.conversations.records(chat.id)[-1]
    cited = {s["id"] for s in turn.done["sources"]}

    down = {
        "rating": "down",
        "reason": "obsolete_sources",
        "comment": "Le tarif a changé, rappelez-moi au 06 12 34 56 78",
    }
    kept = client.post(feedback_url(chat, message_id), json=down, headers=chat.auth)
    assert kept.status_code == 201, kept.text
    assert "06 12 34 56 78" not in kept.json()["comment"]  # personal data redacted
    with services.database.session() as session:
        row = session.scalars(select(AnswerFeedback)).one()
        assert row.record_id == record["id"] and row.reason == "obsolete_sources"

    admin = TestClient(client.app)
    sign_in(admin, role="admin")
    (group,) = admin.get(f"{KB}/feedback").json()
    assert group["reason_label"] == "Sources obsolètes" and group["count"] == 1
    assert group["document_id"] in cited
    assert group["examples"][0]["question"] == "J'ai perdu ma carte d'identité, que faire ?"
    assert group["examples"][0]["comment"].startswith("Le tarif a changé")

    # The resident changes their mind: the answer leaves the queue.
    up = client.post(feedback_url(chat, message_id), json={"rating": "up"}, headers=chat.auth)
    assert up.status_code == 201 and up.json()["reason"] is None
    assert admin.get(f"{KB}/feedback").json() == []


def test_feedback_needs_the_residents_own_credential_and_a_valid_opinion(
    client: TestClient,
) -> None:
    chat = ChatHarness(client)
    message_id = chat.send("Quels sont les horaires de la mairie ?").done["message_id"]
    url = feedback_url(chat, message_id)
    missing = client.post(url, json={"rating": "down"})
    assert missing.status_code == 401
    assert "protégée" in missing.json()["message"]
    other = ChatHarness(client)
    other.send("Bonjour")
    refused = client.post(url, json={"rating": "down"}, headers=other.auth)
    assert refused.status_code == 403

    wrong_reason = client.post(url, json={"rating": "down", "reason": "nul"}, headers=chat.auth)
    assert wrong_reason.status_code == 422 and "motif" in wrong_reason.json()["message"]
    too_long = client.post(url, json={"rating": "down", "comment": "x" * 1001}, headers=chat.auth)
    assert too_long.status_code == 422 and "trop long" in too_long.json()["message"]
    unknown = client.post(feedback_url(chat, "inconnu"), json={"rating": "up"}, headers=chat.auth)
    assert unknown.status_code == 404 and "introuvable" in unknown.json()["message"]
    # Nothing was kept from the refused attempts.
    admin = TestClient(client.app)
    sign_in(admin, role="admin")
    assert admin.get(f"{KB}/feedback").json() == []
    assert TestClient(client.app).get(f"{KB}/feedback").status_code == 401
