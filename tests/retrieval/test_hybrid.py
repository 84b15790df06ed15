"""Hybrid search on a small real index (real fiches, real vectors): the right fiche, or abstain."""

from __future__ import annotations

import numpy as np
import pytest

from foundation.errors import EmbeddingError
from retrieval.embeddings import Embedder
from retrieval.fusion import CHUNKS_PER_DOCUMENT, Hit, fuse
from retrieval.hybrid import HybridRetriever, diversify
from retrieval.qdrant_schema import payload_chunk
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import RetrievalSection
from retrieval.sparse import FrenchSparseEncoder
from retrieval.types import Chunk, ScoredChunk

SETTINGS = RetrievalSection()


@pytest.fixture(scope="module")
def store(index_store: QdrantStore) -> QdrantStore:
    return index_store


@pytest.fixture(scope="module")
def retriever(store: QdrantStore, embedder: Embedder) -> HybridRetriever:
    return HybridRetriever(store, embedder, FrenchSparseEncoder(), SETTINGS)


@pytest.mark.parametrize(
    ("question", "fiche"),
    [
        ("J'ai perdu ma carte d'identité, que faire ?", "F1344"),
        ("On m'a volé ma carte d'identité", "F1759"),
        ("Comment se pacser ?", "F1618"),
        ("Mon voisin fait trop de bruit la nuit, que faire ?", "F612"),
        ("Comment me débarrasser de mes encombrants ?", "F31954"),
        ("J'ai trouvé un chien errant dans ma rue", "F32338"),
    ],
)
def test_the_right_fiche_comes_first(
    store: QdrantStore, embedder: Embedder, question: str, fiche: str
) -> None:
    # The fiches' own ranking: the town's page first is tested in test_lexicon.py.
    fiches_first = RetrievalSection(town_first=False)
    retriever = HybridRetriever(store, embedder, FrenchSparseEncoder(), fiches_first)
    assert retriever.search(question, "demo").chunks[0].chunk.document_id == fiche


@pytest.mark.parametrize(
    "question",
    [
        "J'ai perdu ma carte d'identité, que faire ?",
        "on m'a vole ma carte d'identite",
        "Comment se pacser ?",
        "Mon voisin fait trop de bruit la nuit, que faire ?",
    ],
)
def test_in_scope_questions_clear_the_abstention_threshold(
    retriever: HybridRetriever, question: str
) -> None:
    assert retriever.search(question, "demo").relevance >= SETTINGS.min_relevance


@pytest.mark.parametrize(
    "question",
    [
        "Quelle est la recette de la blanquette de veau ?",
        "Qui a gagné la coupe du monde 2018 ?",
        "Quelle est la capitale de l'Australie ?",
        "Raconte-moi une blague.",
    ],
)
def test_out_of_scope_questions_fall_below_the_abstention_threshold(
    retriever: HybridRetriever, question: str
) -> None:
    assert retriever.search(question, "demo").relevance < SETTINGS.min_relevance


def test_results_are_top_k_and_not_all_from_one_fiche(retriever: HybridRetriever) -> None:
    result = retriever.search("carte d'identité perdue ou volée", "demo", top_k=4)
    documents = [s.chunk.document_id for s in result.chunks]
    assert len(documents) == 4
    assert len(set(documents)) >= 2
    assert 0.0 <= result.relevance <= 1.0


def test_a_commune_sees_its_pages_and_not_another_communes(retriever: HybridRetriever) -> None:
    question = "Quels sont les horaires de la piscine municipale ?"
    own = retriever.search(question, "autreville", top_k=10)
    assert own.chunks[0].chunk.document_id == "av-piscine"
    other = retriever.search(question, "demo", top_k=10)
    assert all(s.chunk.tenant_id in ("demo", "national") for s in other.chunks)


class _BrokenEmbedder:
    model_id = "broken"
    dimension = 512

    def warm_up(self) -> None:
        pass

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        raise EmbeddingError("model crashed")

    def embed_query(self, text: str) -> np.ndarray:
        raise EmbeddingError("model crashed")


def test_search_falls_back_to_bm25_when_the_embedder_fails(store: QdrantStore) -> None:
    fiches_first = RetrievalSection(town_first=False)
    retriever = HybridRetriever(store, _BrokenEmbedder(), FrenchSparseEncoder(), fiches_first)
    result = retriever.search("perte de la carte d'identité", "demo")
    assert result.chunks[0].chunk.document_id == "F1344"
    assert result.dense_cosine is None


def scored(document: str, ordinal: int) -> ScoredChunk:
    chunk = Chunk(
        id=f"{document}-{ordinal}",
        tenant_id="national",
        document_id=document,
        ordinal=ordinal,
        title=document,
        url="",
        heading_path=(),
        text="",
        source="",
        version="v",
    )
    return ScoredChunk(chunk=chunk, score=1.0 / (ordinal + 1))


def test_diversify_keeps_the_best_first_and_caps_one_document() -> None:
    candidates = [scored("A", 0), scored("A", 1), scored("A", 2), scored("B", 0), scored("A", 3)]
    picked = [(s.chunk.document_id, s.chunk.ordinal) for s in diversify(candidates, 4)]
    assert picked == [("A", 0), ("A", 1), ("B", 0), ("A", 2)]


def test_diversify_uses_one_document_when_it_is_all_there_is() -> None:
    candidates = [scored("A", i) for i in range(5)]
    assert len(diversify(candidates, 4)) == 4


def hit(document: str, ordinal: int, score: float = 1.0) -> Hit:
    payload = {
        "tenant_id": "national",
        "document_id": document,
        "ordinal": ordinal,
        "title": document,
        "url": "",
        "heading_path": [],
        "text": "",
        "source": "",
        "version": "v",
    }
    return Hit(f"{document}-{ordinal}", payload, score)


def test_fusion_ranks_first_the_document_both_methods_found() -> None:
    rankings = {
        "dense": [hit("A", 0, 0.9), hit("C", 0, 0.8)],  # first chunks only
        "bm25": [hit("B", 3, 12.0), hit("A", 5, 11.0)],
    }
    fused = fuse(rankings, {"dense": 1.0, "bm25": 1.0}, 10, payload_chunk)
    order = [(s.chunk.document_id, s.chunk.ordinal) for s in fused]
    assert order == [("A", 0), ("A", 5), ("B", 3), ("C", 0)]
    assert fused[0].ranks == {"dense": 1, "document": 1}
    assert fused[1].sparse_score == 11.0 and fused[1].dense_score is None
    assert fused[0].score == fused[1].score > fused[2].score


def test_fusion_caps_the_chunks_of_one_document() -> None:
    rankings = {"bm25": [hit("A", i) for i in range(8)] + [hit("B", 0)]}
    fused = fuse(rankings, {}, 10, payload_chunk)
    assert [s.chunk.document_id for s in fused] == ["A"] * CHUNKS_PER_DOCUMENT + ["B"]


def page(text: str) -> ScoredChunk:
    chunk = Chunk(
        id="vf-elections-0",
        tenant_id="demo",
        document_id="vf-elections",
        ordinal=0,
        title="Élections à Val-Fleuri",
        url="",
        heading_path=("Le jour du vote",),
        text=text,
        source="local",
        version="v",
    )
    return ScoredChunk(chunk=chunk, score=1.0)


HOURS = "La ville compte 14 bureaux de vote, ouverts de 8 h à 19 h les jours de scrutin."


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # « ferment à quelle heure » is answered by the hours, in words the question lacks.
        ("les bureaux de vote ferment à quelle heure ?", HOURS, 1.0),
        (
            "la déchèterie ferme à quelle heure le samedi ?",
            "La déchèterie est ouverte le samedi de 9 h à 18 h.",
            1.0,
        ),
        ("combien de temps pour un permis de construire ?", "Permis de construire : 2 mois.", 1.0),
        ("ça coûte combien, la cantine ?", "Le repas à la cantine coûte 3,20 €.", 1.0),
        # No value stated: the asking words stay missing.
        ("les bureaux de vote ferment à quelle heure ?", "Votre bureau de vote est indiqué.", 0.5),
        # A question that asks for no value gains nothing from one: « vote » from the heading.
        ("où sont les bureaux de vote ?", "Ouverts de 8 h à 19 h.", 0.5),
    ],
)
def test_the_words_asking_for_a_value_are_answered_by_one(
    retriever: HybridRetriever, question: str, text: str, expected: float
) -> None:
    from retrieval.question_intent import read_question

    intent = read_question(question).intent
    assert retriever.coverage(question, [page(text)], None, intent) == pytest.approx(expected)
