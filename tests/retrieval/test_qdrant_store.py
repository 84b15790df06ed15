"""The Qdrant store in local mode, on disk and in memory: what is written is what is found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import VectorStoreError
from retrieval.qdrant_edge import copy_index
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import QdrantSection
from retrieval.sparse import FrenchSparseEncoder
from retrieval.testing import FakeEmbedder
from retrieval.types import NATIONAL_TENANT, Chunk, chunk_point_id

EMBEDDER = FakeEmbedder(dimension=64)
ENCODER = FrenchSparseEncoder()


def make_chunk(tenant: str, document: str, ordinal: int, text: str, version: str = "v1") -> Chunk:
    return Chunk(
        id=chunk_point_id(tenant, document, ordinal),
        tenant_id=tenant,
        document_id=document,
        ordinal=ordinal,
        title=f"Titre {document}",
        url=f"https://example.org/{document}",
        heading_path=("Démarche", "En mairie"),
        text=text,
        source="local" if tenant != NATIONAL_TENANT else "service-public",
        version=version,
        modified="2020-08-26",
        service="etat_civil",
        attribution="Licence Ouverte",
    )


CHUNKS = [
    make_chunk(
        NATIONAL_TENANT, "F1344", 0, "Carte d'identité perdue : faire une déclaration de perte."
    ),
    make_chunk(
        NATIONAL_TENANT, "F1344", 1, "La nouvelle carte d'identité est payante (timbre fiscal)."
    ),
    make_chunk(
        NATIONAL_TENANT, "F1618", 0, "Se pacser : la convention de Pacs est enregistrée en mairie."
    ),
    make_chunk("a", "a-piscine", 0, "Piscine municipale de A : horaires d'ouverture du bassin."),
    make_chunk("b", "b-piscine", 0, "Piscine municipale de B : horaires d'ouverture du bassin."),
]


def write(store: QdrantStore, chunks: list[Chunk], *, dense: bool = True) -> None:
    vectors = EMBEDDER.embed_documents([c.text for c in chunks]) if dense else None
    store.upsert(chunks, vectors, [ENCODER.encode_document(c.text) for c in chunks])


def search(store: QdrantStore, question: str, tenant: str, *, dense: bool = True) -> list[str]:
    found = store.query(
        EMBEDDER.embed_query(question) if dense else None,
        ENCODER.encode_query(question),
        [tenant, NATIONAL_TENANT],
        limit=10,
    )
    return [s.chunk.document_id for s in found]


#: The embedded engines: both hold the same collection layout under the same contract.
ENGINES = ["edge", "local"]


@pytest.fixture(params=[(e, where) for e in ENGINES for where in ("disk", "memory")], ids=str)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QdrantStore]:
    engine, where = request.param
    settings = QdrantSection(engine=engine, in_memory=where == "memory")
    opened = QdrantStore(settings, tmp_path / "qdrant", EMBEDDER.dimension, dense_model="fake")
    opened.ensure_collection()
    write(opened, CHUNKS)
    yield opened
    opened.close()


def test_chunks_come_back_whole_with_their_scores(store: QdrantStore) -> None:
    found = store.query(
        EMBEDDER.embed_query("carte d'identité perdue"),
        ENCODER.encode_query("carte d'identité perdue"),
        ["a", NATIONAL_TENANT],
        limit=3,
    )
    assert found[0].chunk == CHUNKS[0]
    assert found[0].dense_score is not None and found[0].sparse_score is not None
    assert found[0].ranks == {"dense": 1, "bm25": 1, "document": 1}
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)


def test_a_commune_never_sees_another_communes_pages(store: QdrantStore) -> None:
    assert "b-piscine" not in search(store, "horaires de la piscine", "a")
    assert "a-piscine" in search(store, "horaires de la piscine", "a")
    assert "a-piscine" not in search(store, "horaires de la piscine", "b")


def test_national_fiches_are_found_for_every_commune(store: QdrantStore) -> None:
    for tenant in ("a", "b", "demo"):
        assert search(store, "se pacser en mairie", tenant)[0] == "F1618"


def test_deleting_a_document_removes_all_its_chunks(store: QdrantStore) -> None:
    assert store.delete_documents(NATIONAL_TENANT, ["F1344"]) == 2
    assert store.count() == len(CHUNKS) - 2
    assert "F1344" not in search(store, "carte d'identité perdue", "a")
    assert store.delete_documents("a", ["F1618"]) == 0  # another tenant's id: nothing happens


def test_document_versions_lists_each_document_once(store: QdrantStore) -> None:
    assert store.document_versions() == {
        (NATIONAL_TENANT, "F1344"): "v1",
        (NATIONAL_TENANT, "F1618"): "v1",
        ("a", "a-piscine"): "v1",
        ("b", "b-piscine"): "v1",
    }


def test_points_without_dense_vector_are_found_by_bm25(store: QdrantStore) -> None:
    late = make_chunk(NATIONAL_TENANT, "F1986", 0, "Permis de construire une maison.")
    write(store, [late], dense=False)
    assert store.count(without_dense=True) == 1
    assert [c.id for c in store.chunks_without_dense(10)] == [late.id]
    found = store.query(
        EMBEDDER.embed_query("permis de construire"),
        ENCODER.encode_query("permis de construire"),
        [NATIONAL_TENANT],
        limit=10,
    )
    (late_found,) = [s for s in found if s.chunk.id == late.id]
    assert late_found.dense_score is None and late_found.ranks["bm25"] == 1


def test_set_dense_completes_pending_points(store: QdrantStore) -> None:
    late = make_chunk(NATIONAL_TENANT, "F1986", 0, "Permis de construire une maison.")
    write(store, [late], dense=False)
    store.set_dense([late.id], EMBEDDER.embed_documents([late.text]))
    assert store.count(without_dense=True) == 0
    found = store.query(EMBEDDER.embed_query(late.text), None, [NATIONAL_TENANT], limit=1)
    assert found[0].chunk.id == late.id and found[0].dense_score == pytest.approx(1.0, abs=1e-4)


def test_upsert_of_the_same_chunk_replaces_it(store: QdrantStore) -> None:
    newer = make_chunk(NATIONAL_TENANT, "F1344", 0, "Texte mis à jour.", version="v2")
    write(store, [newer])
    assert store.count() == len(CHUNKS)
    assert store.document_versions()[(NATIONAL_TENANT, "F1344")] == "v2"


def test_chunks_not_wanting_a_dense_vector_are_never_pending(store: QdrantStore) -> None:
    rest = make_chunk(NATIONAL_TENANT, "F1986", 3, "Délai d'instruction du permis.")
    store.upsert([rest], None, [ENCODER.encode_document(rest.text)], wants_dense=[False])
    assert store.count(without_dense=True) == 0
    assert store.chunks_without_dense(10) == []


def test_mismatched_lengths_are_refused(store: QdrantStore) -> None:
    with pytest.raises(ValueError, match="same length"):
        store.upsert(CHUNKS, np.zeros((1, EMBEDDER.dimension)), [])


@pytest.mark.parametrize("engine", ENGINES)
def test_disk_index_survives_a_restart(tmp_path: Path, engine: str) -> None:
    folder = tmp_path / "qdrant"
    section = QdrantSection(engine=engine)
    first = QdrantStore(section, folder, EMBEDDER.dimension, dense_model="fake")
    write(first, CHUNKS)
    first.close()
    section = QdrantSection(engine=engine, path=folder)
    again = QdrantStore(section, tmp_path / "unused", EMBEDDER.dimension)
    assert again.ensure_collection() is False
    assert again.count() == len(CHUNKS)
    again.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_new_embedding_model_rebuilds_the_collection(tmp_path: Path, engine: str) -> None:
    folder = tmp_path / "qdrant"
    section = QdrantSection(engine=engine)
    first = QdrantStore(section, folder, EMBEDDER.dimension, dense_model="fake")
    write(first, CHUNKS)
    first.close()
    other = QdrantStore(QdrantSection(engine=engine), folder, 32, dense_model="another-model")
    assert other.ensure_collection() is True
    assert other.count() == 0
    other.close()


@pytest.mark.filterwarnings("ignore:Failed to obtain server version")
@pytest.mark.parametrize("engine", ENGINES)
def test_qdrant_failures_become_vector_store_errors(tmp_path: Path, engine: str) -> None:
    folder = tmp_path / "qdrant"
    holder = QdrantStore(QdrantSection(engine=engine), folder, EMBEDDER.dimension)
    holder.ensure_collection()
    # The folder is held by the first store.
    second = QdrantStore(QdrantSection(engine=engine), folder, EMBEDDER.dimension)
    with pytest.raises(VectorStoreError, match="ensure_collection"):
        second.ensure_collection()
    holder.close()
    unreachable = QdrantStore(QdrantSection(url="http://127.0.0.1:9"), folder, 8)
    with pytest.raises(VectorStoreError):
        unreachable.count()


def test_location_follows_url_then_memory_then_path(tmp_path: Path) -> None:
    url = QdrantSection(url="http://qdrant:6333", in_memory=True, path=tmp_path)
    assert QdrantStore(url, tmp_path, 8).location == "http://qdrant:6333"
    assert QdrantStore(QdrantSection(in_memory=True), tmp_path, 8).location == ":memory:"
    assert QdrantStore(QdrantSection(), tmp_path / "q", 8).location == str(tmp_path / "q")


def test_set_dense_skips_points_deleted_meanwhile(store: QdrantStore) -> None:
    pending = make_chunk(NATIONAL_TENANT, "F1986", 0, "Permis de construire une maison.")
    write(store, [pending], dense=False)
    store.delete_documents(NATIONAL_TENANT, ["F1986"])
    vectors = EMBEDDER.embed_documents([pending.text, CHUNKS[0].text])
    assert store.set_dense([pending.id, CHUNKS[0].id], vectors) == 1
    assert store.count() == len(CHUNKS)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_commune_added_later_stays_invisible_to_the_others(tmp_path: Path, engine: str) -> None:
    folder = tmp_path / "qdrant"
    first = QdrantStore(QdrantSection(engine=engine), folder, EMBEDDER.dimension)
    write(first, [c for c in CHUNKS if c.tenant_id in (NATIONAL_TENANT, "a")])
    first.close()
    again = QdrantStore(QdrantSection(engine=engine), folder, EMBEDDER.dimension)
    assert "a-piscine" in search(again, "horaires de la piscine", "a")
    write(again, [c for c in CHUNKS if c.tenant_id == "b"])
    assert "b-piscine" not in search(again, "horaires de la piscine", "a")
    assert "a-piscine" not in search(again, "horaires de la piscine", "b")
    again.close()


def _disk_bytes(folder: Path) -> int:
    return sum(f.stat().st_blocks * 512 for f in folder.rglob("*") if f.is_file())


def test_a_copied_index_takes_the_room_of_the_original_and_opens(tmp_path: Path) -> None:
    folder = tmp_path / "qdrant"
    first = QdrantStore(QdrantSection(), folder, EMBEDDER.dimension, dense_model="fake")
    write(first, CHUNKS)
    first.close()
    copy_index(folder, tmp_path / "copy")
    # The engine preallocates 32 MB files as sparse ones; a byte-for-byte copy fills them.
    assert _disk_bytes(tmp_path / "copy") <= _disk_bytes(folder) + 1_000_000
    again = QdrantStore(QdrantSection(), tmp_path / "copy", EMBEDDER.dimension)
    assert again.count() == len(CHUNKS)
    again.close()
