"""The console's history and agents' figures through the real app, on SQLite and PostgreSQL.

The history is scripted: conversations written through the stores (their dates then set where
the test needs them), handoffs opened by the store and worked by agents through the API, with
the handoff store's clock and the history's clock injected.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.conversation.schema import Conversation
from contact_center.conversation.store import RecordDraft
from contact_center.services import Services
from contact_center.testing.chat_harness import sign_in
from retrieval.embeddings import Embedder
from routing.handoff import HandoffDecision
from tests.contact_center.handoffs.console_support import console_services

CONSOLE = "/api/v1/console"
#: Monday 16 November 2026, noon in Paris.
NOON = datetime(2026, 11, 16, 11, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def app(
    tmp_path: Path, indexed_qdrant: Path, database_url: str, embedder: Embedder
) -> Iterator[FastAPI]:
    services = console_services(tmp_path, indexed_qdrant, database_url, embedder)
    services.history.clock = lambda: datetime.now(UTC) + timedelta(days=1)  # all is quiet
    application = create_app(services=services)
    with TestClient(application):
        yield application


def services_of(app: FastAPI) -> Services:
    return app.state.services


def agent(app: FastAPI, role: str = "agent", *services: str, tenant: str = "demo") -> TestClient:
    client = TestClient(app)
    sign_in(client, role=role, services=services, tenant_id=tenant)
    return client


def scripted(
    app: FastAPI,
    words: str,
    *,
    when: datetime = NOON,
    service: str = "etat_civil",
    tenant: str = "demo",
    action: str | None = None,
) -> str:
    """A conversation answered by the assistant, routed to ``service``, started at ``when``."""
    services = services_of(app)
    conversation = services.conversations.create(tenant)
    services.conversations.add_message(conversation.id, "user", words)
    answer = services.conversations.add_message(conversation.id, "assistant", "Voici la réponse.")
    services.conversations.add_record(
        RecordDraft(
            tenant_id=tenant, conversation_id=conversation.id, channel="web", question=words,
            answer="Voici la réponse.", outcome="answered", kb_version="v1",
            prompt_version="p1", model_id="fake", embedding_model_id="fake",
            message_id=answer.id, action=action,
            routing={"service": service, "confidence": 0.9, "needs_triage": False},
        )
    )  # fmt: skip
    with services.database.session() as session:
        row = session.get(Conversation, conversation.id)
        assert row is not None
        row.created_at = when
    return conversation.id


def hand_off(app: FastAPI, conversation_id: str, service: str = "etat_civil") -> str:
    view = services_of(app).handoffs.open(
        tenant_id="demo", conversation_id=conversation_id, service=service,
        decision=HandoffDecision(reason="resident_request"), summary="L'usager demande un agent",
    )  # fmt: skip
    return view.id


def ids(response_json: dict[str, Any]) -> list[str]:
    return [item["id"] for item in response_json["items"]]


def test_history_filters_by_date_service_outcome_and_words(app: FastAPI) -> None:
    birth = scripted(app, "Je voudrais un acte de naissance pour mon fils")
    roads = scripted(app, "Un nid-de-poule rue des Lilas", service="voirie")
    earlier = scripted(app, "Acte de naissance de ma mère", when=NOON - timedelta(days=30))
    filed = scripted(app, "Trottoir abîmé devant l'école", service="voirie", action="case_filed")
    handed = scripted(app, "Je veux parler à quelqu'un pour un mariage")
    clerk = agent(app, "agent", "etat_civil")
    supervisor = agent(app, "supervisor")
    handoff_id = hand_off(app, handed)
    still_open = scripted(app, "Acte de décès")  # held by an agent: not closed yet
    hand_off(app, still_open)
    assert clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim").status_code == 200
    question = {"text": "Quelle date de cérémonie ?"}
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/messages", json=question)
    closed = clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/close", json={"resolution": "abandoned"})
    assert closed.status_code == 200

    everything = supervisor.get(f"{CONSOLE}/history").json()
    assert set(ids(everything)) == {birth, roads, earlier, filed, handed}
    assert everything["total"] == 5

    november_16 = supervisor.get(f"{CONSOLE}/history?date_from=2026-11-16&date_to=2026-11-16")
    assert set(ids(november_16.json())) == {birth, roads, filed, handed}
    assert set(ids(supervisor.get(f"{CONSOLE}/history?service=voirie").json())) == {roads, filed}
    by_outcome = {
        outcome: set(ids(supervisor.get(f"{CONSOLE}/history?outcome={outcome}").json()))
        for outcome in ("assistant", "case_filed", "abandoned", "handed_off")
    }
    assert by_outcome == {
        "assistant": {birth, roads, earlier},
        "case_filed": {filed},
        "abandoned": {handed},
        "handed_off": set(),
    }
    unknown = supervisor.get(f"{CONSOLE}/history?outcome=lost")
    assert unknown.status_code == 422
    words = supervisor.get(f"{CONSOLE}/history", params={"words": "NAISSANCE acte"}).json()
    assert set(ids(words)) == {birth, earlier}
    agents_words = supervisor.get(f"{CONSOLE}/history", params={"words": "cérémonie"}).json()
    assert ids(agents_words) == [handed]
    assert supervisor.get(f"{CONSOLE}/history", params={"words": "réponse"}).json()["total"] == 0

    line = agents_words["items"][0]
    assert (line["outcome_label"], line["resolution_label"]) == (
        "Abandonnée par l'usager", "Abandonnée par l'usager"
    )  # fmt: skip
    assert line["agent_name"] == "Agent de test (agent)"


def test_history_is_paginated_newest_first(app: FastAPI) -> None:
    made = [
        scripted(app, f"Question numéro {n}", when=NOON + timedelta(minutes=n)) for n in range(5)
    ]
    supervisor = agent(app, "supervisor")

    first = supervisor.get(f"{CONSOLE}/history?per_page=2").json()
    second = supervisor.get(f"{CONSOLE}/history?per_page=2&page=2").json()
    last = supervisor.get(f"{CONSOLE}/history?per_page=2&page=3").json()

    assert (first["total"], first["pages"]) == (5, 3)
    assert ids(first) + ids(second) + ids(last) == made[::-1]
    refused = supervisor.get(f"{CONSOLE}/history?per_page=500")
    assert refused.status_code == 422
    assert refused.json()["message"] == "La demande est incomplète ou mal formée."
    backwards = supervisor.get(f"{CONSOLE}/history?date_from=2026-11-20&date_to=2026-11-01")
    assert backwards.status_code == 422
    assert backwards.json()["message"] == "La date de début doit précéder la date de fin."


def test_history_keeps_to_the_commune_and_the_agents_services(app: FastAPI) -> None:
    ours = scripted(app, "Acte de naissance")
    roads = scripted(app, "Lampadaire en panne", service="voirie")
    theirs = scripted(app, "Acte de naissance à Autreville", tenant="autreville")
    clerk = agent(app, "agent", "etat_civil")
    elsewhere = agent(app, "supervisor", tenant="autreville")

    assert ids(clerk.get(f"{CONSOLE}/history").json()) == [ours]
    assert ids(elsewhere.get(f"{CONSOLE}/history").json()) == [theirs]

    opened = clerk.get(f"{CONSOLE}/history/{ours}")
    assert opened.status_code == 200
    body = opened.json()
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    (record,) = body["records"]
    assert record["routing"]["service"] == "etat_civil"
    assert record["question"] == "Acte de naissance"
    assert body["conversation"]["service_names"] == ["Service État civil"]

    assert clerk.get(f"{CONSOLE}/history/{roads}").status_code == 403
    hidden = elsewhere.get(f"{CONSOLE}/history/{ours}")
    assert hidden.status_code == 404 and hidden.json()["message"] == "Conversation introuvable."
    assert TestClient(app).get(f"{CONSOLE}/history").status_code == 401


def test_supervisors_see_each_agents_figures_over_a_period(app: FastAPI) -> None:
    clock = Clock(NOON)
    services_of(app).handoffs.clock = clock
    alice = agent(app, "agent", "etat_civil")
    bruno = agent(app, "agent", "etat_civil")
    supervisor = agent(app, "supervisor")

    def exchange(clerk: TestClient, reply_after_s: float, close: bool, score: int | None) -> None:
        conversation_id = scripted(app, "Acte de naissance")
        handoff_id = hand_off(app, conversation_id)
        clock.advance(60)
        clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim")
        clock.advance(reply_after_s)
        clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/messages", json={"text": "Bonjour"})
        if close:
            clock.advance(120)
            clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/close", json={"resolution": "resolved"})
        if score is not None:
            services_of(app).handoffs.rate(conversation_id, score)

    exchange(alice, 90, close=True, score=5)
    exchange(alice, 30, close=True, score=3)
    exchange(alice, 45, close=True, score=None)
    exchange(bruno, 10, close=False, score=None)
    clock.now = NOON + timedelta(days=40)  # next month: outside the period asked for
    exchange(bruno, 600, close=True, score=1)

    response = supervisor.get(f"{CONSOLE}/agent-figures?date_from=2026-11-01&date_to=2026-11-30")
    figures = {row["agent_id"]: row for row in response.json()["agents"]}
    alice_id = alice.get("/api/v1/auth/me").json()["agent"]["id"]
    bruno_id = bruno.get("/api/v1/auth/me").json()["agent"]["id"]
    assert figures[alice_id] | {"agent_id": ""} == {
        "agent_id": "", "agent_name": "Agent de test (agent)", "taken": 3, "closed": 3,
        "median_first_reply_s": 45.0, "csat_average": 4.0, "csat_count": 2,
    }  # fmt: skip
    assert (figures[bruno_id]["taken"], figures[bruno_id]["closed"]) == (1, 0)
    assert figures[bruno_id]["median_first_reply_s"] == 10.0
    assert figures[bruno_id]["csat_average"] is None

    whole = supervisor.get(f"{CONSOLE}/agent-figures").json()["agents"]
    assert {row["agent_id"]: row["closed"] for row in whole}[bruno_id] == 1
    assert alice.get(f"{CONSOLE}/agent-figures").status_code == 403
    elsewhere = agent(app, "supervisor", tenant="autreville")
    assert elsewhere.get(f"{CONSOLE}/agent-figures").json()["agents"] == []


def test_a_conversation_joins_the_history_once_it_is_over(app: FastAPI) -> None:
    services_of(app).history.clock = lambda: datetime.now(UTC)  # the real time, this once
    ongoing = scripted(app, "Horaires de la mairie ?")  # written just now: it may go on
    with_agent = scripted(app, "Acte de naissance")
    handoff_id = hand_off(app, with_agent)
    clerk = agent(app, "agent", "etat_civil", "affaires_generales")
    supervisor = agent(app, "supervisor")
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim")
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/messages", json={"text": "Voici le lien."})
    assert supervisor.get(f"{CONSOLE}/history").json()["items"] == []

    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/close", json={"resolution": "resolved"})

    assert ids(supervisor.get(f"{CONSOLE}/history").json()) == [with_agent]
    assert ongoing not in ids(supervisor.get(f"{CONSOLE}/history?outcome=assistant").json())
    (line,) = supervisor.get(f"{CONSOLE}/history?outcome=handed_off").json()["items"]
    assert (line["outcome_label"], line["resolution_label"]) == (
        "Transférée à un agent", "Résolue"
    )  # fmt: skip
