"""The quality gate: routing and retrieval stay above eval/thresholds.json, and it can fail.

Routing runs the product's classifier on its held-out split; retrieval runs the shipped
questions whose documents the test index holds through the real hybrid search. Each gate is
also shown failing on a degraded configuration, so a threshold can never silently be one that
nothing falls below.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from contact_center.settings import Settings
from eval.configs import EvalConfig, RetrievalMode
from eval.datasets import RetrievalExample
from eval.gate import check_gate, load_gate
from eval.loading import load_examples
from eval.results import EvalResult
from eval.retrieval_runner import evaluate_retrieval, open_retriever
from eval.routing_runner import build_routing_classifier, evaluate_routing, routing_embeddings_of
from knowledge_base.documents import Document
from retrieval.embeddings import Embedder, build_embedder
from retrieval.qdrant_edge import copy_index
from retrieval.testing import FakeEmbedder
from routing.classifier import TRAINING_EXAMPLES_PATH, RequestClassifier, build_classifier
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def routing_result() -> EvalResult:
    """The product's classifier (cached in the models folder) on the held-out split."""
    settings = Settings()
    encoder = build_embedder(routing_embeddings_of(settings))
    encoder.warm_up()
    examples, name = load_examples("routing", None)
    return evaluate_routing(build_routing_classifier(settings, encoder), examples, dataset=name)


def test_routing_passes_its_gate(routing_result: EvalResult) -> None:
    failures = check_gate(routing_result.metrics, load_gate("routing_heldout"))
    assert not failures, "\n".join(map(str, failures))


def test_routing_gate_fails_a_classifier_trained_on_too_few_examples(
    tmp_path: Path, routing_result: EvalResult
) -> None:
    rows = [json.loads(line) for line in TRAINING_EXAMPLES_PATH.read_text().splitlines() if line]
    few, kept = [], Counter[str]()
    for row in rows:
        if kept[row["service"]] < 2:
            few.append(row)
            kept[row["service"]] += 1
    examples_path = tmp_path / "few.jsonl"
    examples_path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in few))
    settings = Settings()
    encoder = build_embedder(routing_embeddings_of(settings))
    encoder.warm_up()
    weak: RequestClassifier = build_classifier(encoder, tmp_path, examples_path=examples_path)
    examples, _ = load_examples("routing", None)
    degraded = evaluate_routing(weak, examples)

    failed = {f.metric for f in check_gate(degraded.metrics, load_gate("routing_heldout"))}
    assert {"accuracy", "macro_f1"} <= failed
    assert degraded.metrics["accuracy"] < routing_result.metrics["accuracy"]  # type: ignore[operator]


@pytest.fixture
def gate_examples(test_documents: list[Document]) -> list[RetrievalExample]:
    """The shipped questions the test index can answer, and every question to abstain on."""
    indexed = {document.id for document in test_documents}
    examples, _ = load_examples("retrieval", None)
    return [e for e in examples if e.expect == "abstain" or set(e.relevant) & indexed]


@pytest.fixture
def index_settings(tmp_path: Path, indexed_qdrant: Path) -> Iterator[Settings]:
    copy_index(indexed_qdrant, tmp_path / "qdrant")
    yield make_settings(tmp_path)


def _retrieval(
    settings: Settings, embedder: Embedder, examples: list[RetrievalExample], mode: RetrievalMode
) -> EvalResult:
    with open_retriever(EvalConfig("gate", settings, mode), embedder) as retriever:
        return evaluate_retrieval(
            retriever, examples, min_relevance=settings.retrieval.min_relevance
        )


def test_retrieval_passes_its_gate(
    index_settings: Settings, embedder: Embedder, gate_examples: list[RetrievalExample]
) -> None:
    result = _retrieval(index_settings, embedder, gate_examples, "hybrid")

    assert result.metrics["answerable"] >= 40 and result.metrics["questions"] >= 60
    failures = check_gate(result.metrics, load_gate("retrieval_test_index"))
    assert not failures, "\n".join(map(str, failures))


def test_retrieval_gate_fails_when_queries_are_embedded_by_another_model(
    index_settings: Settings, embedder: Embedder, gate_examples: list[RetrievalExample]
) -> None:
    # A change of embedding model without re-indexing: the query vectors mean nothing.
    wrong = FakeEmbedder(embedder.dimension)
    for mode in ("dense", "hybrid"):
        result = _retrieval(index_settings, wrong, gate_examples, mode)  # type: ignore[arg-type]
        failed = {f.metric for f in check_gate(result.metrics, load_gate("retrieval_test_index"))}
        assert {"recall@5", "mrr"} <= failed, mode
