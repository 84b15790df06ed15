"""Retrieval evaluation: run a dataset's questions through the real hybrid search.

Document-level metrics (recall@k, MRR, nDCG@10) over the answerable questions, and the
abstention accuracy of the relevance threshold over answerable and out-of-scope ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval.datasets import RetrievalExample
from eval.metrics import mrr, ndcg_at_k, recall_at_k
from retrieval.hybrid import HybridRetriever


def evaluate_retrieval(
    retriever: HybridRetriever,
    examples: Sequence[RetrievalExample],
    *,
    default_tenant: str = "demo",
    min_relevance: float,
    top_k: int = 10,
) -> dict[str, Any]:
    """Metrics of ``retriever`` on ``examples`` (one search per question)."""
    rankings: list[list[str]] = []
    relevants: list[set[str]] = []
    abstention_hits = abstention_total = 0
    for example in examples:
        result = retriever.search(example.question, example.tenant or default_tenant, top_k)
        abstains = not result.chunks or result.relevance < min_relevance
        if example.expect in ("answer", "abstain"):
            abstention_total += 1
            abstention_hits += abstains == (example.expect == "abstain")
        if example.relevant:
            rankings.append([s.chunk.document_id for s in result.chunks])
            relevants.append(set(example.relevant))
    return {
        "questions": len(examples),
        "answerable": len(rankings),
        "recall@1": recall_at_k(rankings, relevants, 1),
        "recall@5": recall_at_k(rankings, relevants, 5),
        "recall@10": recall_at_k(rankings, relevants, 10),
        "mrr": mrr(rankings, relevants),
        "ndcg@10": ndcg_at_k(rankings, relevants, 10),
        "abstention_accuracy": abstention_hits / abstention_total if abstention_total else 0.0,
    }
