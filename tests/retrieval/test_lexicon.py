"""Residents' words and the town's own pages, on the small real index (real pages, real vectors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.errors import ConfigurationError
from retrieval.embeddings import Embedder
from retrieval.hybrid import HybridRetriever
from retrieval.lexicon import ResidentLexicon
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import RetrievalSection
from retrieval.sparse import FrenchSparseEncoder
from retrieval.types import NATIONAL_TENANT, Chunk, ScoredChunk

FRIDGE = "j'ai un frigo cassé à jeter, vous venez le chercher ?"


@pytest.fixture(scope="module")
def store(index_store: QdrantStore) -> QdrantStore:
    return index_store


def retriever(store: QdrantStore, embedder: Embedder, **settings: object) -> HybridRetriever:
    return HybridRetriever(store, embedder, FrenchSparseEncoder(), RetrievalSection(**settings))


def test_residents_words_call_for_the_official_words() -> None:
    lexicon = ResidentLexicon.load()
    assert "encombrants" in lexicon.expand(FRIDGE).words
    assert "électroménager" in lexicon.expand("Où jeter ma vieille Machine à Laver ?").words
    assert lexicon.expand("permis de construire une véranda").words == ()


def test_a_rule_is_skipped_when_the_question_names_the_official_word() -> None:
    lexicon = ResidentLexicon.load()
    # « papiers » alone means an identity document; here the resident says which one.
    assert "passeport" in lexicon.expand("j'ai perdu mes papiers").words
    assert "passeport" not in lexicon.expand("quels papiers pour la carte d'identité ?").words


def test_a_town_adds_its_own_rules(tmp_path: Path) -> None:
    town = tmp_path / "mots.txt"
    town.write_text("# Val-Fleuri\nla ressourcerie => réemploi, recyclerie\n", encoding="utf-8")
    lexicon = ResidentLexicon.load(town)
    assert lexicon.expand("où est la ressourcerie ?").words == ("réemploi", "recyclerie")
    assert "encombrants" in lexicon.expand(FRIDGE).words  # the shipped rules stay


def test_a_malformed_rule_names_its_file_and_line(tmp_path: Path) -> None:
    town = tmp_path / "mots.txt"
    town.write_text("frigo => réfrigérateur\nune ligne sans flèche\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"mots.txt, line 2"):
        ResidentLexicon.load(town)


def test_a_fridge_to_throw_away_finds_the_towns_bulky_waste_collection(
    store: QdrantStore, embedder: Embedder
) -> None:
    settings = RetrievalSection()
    found = retriever(store, embedder).search(FRIDGE, "demo")
    assert found.chunks[0].chunk.document_id == "vf-collecte-dechets"
    assert found.relevance >= settings.min_relevance  # answered, not an abstention
    assert "encombrants" in found.added_words
    # Without the residents' words the same question fell under the threshold.
    plain = retriever(store, embedder, lexicon=False).search(FRIDGE, "demo")
    assert plain.relevance < settings.min_relevance


def test_the_towns_page_comes_first_for_a_local_matter(
    store: QdrantStore, embedder: Embedder
) -> None:
    question = "combien coûte le repas à la cantine pour mon fils"
    found = retriever(store, embedder).search(question, "demo")
    assert found.chunks[0].chunk.document_id == "vf-enfance-education"
    assert any(c.chunk.tenant_id == NATIONAL_TENANT for c in found.chunks)  # the fiche follows
    ranked_alone = retriever(store, embedder, town_first=False).search(question, "demo")
    assert ranked_alone.chunks[0].chunk.tenant_id == NATIONAL_TENANT


def test_a_national_question_keeps_its_fiche_first(store: QdrantStore, embedder: Embedder) -> None:
    found = retriever(store, embedder).search("Combien coûte un passeport pour un adulte ?", "demo")
    assert found.chunks[0].chunk.tenant_id == NATIONAL_TENANT


def chunk(tenant: str, document: str, text: str) -> ScoredChunk:
    found = Chunk(
        id=f"{document}-0",
        tenant_id=tenant,
        document_id=document,
        ordinal=0,
        title=document,
        url="",
        heading_path=(),
        text=text,
        source="",
        version="v",
    )
    return ScoredChunk(chunk=found, score=1.0)


PERMIT = "combien de temps la mairie met pour répondre à un permis de construire pour une maison"
FICHE = chunk(
    NATIONAL_TENANT, "F1986", "Permis de construire une maison : la mairie a 2 mois pour répondre."
)
OTHER = chunk(NATIONAL_TENANT, "F2698", "Permis de démolir.")


@pytest.mark.parametrize(
    ("page_text", "order"),
    [
        # The town's page says the delay for a house here: it follows the fiche.
        ("Permis de construire une maison individuelle : 2 mois.", ["F1986", "vf-urba", "F2698"]),
        # A page that shares a word or two with the question stays out.
        ("Rendez-vous avec un instructeur le mardi.", ["F1986", "F2698"]),
    ],
)
def test_the_towns_page_follows_the_fiche_when_it_covers_most_of_the_question(
    store: QdrantStore, embedder: Embedder, page_text: str, order: list[str]
) -> None:
    page = chunk("demo", "vf-urba", page_text)
    ranked = retriever(store, embedder).town_first(PERMIT, [FICHE, OTHER], [page])
    assert [c.chunk.document_id for c in ranked] == order
