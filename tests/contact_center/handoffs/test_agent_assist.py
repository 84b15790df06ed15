"""Agent assist through the real app: the cited reply suggested to the agent, the brief of a
conversation handed off or transferred, and what agents do with suggestions (the figures).

Real app, real hybrid search over the small test index, fake LLM, keyword routing, SQLite
and PostgreSQL where persistence matters; the handoff desk's clock is inside opening hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from contact_center.handoffs.suggestion_log import use_of
from contact_center.testing.chat_harness import ChatHarness
from retrieval.embeddings import Embedder
from tests.contact_center.handoffs.console_support import console_services
from tests.contact_center.handoffs.test_console_api import CONSOLE, agent, running_app, services_of

COST_QUESTION = "Combien coûte un passeport pour un adulte ?"


@pytest.fixture
def app(
    tmp_path: Path, indexed_qdrant: Path, database_url: str, embedder: Embedder
) -> Iterator[FastAPI]:
    yield from running_app(console_services(tmp_path, indexed_qdrant, database_url, embedder))


def asked_then_handed_off(app: FastAPI, *messages: str) -> tuple[ChatHarness, str]:
    """A resident asks the cost question, then ``messages`` (the last one asks for a person)."""
    chat = ChatHarness(TestClient(app))
    chat.send(COST_QUESTION)
    for text in messages:
        chat.send(text)
    handoff = services_of(app).handoffs.active_for(chat.id)
    assert handoff is not None
    return chat, handoff.id


def test_the_agent_gets_a_cited_reply_with_the_fact_and_its_sources(app: FastAPI) -> None:
    _, handoff_id = asked_then_handed_off(app, "Je veux parler à un agent")
    clerk = agent(app, "agent", "affaires_generales")
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim")

    response = clerk.get(f"{CONSOLE}/handoffs/{handoff_id}/suggestion")

    assert response.status_code == 200
    suggestion = response.json()
    # « Je veux parler à un agent » asks nothing: the question before it is answered.
    assert suggestion["question"] == COST_QUESTION
    assert "Le passeport coûte 86 €" in suggestion["text"]
    cited = {int(n) for group in re.findall(r"\[([\d, ]+)\]", suggestion["text"])
             for n in group.split(",")}  # fmt: skip
    numbers = [source["n"] for source in suggestion["sources"]]
    assert cited and cited == set(numbers)
    assert all(s["title"] and s["url"].startswith("http") for s in suggestion["sources"])
    assert "Combien coûte un passeport ?" in [s["title"] for s in suggestion["sources"]]
    assert suggestion["id"] and suggestion["note"] == ""


def test_nothing_is_suggested_when_the_knowledge_base_has_no_answer(app: FastAPI) -> None:
    chat = ChatHarness(TestClient(app))
    chat.send("Je veux parler à un agent")
    handoff = services_of(app).handoffs.active_for(chat.id)
    assert handoff is not None
    clerk = agent(app, "agent", "affaires_generales")

    suggestion = clerk.get(f"{CONSOLE}/handoffs/{handoff.id}/suggestion").json()

    assert (suggestion["text"], suggestion["sources"], suggestion["id"]) == ("", [], None)
    assert "Aucune réponse de la base de connaissances" in suggestion["note"]


def test_only_the_communes_agents_of_the_service_get_the_suggestion(app: FastAPI) -> None:
    _, handoff_id = asked_then_handed_off(app, "Je veux parler à un agent")
    url = f"{CONSOLE}/handoffs/{handoff_id}/suggestion"

    assert agent(app, "supervisor", tenant="autreville").get(url).status_code == 404
    assert agent(app, "agent", "voirie").get(url).status_code == 403
    assert TestClient(app).get(url).status_code == 401


def test_the_receiving_agent_reads_who_asked_what_the_answer_and_why(app: FastAPI) -> None:
    _, handoff_id = asked_then_handed_off(
        app,
        "Je m'appelle Claire Dubois, mon numéro est le 06 12 34 56 78. Je veux parler à un agent",
    )
    clerk = agent(app, "agent", "affaires_generales")
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim")
    clerk.post(
        f"{CONSOLE}/handoffs/{handoff_id}/transfer",
        json={"service": "etat_civil", "note": "Elle a aussi besoin d'un acte de naissance"},
    )
    receiving = agent(app, "agent", "etat_civil")
    handoff = services_of(app).handoffs.get("demo", handoff_id)
    assert handoff is not None

    detail = receiving.get(f"{CONSOLE}/conversations/{handoff.conversation_id}").json()

    brief = detail["brief"]
    assert brief["resident"] == ["Nom : Claire Dubois", "Téléphone : 06 12 34 56 78"]
    assert brief["asked"][0] == COST_QUESTION
    (answer,) = brief["answered"]
    assert "86 €" in answer and "[" not in answer
    assert brief["reason"] == "Demande de l'usager"
    assert brief["transfers"] == [
        "Transférée de « Accueil et affaires générales » à « Service État civil » : "
        "« Elle a aussi besoin d'un acte de naissance »."
    ]
    assert brief["text"].startswith("Usager : Nom : Claire Dubois; Téléphone")


def test_supervisors_count_suggestions_sent_unchanged_edited_or_not_used(app: FastAPI) -> None:
    clerk = agent(app, "agent", "affaires_generales")
    sent: list[str] = []
    for reply in ("same", "edited", "other"):
        _, handoff_id = asked_then_handed_off(app, "Je veux parler à un agent")
        clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim")
        text = clerk.get(f"{CONSOLE}/handoffs/{handoff_id}/suggestion").json()["text"]
        clerk.get(f"{CONSOLE}/handoffs/{handoff_id}/suggestion")  # shown again: the same one
        message = {
            "same": text,
            "edited": "Bonjour Madame,\n" + text.rsplit("\n", 1)[0],
            "other": "Je vérifie votre dossier et je reviens vers vous.",
        }[reply]
        response = clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/messages", json={"text": message})
        assert response.status_code == 201
        sent.append(response.json()["content"])
    _, waiting = asked_then_handed_off(app, "Je veux parler à un agent")
    clerk.post(f"{CONSOLE}/handoffs/{waiting}/claim")
    clerk.get(f"{CONSOLE}/handoffs/{waiting}/suggestion")

    figures = agent(app, "supervisor").get(f"{CONSOLE}/figures").json()["suggestions"]

    assert figures == {"shown": 4, "unchanged": 1, "edited": 1, "not_used": 1, "pending": 1}
    assert agent(app, "supervisor", tenant="autreville").get(f"{CONSOLE}/figures").json()[
        "suggestions"
    ] == {"shown": 0, "unchanged": 0, "edited": 0, "not_used": 0, "pending": 0}


def test_a_greeting_before_the_suggestion_does_not_hide_that_it_was_used(app: FastAPI) -> None:
    _, handoff_id = asked_then_handed_off(app, "Je veux parler à un agent")
    clerk = agent(app, "agent", "affaires_generales")
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/claim")
    text = clerk.get(f"{CONSOLE}/handoffs/{handoff_id}/suggestion").json()["text"]
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/messages", json={"text": "Bonjour !"})
    clerk.post(f"{CONSOLE}/handoffs/{handoff_id}/messages", json={"text": text})

    figures = agent(app, "supervisor").get(f"{CONSOLE}/figures").json()["suggestions"]

    assert (figures["unchanged"], figures["not_used"]) == (1, 0)


@pytest.mark.parametrize(
    ("sent", "use"),
    [
        ("Le passeport coûte 86 € [1].", "unchanged"),
        ("  Le passeport coûte\n86 €  [1]. ", "unchanged"),
        ("Bonjour, le passeport coûte 86 € [1].", "edited"),
        ("Je regarde votre dossier.", "not_used"),
    ],
)
def test_a_message_is_compared_with_the_suggestion_word_by_word(sent: str, use: str) -> None:
    assert use_of(sent, "Le passeport coûte 86 € [1].") == use
