"""The hybrid query of the knowledge-base collection: its filters, its requests, its fusion.

A hybrid query runs the dense and the sparse search as one batch request and fuses the two
rankings client-side (:mod:`retrieval.fusion`) rather than with Qdrant's ``FusionQuery``: the
fusion works per document, which ranked the right fiche first far more often than chunk-level
RRF, and the fused list keeps each method's score (the abstention threshold and the explanation
records need the dense cosine). :meth:`~retrieval.qdrant_store.QdrantStore.query` sends the
requests built here and fuses the responses here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
from qdrant_client import models as qm

from retrieval.fusion import Hit, fuse
from retrieval.qdrant_schema import DENSE, SPARSE, match_any, payload_chunk
from retrieval.sparse import SparseVec
from retrieval.types import ScoredChunk

#: Weight of the dense ranking against 1 for BM25 in the fusion: 2 ranked best on the PIAF
#: questions and as well as 1 on the residents' questions (bench/bench_retrieval.py).
DENSE_WEIGHT = 2.0


def tenant_filter(tenant_ids: Sequence[str], present: set[str] | None) -> qm.Filter | None:
    """The filter on ``tenant_ids``, or none when no other tenant has points.

    Local mode evaluates a filter in Python on every point (about 0.35 s per search over the
    33k service-public chunks); a single-commune deployment never needs it.

    Args:
        tenant_ids: The tenants whose chunks may be returned.
        present: Every tenant with points (a superset is fine), or None when unknown.
    """
    if present is not None and present <= set(tenant_ids):
        return None
    return qm.Filter(must=[match_any("tenant_id", tenant_ids)])


def search_requests(
    dense_vec: np.ndarray | None,
    sparse_vec: SparseVec | None,
    selector: qm.Filter | None,
    limit: int,
) -> list[tuple[str, qm.QueryRequest]]:
    """One request per method that has a query vector, named by its vector (dense, BM25)."""
    requests: list[tuple[str, qm.QueryRequest]] = []
    if dense_vec is not None:
        dense_query = np.asarray(dense_vec, dtype=np.float32).tolist()
        requests.append((DENSE, _request(dense_query, DENSE, selector, limit)))
    if sparse_vec is not None and len(sparse_vec):
        sparse_query = qm.SparseVector(indices=sparse_vec.indices, values=sparse_vec.values)
        requests.append((SPARSE, _request(sparse_query, SPARSE, selector, limit)))
    return requests


def fuse_responses(
    requests: Sequence[tuple[str, qm.QueryRequest]],
    responses: Sequence[qm.QueryResponse],
    excluded: Collection[str],
    limit: int,
    dense_weight: float = DENSE_WEIGHT,
    tenant_weights: Mapping[str, float] | None = None,
) -> list[ScoredChunk]:
    """The fused list of at most ``limit`` chunks, without the ``excluded`` point ids.

    Each method's ranking keeps its first ``limit`` points once the excluded ones are dropped.
    """
    rankings = {
        name: [
            Hit(str(point.id), point.payload or {}, float(point.score))
            for point in response.points
            if str(point.id) not in excluded
        ][:limit]
        for (name, _), response in zip(requests, responses, strict=True)
    }
    weights = {DENSE: dense_weight, SPARSE: 1.0}
    return fuse(rankings, weights, limit, payload_chunk, tenant_weights)


def _request(
    query: list[float] | qm.SparseVector, using: str, selector: qm.Filter | None, limit: int
) -> qm.QueryRequest:
    return qm.QueryRequest(
        query=query, using=using, filter=selector, limit=limit, with_payload=True
    )
