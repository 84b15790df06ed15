"""The indexer: idempotent re-imports, targeted updates, dense vectors now or later."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge_base.chunking import chunk_document
from knowledge_base.documents import Document, Section
from knowledge_base.indexing import Indexer, dense_text
from knowledge_base.service_public import iter_fiches, parse_fiche
from retrieval.hybrid import HybridRetriever
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import QdrantSection, RetrievalSection
from retrieval.sparse import FrenchSparseEncoder
from retrieval.testing import FakeEmbedder
from retrieval.types import NATIONAL_TENANT


def document(doc_id: str, title: str, *texts: str, tenant: str = NATIONAL_TENANT) -> Document:
    sections = tuple(
        Section(heading_path=(f"Partie {i}",), text=text) for i, text in enumerate(texts)
    )
    return Document(
        id=doc_id,
        tenant_id=tenant,
        title=title,
        url=f"https://example.org/{doc_id}",
        source="service-public",
        sections=sections,
    )


LONG = "Les pièces à fournir sont listées sur le site. " * 12  # makes chunks of their own
DOCS = [
    document(
        "F1344",
        "Carte d'identité : en cas de perte",
        "Déclarez la perte en mairie. " + LONG,
        "La carte est refaite en quelques semaines. " + LONG,
    ),
    document("F1618", "Se pacser", "La convention de Pacs est enregistrée en mairie. " + LONG),
    document("F612", "Troubles de voisinage : bruits", "Le bruit de voisinage est puni. " + LONG),
    document("demo-piscine", "Piscine municipale", "Ouverte le dimanche. " + LONG, tenant="demo"),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[QdrantStore]:
    opened = QdrantStore(QdrantSection(in_memory=True), tmp_path, 64)
    yield opened
    opened.close()


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder(dimension=64)


@pytest.fixture
def indexer(store: QdrantStore, embedder: FakeEmbedder) -> Indexer:
    return Indexer(store, embedder, FrenchSparseEncoder(), batch_size=3)


def total_chunks(docs: list[Document]) -> int:
    return sum(len(chunk_document(d)) for d in docs)


def test_first_import_writes_every_chunk_and_embeds_first_chunks(
    indexer: Indexer, store: QdrantStore
) -> None:
    report = indexer.index(DOCS, progress=False)
    assert (report.documents_seen, report.documents_indexed, report.documents_unchanged) == (
        4,
        4,
        0,
    )
    assert report.chunks_upserted == total_chunks(DOCS) == store.count() > len(DOCS)
    assert report.dense_embedded == len(DOCS)  # one dense vector per document by default
    assert report.chunks_deleted == 0
    assert store.count(without_dense=True) == 0


def test_dense_scope_all_embeds_every_chunk(store: QdrantStore, embedder: FakeEmbedder) -> None:
    indexer = Indexer(store, embedder, FrenchSparseEncoder(), dense_scope="all")
    report = indexer.index(DOCS, progress=False)
    assert report.dense_embedded == report.chunks_upserted == total_chunks(DOCS)


def test_second_import_of_the_same_documents_embeds_nothing(
    indexer: Indexer, embedder: FakeEmbedder, store: QdrantStore
) -> None:
    indexer.index(DOCS, progress=False)
    embedded_before = embedder.texts_embedded
    report = indexer.index(DOCS, progress=False)
    assert report.documents_unchanged == 4 and report.documents_indexed == 0
    assert report.chunks_upserted == report.dense_embedded == 0
    assert embedder.texts_embedded == embedded_before
    assert store.count() == total_chunks(DOCS)


def test_a_changed_document_is_the_only_one_reembedded(
    indexer: Indexer, embedder: FakeEmbedder, store: QdrantStore
) -> None:
    indexer.index(DOCS, progress=False)
    shorter = document("F1344", "Carte d'identité : en cas de perte", "Nouvelle procédure.")
    embedded_before = embedder.texts_embedded
    report = indexer.index([shorter, *DOCS[1:]], progress=False)
    assert report.documents_indexed == 1 and report.documents_unchanged == 3
    assert report.chunks_deleted == len(chunk_document(DOCS[0])) == 2
    assert report.chunks_upserted == report.dense_embedded == 1
    assert embedder.texts_embedded - embedded_before == 1
    assert store.document_versions()[(NATIONAL_TENANT, "F1344")] == shorter.content_hash
    assert store.count() == total_chunks([shorter, *DOCS[1:]])


def test_dense_later_serves_bm25_at_once_then_fills_vectors(
    indexer: Indexer, store: QdrantStore, embedder: FakeEmbedder
) -> None:
    report = indexer.index(DOCS, progress=False, dense="later")
    assert report.dense_embedded == 0 and embedder.texts_embedded == 0
    assert store.count(without_dense=True) == len(DOCS)

    retriever = HybridRetriever(store, embedder, FrenchSparseEncoder(), RetrievalSection())
    assert retriever.search("bruit des voisins", "demo").chunks[0].chunk.document_id == "F612"

    assert indexer.embed_pending(batch_size=3, progress=False) == len(DOCS)
    assert store.count(without_dense=True) == 0
    assert indexer.embed_pending(progress=False) == 0


def test_embed_pending_stops_when_asked(indexer: Indexer, store: QdrantStore) -> None:
    indexer.index(DOCS, progress=False, dense="later")
    stop = threading.Event()
    stop.set()
    assert indexer.embed_pending(progress=False, stop_event=stop) == 0
    assert store.count(without_dense=True) == len(DOCS)


def test_identical_dense_texts_are_embedded_once(
    indexer: Indexer, embedder: FakeEmbedder, store: QdrantStore
) -> None:
    twins = [replace(DOCS[1], id=f"F{n}", url=f"https://example.org/{n}") for n in (1, 2, 3)]
    report = indexer.index(twins, progress=False)
    assert report.dense_embedded == 3
    first_chunks = {dense_text(chunk_document(d)[0]) for d in twins}
    assert len(first_chunks) == embedder.texts_embedded == 1


def test_without_embedder_every_chunk_waits_for_its_vector(store: QdrantStore) -> None:
    report = Indexer(store, None, FrenchSparseEncoder()).index(DOCS, progress=False)
    assert report.dense_embedded == 0
    assert store.count(without_dense=True) == len(DOCS)


def test_real_fiche_is_indexed_and_found(
    f1344: Document, store: QdrantStore, embedder: FakeEmbedder
) -> None:
    others = [d for d in DOCS if d.id != "F1344"]
    assert others
    Indexer(store, embedder, FrenchSparseEncoder()).index([*others, f1344], progress=False)
    retriever = HybridRetriever(store, embedder, FrenchSparseEncoder(), RetrievalSection())
    result = retriever.search("j'ai perdu ma carte d'identite", "demo")
    assert len({scored.chunk.document_id for scored in result.chunks}) > 1  # a real choice
    assert result.chunks[0].chunk.document_id == "F1344"
    assert result.chunks[0].chunk.attribution.startswith("Source : service-public.fr")


def test_reimport_removes_guided_search_and_finds_online_service(
    fiches_package: Path, store: QdrantStore, embedder: FakeEmbedder
) -> None:
    # An index built before guided-search pages were set aside holds F35147.
    page = fiches_package / "data" / "particuliers" / "F35147.json"
    guided = parse_fiche(json.loads(page.read_text(encoding="utf-8")))
    indexer = Indexer(store, embedder, FrenchSparseEncoder())
    indexer.index([*DOCS, guided], progress=False)
    assert (NATIONAL_TENANT, "F35147") in store.document_versions()

    stream = iter_fiches(fiches_package, only_ids=["F35147", "F1427", "R1406"])
    report = indexer.index(stream, progress=False, withdrawn=stream.withdrawn)

    assert report.documents_removed == 1
    indexed = {document_id for _, document_id in store.document_versions()}
    assert "F35147" not in indexed and {"F1427", "R1406"} <= indexed
    retriever = HybridRetriever(store, embedder, FrenchSparseEncoder(), RetrievalSection())
    result = retriever.search("Faire une demande d'acte de naissance en ligne", "demo")
    found = [scored.chunk.document_id for scored in result.chunks]
    assert "R1406" in found[:3] and "F35147" not in found
    again = indexer.index(iter_fiches(fiches_package, only_ids=["R1406"]), progress=False)
    assert (again.documents_unchanged, again.documents_removed) == (1, 0)
