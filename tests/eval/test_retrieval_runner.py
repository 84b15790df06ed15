"""The retrieval evaluation runs real searches and scores them."""

from __future__ import annotations

from pathlib import Path

from eval.datasets import RetrievalExample
from eval.retrieval_runner import evaluate_retrieval
from retrieval.embeddings import Embedder
from retrieval.hybrid import HybridRetriever
from retrieval.qdrant_edge import copy_index
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import QdrantSection, RetrievalSection
from retrieval.sparse import FrenchSparseEncoder


def test_metrics_of_a_small_dataset_on_the_real_index(
    tmp_path: Path, indexed_qdrant: Path, embedder: Embedder
) -> None:
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    store = QdrantStore(QdrantSection(), tmp_path / "qdrant", embedder.dimension)
    settings = RetrievalSection()
    retriever = HybridRetriever(store, embedder, FrenchSparseEncoder(), settings)
    examples = [
        RetrievalExample(
            question="J'ai perdu ma carte d'identité, que faire ?",
            relevant=("F1344",),
            expect="answer",
        ),
        RetrievalExample(
            question="Quelle est la recette de la blanquette de veau ?",
            relevant=(),
            expect="abstain",
        ),
        RetrievalExample(question="Comment se pacser ?", relevant=("F99999",), expect="answer"),
    ]
    result = evaluate_retrieval(retriever, examples, min_relevance=settings.min_relevance)
    store.close()
    metrics = result.metrics
    assert metrics["answerable"] == 2
    assert metrics["recall@10"] == 0.5  # F1344 found; the made-up F99999 cannot be
    assert metrics["recall@1"] == 0.5
    assert metrics["mrr"] == 0.5  # 1/1 for F1344, 0 for F99999
    assert metrics["abstained_out_of_scope"] == 1.0
    assert result.figures["recall_curve"][1] == 0.5
    assert len(result.latencies_ms["search"]) == 3
    first = result.details[0]
    assert (first["rank"], first["top"][0], first["abstained"]) == (1, "F1344", False)
