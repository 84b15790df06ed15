"""Outcome figures through the real app, on SQLite and PostgreSQL, from a scripted history.

Every conversation of the history is written through the conversation store, then its dates,
and its handoffs, are set as the scenario says; the figures' clock is injected, so that which
conversations are 7 days past their closing is known.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.conversation.schema import Conversation, ExplanationRecord, Message
from contact_center.conversation.store import RecordDraft
from contact_center.handoffs.schema import Handoff
from contact_center.services import Services
from contact_center.testing.chat_harness import sign_in
from retrieval.embeddings import Embedder
from tests.contact_center.handoffs.console_support import console_services

OUTCOMES = "/api/v1/console/outcomes"
#: Monday 16 November 2026, noon in Paris.
NOON = datetime(2026, 11, 16, 11, 0, tzinfo=UTC)
#: Thursday 3 December 2026: conversations closed before 26 November are 7 days old.
NOW = NOON + timedelta(days=17)
NOVEMBER = {"date_from": "2026-11-16", "date_to": "2026-11-30"}
MINUTE = timedelta(minutes=1)


@pytest.fixture
def app(
    tmp_path: Path, indexed_qdrant: Path, database_url: str, embedder: Embedder
) -> Iterator[FastAPI]:
    services = console_services(tmp_path, indexed_qdrant, database_url, embedder)
    services.outcomes.clock = lambda: NOW
    application = create_app(services=services)
    with TestClient(application):
        yield application


def services_of(app: FastAPI) -> Services:
    return app.state.services


def signed_in(app: FastAPI, role: str = "supervisor", tenant: str = "demo") -> TestClient:
    client = TestClient(app)
    sign_in(client, role=role, tenant_id=tenant)
    return client


def scripted(
    app: FastAPI,
    words: str,
    when: datetime,
    *,
    service: str = "etat_civil",
    tenant: str = "demo",
    path: str | None = None,
    abstained: bool = False,
) -> str:
    """A question at ``when`` and the assistant's reply a minute later, with its record."""
    services = services_of(app)
    conversation = services.conversations.create(tenant)
    asked = services.conversations.add_message(conversation.id, "user", words)
    reply = "Je n'ai pas trouvé de réponse." if abstained else "Voici la réponse."
    answer = services.conversations.add_message(conversation.id, "assistant", reply)
    services.conversations.add_record(
        RecordDraft(
            tenant_id=tenant, conversation_id=conversation.id, channel="web", question=words,
            answer=reply, outcome="abstained" if abstained else "answered", kb_version="v1",
            prompt_version="p1", model_id="fake", embedding_model_id="fake",
            message_id=answer.id, abstained=abstained,
            reason="low_relevance" if abstained else None, answer_path=path,
            routing={"service": service, "confidence": 0.9, "needs_triage": False},
        )
    )  # fmt: skip
    with services.database.session() as session:
        row = session.get(Conversation, conversation.id)
        assert row is not None
        row.created_at = row.updated_at = when + MINUTE
        for message_id, at in ((asked.id, when), (answer.id, when + MINUTE)):
            message = session.get(Message, message_id)
            assert message is not None
            message.created_at = at
        for record in session.query(ExplanationRecord).filter_by(conversation_id=conversation.id):
            record.created_at = when + MINUTE
    return conversation.id


def writes_again(app: FastAPI, conversation_id: str, role: str, when: datetime) -> None:
    services = services_of(app)
    message = services.conversations.add_message(conversation_id, role, "Encore une question")
    with services.database.session() as session:
        row = session.get(Message, message.id)
        conversation = session.get(Conversation, conversation_id)
        assert row is not None and conversation is not None
        row.created_at = conversation.updated_at = when


def handoff(app: FastAPI, conversation_id: str, **fields: Any) -> None:
    with services_of(app).database.session() as session:
        session.add(
            Handoff(
                tenant_id="demo", conversation_id=conversation_id, summary="Transfert",
                priority="normal", channel="web", details={}, **fields,
            )
        )  # fmt: skip


@pytest.fixture
def history(app: FastAPI) -> dict[str, str]:
    """The scripted history of November (see each line)."""
    day = timedelta(days=1)
    made = {
        # Answered by the assistant, nothing after: resolved, durably, at first contact.
        "answered": scripted(app, "Acte de naissance", NOON, path="extractive"),
        # The assistant did not know: not resolved, a topic left unanswered.
        "abstained": scripted(app, "Où acheter un permis de pêche ?", NOON, abstained=True),
        # Answered, but the resident came back two days later: reopened.
        "reopened": scripted(app, "Lampadaire en panne", NOON + day, service="voirie",
                             path="generated"),
        # Handed to an agent who resolved it; rated 4.
        "agent": scripted(app, "Je veux parler à un agent", NOON + day),
        # A complaint the resident abandoned, the next week; rated 2.
        "abandoned": scripted(app, "Je veux me plaindre du bruit", NOON + 7 * day,
                              service="voirie"),
        # Given back by one agent, resolved by a second one: resolved, not at first contact.
        "transferred": scripted(app, "Mariage civil", NOON + 2 * day),
        # A validated answer on 30 November: closed, not yet 7 days old.
        "recent": scripted(app, "Horaires de la mairie", NOON + 14 * day,
                           service="affaires_generales", path="validated"),
        # Left out: before the period, another commune's, held by an agent.
        "before": scripted(app, "Permis de pêche", NOON - 6 * day, abstained=True),
        "elsewhere": scripted(app, "Acte de naissance", NOON, tenant="autreville",
                              path="generated"),
        "held": scripted(app, "Acte de décès", NOON + 3 * day),
    }  # fmt: skip
    writes_again(app, made["reopened"], "user", NOON + 3 * day)
    start = NOON + day + MINUTE
    handoff(app, made["agent"], service="etat_civil", reason="resident_request",
            status="closed", created_at=start, claimed_at=start, closed_at=start + 20 * MINUTE,
            resolution="resolved", csat=4)  # fmt: skip
    writes_again(app, made["agent"], "agent", start + 10 * MINUTE)
    start = NOON + 7 * day + MINUTE
    handoff(app, made["abandoned"], service="voirie", reason="complaint", status="closed",
            created_at=start, closed_at=start + 5 * MINUTE, resolution="abandoned",
            csat=2)  # fmt: skip
    start = NOON + 2 * day + MINUTE
    handoff(app, made["transferred"], service="etat_civil", reason="low_confidence",
            status="returned", created_at=start, closed_at=start + 9 * MINUTE)  # fmt: skip
    handoff(app, made["transferred"], service="etat_civil", reason="repeated_failure",
            status="closed", created_at=start + 11 * MINUTE, closed_at=start + 25 * MINUTE,
            resolution="resolved")  # fmt: skip
    writes_again(app, made["transferred"], "user", start + 14 * MINUTE)
    writes_again(app, made["transferred"], "agent", start + 19 * MINUTE)
    handoff(app, made["held"], service="etat_civil", reason="resident_request",
            status="claimed", created_at=NOON + 3 * day + MINUTE)  # fmt: skip
    return made


def test_outcome_figures_follow_their_definitions(app: FastAPI, history: dict[str, str]) -> None:
    body = signed_in(app).get(OUTCOMES, params=NOVEMBER | {"bucket": "week"}).json()

    total = body["total"]
    assert (total["closed"], total["matured"]) == (7, 6)
    assert total["rates"] == {
        "automated_resolution": 42.9,  # answered, reopened, recent
        "handoff": 42.9,  # agent, abandoned, transferred
        "reopen": 16.7,  # reopened, of the six 7 days old
        "durable_resolution": 50.0,  # answered, agent, transferred
        "first_contact_resolution": 33.3,  # answered, agent
    }
    assert total["handoff_reasons"] == {
        "resident_request": 1, "complaint": 1, "low_confidence": 1
    }  # fmt: skip
    assert (total["csat_average"], total["csat_count"]) == (3.0, 2)
    assert body["answer_paths"] == {"validated": 1, "extractive": 1, "generated": 1}
    assert [topic["examples"] for topic in body["topics"]] == [["Où acheter un permis de pêche ?"]]

    weeks = {row["start"]: row["closed"] for row in body["buckets"]}
    assert weeks == {"2026-11-16": 5, "2026-11-23": 1, "2026-11-30": 1}
    services = {row["service_name"]: row["closed"] for row in body["services"]}
    assert services == {
        "Service État civil": 4, "Service Voirie et espaces publics": 2,
        "Accueil et affaires générales": 1,
    }  # fmt: skip
    assert body["rate_labels"]["reopen"] == "Réouverture sous 7 jours (%)"


def test_outcome_figures_by_day_and_for_one_service(app: FastAPI, history: dict[str, str]) -> None:
    supervisor = signed_in(app)

    days = supervisor.get(OUTCOMES, params=NOVEMBER).json()["buckets"]
    assert len(days) == 15
    assert {d["start"]: d["closed"] for d in days if d["closed"]} == {
        "2026-11-16": 2, "2026-11-17": 2, "2026-11-18": 1, "2026-11-23": 1, "2026-11-30": 1
    }  # fmt: skip

    roads = supervisor.get(OUTCOMES, params=NOVEMBER | {"service": "voirie"}).json()
    assert (roads["total"]["closed"], roads["total"]["automated"]) == (2, 1)
    assert roads["total"]["rates"]["reopen"] == 50.0
    assert roads["answer_paths"] == {"validated": 0, "extractive": 0, "generated": 1}

    backwards = supervisor.get(
        OUTCOMES, params={"date_from": "2026-11-30", "date_to": "2026-11-01"}
    )
    assert backwards.status_code == 422
    assert backwards.json()["message"] == "La date de début doit précéder la date de fin."
    too_long = supervisor.get(OUTCOMES, params={"date_from": "2024-01-01", "date_to": "2026-11-01"})
    assert too_long.json()["message"] == "La période ne peut pas dépasser 366 jours."
    assert supervisor.get(OUTCOMES, params={"bucket": "month"}).status_code == 422


def test_outcome_figures_keep_to_the_commune_and_to_supervisors(
    app: FastAPI, history: dict[str, str]
) -> None:
    elsewhere = signed_in(app, tenant="autreville").get(OUTCOMES, params=NOVEMBER).json()
    assert elsewhere["total"]["closed"] == 1
    assert elsewhere["answer_paths"]["generated"] == 1
    assert elsewhere["topics"] == []

    assert signed_in(app, role="agent").get(OUTCOMES).status_code == 403
    assert signed_in(app, role="agent").get(f"{OUTCOMES}.csv").status_code == 403
    assert TestClient(app).get(OUTCOMES).status_code == 401


def test_outcome_figures_export_as_csv(app: FastAPI, history: dict[str, str]) -> None:
    response = signed_in(app).get(f"{OUTCOMES}.csv", params=NOVEMBER | {"bucket": "week"})

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "resultats-2026-11-16-2026-11-30.csv" in response.headers["content-disposition"]
    assert response.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][:4] == [
        "Regroupement",
        "Valeur",
        "Conversations closes",
        "Closes depuis 7 jours",
    ]
    assert rows[0][4:9] == [
        "Résolution automatique (%)", "Transfert à un agent (%)", "Réouverture sous 7 jours (%)",
        "Résolution durable (%)", "Résolution au premier contact (%)",
    ]  # fmt: skip
    by_value = {row[1]: row for row in rows[1:]}
    assert by_value["2026-11-16"][:3] == ["Semaine du", "2026-11-16", "5"]
    assert by_value["2026-11-16 au 2026-11-30"][2:11] == [
        "7", "6", "42,9", "42,9", "16,7", "50", "33,3", "3", "2"
    ]  # fmt: skip
    assert by_value["Service Voirie et espaces publics"][2] == "2"
    assert by_value["Réclamation"] == ["Motif de transfert", "Réclamation", "1"]
    assert by_value["Réponse validée"] == ["Réponses par voie", "Réponse validée", "1"]
    assert by_value["Où acheter un permis de pêche ?"][2] == "1"
