"""Re-indexing embeds only changed chunks; validity dates keep content out of retrieval.

Real Qdrant in local mode on disk, the deterministic FakeEmbedder (it counts what it embeds).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from knowledge_base.chunking import chunk_document
from knowledge_base.documents import Document, Section
from knowledge_base.indexing import Indexer
from retrieval.hybrid import HybridRetriever
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import QdrantSection, RetrievalSection
from retrieval.sparse import FrenchSparseEncoder
from retrieval.testing import FakeEmbedder

FILL = " Les informations pratiques sont affichées à l'accueil de la mairie." * 10


#: The day the validity tests run on, whatever the machine's date.
TODAY = date(2026, 6, 21)


def page(doc_id: str, *texts: str, **dates: str) -> Document:
    return Document(
        id=doc_id,
        tenant_id="demo",
        title=f"Page {doc_id}",
        url=f"https://example.org/{doc_id}",
        source="local",
        sections=tuple(Section((f"Partie {n}",), text + FILL) for n, text in enumerate(texts)),
        extra=dict(dates),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[QdrantStore]:
    opened = QdrantStore(QdrantSection(), tmp_path / "qdrant", 64)
    yield opened
    opened.close()


def found_ids(store: QdrantStore, question: str) -> set[str]:
    retriever = HybridRetriever(store, FakeEmbedder(64), FrenchSparseEncoder(), RetrievalSection())
    return {s.chunk.document_id for s in retriever.search(question, "demo", 10).chunks}


def test_only_the_changed_chunk_is_embedded_again(store: QdrantStore) -> None:
    embedder = FakeEmbedder(dimension=64)
    indexer = Indexer(store, embedder, FrenchSparseEncoder(), dense_scope="all")
    first = page(
        "tarifs",
        "La cantine coûte 3 euros.",
        "La piscine coûte 4 euros.",
        "Le conservatoire coûte 90 euros.",
    )
    assert len(chunk_document(first)) == 3
    indexer.index([first], progress=False)
    before = embedder.texts_embedded

    changed = page(
        "tarifs",
        "La cantine coûte 3 euros.",
        "La piscine coûte 5 euros.",
        "Le conservatoire coûte 90 euros.",
    )
    report = indexer.index([changed], progress=False)

    assert report.documents_indexed == 1 and report.chunks_upserted == 3
    assert report.dense_embedded == 1 and embedder.texts_embedded - before == 1
    chunks = store.document_chunks("demo", "tarifs")
    assert [c.version for c, _ in chunks] == [changed.content_hash] * 3
    assert all(has_dense for _, has_dense in chunks)
    assert "5 euros" in chunks[1][0].text


def test_a_shorter_version_leaves_no_stale_chunk(store: QdrantStore) -> None:
    indexer = Indexer(store, FakeEmbedder(64), FrenchSparseEncoder())
    indexer.index([page("tarifs", "Un.", "Deux.", "Trois.")], progress=False)
    indexer.index([page("tarifs", "Un seul paragraphe.")], progress=False)
    assert [c.ordinal for c, _ in store.document_chunks("demo", "tarifs")] == [0]


@pytest.mark.parametrize("in_query", [False, True], ids=["in-memory-exclusion", "payload-filter"])
def test_expired_and_future_content_is_never_retrieved(store: QdrantStore, in_query: bool) -> None:
    store.filter_dates_in_query = in_query
    store.today = lambda: TODAY
    past, future = (TODAY - timedelta(days=1)).isoformat(), (TODAY + timedelta(days=1)).isoformat()
    docs = [
        page("brocante-2020", "La brocante annuelle a lieu place du marché.", valid_until=past),
        page("brocante-future", "La brocante annuelle aura lieu au parc.", valid_from=future),
        page(
            "brocante",
            "La brocante annuelle a lieu rue des Lilas.",
            valid_from=past,
            valid_until=future,
        ),
    ]
    Indexer(store, FakeEmbedder(64), FrenchSparseEncoder()).index(docs, progress=False)
    assert found_ids(store, "brocante annuelle") == {"brocante"}
    store.today = lambda: TODAY + timedelta(days=2)  # two days later, the future one holds
    assert found_ids(store, "brocante annuelle") == {"brocante-future"}


def test_validity_survives_reopening_the_store(tmp_path: Path) -> None:
    past = (TODAY - timedelta(days=1)).isoformat()
    first = QdrantStore(QdrantSection(), tmp_path / "q", 64)
    Indexer(first, FakeEmbedder(64), FrenchSparseEncoder()).index(
        [
            page("vieux", "La fête de la musique est place Carnot.", valid_until=past),
            page("neuf", "La fête de la musique est au parc."),
        ],
        progress=False,
    )
    first.close()
    reopened = QdrantStore(QdrantSection(), tmp_path / "q", 64)
    reopened.today = lambda: TODAY
    try:
        assert found_ids(reopened, "fête de la musique") == {"neuf"}
    finally:
        reopened.close()
