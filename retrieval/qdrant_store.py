"""The knowledge-base chunks in one Qdrant collection: a dense and a BM25 sparse vector each.

The collection holds a named dense vector ``dense`` (cosine) and a named sparse vector ``bm25``
whose IDF Qdrant computes (``Modifier.IDF``). Every point has a BM25 vector; a dense vector only
when the indexer wants one for it (``wants_dense``, by default the first chunk of each document)
and has computed it (``has_dense``). A point waiting for its dense vector (indexing with
``dense="later"``) is still found by BM25.

Location, chosen the way qdrant-client does: a server ``url`` (with its API key), else
``:memory:`` when ``in_memory``, else local mode on disk under ``path`` (or the data folder).
Local mode is plain Python and not thread-safe, so every call goes through one lock: the
background indexing thread and the request path share a store.

Hybrid queries run the dense and the sparse search as one batch request and fuse the two
rankings client-side (:mod:`retrieval.fusion`) rather than with Qdrant's ``FusionQuery``: the
fusion works per document, which ranked the right fiche first far more often than chunk-level
RRF, and the fused list keeps each method's score (the abstention threshold and the explanation
records need the dense cosine).

Validity dates: a chunk whose ``valid_until`` is past or whose ``valid_from`` is to come is never
returned by :meth:`QdrantStore.query`: filtered in the query on a server, dropped from a few more
candidates in local mode (:mod:`retrieval.validity`).

Replacing a document (:meth:`QdrantStore.exclusive`): the indexer holds the store's lock while it
overwrites a document's points in place (ids are stable per ordinal) and deletes the stale tail,
so that in local mode no query sees a half-written document.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from foundation.errors import VectorStoreError
from retrieval.fusion import Hit, fuse
from retrieval.settings import QdrantSection
from retrieval.sparse import SparseVec
from retrieval.types import Chunk, ScoredChunk
from retrieval.validity import DATED, DATED_FIELDS, DatedChunks, payload_fields, with_validity

logger = logging.getLogger(__name__)

DENSE = "dense"
SPARSE = "bm25"
#: Weight of the dense ranking against 1 for BM25 in the fusion: 2 ranked best on the PIAF
#: questions and as well as 1 on the residents' questions (bench/bench_retrieval.py).
DENSE_WEIGHT = 2.0
#: Payload fields of :meth:`QdrantStore.document_heads`: everything but the text.
_HEAD = [
    "tenant_id",
    "document_id",
    "ordinal",
    "title",
    "url",
    "source",
    "version",
    "modified",
    "service",
    "attribution",
    "valid_from",
    "valid_until",
]
_WRITE_BATCH = 256
_SCROLL_PAGE = 1024


class QdrantStore:
    """Chunks with their dense and sparse vectors, searchable per tenant.

    Args:
        settings: Qdrant section of the settings.
        data_path: On-disk folder for local mode when ``settings.path`` is not set.
        dimension: Size of the dense vectors (the embedder's dimension).
        dense_model: Id of the embedding model, recorded in the collection's metadata so that
            a change of model rebuilds the collection instead of mixing vector spaces.
    """

    def __init__(
        self,
        settings: QdrantSection,
        data_path: Path,
        dimension: int,
        *,
        dense_model: str | None = None,
    ) -> None:
        self.settings = settings
        self.collection = settings.collection
        self.dimension = dimension
        self.dense_model = dense_model
        self.path = settings.path or data_path
        self._client: QdrantClient | None = None
        self._lock = threading.RLock()
        self._ready = False
        #: Local mode only: every tenant that has points (a superset after deletions).
        self._tenants: set[str] | None = None
        #: Local mode: the dated chunks, to drop from the candidates out of their validity.
        self._dated = DatedChunks()
        #: Filter validity dates in the query (server) rather than in memory (local mode).
        self.filter_dates_in_query = self.is_server

    @property
    def location(self) -> str:
        """Where the points live: the URL, ``:memory:`` or the local folder."""
        if self.settings.url:
            return self.settings.url
        return ":memory:" if self.settings.in_memory else str(self.path)

    @property
    def is_server(self) -> bool:
        """True when talking to a Qdrant server (payload indexes only matter there)."""
        return bool(self.settings.url)

    def ensure_collection(self) -> bool:
        """Create the collection if missing, or rebuild it if the dense model changed.

        Returns:
            True when the collection was (re)created empty and needs indexing.
        """
        with self._guard("ensure_collection"):
            client = self._connect()
            if client.collection_exists(self.collection):
                if self._compatible(client.get_collection(self.collection)):
                    self._tune_local_storage(client)
                    self._tenants = self._present_tenants(client)
                    self._ready = True
                    self._load_dated()
                    return False
                logger.warning(
                    "qdrant collection rebuilt reason=dense_model_changed collection=%s model=%s",
                    self.collection,
                    self.dense_model,
                )
                client.delete_collection(self.collection)
            self._create(client)
            self._tune_local_storage(client)
            self._tenants = None if self.is_server else set()
            self._dated.clear()
            self._ready = True
            return True

    def upsert(
        self,
        chunks: Sequence[Chunk],
        dense: np.ndarray | Sequence[np.ndarray | None] | None,
        sparse: Sequence[SparseVec],
        *,
        wants_dense: Sequence[bool] | None = None,
    ) -> None:
        """Insert or replace chunks.

        Args:
            chunks: The chunks.
            dense: One vector per chunk, ``None`` (for all or some) when not computed yet.
            sparse: One BM25 vector per chunk.
            wants_dense: Per chunk, whether it should get a dense vector (default: all); the
                others are never listed by :meth:`chunks_without_dense`.
        """
        wants = list(wants_dense) if wants_dense is not None else [True] * len(chunks)
        if len(sparse) != len(chunks) or len(wants) != len(chunks):
            raise ValueError("chunks, dense, sparse and wants_dense must have the same length")
        if dense is not None and len(dense) != len(chunks):
            raise ValueError("chunks, dense, sparse and wants_dense must have the same length")
        points = []
        for index, chunk in enumerate(chunks):
            vector: dict[str, Any] = {
                SPARSE: qm.SparseVector(indices=sparse[index].indices, values=sparse[index].values)
            }
            row = None if dense is None else dense[index]
            if row is not None:
                vector[DENSE] = np.asarray(row, dtype=np.float32).tolist()
            payload = chunk_payload(chunk, has_dense=row is not None, wants_dense=wants[index])
            points.append(qm.PointStruct(id=chunk.id, vector=vector, payload=payload))
        with self._guard("upsert"):
            client = self._collection_client()
            if self._tenants is not None:  # before writing: queries must see the new tenants
                self._tenants.update(chunk.tenant_id for chunk in chunks)
            self._dated.remember(chunks)
            for start in range(0, len(points), _WRITE_BATCH):
                client.upsert(self.collection, points[start : start + _WRITE_BATCH], wait=True)

    def set_dense(self, ids: Sequence[str], vectors: np.ndarray) -> int:
        """Give existing points their dense vectors (and mark them ``has_dense``).

        Points deleted meanwhile (a document re-imported) are skipped.

        Returns:
            The number of points updated.
        """
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors must have the same length")
        if not ids:
            return 0
        with self._guard("set_dense"):
            client = self._collection_client()
            found = client.retrieve(self.collection, list(ids), with_payload=False)
            existing = {str(record.id) for record in found}
            updates = [
                qm.PointVectors(id=point_id, vector={DENSE: np.asarray(row, np.float32).tolist()})
                for point_id, row in zip(ids, vectors, strict=True)
                if point_id in existing
            ]
            if updates:
                client.update_vectors(self.collection, updates, wait=True)
                client.set_payload(
                    self.collection, {"has_dense": True}, points=[u.id for u in updates], wait=True
                )
            return len(updates)

    def delete_documents(self, tenant_id: str, document_ids: Sequence[str]) -> int:
        """Delete every chunk of these documents of one tenant; returns how many there were."""
        if not document_ids:
            return 0
        selector = qm.Filter(
            must=[
                _match("tenant_id", tenant_id),
                qm.FieldCondition(key="document_id", match=qm.MatchAny(any=list(document_ids))),
            ]
        )
        with self._guard("delete_documents"):
            client = self._collection_client()
            existing = client.count(self.collection, count_filter=selector, exact=True).count
            if existing:
                client.delete(self.collection, qm.FilterSelector(filter=selector), wait=True)
            self._dated.forget_documents(tenant_id, document_ids)
            return existing

    def delete_points(self, ids: Sequence[str]) -> None:
        """Delete points by id (a document's stale chunks after a shorter version)."""
        if not ids:
            return
        with self._guard("delete_points"):
            client = self._collection_client()
            client.delete(self.collection, qm.PointIdsList(points=list(ids)), wait=True)
            self._dated.forget_points(ids)

    def document_chunks(self, tenant_id: str, document_id: str) -> list[tuple[Chunk, bool]]:
        """Every indexed chunk of one document, by ordinal, with whether it has its vector."""
        selector = qm.Filter(
            must=[_match("tenant_id", tenant_id), _match("document_id", document_id)]
        )
        found = [
            (payload_chunk(str(r.id), r.payload or {}), bool((r.payload or {}).get("has_dense")))
            for r in self._scroll(selector, True)
        ]
        return sorted(found, key=lambda pair: pair[0].ordinal)

    def dense_vectors(self, ids: Sequence[str]) -> dict[str, tuple[Chunk, np.ndarray]]:
        """The stored chunk and dense vector of each of these points that has one."""
        if not ids:
            return {}
        with self._guard("dense_vectors"):
            records = self._collection_client().retrieve(
                self.collection, list(ids), with_payload=True, with_vectors=[DENSE]
            )
        found: dict[str, tuple[Chunk, np.ndarray]] = {}
        for record in records:
            vectors = record.vector if isinstance(record.vector, dict) else {}
            if (record.payload or {}).get("has_dense") and vectors.get(DENSE) is not None:
                chunk = payload_chunk(str(record.id), record.payload or {})
                found[str(record.id)] = (chunk, np.asarray(vectors[DENSE], dtype=np.float32))
        return found

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store for several writes: local-mode queries wait until the block ends."""
        with self._lock:
            yield

    def document_versions(self) -> dict[tuple[str, str], str]:
        """``(tenant_id, document_id) -> version`` of every indexed document."""
        first_chunks = qm.Filter(must=[_match("ordinal", 0)])
        versions: dict[tuple[str, str], str] = {}
        for record in self._scroll(first_chunks, ["tenant_id", "document_id", "version"]):
            payload = record.payload or {}
            versions[(payload["tenant_id"], payload["document_id"])] = payload["version"]
        return versions

    def document_heads(self, tenant_id: str) -> list[Chunk]:
        """The first chunk of each of a tenant's documents, without its text (for listings).

        One filtered scroll over every point: in local mode, cache the result.
        """
        selector = qm.Filter(must=[_match("tenant_id", tenant_id), _match("ordinal", 0)])
        return [payload_chunk(str(r.id), r.payload or {}) for r in self._scroll(selector, _HEAD)]

    def chunks_without_dense(self, limit: int) -> list[Chunk]:
        """Up to ``limit`` chunks still waiting for their dense vector."""
        with self._guard("chunks_without_dense"):
            records, _ = self._collection_client().scroll(
                self.collection,
                scroll_filter=_PENDING,
                limit=limit,
                with_payload=True,
            )
        return [payload_chunk(str(record.id), record.payload or {}) for record in records]

    def count(self, *, without_dense: bool = False) -> int:
        """Number of chunks (only those still waiting for their dense vector when asked)."""
        selector = _PENDING if without_dense else None
        with self._guard("count"):
            client = self._collection_client()
            return client.count(self.collection, count_filter=selector, exact=True).count

    def query(
        self,
        dense_vec: np.ndarray | None,
        sparse_vec: SparseVec | None,
        tenant_ids: Sequence[str],
        limit: int,
        *,
        dense_weight: float = DENSE_WEIGHT,
    ) -> list[ScoredChunk]:
        """Hybrid search restricted to ``tenant_ids``, fused per document (see fusion.py).

        Either vector may be ``None`` (the other method alone then ranks). Each method returns
        ``limit`` candidates; the fused list has at most ``limit`` chunks, grouped by document,
        best first, with ``dense_score`` (cosine), ``sparse_score`` (BM25) and ``ranks``.
        """
        if not self._ready:  # opening the collection loads the dated chunks
            self.ensure_collection()
        tenant_filter = self._tenant_filter(tenant_ids)
        today = date.today()
        excluded = set() if self.filter_dates_in_query else self._dated.out_of_validity(today)
        if self.filter_dates_in_query:
            tenant_filter = with_validity(tenant_filter, today)
        fetch = limit + len(excluded)
        requests: list[tuple[str, qm.QueryRequest]] = []
        if dense_vec is not None:
            dense_query = np.asarray(dense_vec, dtype=np.float32).tolist()
            requests.append((DENSE, _request(dense_query, DENSE, tenant_filter, fetch)))
        if sparse_vec is not None and len(sparse_vec):
            sparse_query = qm.SparseVector(indices=sparse_vec.indices, values=sparse_vec.values)
            requests.append((SPARSE, _request(sparse_query, SPARSE, tenant_filter, fetch)))
        if not requests:
            return []
        with self._guard("query"):
            responses = self._collection_client().query_batch_points(
                self.collection, [request for _, request in requests]
            )
        rankings = {
            name: [
                Hit(str(p.id), p.payload or {}, float(p.score))
                for p in response.points
                if str(p.id) not in excluded
            ][:limit]
            for (name, _), response in zip(requests, responses, strict=True)
        }
        return fuse(rankings, {DENSE: dense_weight, SPARSE: 1.0}, limit, payload_chunk)

    def close(self) -> None:
        """Close the client (local mode releases its folder lock)."""
        with self._lock:
            if self._client is not None:
                try:
                    self._client.close()
                finally:
                    self._client = None
                    self._ready = False
                    self._tenants = None

    # -- internals -------------------------------------------------------------------------

    def _connect(self) -> QdrantClient:
        if self._client is None:
            if self.settings.url:
                api_key = self.settings.api_key
                self._client = QdrantClient(
                    url=self.settings.url,
                    api_key=api_key.get_secret_value() if api_key else None,
                )
            elif self.settings.in_memory:
                self._client = QdrantClient(location=":memory:")
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._client = QdrantClient(path=str(self.path))
            logger.info("qdrant connected location=%s", self.location)
        return self._client

    def _collection_client(self) -> QdrantClient:
        if not self._ready:
            self.ensure_collection()
        return self._connect()

    def _compatible(self, info: qm.CollectionInfo) -> bool:
        vectors = info.config.params.vectors
        dense = vectors.get(DENSE) if isinstance(vectors, dict) else None
        if dense is None or dense.size != self.dimension:
            return False
        recorded = (info.config.metadata or {}).get("dense_model")
        return self.dense_model is None or recorded in (None, self.dense_model)

    def _create(self, client: QdrantClient) -> None:
        client.create_collection(
            self.collection,
            vectors_config={
                DENSE: qm.VectorParams(size=self.dimension, distance=qm.Distance.COSINE)
            },
            sparse_vectors_config={SPARSE: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
            metadata={"dense_model": self.dense_model} if self.dense_model else None,
        )
        if self.is_server:  # local mode has no payload indexes (and warns about them)
            schema = qm.PayloadSchemaType
            for field, kind in (
                ("tenant_id", schema.KEYWORD),
                ("document_id", schema.KEYWORD),
                ("ordinal", schema.INTEGER),
                ("has_dense", schema.BOOL),
                ("wants_dense", schema.BOOL),
            ):
                client.create_payload_index(self.collection, field, field_schema=kind)
        logger.info("qdrant collection created name=%s dim=%d", self.collection, self.dimension)

    def _tenant_filter(self, tenant_ids: Sequence[str]) -> qm.Filter | None:
        """The filter on ``tenant_ids``, or none when no other tenant has points.

        Local mode evaluates a filter in Python on every point (about 0.35 s per search over
        the 33k service-public chunks); a single-commune deployment never needs it.
        """
        with self._lock:
            if self._tenants is not None and self._tenants <= set(tenant_ids):
                return None
        return qm.Filter(
            must=[qm.FieldCondition(key="tenant_id", match=qm.MatchAny(any=list(tenant_ids)))]
        )

    def _present_tenants(self, client: QdrantClient) -> set[str] | None:
        """Tenants with points, in local mode (the server filters fast enough)."""
        if self.is_server:
            return None
        facets = client.facet(self.collection, key="tenant_id", limit=100_000, exact=True)
        return {str(hit.value) for hit in facets.hits}

    def _tune_local_storage(self, client: QdrantClient) -> None:
        """Let local mode's SQLite commit without a sync per point (WAL, synchronous=NORMAL).

        Local mode commits every point it writes; with SQLite's defaults each commit waits for
        the disk, which made writing the 33k service-public chunks take minutes. In WAL mode with
        ``synchronous=NORMAL`` a crash of the process loses nothing and a power cut may lose the
        last writes only (never corrupts): acceptable for an index the next import repairs.
        Uses qdrant-client internals (pinned version); does nothing when they differ.
        """
        if self.is_server or self.settings.in_memory:
            return
        try:
            connection = client._client.collections[self.collection].storage.storage  # type: ignore[attr-defined]
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        except (AttributeError, KeyError, TypeError, sqlite3.Error) as exc:
            logger.debug("qdrant local storage left as is reason=%s", exc)

    def _load_dated(self) -> None:
        """Read the dated chunks once when the collection opens (local mode)."""
        if not self.filter_dates_in_query:
            self._dated.load(
                (str(record.id), record.payload or {})
                for record in self._scroll(DATED, DATED_FIELDS)
            )

    def _scroll(self, selector: qm.Filter, fields: list[str] | bool) -> Iterator[qm.Record]:
        offset = None
        while True:
            with self._guard("scroll"):
                records, offset = self._collection_client().scroll(
                    self.collection,
                    scroll_filter=selector,
                    limit=_SCROLL_PAGE,
                    offset=offset,
                    with_payload=fields,
                )
            yield from records
            if offset is None:
                return

    @contextmanager
    def _guard(self, operation: str) -> Iterator[None]:
        """Serialise access and translate qdrant-client failures into VectorStoreError."""
        with self._lock:
            try:
                yield
            except VectorStoreError:
                raise
            except Exception as exc:  # qdrant-client raises many unrelated types
                raise VectorStoreError(
                    f"qdrant {operation} failed at {self.location}: {exc}"
                ) from exc


def chunk_payload(chunk: Chunk, *, has_dense: bool, wants_dense: bool = True) -> dict[str, Any]:
    """The payload stored with a chunk's point."""
    return {
        "tenant_id": chunk.tenant_id,
        "document_id": chunk.document_id,
        "ordinal": chunk.ordinal,
        "title": chunk.title,
        "url": chunk.url,
        "heading_path": list(chunk.heading_path),
        "text": chunk.text,
        "source": chunk.source,
        "version": chunk.version,
        "modified": chunk.modified,
        "service": chunk.service,
        "attribution": chunk.attribution,
        "has_dense": has_dense,
        "wants_dense": wants_dense,
        **payload_fields(chunk.valid_from, chunk.valid_until),
    }


def payload_chunk(point_id: str, payload: dict[str, Any]) -> Chunk:
    """Rebuild the :class:`Chunk` stored in a point's payload."""
    return Chunk(
        id=point_id,
        tenant_id=payload["tenant_id"],
        document_id=payload["document_id"],
        ordinal=int(payload["ordinal"]),
        title=payload.get("title", ""),
        url=payload.get("url", ""),
        heading_path=tuple(payload.get("heading_path") or ()),
        text=payload.get("text", ""),
        source=payload.get("source", ""),
        version=payload.get("version", ""),
        modified=payload.get("modified"),
        service=payload.get("service"),
        attribution=payload.get("attribution", ""),
        valid_from=payload.get("valid_from"),
        valid_until=payload.get("valid_until"),
    )


def _match(key: str, value: str | int | bool) -> qm.FieldCondition:
    return qm.FieldCondition(key=key, match=qm.MatchValue(value=value))


def _request(
    query: list[float] | qm.SparseVector, using: str, selector: qm.Filter | None, limit: int
) -> qm.QueryRequest:
    return qm.QueryRequest(
        query=query, using=using, filter=selector, limit=limit, with_payload=True
    )


#: Points that should have a dense vector and have none yet.
_PENDING = qm.Filter(must=[_match("wants_dense", True), _match("has_dense", False)])
