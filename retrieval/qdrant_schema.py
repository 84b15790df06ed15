"""What a point of the knowledge-base collection holds: its vectors, its payload, its filters.

This is the on-disk format of the index: an index built by an earlier version is read as is, so
the names below (vectors, payload fields) never change without a rebuild.

* Vectors: a named dense vector :data:`DENSE` (cosine) and a named sparse vector :data:`SPARSE`
  (BM25, whose IDF Qdrant computes). Every point has a BM25 vector; a dense vector only when the
  indexer wants one for it (``wants_dense``) and has computed it (``has_dense``).
* Payload: the chunk's fields (:func:`chunk_payload`, read back by :func:`payload_chunk`), the
  two flags above and the validity dates of :mod:`retrieval.validity`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qdrant_client import models as qm

from retrieval.sparse import SparseVec
from retrieval.types import Chunk
from retrieval.validity import payload_fields

DENSE = "dense"
SPARSE = "bm25"
#: Payload fields of a document listing (:meth:`QdrantStore.document_heads`): all but the text.
HEAD_FIELDS = [
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
#: Payload indexes of a Qdrant server and of the embedded engine (local mode has none).
PAYLOAD_INDEXES = (
    ("tenant_id", qm.PayloadSchemaType.KEYWORD),
    ("document_id", qm.PayloadSchemaType.KEYWORD),
    ("ordinal", qm.PayloadSchemaType.INTEGER),
    ("has_dense", qm.PayloadSchemaType.BOOL),
    ("wants_dense", qm.PayloadSchemaType.BOOL),
    # The validity filter of every query (retrieval/validity.py): unindexed, it made the engine
    # read every point's payload.
    ("valid_from_day", qm.PayloadSchemaType.INTEGER),
    ("valid_until_day", qm.PayloadSchemaType.INTEGER),
)


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


def chunk_points(
    chunks: Sequence[Chunk],
    dense: np.ndarray | Sequence[np.ndarray | None] | None,
    sparse: Sequence[SparseVec],
    wants_dense: Sequence[bool],
) -> list[qm.PointStruct]:
    """One point per chunk, with its BM25 vector and, where computed, its dense vector."""
    points = []
    for index, chunk in enumerate(chunks):
        vector: dict[str, Any] = {
            SPARSE: qm.SparseVector(indices=sparse[index].indices, values=sparse[index].values)
        }
        row = None if dense is None else dense[index]
        if row is not None:
            vector[DENSE] = np.asarray(row, dtype=np.float32).tolist()
        payload = chunk_payload(chunk, has_dense=row is not None, wants_dense=wants_dense[index])
        points.append(qm.PointStruct(id=chunk.id, vector=vector, payload=payload))
    return points


def stored_dense_vectors(records: Sequence[qm.Record]) -> dict[str, tuple[Chunk, np.ndarray]]:
    """The chunk and dense vector of each record retrieved with its payload and dense vector,
    keeping only those that have one."""
    found: dict[str, tuple[Chunk, np.ndarray]] = {}
    for record in records:
        vectors = record.vector if isinstance(record.vector, dict) else {}
        if (record.payload or {}).get("has_dense") and vectors.get(DENSE) is not None:
            chunk = payload_chunk(str(record.id), record.payload or {})
            found[str(record.id)] = (chunk, np.asarray(vectors[DENSE], dtype=np.float32))
    return found


def match(key: str, value: str | int | bool) -> qm.FieldCondition:
    """The condition ``payload[key] == value``."""
    return qm.FieldCondition(key=key, match=qm.MatchValue(value=value))


def match_any(key: str, values: Sequence[str]) -> qm.FieldCondition:
    """The condition ``payload[key] in values``."""
    return qm.FieldCondition(key=key, match=qm.MatchAny(any=list(values)))


#: Points that should have a dense vector and have none yet.
PENDING = qm.Filter(must=[match("wants_dense", True), match("has_dense", False)])
