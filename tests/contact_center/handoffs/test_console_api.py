"""The agents' console API through the real app: each action, access control, the bot's
silence while an agent holds the conversation, the resident's rating.

Real app, real hybrid search over the small test index, fake LLM, keyword routing, SQLite and
PostgreSQL where persistence matters; the handoff desk's clock is inside opening hours.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.testing.chat_harness import ChatHarness, parse_sse, sign_in
from retrieval.embeddings import Embedder
from routing.classifier import RequestClassifier
from tests.contact_center.handoffs.console_support import ASK_PERSON, console_services

CONSOLE = "/api/v1/console"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cc.db'}"


def running_app(services: Services) -> Iterator[FastAPI]:
    app = create_app(services=services)
    with TestClient(app):  # runs the lifespan once for every client of the test
        yield app


@pytest.fixture
def app(
    tmp_path: Path, indexed_qdrant: Path, sqlite_url: str, embedder: Embedder
) -> Iterator[FastAPI]:
    yield from running_app(console_services(tmp_path, indexed_qdrant, sqlite_url, embedder))


@pytest.fixture
def app_any_db(
    tmp_path: Path, indexed_qdrant: Path, database_url: str, embedder: Embedder
) -> Iterator[FastAPI]:
    yield from running_app(console_services(tmp_path, indexed_qdrant, database_url, embedder))


def services_of(app: FastAPI) -> Services:
    return app.state.services  # type: ignore[no-any-return]


def agent(app: FastAPI, role: str = "agent", *services: str, tenant: str = "demo") -> TestClient:
    client = TestClient(app)
    sign_in(client, role=role, services=services, tenant_id=tenant)
    return client


def handed_off(app: FastAPI, text: str = ASK_PERSON) -> tuple[ChatHarness, str]:
    """A resident's conversation handed to a person; returns it and the handoff id."""
    chat = ChatHarness(TestClient(app))
    assert chat.send(text).done["action"] == "handoff"
    handoff = services_of(app).handoffs.active_for(chat.id)
    assert handoff is not None
    return chat, handoff.id


def test_an_agent_claims_replies_files_a_case_and_closes_and_the_resident_rates(
    app_any_db: FastAPI,
) -> None:
    app = app_any_db
    chat, handoff_id = handed_off(app)
    clerk = agent(app, "agent", "etat_civil")

    (line,) = clerk.get(f"{CONSOLE}/queue").json()["items"]
    assert (line["service"], line["status"], line["reason_label"]) == (
        "etat_civil", "waiting", "Demande de l'usager"
    )  # fmt: skip
    assert line["waiting_seconds"] >= 0 and "acte de naissance" in line["summary"]

    claimed = clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim")
    assert claimed.status_code == 200 and claimed.json()["claimed_by_me"] is True
    other = agent(app, "supervisor").post(f"{CONSOLE}/handoffs/{handoff_id}/claim")
    assert other.status_code == 409
    assert other.json()["message"] == "Cette conversation a déjà été prise en charge."

    silent = chat.send("Bonjour, vous êtes là ?")
    assert silent.done["action"] == "with_agent" and silent.done["answer"] == ""
    sent = clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/messages", json={"text": "Bonjour !"})
    assert sent.status_code == 201
    assert [m["role"] for m in chat.reload()["messages"]] == ["user", "assistant", "user", "agent"]

    case = clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/case", json={"summary": "Acte à envoyer"})
    assert case.status_code == 201 and case.json()["tracking_code"]
    stored = services_of(app).cases.get("demo", case.json()["case_id"])
    assert stored is not None
    assert (stored.conversation_id, stored.channel, stored.service) == (
        chat.id, "web", "etat_civil"
    )  # fmt: skip
    moved = clerk.post(
        f"{CONSOLE}/handoffs/{handoff_id}/case/status", json={"status": "acknowledged"}
    )
    assert moved.json()["status"] == "acknowledged"

    closed = clerk.post(
        f"{CONSOLE}/handoffs/{handoff_id}/close", json={"resolution": "case_opened"}
    )
    assert closed.json()["status"] == "closed"
    assert closed.json()["resolution_label"] == "Demande enregistrée (dossier ouvert)"
    assert chat.reload()["handoff"] == {"status": "closed", "rating_pending": True}

    answered = chat.send("J'ai perdu ma carte d'identité, que faire ?")
    assert answered.done["action"] is None and answered.done["sources"]  # the assistant is back

    rating = f"/api/v1/conversations/{chat.id}/rating"
    refused = chat.client.post(rating, json={"score": 9}, headers=chat.auth)
    assert refused.status_code == 422
    assert refused.json()["message"] == "Choisissez une note entre 1 et 5."
    assert chat.client.post(rating, json={"score": 5}, headers=chat.auth).status_code == 201
    assert chat.client.post(rating, json={"score": 1}, headers=chat.auth).status_code == 409
    latest = services_of(app).handoffs.latest_for(chat.id)
    assert latest is not None and latest.csat == 5
    assert chat.reload()["handoff"] == {"status": "closed", "rating_pending": False}


def test_the_assistant_says_nothing_once_an_agent_holds_the_conversation(app: FastAPI) -> None:
    chat, handoff_id = handed_off(app)
    agent(app, "supervisor").post(f"{CONSOLE}/handoffs/{handoff_id}/claim")
    records_before = len(services_of(app).conversations.records(chat.id))

    turn = chat.send("J'ai perdu ma carte d'identité, que faire ?")

    assert turn.done["action"] == "with_agent"
    assert not turn.of("token") and not turn.of("sources")
    assert chat.reload()["messages"][-1]["role"] == "user"
    assert len(services_of(app).conversations.records(chat.id)) == records_before


def test_a_rating_is_refused_while_the_exchange_goes_on(app: FastAPI) -> None:
    chat, _ = handed_off(app)
    response = chat.client.post(
        f"/api/v1/conversations/{chat.id}/rating", json={"score": 4}, headers=chat.auth
    )
    assert response.status_code == 409
    assert "à la fin de l'échange" in response.json()["message"]


ANONYMOUS_CALLS = [
    ("GET", "/queue"),
    ("GET", "/services"),
    ("GET", "/canned-responses"),
    ("GET", "/conversations/{conversation}"),
    ("GET", "/figures"),
    ("GET", "/events"),
    ("POST", "/handoffs/{handoff}/claim"),
    ("POST", "/handoffs/{handoff}/messages"),
    ("POST", "/handoffs/{handoff}/transfer"),
    ("POST", "/handoffs/{handoff}/case"),
    ("POST", "/handoffs/{handoff}/close"),
    ("POST", "/handoffs/{handoff}/hand-back"),
    ("POST", "/conversations/{conversation}/routing-corrections"),
]


def test_anonymous_callers_are_refused_everywhere(app: FastAPI) -> None:
    chat, handoff_id = handed_off(app)
    anonymous = TestClient(app)
    for method, path in ANONYMOUS_CALLS:
        url = CONSOLE + path.format(conversation=chat.id, handoff=handoff_id)
        response = anonymous.request(method, url, json={})
        assert response.status_code == 401, (method, path)
        assert "pas connecté" in response.json()["message"]


def test_agents_only_reach_their_services_and_their_commune(app: FastAPI) -> None:
    chat, handoff_id = handed_off(app)  # « acte de naissance »: état civil only
    conversation = f"{CONSOLE}/conversations/{chat.id}"

    roads = agent(app, "agent", "voirie")
    assert roads.get(f"{CONSOLE}/queue").json()["items"] == []
    refused = roads.get(conversation)
    assert refused.status_code == 403
    assert (
        refused.json()["message"] == "Ce dossier relève d'un service dont vous n'êtes pas membre."
    )
    assert roads.post(f"{CONSOLE}/handoffs/{handoff_id}/claim").status_code == 403
    closing = roads.post(f"{CONSOLE}/handoffs/{handoff_id}/close", json={"resolution": "resolved"})
    assert closing.status_code == 403

    elsewhere = agent(app, "supervisor", tenant="autreville")
    assert elsewhere.get(conversation).status_code == 404
    assert elsewhere.post(f"{CONSOLE}/handoffs/{handoff_id}/claim").status_code == 404
    assert elsewhere.get(f"{CONSOLE}/queue").json()["items"] == []

    clerk = agent(app, "agent", "etat_civil")
    assert clerk.get(conversation).status_code == 200
    assert clerk.get(f"{CONSOLE}/figures").status_code == 403  # supervisors only
    token = clerk.headers.pop("X-CSRF-Token")
    assert clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim").status_code == 403  # no CSRF
    clerk.headers["X-CSRF-Token"] = token
    assert clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim").status_code == 200


def test_a_transfer_moves_the_conversation_to_the_other_service(app: FastAPI) -> None:
    _, handoff_id = handed_off(app)
    clerk = agent(app, "agent", "etat_civil")
    roads = agent(app, "agent", "voirie")
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim")

    unknown = clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/transfer", json={"service": "piscine"})
    assert unknown.status_code == 422 and "catalogue" in unknown.json()["message"]
    same = clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/transfer", json={"service": "etat_civil"})
    assert same.status_code == 409
    moved = clerk.post(
        f"{CONSOLE}/handoffs/{handoff_id}/transfer", json={"service": "voirie", "note": "rue"}
    )
    assert moved.status_code == 200
    assert (moved.json()["service"], moved.json()["status"]) == ("voirie", "waiting")

    assert clerk.get(f"{CONSOLE}/queue").json()["items"] == []
    (line,) = roads.get(f"{CONSOLE}/queue").json()["items"]
    assert line["id"] == handoff_id and line["transfers"][0]["note"] == "rue"
    assert clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/hand-back").status_code == 403
    assert roads.post(f"{CONSOLE}/handoffs/{handoff_id}/claim").status_code == 200


def test_handing_back_lets_the_assistant_answer_again(app: FastAPI) -> None:
    chat, handoff_id = handed_off(app)
    clerk = agent(app, "agent", "etat_civil")
    returned = clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/hand-back")
    assert returned.json()["status"] == "returned"
    assert chat.send("J'ai perdu ma carte d'identité, que faire ?").done["sources"]
    assert chat.reload()["handoff"] == {"status": "returned", "rating_pending": False}


def test_closing_needs_a_known_resolution_and_a_case_for_case_opened(app: FastAPI) -> None:
    _, handoff_id = handed_off(app)
    clerk = agent(app, "agent", "etat_civil")
    close = f"{CONSOLE}/handoffs/{handoff_id}/close"
    unknown = clerk.post(close, json={"resolution": "parti"})
    assert unknown.status_code == 422
    assert "Résolue au premier contact" in unknown.json()["message"]
    no_case = clerk.post(close, json={"resolution": "case_opened"})
    assert no_case.status_code == 422 and "Créez d'abord la demande" in no_case.json()["message"]
    done = clerk.post(close, json={"resolution": "resolved_first_contact"})
    assert done.json()["resolution_label"] == "Résolue au premier contact"
    again = clerk.post(close, json={"resolution": "resolved"})
    assert (
        again.status_code == 409 and again.json()["message"] == "Cette conversation est déjà close."
    )


def test_each_bot_turn_shows_its_sources_routing_and_handoff_reason(
    tmp_path: Path,
    indexed_qdrant: Path,
    sqlite_url: str,
    embedder: Embedder,
    request_classifier: RequestClassifier,
) -> None:
    services = console_services(
        tmp_path, indexed_qdrant, sqlite_url, embedder, classifier=request_classifier
    )
    app = create_app(services=services)
    question = "J'ai perdu ma carte d'identité, faut-il un acte de naissance ?"
    with TestClient(app):  # the lifespan runs for the whole exchange
        chat = ChatHarness(TestClient(app))
        chat.send(question)
        chat.send("Je veux parler à un agent")
        detail = agent(app, "supervisor").get(f"{CONSOLE}/conversations/{chat.id}").json()

    first, second = detail["explanations"]
    assert first["sources"] and all(s["score"] is not None for s in first["sources"])
    assert any(s["cited"] and s["title"] for s in first["sources"])
    # The console shows the production classifier's own decision on the resident's words.
    decision = request_classifier.classify(question)
    routing = first["routing"]
    assert routing["service"] == decision.service == "titres_identite"
    assert routing["confidence"] == pytest.approx(decision.confidence, abs=1e-3)
    assert [a["service"] for a in routing["alternatives"]] == [s for s, _ in decision.alternatives]
    assert routing["service_name"] == "Service Titres d'identité"
    assert second["handoff_reason_label"] == "Demande de l'usager"
    assert detail["handoff"]["reason"] == "resident_request"
    assert first["message_id"] == detail["messages"][1]["id"]


def test_canned_responses_come_from_the_communes_file(app: FastAPI, tmp_path: Path) -> None:
    clerk = agent(app, "agent", "etat_civil")
    generic = clerk.get(f"{CONSOLE}/canned-responses").json()
    assert generic and all(r["title"] and r["text"] for r in generic)
    assert any("Bonjour" in r["text"] for r in generic)

    own = tmp_path / "canned.json"
    own.write_text(json.dumps({"responses": [{"id": "a", "title": "Piscine", "text": "Ouverte."}]}))
    services_of(app).settings.console.canned_responses_files["demo"] = own
    assert clerk.get(f"{CONSOLE}/canned-responses").json() == [
        {"id": "a", "title": "Piscine", "text": "Ouverte."}
    ]
    services = clerk.get(f"{CONSOLE}/services").json()
    assert {"code": "voirie", "name": "Service Voirie et espaces publics"} in services


def test_supervisors_see_live_figures(app: FastAPI) -> None:
    _, handoff_id = handed_off(app)
    handed_off(app, "C'est inadmissible, personne ne répond à mes courriers !")
    ChatHarness(TestClient(app)).send("J'ai perdu ma carte d'identité, que faire ?")
    boss = agent(app, "supervisor")
    boss.post(f"{CONSOLE}/handoffs/{handoff_id}/claim")
    boss.post(f"{CONSOLE}/handoffs/{handoff_id}/messages", json={"text": "Bonjour"})
    boss.post(
        f"{CONSOLE}/handoffs/{handoff_id}/close", json={"resolution": "resolved_first_contact"}
    )

    figures = boss.get(f"{CONSOLE}/figures").json()
    assert (figures["waiting"], figures["in_progress"], figures["conversations"]) == (1, 0, 3)
    assert figures["handoff_rate"] == pytest.approx(2 / 3, abs=1e-3)
    reasons = {r["reason"]: r for r in figures["by_reason"]}
    assert reasons["complaint"]["label"] == "Réclamation" and reasons["complaint"]["count"] == 1
    assert figures["first_contact_resolution"] == 1.0
    assert figures["median_first_response_s"] is not None


def test_the_residents_stream_replays_missed_agent_messages_and_ends_when_closed(
    app: FastAPI,
) -> None:
    chat, handoff_id = handed_off(app)
    last_seen = chat.reload()["messages"][-1]["id"]
    clerk = agent(app, "agent", "etat_civil")
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim")
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/messages", json={"text": "Premier message"})
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/messages", json={"text": "Second message"})
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/close", json={"resolution": "resolved"})

    # The exchange is over: the stream says so and ends at once (no live wait).
    events_url = f"/api/v1/conversations/{chat.id}/events?after={last_seen}"
    body = chat.client.get(events_url, headers=chat.auth).text
    events = parse_sse(body)
    assert events[0] == ("status", {"status": "closed", "rating_pending": True})
    assert [data["content"] for name, data in events if name == "agent_message"] == [
        "Premier message",
        "Second message",
    ]
    missing = chat.client.get("/api/v1/conversations/inconnue/events", headers=chat.auth)
    assert missing.status_code == 404
