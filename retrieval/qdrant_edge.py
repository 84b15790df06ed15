"""The embedded engine: Qdrant's own engine in-process (Qdrant Edge), behind qdrant-client's API.

:class:`EdgeCollections` answers the part of :class:`qdrant_client.QdrantClient` that
:class:`~retrieval.qdrant_store.QdrantStore` uses (collections, points, payloads, scroll, count,
facet, batched queries), taking and returning qdrant-client's models, over one Qdrant Edge shard
per collection. The store therefore keeps one collection layout (:mod:`retrieval.qdrant_schema`)
and one code path for the embedded engine and a Qdrant server, and both run under the same
store contract tests.

Why: qdrant-client's local mode is plain Python; over the 33k service-public chunks a search took
0.3-2.5 s and held a lock every request waited on. An Edge shard is the server's Rust segments,
HNSW and sparse indexes, payload indexes and filters, in the process (bench/bench_engine.py).

On disk, a collection is a folder ``<path>/edge/<collection>/`` holding the shard and
``collection.json`` (its dense size and model, the metadata a server keeps in the collection).
Booleans: qdrant-edge-py 0.9.0 turns ``MatchValue(True)`` into the integer 1, so a boolean payload
field never matches. The adapter stores top-level booleans as 0 and 1, matches them as integers
and indexes them as integers; records come back with 0 and 1 for them (the store reads these
flags by truthiness).

Only one process opens a shard at a time: the CLI's ``kb`` commands write through the running
server's API when it runs (:mod:`contact_center.cli`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import qdrant_edge as edge
from qdrant_client import models as qm

#: The file beside a shard that records its dense vectors' size and model.
_METADATA = "collection.json"


#: Edge's payload index types, by name, as qdrant-client's (booleans are integers here).
_SCHEMA_TYPES = {
    "PayloadSchemaType.Keyword": qm.PayloadSchemaType.KEYWORD,
    "PayloadSchemaType.Integer": qm.PayloadSchemaType.INTEGER,
    "PayloadSchemaType.Float": qm.PayloadSchemaType.FLOAT,
    "PayloadSchemaType.Bool": qm.PayloadSchemaType.BOOL,
}


@dataclass
class _Count:
    count: int


@dataclass
class _FacetHit:
    value: Any
    count: int


@dataclass
class _Facets:
    hits: list[_FacetHit]


@dataclass
class _Response:
    points: list[qm.ScoredPoint] = field(default_factory=list)


class EdgeCollections:
    """qdrant-client's collection API over Qdrant Edge shards kept under one folder.

    Args:
        path: The folder of the shards; ``None`` for a temporary folder removed on
            :meth:`close` (the ``in_memory`` setting: tests, one-off evaluations).
    """

    def __init__(self, path: Path | None) -> None:
        self._temporary = (
            tempfile.TemporaryDirectory(prefix="qdrant-edge-") if path is None else None
        )
        self.root = Path(self._temporary.name) if self._temporary else Path(path) / "edge"  # type: ignore[arg-type]
        self.root.mkdir(parents=True, exist_ok=True)
        self._shards: dict[str, edge.EdgeShard] = {}
        self._lock = threading.Lock()

    # -- collections -----------------------------------------------------------------------

    def collection_exists(self, collection: str) -> bool:
        return (self._folder(collection) / _METADATA).is_file()

    def get_collection(self, collection: str) -> qm.CollectionInfo:
        metadata = json.loads((self._folder(collection) / _METADATA).read_text("utf-8"))
        shard = self._shard(collection)
        info = shard.info()
        points = int(info.points_count)
        params = qm.CollectionParams(
            vectors={
                name: qm.VectorParams(size=size, distance=qm.Distance.COSINE)
                for name, size in metadata["vectors"].items()
            },
            sparse_vectors={name: qm.SparseVectorParams() for name in metadata["sparse"]},
        )
        return qm.CollectionInfo(
            status=qm.CollectionStatus.GREEN,
            optimizer_status=qm.OptimizersStatusOneOf.OK,
            points_count=points,
            segments_count=1,
            config=qm.CollectionConfig(
                params=params,
                hnsw_config=qm.HnswConfig(m=16, ef_construct=100, full_scan_threshold=10_000),
                optimizer_config=qm.OptimizersConfig(
                    deleted_threshold=0.2,
                    vacuum_min_vector_number=1000,
                    default_segment_number=0,
                    flush_interval_sec=5,
                ),
                wal_config=None,
                metadata=metadata.get("metadata"),
            ),
            payload_schema={
                name: qm.PayloadIndexInfo(
                    data_type=_SCHEMA_TYPES.get(str(index.data_type), qm.PayloadSchemaType.KEYWORD),
                    points=int(index.points or 0),
                )
                for name, index in dict(info.payload_schema).items()
            },
        )

    def create_collection(
        self,
        collection: str,
        *,
        vectors_config: dict[str, qm.VectorParams],
        sparse_vectors_config: dict[str, qm.SparseVectorParams] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> bool:
        folder = self._folder(collection)
        if folder.exists():
            raise ValueError(f"collection {collection} already exists")
        sparse = sparse_vectors_config or {}
        config = edge.EdgeConfig(
            vectors={
                name: edge.EdgeVectorParams(size=params.size, distance=_distance(params.distance))
                for name, params in vectors_config.items()
            },
            sparse_vectors={
                name: edge.EdgeSparseVectorParams(
                    modifier=edge.Modifier.Idf if params.modifier == qm.Modifier.IDF else None
                )
                for name, params in sparse.items()
            },
        )
        (folder / "shard").mkdir(parents=True)
        with self._lock:
            self._shards[collection] = edge.EdgeShard.create(str(folder / "shard"), config)
        recorded = {
            "vectors": {name: params.size for name, params in vectors_config.items()},
            "sparse": list(sparse),
            "metadata": metadata,
        }
        (folder / _METADATA).write_text(json.dumps(recorded), "utf-8")
        return True

    def delete_collection(self, collection: str) -> bool:
        with self._lock:
            shard = self._shards.pop(collection, None)
        if shard is not None:
            shard.close()
        folder = self._folder(collection)
        existed = folder.exists()
        shutil.rmtree(folder, ignore_errors=True)
        return existed

    def create_payload_index(
        self, collection: str, field_name: str, field_schema: qm.PayloadSchemaType
    ) -> None:
        kinds = {
            qm.PayloadSchemaType.KEYWORD: edge.PayloadSchemaType.Keyword,
            qm.PayloadSchemaType.INTEGER: edge.PayloadSchemaType.Integer,
            qm.PayloadSchemaType.BOOL: edge.PayloadSchemaType.Integer,  # see the module's doc
            qm.PayloadSchemaType.FLOAT: edge.PayloadSchemaType.Float,
        }
        self._update(
            collection, edge.UpdateOperation.create_field_index(field_name, kinds[field_schema])
        )

    # -- points ----------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[qm.PointStruct], wait: bool = True) -> None:
        converted = [
            edge.Point(
                id=str(point.id), vector=_vectors(point.vector), payload=_payload(point.payload)
            )
            for point in points
        ]
        self._update(collection, edge.UpdateOperation.upsert_points(converted))

    def update_vectors(
        self, collection: str, points: Sequence[qm.PointVectors], wait: bool = True
    ) -> None:
        converted = [
            edge.PointVectors(id=str(point.id), vector=_vectors(point.vector)) for point in points
        ]
        self._update(collection, edge.UpdateOperation.update_vectors(converted))

    def set_payload(
        self,
        collection: str,
        payload: dict[str, Any],
        points: Sequence[str | int],
        wait: bool = True,
    ) -> None:
        ids: list[Any] = [str(point_id) for point_id in points]
        self._update(collection, edge.UpdateOperation.set_payload(ids, _payload(payload)))

    def delete(
        self,
        collection: str,
        points_selector: qm.FilterSelector | qm.PointIdsList,
        wait: bool = True,
    ) -> None:
        if isinstance(points_selector, qm.FilterSelector):
            selector = _filter(points_selector.filter)
            if selector is None:
                raise ValueError("deleting by filter needs a filter")
            operation = edge.UpdateOperation.delete_points_by_filter(selector)
        else:
            ids: list[Any] = [str(point_id) for point_id in points_selector.points]
            operation = edge.UpdateOperation.delete_points(ids)
        self._update(collection, operation)

    def retrieve(
        self,
        collection: str,
        ids: Sequence[str | int],
        *,
        with_payload: bool | list[str] = True,
        with_vectors: bool | list[str] = False,
    ) -> list[qm.Record]:
        records = self._shard(collection).retrieve(
            [str(point_id) for point_id in ids], _payload_selector(with_payload), with_vectors
        )
        return [_record(record) for record in records]

    def scroll(
        self,
        collection: str,
        *,
        scroll_filter: qm.Filter | None = None,
        limit: int = 10,
        offset: str | int | None = None,
        with_payload: bool | list[str] = True,
        with_vectors: bool | list[str] = False,
    ) -> tuple[list[qm.Record], str | None]:
        request = edge.ScrollRequest(
            offset=None if offset is None else str(offset),
            limit=limit,
            filter=_filter(scroll_filter),
            with_payload=_payload_selector(with_payload),
            with_vector=with_vectors,
        )
        records, next_offset = self._shard(collection).scroll(request)
        return [_record(record) for record in records], (
            None if next_offset is None else str(next_offset)
        )

    def count(
        self, collection: str, count_filter: qm.Filter | None = None, exact: bool = True
    ) -> _Count:
        request = edge.CountRequest(exact=exact, filter=_filter(count_filter))
        return _Count(int(self._shard(collection).count(request)))

    def facet(self, collection: str, key: str, *, limit: int = 10, exact: bool = False) -> _Facets:
        response = self._shard(collection).facet(
            edge.FacetRequest(key=key, limit=limit, exact=exact)
        )
        return _Facets([_FacetHit(hit.value, int(hit.count)) for hit in response.hits])

    def query_batch_points(
        self, collection: str, requests: Sequence[qm.QueryRequest]
    ) -> list[_Response]:
        batch = edge.QueryBatchRequest([_query(request) for request in requests])
        results = self._shard(collection).query_batch(batch)
        return [_Response([_scored(point) for point in points]) for points in results]

    def close(self) -> None:
        with self._lock:
            shards, self._shards = list(self._shards.values()), {}
        for shard in shards:
            shard.flush()
            shard.close()
        if self._temporary is not None:
            self._temporary.cleanup()

    # -- internals -------------------------------------------------------------------------

    def _folder(self, collection: str) -> Path:
        return self.root / collection

    def _shard(self, collection: str) -> edge.EdgeShard:
        with self._lock:
            shard = self._shards.get(collection)
            if shard is None:
                if not self.collection_exists(collection):
                    raise ValueError(f"collection {collection} not found")
                shard = edge.EdgeShard.load(str(self._folder(collection) / "shard"))
                self._shards[collection] = shard
            return shard

    def _update(self, collection: str, operation: Any) -> None:
        self._shard(collection).update(operation)


def _distance(distance: qm.Distance) -> Any:
    return {
        qm.Distance.COSINE: edge.Distance.Cosine,
        qm.Distance.DOT: edge.Distance.Dot,
        qm.Distance.EUCLID: edge.Distance.Euclid,
        qm.Distance.MANHATTAN: edge.Distance.Manhattan,
    }[distance]


def _vectors(vector: Any) -> dict[str, Any]:
    """qdrant-client named vectors as Edge's: dense lists stay, sparse vectors convert."""
    if not isinstance(vector, dict):
        raise ValueError("the embedded engine stores named vectors only")
    return {
        name: edge.SparseVector(indices=list(value.indices), values=list(value.values))
        if isinstance(value, qm.SparseVector)
        else list(value)
        for name, value in vector.items()
    }


def _payload(payload: dict[str, Any] | None) -> dict[str, Any]:
    """The payload as stored: top-level booleans as 0 and 1 (see the module's doc)."""
    return {
        key: int(value) if isinstance(value, bool) else value
        for key, value in (payload or {}).items()
    }


def _payload_selector(with_payload: bool | list[str] | None) -> Any:
    if isinstance(with_payload, list):
        return edge.PayloadSelector.Include(with_payload)
    return bool(with_payload)


def _filter(selector: qm.Filter | None) -> edge.Filter | None:
    if selector is None:
        return None

    def conditions(items: Any) -> list[Any] | None:
        if items is None:
            return None
        items = items if isinstance(items, list) else [items]
        return [_condition(item) for item in items]

    return edge.Filter(
        must=conditions(selector.must),
        should=conditions(selector.should),
        must_not=conditions(selector.must_not),
    )


def _condition(condition: Any) -> Any:
    if isinstance(condition, qm.Filter):
        return _filter(condition)
    if isinstance(condition, qm.HasIdCondition):
        return edge.HasIdCondition(point_ids={str(point_id) for point_id in condition.has_id})
    if isinstance(condition, qm.IsEmptyCondition):
        return edge.IsEmptyCondition(key=condition.is_empty.key)
    if isinstance(condition, qm.IsNullCondition):
        return edge.IsNullCondition(key=condition.is_null.key)
    if isinstance(condition, qm.FieldCondition):
        if condition.match is not None:
            return edge.FieldCondition(key=condition.key, match=_match(condition.match))
        if condition.range is not None:
            bounds: Any = condition.range  # numbers: the payload's dates are day numbers
            return edge.FieldCondition(
                key=condition.key,
                range=edge.RangeFloat(gte=bounds.gte, gt=bounds.gt, lte=bounds.lte, lt=bounds.lt),
            )
    raise ValueError(f"condition not supported by the embedded engine: {condition!r}")


def _match(match: Any) -> Any:
    if isinstance(match, qm.MatchValue):
        value = match.value
        return edge.MatchValue(int(value) if isinstance(value, bool) else value)
    if isinstance(match, qm.MatchAny):
        return edge.MatchAny(list(match.any))  # type: ignore[arg-type]
    if isinstance(match, qm.MatchExcept):
        return edge.MatchExcept(list(match.except_))  # type: ignore[arg-type]
    raise ValueError(f"match not supported by the embedded engine: {match!r}")


def _query(request: qm.QueryRequest) -> edge.QueryRequest:
    query = request.query
    if isinstance(query, qm.SparseVector):
        vector: Any = edge.SparseVector(indices=list(query.indices), values=list(query.values))
    elif isinstance(query, list):
        vector = query
    else:
        raise ValueError(f"query not supported by the embedded engine: {query!r}")
    return edge.QueryRequest(
        limit=request.limit or 10,
        query=edge.Query.Nearest(vector, using=request.using),
        filter=_filter(request.filter),
        with_payload=_payload_selector(request.with_payload),  # type: ignore[arg-type]
    )


def _point_id(value: Any) -> str | int:
    return value if isinstance(value, int) else str(value)


def _vector_out(vector: Any) -> Any:
    if not isinstance(vector, dict):
        return vector
    return {
        name: qm.SparseVector(indices=list(value.indices), values=list(value.values))
        if isinstance(value, edge.SparseVector)
        else list(value)
        for name, value in vector.items()
    }


def _record(record: Any) -> qm.Record:
    return qm.Record(
        id=_point_id(record.id), payload=record.payload, vector=_vector_out(record.vector)
    )


def _scored(point: Any) -> qm.ScoredPoint:
    return qm.ScoredPoint(
        id=_point_id(point.id),
        version=int(point.version or 0),
        score=float(point.score),
        payload=point.payload,
        vector=_vector_out(point.vector),
    )


def copy_index(source: Path, target: Path, *, skip: tuple[str, ...] = ()) -> None:
    """Copy an embedded index folder, keeping the engine's preallocated files sparse.

    The engine preallocates its write-ahead log and storage pages (32 MB each) as sparse
    files: a 5 MB index takes 220 MB once copied byte for byte (``shutil.copytree``). Blocks of
    zeros are skipped here, so the copy takes the room of the original. ``skip``: file name
    patterns left out (a lock file).
    """
    ignore = shutil.ignore_patterns(*skip) if skip else None
    shutil.copytree(source, target, ignore=ignore, copy_function=_copy_sparse)


def _copy_sparse(source: str, target: str) -> None:
    block_size = 4096  # a file-system block: the engine writes a few at the start of each file
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while block := reader.read(block_size):
            if block.strip(b"\0"):
                writer.write(block)
            else:
                writer.seek(len(block), 1)  # a hole: nothing written
        writer.truncate()
    shutil.copystat(source, target)
