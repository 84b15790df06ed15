"""The knowledge-base chunks in one Qdrant collection: a dense and a BM25 sparse vector each.

:class:`QdrantStore` is the one way the product reaches the collection. It is assembled from
three modules: :mod:`retrieval.qdrant_schema` (what a point holds: the on-disk format),
:mod:`retrieval.qdrant_collection` (the client, the collection, its indexes and storage) and
:mod:`retrieval.qdrant_search` (the hybrid query and its fusion); the store itself holds the
writes, the reads and the lock.

A point waiting for its dense vector (indexing with ``dense="later"``; by default only the first
chunk of each document gets one) is still found by BM25.

The store runs on a Qdrant server, on the embedded engine (Qdrant Edge, the default, see
:mod:`retrieval.qdrant_edge`) or on qdrant-client's local mode. Local mode is plain Python and
not thread-safe, so every call goes through one lock: the background indexing thread and the
request path share a store. The embedded engine is the server's engine: a search takes
milliseconds, so the same lock costs little there.

Validity dates: a chunk whose ``valid_until`` is past or whose ``valid_from`` is to come is never
returned by :meth:`QdrantStore.query`: filtered in the query by a server or the embedded engine,
dropped from a few more candidates in local mode (:mod:`retrieval.validity`).

Replacing a document (:meth:`QdrantStore.exclusive`): the indexer holds the store's lock while it
overwrites a document's points in place (ids are stable per ordinal) and deletes the stale tail,
so that in local mode no query sees a half-written document.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from foundation.errors import VectorStoreError
from retrieval import qdrant_collection as collection_setup
from retrieval.qdrant_schema import (
    DENSE,
    HEAD_FIELDS,
    PENDING,
    chunk_points,
    match,
    match_any,
    payload_chunk,
    stored_dense_vectors,
)
from retrieval.qdrant_search import DENSE_WEIGHT, fuse_responses, search_requests, tenant_filter
from retrieval.settings import QdrantSection
from retrieval.sparse import SparseVec
from retrieval.types import Chunk, ScoredChunk
from retrieval.validity import DATED, DATED_FIELDS, DatedChunks, with_validity

logger = logging.getLogger(__name__)

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
        #: Filter validity dates in the query (server, embedded engine) rather than in memory
        #: (local mode, whose filters are Python loops over every point).
        self.filter_dates_in_query = not self.is_local_mode
        #: Today's date for the validity filter (tests pass a fixed one).
        self.today: Callable[[], date] = date.today

    @property
    def location(self) -> str:
        """Where the points live: the URL, ``:memory:`` or the local folder."""
        return collection_setup.location(self.settings, self.path)

    @property
    def is_server(self) -> bool:
        """True when talking to a Qdrant server."""
        return bool(self.settings.url)

    @property
    def is_local_mode(self) -> bool:
        """True for qdrant-client's pure-Python local mode (no payload indexes, slow filters)."""
        return not self.is_server and self.settings.engine == "local"

    def ensure_collection(self) -> bool:
        """Create the collection if missing, or rebuild it if the dense model changed.

        Returns:
            True when the collection was (re)created empty and needs indexing.
        """
        with self._guard("ensure_collection"):
            client = self._connect()
            if client.collection_exists(self.collection):
                info = client.get_collection(self.collection)
                if collection_setup.is_compatible(info, self.dimension, self.dense_model):
                    if not self.is_local_mode:
                        collection_setup.ensure_payload_indexes(client, self.collection)
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
            collection_setup.create_collection(
                client,
                self.collection,
                self.dimension,
                self.dense_model,
                payload_indexes=not self.is_local_mode,  # local mode has none (and warns)
            )
            self._tune_local_storage(client)
            self._tenants = set() if self.is_local_mode else None
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
        points = chunk_points(chunks, dense, sparse, wants)
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
            must=[match("tenant_id", tenant_id), match_any("document_id", document_ids)]
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
            must=[match("tenant_id", tenant_id), match("document_id", document_id)]
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
        return stored_dense_vectors(records)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store for several writes: local-mode queries wait until the block ends."""
        with self._lock:
            yield

    def document_versions(self) -> dict[tuple[str, str], str]:
        """``(tenant_id, document_id) -> version`` of every indexed document."""
        first_chunks = qm.Filter(must=[match("ordinal", 0)])
        versions: dict[tuple[str, str], str] = {}
        for record in self._scroll(first_chunks, ["tenant_id", "document_id", "version"]):
            payload = record.payload or {}
            versions[(payload["tenant_id"], payload["document_id"])] = payload["version"]
        return versions

    def document_heads(self, tenant_id: str) -> list[Chunk]:
        """The first chunk of each of a tenant's documents, without its text (for listings).

        One filtered scroll over every point: in local mode, cache the result.
        """
        selector = qm.Filter(must=[match("tenant_id", tenant_id), match("ordinal", 0)])
        heads = self._scroll(selector, HEAD_FIELDS)
        return [payload_chunk(str(r.id), r.payload or {}) for r in heads]

    def chunks_without_dense(self, limit: int) -> list[Chunk]:
        """Up to ``limit`` chunks still waiting for their dense vector."""
        with self._guard("chunks_without_dense"):
            records, _ = self._collection_client().scroll(
                self.collection,
                scroll_filter=PENDING,
                limit=limit,
                with_payload=True,
            )
        return [payload_chunk(str(record.id), record.payload or {}) for record in records]

    def count(self, *, without_dense: bool = False) -> int:
        """Number of chunks (only those still waiting for their dense vector when asked)."""
        selector = PENDING if without_dense else None
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
        tenant_weights: Mapping[str, float] | None = None,
    ) -> list[ScoredChunk]:
        """Hybrid search restricted to ``tenant_ids``, fused per document (see fusion.py).

        ``tenant_weights`` multiplies the fused score of a tenant's documents (the commune's
        pages first for a local matter).

        Either vector may be ``None`` (the other method alone then ranks). Each method returns
        ``limit`` candidates; the fused list has at most ``limit`` chunks, grouped by document,
        best first, with ``dense_score`` (cosine), ``sparse_score`` (BM25) and ``ranks``.
        """
        if not self._ready:  # opening the collection loads the dated chunks
            self.ensure_collection()
        selector = self._tenant_filter(tenant_ids)
        today = self.today()
        excluded = set() if self.filter_dates_in_query else self._dated.out_of_validity(today)
        if self.filter_dates_in_query:
            selector = with_validity(selector, today)
        requests = search_requests(dense_vec, sparse_vec, selector, limit + len(excluded))
        if not requests:
            return []
        with self._guard("query"):
            responses = self._collection_client().query_batch_points(
                self.collection, [request for _, request in requests]
            )
        return fuse_responses(requests, responses, excluded, limit, dense_weight, tenant_weights)

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
            self._client = collection_setup.connect(self.settings, self.path)
        return self._client

    def _collection_client(self) -> QdrantClient:
        if not self._ready:
            self.ensure_collection()
        return self._connect()

    def _tenant_filter(self, tenant_ids: Sequence[str]) -> qm.Filter | None:
        with self._lock:  # the indexing thread adds tenants
            return tenant_filter(tenant_ids, self._tenants)

    def _present_tenants(self, client: QdrantClient) -> set[str] | None:
        """Tenants with points, in local mode (the engines filter fast enough)."""
        if not self.is_local_mode:
            return None
        return collection_setup.present_tenants(client, self.collection)

    def _tune_local_storage(self, client: QdrantClient) -> None:
        if self.is_local_mode and not self.settings.in_memory:
            collection_setup.tune_local_storage(client, self.collection)

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
