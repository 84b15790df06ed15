"""Routing evaluation: which municipal service the request classifier picks for each text.

Accuracy, macro-F1 (over the services seen in the dataset or predicted), the confusion matrix,
the calibration of the confidences (ECE; both from :mod:`routing.evaluate`), the
triage rate and the latency of one classification. The default dataset is the classifier's
held-out split (``routing/data/heldout.jsonl``), never used for training.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from eval.metrics import accuracy, confusion_matrix
from eval.results import EvalResult, ratio
from routing.classifier import LabelledExample
from routing.evaluate import expected_calibration_error, macro_f1
from routing.service_definitions import SERVICE_CODES


def evaluate_routing(
    classifier: Any,
    examples: Sequence[LabelledExample],
    *,
    progress: bool = False,
    dataset: str = "",
    config: str = "default",
) -> EvalResult:
    """Classify every example once (after one warm-up call) and score the decisions.

    Args:
        classifier: A :class:`routing.classifier.RequestClassifier` (``classify(text)``).
        examples: Texts with their expected service code.
        progress: Show a progress bar on stderr.
        dataset: Dataset name, for the result.
        config: Configuration label, for the result.
    """
    result = EvalResult(kind="routing", dataset=dataset, config=config)
    if examples:
        classifier.classify(examples[0].text)  # the first call pays one-off set-up costs
    timings = result.latencies_ms.setdefault("classify", [])
    decisions = []
    for example in tqdm(examples, desc="routing", unit="text", disable=not progress):
        started = time.perf_counter()
        decisions.append(classifier.classify(example.text))
        timings.append((time.perf_counter() - started) * 1000)
    gold = [example.service for example in examples]
    predicted = [decision.service for decision in decisions]
    correct = [g == p for g, p in zip(gold, predicted, strict=True)]
    routed = [ok for ok, d in zip(correct, decisions, strict=True) if not d.needs_triage]
    matrix = confusion_matrix(gold, predicted)
    unknown = sorted(set(gold) - set(SERVICE_CODES))
    result.metrics = {
        "examples": len(examples),
        "accuracy": accuracy(gold, predicted),
        "macro_f1": macro_f1(gold, predicted),
        "ece": expected_calibration_error([d.confidence for d in decisions], correct),
        "triage_rate": ratio(len(decisions) - len(routed), len(decisions)),
        "routed_accuracy": ratio(sum(routed), len(routed)),
    }
    result.figures["confusion"] = {
        "labels": list(matrix.labels),
        "rows": [list(row) for row in matrix.rows],
    }
    result.details = [
        {
            "text": example.text,
            "expected": example.service,
            "predicted": decision.service,
            "confidence": round(decision.confidence, 3),
            "needs_triage": decision.needs_triage,
        }
        for example, decision in zip(examples, decisions, strict=True)
    ]
    if unknown:
        result.notes.append(f"service codes unknown to the catalogue: {', '.join(unknown)}")
    return result


def routing_embeddings_of(settings: Any) -> Any:
    """The classifier's own embedding settings, as the product picks them.

    The classifier may run on another encoder than retrieval (``routing.embedder_backend``);
    settings without a routing section use the retrieval encoder.
    """
    from contact_center import settings as settings_module

    pick = getattr(settings_module, "routing_embeddings", None)
    return pick(settings) if pick and hasattr(settings, "routing") else settings.embeddings


def build_routing_classifier(settings: Any, embedder: Any) -> Any:
    """The product's classifier for these settings (trained once, then cached).

    Args:
        settings: The configuration's settings.
        embedder: The classifier's encoder, loaded (see :func:`routing_embeddings_of`).
    """
    from routing.classifier import build_classifier

    routing = getattr(settings, "routing", None)
    if routing is not None and hasattr(routing, "threshold"):
        return build_classifier(embedder, settings.models.dir, threshold=routing.threshold)
    return build_classifier(embedder, settings.models.dir)
