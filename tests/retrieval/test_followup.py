"""Follow-up questions searched with their conversation: the shape rules, then the real index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.embeddings import Embedder
from retrieval.extractive import MAX_PASSAGES, ExtractiveAnswer, compose_answer
from retrieval.followup import (
    DOCUMENT_BONUS,
    PreviousTurn,
    favour_documents,
    is_followup,
    plan_search,
    topic_words,
)
from retrieval.hybrid import HybridRetriever
from retrieval.qdrant_edge import copy_index
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import QdrantSection, RetrievalSection
from retrieval.sparse import FrenchSparseEncoder
from retrieval.types import NATIONAL_TENANT, Chunk, ScoredChunk

PASSPORT_DELAY = PreviousTurn("Il faut combien de temps pour avoir un passeport ?", ("F34752",))
PASSPORT_COST = PreviousTurn("Combien coûte un passeport ?", ("F34752", "F21091"))


@pytest.mark.parametrize(
    "message",
    [
        "et ça coûte combien pour un bébé ?",
        "et pour un enfant ?",
        "c'est payant ?",
        "et si je viens de déménager ?",
        "il faut quels papiers ?",
        "je peux le faire en ligne ?",
        "Et pour mon fils de 16 ans ?",
        "ça prend combien de temps ?",
    ],
)
def test_a_message_shaped_as_a_follow_up_is_one(message: str) -> None:
    assert is_followup(message)


@pytest.mark.parametrize(
    "message",
    [
        "Quels sont les horaires de la mairie ?",
        "combien coûte une carte d'identité ?",
        "Comment m'inscrire sur les listes électorales ?",
        "merci",
        "oui",
        "d'accord merci beaucoup",
    ],
)
def test_a_question_of_its_own_or_a_thank_you_is_not_a_follow_up(message: str) -> None:
    assert not is_followup(message)


def test_the_follow_up_is_searched_with_the_topic_it_follows() -> None:
    plan = plan_search("et ça coûte combien pour un bébé ?", [PASSPORT_DELAY])
    assert plan.followup
    # Searched after the whole question it follows; answered for its topic and what it asks.
    assert plan.query == f"{PASSPORT_DELAY.question} et ça coûte combien pour un bébé ?"
    assert plan.words == "passeport et ça coûte combien pour un bébé ?"
    assert plan.context_documents == ("F34752",)
    # Its own intent (a cost) and case (a baby), not the delay asked before.
    assert plan.reading.intent == "cost"
    assert plan.reading.cases[0] == "under_15"


def test_a_follow_up_without_an_intent_asks_what_the_previous_question_asked() -> None:
    plan = plan_search("et pour un enfant ?", [PASSPORT_DELAY])
    assert plan.reading.intent == "delay" and plan.reading.cases == ("minor",)


def test_a_chain_of_follow_ups_keeps_the_first_topic() -> None:
    earlier = [PASSPORT_COST, PreviousTurn("et pour un bébé ?", ("F34752",))]
    plan = plan_search("et en urgence ?", earlier)
    assert plan.followup and "passeport" in plan.query
    assert plan.reading.intent == "cost" and "under_15" in plan.reading.cases


def test_a_new_question_is_searched_alone() -> None:
    question = "Quels sont les horaires de la mairie ?"
    plan = plan_search(question, [PASSPORT_DELAY])
    assert not plan.followup
    assert plan.query == plan.words == question and plan.context_documents == ()


def test_a_follow_up_with_a_topic_of_its_own_does_not_favour_the_previous_documents() -> None:
    plan = plan_search("et si je viens de déménager ?", [PASSPORT_DELAY])
    assert plan.followup and plan.words.startswith("passeport ")
    assert plan.context_documents == ()


def test_the_first_message_of_a_conversation_is_searched_alone() -> None:
    plan = plan_search("et pour un enfant ?", [])
    assert not plan.followup and plan.query == "et pour un enfant ?"


def test_topic_words_leave_out_what_every_question_says() -> None:
    assert topic_words("Il faut combien de temps pour avoir un passeport ?") == ["passeport"]
    assert topic_words("et ça coûte combien pour un bébé de 2 ans ?") == []


def _scored(document: str, score: float) -> ScoredChunk:
    chunk = Chunk(document, "national", document, 0, document, "", (), "", "service-public", "v")
    return ScoredChunk(chunk, score)


def test_favoured_documents_rise_only_when_found() -> None:
    candidates = [_scored("F1", 0.05), _scored("F2", 0.05 - DOCUMENT_BONUS / 2)]
    raised = favour_documents(candidates, ["F2", "F999"])
    assert [c.chunk.document_id for c in raised] == ["F2", "F1"]
    assert favour_documents(candidates, []) == candidates


# --- on the small real index -----------------------------------------------------------------


@pytest.fixture(scope="module")
def retriever(
    indexed_qdrant: Path, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HybridRetriever]:
    folder = tmp_path_factory.mktemp("followup") / "qdrant"
    copy_index(indexed_qdrant, folder)
    store = QdrantStore(QdrantSection(path=folder), folder, embedder.dimension)
    yield HybridRetriever(store, embedder, FrenchSparseEncoder(), RetrievalSection())
    store.close()


def _answer(
    retriever: HybridRetriever, message: str, earlier: list[PreviousTurn], tenant: str
) -> tuple[ExtractiveAnswer, list[str]]:
    plan = plan_search(message, earlier)
    found = retriever.search(plan.query, tenant, MAX_PASSAGES, favour=plan.context_documents)
    documents = list(dict.fromkeys(c.chunk.document_id for c in found.chunks))
    return compose_answer(plan.words, found.chunks, plan.reading), documents


def test_a_childs_passport_after_a_passport_question_gets_the_minors_price(
    retriever: HybridRetriever,
) -> None:
    answer, documents = _answer(retriever, "et pour un enfant ?", [PASSPORT_COST], NATIONAL_TENANT)
    assert documents[0] == "F34752"
    assert not answer.abstained
    assert "42 €" in answer.text or "17 €" in answer.text, answer.text


def test_the_issues_baby_follow_up_gets_the_babys_price(retriever: HybridRetriever) -> None:
    message = "et ça coûte combien pour un bébé ?"
    answer, documents = _answer(retriever, message, [PASSPORT_DELAY], NATIONAL_TENANT)
    assert documents[0] == "F34752"
    assert "17 €" in answer.text, answer.text


def test_a_new_topic_is_not_mixed_with_the_previous_one(retriever: HybridRetriever) -> None:
    message = "Quels sont les horaires de la mairie ?"
    answer, documents = _answer(retriever, message, [PASSPORT_DELAY], "demo")
    assert documents[0] == "vf-mairie-horaires"
    assert "passeport" not in answer.text.lower()
