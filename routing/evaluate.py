"""How well the request classifier routes: quality, calibration, triage and latency.

:func:`evaluate` classifies labelled examples one at a time (as in a live conversation, after a
warm-up) and reports accuracy, macro-F1, per-class F1, the most frequent confusions, the expected
calibration error of the confidences, the triage rate and the latency per request.
:func:`threshold_table` and :func:`tune_threshold` show and pick the triage threshold.
``bench/bench_routing.py`` prints all of it for ``routing/data/heldout.jsonl``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from routing.classifier import LabelledExample, RequestClassifier, RouteDecision
from routing.service_definitions import SERVICE_CODES

#: Thresholds that :func:`tune_threshold` considers.
CANDIDATE_THRESHOLDS: tuple[float, ...] = tuple(round(0.2 + 0.05 * i, 2) for i in range(13))


@dataclass(frozen=True)
class EvaluationReport:
    """Routing quality on a labelled set.

    Attributes:
        count: Number of examples.
        accuracy: Share whose best service is right (triage ignored).
        macro_f1: Unweighted mean of the per-class F1 over :data:`SERVICE_CODES`.
        per_class_f1: F1 of each service code.
        confusions: ``(expected, predicted, count)``, most frequent first.
        ece: Expected calibration error of the confidences (10 equal-width bins).
        triage_rate: Share of decisions that need triage.
        routed_accuracy: Accuracy on the decisions that do not need triage.
        latency_median_ms: Median time of one ``classify`` call.
        latency_p95_ms: 95th percentile of that time.
    """

    count: int
    accuracy: float
    macro_f1: float
    per_class_f1: dict[str, float]
    confusions: list[tuple[str, str, int]]
    ece: float
    triage_rate: float
    routed_accuracy: float
    latency_median_ms: float
    latency_p95_ms: float


@dataclass(frozen=True)
class ThresholdRow:
    """What one triage threshold would give on a labelled set."""

    threshold: float
    coverage: float
    routed_accuracy: float
    utility: float


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width confidence bins."""
    conf = np.asarray(confidences, dtype=float)
    hits = np.asarray(correct, dtype=float)
    if conf.size == 0:
        return 0.0
    which = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(conf[mask].mean() - hits[mask].mean())
    return float(total)


def classify_all(
    classifier: RequestClassifier, examples: Sequence[LabelledExample], warmup: int = 3
) -> tuple[list[RouteDecision], list[float]]:
    """Decisions for ``examples``, one call each, and each call's duration in milliseconds."""
    for example in examples[:warmup]:
        classifier.classify(example.text)
    decisions, latencies = [], []
    for example in examples:
        started = time.perf_counter()
        decisions.append(classifier.classify(example.text))
        latencies.append((time.perf_counter() - started) * 1000.0)
    return decisions, latencies


def per_class_f1(
    expected: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, float]:
    """F1 of each label: ``F1_c = 2·TP_c / (2·TP_c + FP_c + FN_c)``.

    That is ``2PR / (P + R)``, and 0 when the label is never predicted correctly (also when it
    is neither expected nor predicted).

    Args:
        expected: The right label of each example.
        predicted: The predicted label of each example.
        labels: The labels to score, in this order; by default those expected or predicted,
            sorted.

    Raises:
        ValueError: ``expected`` and ``predicted`` differ in length.
    """
    if len(expected) != len(predicted):
        raise ValueError(f"{len(expected)} gold labels for {len(predicted)} predictions")
    pairs = list(zip(expected, predicted, strict=True))
    scores = {}
    for label in sorted(set(expected) | set(predicted)) if labels is None else labels:
        tp = sum(1 for e, p in pairs if e == p == label)
        fp = sum(1 for e, p in pairs if p == label != e)
        fn = sum(1 for e, p in pairs if e == label != p)
        scores[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return scores


def macro_f1(
    expected: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> float:
    """Unweighted mean of :func:`per_class_f1` over ``labels`` (0.0 when there is none).

    By default the labels are those expected or predicted, so a label absent from both does
    not count; :func:`evaluate` scores every canonical service code instead.

    Raises:
        ValueError: ``expected`` and ``predicted`` differ in length.
    """
    scores = per_class_f1(expected, predicted, labels)
    return sum(scores.values()) / len(scores) if scores else 0.0


def evaluate(
    classifier: RequestClassifier, examples: Sequence[LabelledExample], warmup: int = 3
) -> EvaluationReport:
    """Classify every example once and measure quality, calibration and latency."""
    decisions, latencies = classify_all(classifier, examples, warmup)
    expected = [e.service for e in examples]
    predicted = [d.service for d in decisions]
    correct = [e == p for e, p in zip(expected, predicted, strict=True)]
    routed = [ok for ok, d in zip(correct, decisions, strict=True) if not d.needs_triage]
    f1 = per_class_f1(expected, predicted, SERVICE_CODES)
    confusions = Counter((e, p) for e, p in zip(expected, predicted, strict=True) if e != p)
    return EvaluationReport(
        count=len(examples),
        accuracy=float(np.mean(correct)) if correct else 0.0,
        macro_f1=macro_f1(expected, predicted, SERVICE_CODES),
        per_class_f1=f1,
        confusions=[(e, p, n) for (e, p), n in confusions.most_common()],
        ece=expected_calibration_error([d.confidence for d in decisions], correct),
        triage_rate=1.0 - len(routed) / len(decisions) if decisions else 0.0,
        routed_accuracy=float(np.mean(routed)) if routed else 0.0,
        latency_median_ms=float(np.median(latencies)) if latencies else 0.0,
        latency_p95_ms=float(np.percentile(latencies, 95)) if latencies else 0.0,
    )


def threshold_table(
    decisions: Sequence[RouteDecision],
    examples: Sequence[LabelledExample],
    thresholds: Sequence[float] = CANDIDATE_THRESHOLDS,
    misroute_cost: float = 1.0,
) -> list[ThresholdRow]:
    """Coverage, routed accuracy and utility of each candidate threshold.

    Utility per request: +1 routed to the right service, ``-misroute_cost`` routed to a wrong
    one, 0 sent to triage (an agent then spends a moment choosing).
    """
    rows = []
    for threshold in thresholds:
        routed = [
            d.service == e.service
            for d, e in zip(decisions, examples, strict=True)
            if d.confidence >= threshold
        ]
        hits = sum(routed)
        utility = (hits - misroute_cost * (len(routed) - hits)) / max(len(decisions), 1)
        rows.append(
            ThresholdRow(
                threshold=float(threshold),
                coverage=len(routed) / max(len(decisions), 1),
                routed_accuracy=hits / len(routed) if routed else 0.0,
                utility=utility,
            )
        )
    return rows


def tune_threshold(
    decisions: Sequence[RouteDecision],
    examples: Sequence[LabelledExample],
    misroute_cost: float = 1.0,
) -> float:
    """The threshold of :func:`threshold_table` with the best utility (the lowest on ties)."""
    rows = threshold_table(decisions, examples, misroute_cost=misroute_cost)
    return max(rows, key=lambda row: (round(row.utility, 9), -row.threshold)).threshold


def format_report(report: EvaluationReport) -> str:
    """A plain-text summary for the benchmark and for logs of an evaluation run."""
    lines = [
        f"examples            {report.count}",
        f"accuracy            {report.accuracy:.3f}",
        f"macro-F1            {report.macro_f1:.3f}",
        f"ECE (10 bins)       {report.ece:.3f}",
        f"triage rate         {report.triage_rate:.3f}",
        f"routed accuracy     {report.routed_accuracy:.3f}",
        f"latency median/p95  {report.latency_median_ms:.1f} / {report.latency_p95_ms:.1f} ms",
        "per-class F1:",
    ]
    lines += [f"  {code:<22} {score:.3f}" for code, score in report.per_class_f1.items()]
    lines.append("confusions (expected -> predicted: count):")
    lines += [f"  {e} -> {p}: {n}" for e, p, n in report.confusions[:10]]
    return "\n".join(lines)
