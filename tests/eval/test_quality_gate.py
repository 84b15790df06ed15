"""The quality gates: routing, retrieval, answers and conversations stay above
eval/thresholds.json, and each can fail.

Routing runs the product's classifier on its held-out split; retrieval runs the shipped
questions whose documents the test index holds through the real hybrid search; answers run the
same questions through the conversation engine on the default answer path on CPU (extractive);
conversations play the shipped scenarios through the web-chat protocol of the app. Each gate is
also shown failing on a degraded configuration, so a threshold can never silently be one that
nothing falls below.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.conversation.answer_paths import AnswerPolicy
from contact_center.services import Services
from contact_center.settings import Settings
from contact_center.testing.unsourced import UnsourcedEngine
from eval.answers_runner import evaluate_answers
from eval.configs import EvalConfig, RetrievalMode
from eval.conversations_runner import evaluate_conversations
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


# -- answers and conversations, through the default (extractive) answer path ----------------


@pytest.fixture
def answer_services(
    index_settings: Settings, embedder: Embedder, request_classifier: RequestClassifier
) -> Iterator[Services]:
    """The product's services over the test index; ``make_settings`` leaves ``answer_mode``
    at ``auto`` with a local model, so answers are the official text's sentences, cited."""
    services = Services(index_settings, embedder=embedder, classifier=request_classifier)
    services.warm_up()
    policy = AnswerPolicy.from_settings(index_settings.retrieval, index_settings.llm)
    assert not policy.generate
    yield services
    asyncio.run(services.aclose())


def test_answers_pass_their_gate(
    answer_services: Services, gate_examples: list[RetrievalExample]
) -> None:
    result = evaluate_answers(answer_services, gate_examples)

    assert result.metrics["questions"] >= 60 and result.metrics["answered"] >= 35
    failures = check_gate(result.metrics, load_gate("answers_test_index"))
    assert not failures, "\n".join(map(str, failures))


def test_answers_gate_fails_answers_without_their_sources(
    answer_services: Services,
    gate_examples: list[RetrievalExample],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What a resident would read from a model that ignores the official text: no [n], and
    # figures that are not the text's (the product refuses such a rewording; the gate must too).
    monkeypatch.setattr(answer_services, "engine", UnsourcedEngine(answer_services.engine))
    result = evaluate_answers(answer_services, gate_examples)

    failed = {f.metric for f in check_gate(result.metrics, load_gate("answers_test_index"))}
    # Required facts that are figures (« 16 ans ») are lost too.
    assert {"citation_rate", "numbers_faithful", "required_facts"} <= failed


def _app_client(
    settings: Settings, embedder: Embedder, classifier: RequestClassifier
) -> TestClient:
    lifted = settings.chat.model_copy(
        update={"rate_limit_per_minute": 1_000_000, "rate_limit_burst": 1_000_000}
    )
    settings = settings.model_copy(update={"chat": lifted})
    services = Services(settings, embedder=embedder, classifier=classifier)
    return TestClient(create_app(services=services))


def test_conversations_pass_their_gate(
    index_settings: Settings, embedder: Embedder, request_classifier: RequestClassifier
) -> None:
    conversations, _ = load_examples("conversations", None)
    with _app_client(index_settings, embedder, request_classifier) as client:
        result = evaluate_conversations(client, conversations)

    assert result.metrics["unsupported_turns"] == 0  # hand-off and case filing are scored
    failures = check_gate(result.metrics, load_gate("conversations_test_index"))
    assert not failures, "\n".join(map(str, failures))


def test_conversations_gate_fails_without_the_service_public_fiches(
    tmp_path: Path, embedder: Embedder, request_classifier: RequestClassifier
) -> None:
    # A deployment whose index lost the national fiches: only the town's own pages, seeded at
    # start-up, remain, and the census question goes unanswered. The town's page still answers
    # the lost identity card, so five scenarios of six pass: the answers and turns gates fail.
    conversations, _ = load_examples("conversations", None)
    with _app_client(make_settings(tmp_path), embedder, request_classifier) as client:
        result = evaluate_conversations(client, conversations)

    failed = {f.metric for f in check_gate(result.metrics, load_gate("conversations_test_index"))}
    assert {"answer_pass_rate", "turn_pass_rate"} <= failed
