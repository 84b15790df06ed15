"""Follow-ups through the real app: searched with their conversation, and the record says so."""

from __future__ import annotations

from fastapi.testclient import TestClient

from contact_center.testing.chat_harness import ChatHarness, sign_in

FIRST = "Il faut combien de temps pour avoir un passeport ?"
FOLLOW_UP = "et ça coûte combien pour un bébé ?"
NEW_TOPIC = "Quels sont les horaires de la mairie ?"


def test_a_follow_up_gets_the_babys_passport_price_and_its_record_shows_the_search(
    client: TestClient,
) -> None:
    sign_in(client, role="supervisor")
    chat = ChatHarness(client)
    cited_first = [source["id"] for source in chat.send(FIRST).done["sources"]]
    done = chat.send(FOLLOW_UP).done

    assert "17 €" in done["answer"], done["answer"]
    assert done["sources"][0]["id"] == "F34752"
    first, second = chat.records()
    assert first["searched_query"] == FIRST and first["followup"] is False
    assert second["question"] == FOLLOW_UP
    assert second["followup"] is True
    assert second["searched_query"] == f"{FIRST} {FOLLOW_UP}"
    assert cited_first and second["context_documents"] == cited_first


def test_a_new_topic_after_a_passport_question_is_searched_alone(client: TestClient) -> None:
    sign_in(client, role="supervisor")
    chat = ChatHarness(client)
    chat.send(FIRST)
    done = chat.send(NEW_TOPIC).done

    assert done["sources"][0]["id"] == "vf-mairie-horaires"
    assert "passeport" not in done["answer"].lower()
    _, second = chat.records()
    assert second["followup"] is False
    assert second["searched_query"] == NEW_TOPIC and second["context_documents"] == []
