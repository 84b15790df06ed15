"""Retrieval evaluation: run a dataset's questions through the real hybrid search.

Document-level metrics (recall@k, MRR, nDCG@10, see :mod:`eval.metrics`) over the questions
that name relevant documents, on the documents of the ``top_k`` best passages (by default
``retrieval.candidates``, 40: the search groups passages by document, so 10 passages may
hold only 3 documents), and the abstention decisions of the relevance threshold
(``retrieval.min_relevance``) over answerable and out-of-scope questions. A question without a
``tenant`` is searched as ``default_tenant`` (the commune's documents and the national fiches).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from tqdm import tqdm

from eval.configs import EvalConfig
from eval.datasets import RetrievalExample
from eval.metrics import first_relevant_rank, mrr, ndcg_at_k, recall_at_k, unique_ids
from eval.results import EvalResult, Metric, ratio
from retrieval.embeddings import Embedder
from retrieval.hybrid import HybridRetriever

#: Cut-offs of the recall@k curve in the report.
CURVE_KS: tuple[int, ...] = tuple(range(1, 11))


def evaluate_retrieval(
    retriever: HybridRetriever,
    examples: Sequence[RetrievalExample],
    *,
    default_tenant: str = "demo",
    min_relevance: float,
    top_k: int | None = None,
    progress: bool = False,
    dataset: str = "",
    config: str = "default",
) -> EvalResult:
    """Search every question once and score the rankings and the abstention decisions.

    Args:
        retriever: The real hybrid search (see :func:`open_retriever`).
        examples: Questions with their relevant documents and expected behaviour.
        default_tenant: Commune of the questions without ``tenant``.
        min_relevance: The abstention threshold.
        top_k: Passages per search (default: ``retrieval.candidates`` of its settings).
        progress: Show a progress bar on stderr.
        dataset: Dataset name, for the result.
        config: Configuration label, for the result.
    """
    top_k = top_k or retriever.settings.candidates
    rankings: list[list[str]] = []
    relevants: list[set[str]] = []
    expected: list[str] = []
    abstained: list[bool] = []
    result = EvalResult(kind="retrieval", dataset=dataset, config=config)
    search_ms = result.latencies_ms.setdefault("search", [])
    for example in tqdm(examples, desc="retrieval", unit="q", disable=not progress):
        tenant = example.tenant or default_tenant
        started = time.perf_counter()
        found = retriever.search(example.question, tenant, top_k)
        search_ms.append((time.perf_counter() - started) * 1000)
        ranking = unique_ids(s.chunk.document_id for s in found.chunks)
        abstains = not found.chunks or found.relevance < min_relevance
        expected.append(example.expect)
        abstained.append(abstains)
        if example.relevant:
            rankings.append(ranking)
            relevants.append(set(example.relevant))
        result.details.append(
            {
                "question": example.question,
                "tenant": tenant,
                "expect": example.expect,
                "kind": example.kind,
                "relevant": list(example.relevant),
                "rank": first_relevant_rank(ranking, example.relevant)
                if example.relevant
                else None,
                "top": ranking[:3],
                "relevance": round(found.relevance, 3),
                "abstained": abstains,
            }
        )
    result.metrics = _metrics(rankings, relevants, expected, abstained, min_relevance)
    result.figures["recall_curve"] = {k: recall_at_k(rankings, relevants, k) for k in CURVE_KS}
    return result


def _metrics(
    rankings: list[list[str]],
    relevants: list[set[str]],
    expected: list[str],
    abstained: list[bool],
    min_relevance: float,
) -> dict[str, Metric]:
    answer = [a for e, a in zip(expected, abstained, strict=True) if e == "answer"]
    abstain = [a for e, a in zip(expected, abstained, strict=True) if e == "abstain"]
    decided = len(answer) + len(abstain)
    correct = answer.count(False) + abstain.count(True)
    return {
        "questions": len(expected),
        "answerable": len(rankings),
        "recall@1": recall_at_k(rankings, relevants, 1),
        "recall@3": recall_at_k(rankings, relevants, 3),
        "recall@5": recall_at_k(rankings, relevants, 5),
        "recall@10": recall_at_k(rankings, relevants, 10),
        "mrr": mrr(rankings, relevants),
        "ndcg@10": ndcg_at_k(rankings, relevants, 10),
        # The relevance threshold's decisions: answer the answerable, abstain on the rest.
        "abstention_accuracy": ratio(correct, decided),
        "answered_in_scope": ratio(answer.count(False), len(answer)),
        "abstained_out_of_scope": ratio(abstain.count(True), len(abstain)),
        "min_relevance": min_relevance,
    }


@contextmanager
def open_retriever(
    config: EvalConfig, embedder: Embedder | None = None
) -> Iterator[HybridRetriever]:
    """The configuration's retriever over its index (checked first), closed afterwards.

    Args:
        config: The configuration; its ``retrieval_mode`` switches the dense or BM25 search off.
        embedder: An embedder already loaded (tests share one); built from the settings
            otherwise.
    """
    from eval.index import check_index
    from retrieval.embeddings import build_embedder
    from retrieval.qdrant_store import QdrantStore
    from retrieval.sparse import FrenchSparseEncoder

    settings = config.settings
    if embedder is None:
        embedder = build_embedder(settings.embeddings)
        embedder.warm_up()
    check_index(settings, embedder)
    store = QdrantStore(settings.qdrant, settings.qdrant_path, embedder.dimension)
    try:
        yield HybridRetriever(
            store,
            embedder,
            FrenchSparseEncoder(),
            settings.retrieval,
            use_dense=config.retrieval_mode != "sparse",
            use_sparse=config.retrieval_mode != "dense",
        )
    finally:
        store.close()
