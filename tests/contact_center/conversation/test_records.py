"""Explanation records: one per assistant turn, personal data redacted, for signed-in agents."""

from __future__ import annotations

from fastapi.testclient import TestClient

from contact_center.testing.chat_harness import ChatHarness, sign_in


def test_each_turn_leaves_an_explanation_record(client: TestClient) -> None:
    sign_in(client, role="supervisor")
    chat = ChatHarness(client)
    chat.send("J'ai perdu ma carte d'identité, que faire ?")
    chat.send("Quelle est la recette de la blanquette de veau ?")

    first, second = chat.records()
    assert first["retrieved"] and first["retrieved"][0]["chunk_id"]
    assert {"document_id", "score", "version"} <= set(first["retrieved"][0])
    assert first["prompt_version"] and first["model_id"] == "fake"
    assert first["kb_version"].endswith(tuple("0123456789abcdef"))
    assert first["embedding_model_id"]
    assert first["abstained"] is False and first["outcome"] == "answered"
    assert first["cited"] == [1]
    assert {"retrieval", "extractive", "first_text", "total"} <= set(first["latency_ms"])
    assert first["answer_path"] == "extractive" and first["path_reason"] is None
    assert second["abstained"] is True and second["reason"] == "low_relevance"
    assert second["channel"] == "web"


def test_personal_data_is_redacted_in_records_but_kept_in_the_conversation(
    client: TestClient,
) -> None:
    sign_in(client)
    chat = ChatHarness(client)
    question = (
        "Je m'appelle Paul, mon courriel est paul.martin@example.org et mon numéro "
        "06 12 34 56 78 : comment refaire ma carte d'identité perdue ?"
    )
    chat.send(question)
    (record,) = chat.records()
    assert "paul.martin@example.org" not in record["question"]
    assert "06 12 34 56 78" not in record["question"]
    assert "[COURRIEL]" in record["question"] and "[TÉLÉPHONE]" in record["question"]
    assert chat.reload()["messages"][0]["content"] == question


def test_records_of_an_unknown_conversation_are_404(client: TestClient) -> None:
    sign_in(client)
    assert client.get("/api/v1/conversations/unknown/records").status_code == 404


def test_records_need_a_signed_in_agent(client: TestClient) -> None:
    chat = ChatHarness(client)
    chat.send("J'ai perdu ma carte d'identité, que faire ?")
    response = client.get(f"/api/v1/conversations/{chat.id}/records")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    sign_in(client, role="agent", services=("voirie",))
    assert client.get(f"/api/v1/conversations/{chat.id}/records").status_code == 403
