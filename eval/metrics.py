"""Evaluation metrics: retrieval, classification, latency and energy.

Pure functions over plain Python values, with the formula in each docstring. The text metrics
(WER, CER, citations, faithfulness, must-mention) live in :mod:`eval.text_metrics` and are
re-exported here, so that ``eval.metrics`` is the one place a runner imports from; the routing
runner also takes macro-F1 and the calibration error from :mod:`routing.evaluate`, where the
classifier's own benchmark computes them.

Retrieval metrics are document-level: a ranking is the list of document ids of the returned
passages, best first; several passages of the same document count once, at the rank of the
first (:func:`unique_ids`). Questions with no relevant document (``expect="abstain"``) cannot
be scored and are left out of the mean; an empty dataset scores 0.0.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from eval.text_metrics import (
    NORMALIZERS,
    Normalizer,
    cer,
    citation_correctness,
    cited_passages,
    corpus_cer,
    corpus_wer,
    lexical_faithfulness,
    mentions_any,
    normalize_french,
    normalize_transcript,
    wer,
)

__all__ = [
    "NORMALIZERS",
    "DEFAULT_WATTS_PER_CORE",
    "ConfusionMatrix",
    "LatencySummary",
    "abstention_accuracy",
    "accuracy",
    "cer",
    "citation_correctness",
    "cited_passages",
    "confusion_matrix",
    "corpus_cer",
    "corpus_wer",
    "energy_wh",
    "energy_wh_per_answer",
    "first_relevant_rank",
    "lexical_faithfulness",
    "mentions_any",
    "mrr",
    "ndcg_at_k",
    "Normalizer",
    "normalize_french",
    "normalize_transcript",
    "percentile",
    "query_ndcg_at_k",
    "recall_at_k",
    "summarize_latencies",
    "unique_ids",
    "wer",
]

H = TypeVar("H", bound=Hashable)

#: Default power drawn per busy CPU core, in watts (see :func:`energy_wh`).
DEFAULT_WATTS_PER_CORE = 15.0


# --- retrieval --------------------------------------------------------------------------------


def unique_ids(ranking: Iterable[H]) -> list[H]:
    """Collapse repeated ids, keeping each at its first (best) rank.

    >>> unique_ids(["F1", "F2", "F1", "F3"])
    ['F1', 'F2', 'F3']
    """
    return list(dict.fromkeys(ranking))


def first_relevant_rank(ranking: Iterable[str], relevant: Collection[str]) -> int | None:
    """1-based rank of the first relevant document after :func:`unique_ids`, or ``None``."""
    for rank, doc_id in enumerate(unique_ids(ranking), start=1):
        if doc_id in relevant:
            return rank
    return None


def _scorable(
    rankings: Sequence[Sequence[str]], relevants: Sequence[Collection[str]]
) -> list[tuple[Sequence[str], Collection[str]]]:
    if len(rankings) != len(relevants):
        raise ValueError(f"{len(rankings)} rankings for {len(relevants)} relevance sets")
    return [
        (ranking, relevant)
        for ranking, relevant in zip(rankings, relevants, strict=True)
        if relevant
    ]


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def recall_at_k(
    rankings: Sequence[Sequence[str]], relevants: Sequence[Collection[str]], k: int
) -> float:
    """Share of questions with at least one relevant document in the first ``k`` documents.

    ``recall@k = |{q : unique_ids(ranking_q)[:k] ∩ relevant_q ≠ ∅}| / |{q : relevant_q ≠ ∅}|``

    This is the "hit rate" reading of recall used for question answering: one relevant
    document is enough to answer. ``k`` larger than a ranking simply uses the whole ranking.

    Raises:
        ValueError: ``k < 1`` or the two sequences differ in length.
    """
    _check_k(k)
    pairs = _scorable(rankings, relevants)
    if not pairs:
        return 0.0
    ranks = (first_relevant_rank(ranking, relevant) for ranking, relevant in pairs)
    return sum(1 for rank in ranks if rank is not None and rank <= k) / len(pairs)


def mrr(
    rankings: Sequence[Sequence[str]], relevants: Sequence[Collection[str]], k: int | None = None
) -> float:
    """Mean reciprocal rank of the first relevant document.

    ``MRR = mean_q 1 / rank_q``, where ``rank_q`` is :func:`first_relevant_rank`; a question
    whose relevant documents are absent (or ranked beyond ``k`` when given) contributes 0.
    """
    if k is not None:
        _check_k(k)
    pairs = _scorable(rankings, relevants)
    if not pairs:
        return 0.0
    total = 0.0
    for ranking, relevant in pairs:
        rank = first_relevant_rank(ranking, relevant)
        if rank is not None and (k is None or rank <= k):
            total += 1.0 / rank
    return total / len(pairs)


def query_ndcg_at_k(ranking: Sequence[str], relevant: Collection[str], k: int) -> float:
    """nDCG@k of one ranking with binary relevance.

    ``DCG@k = Σ_{i=1..k} rel_i / log2(i + 1)`` over :func:`unique_ids` of the ranking, with
    ``rel_i = 1`` if the i-th document is relevant, else 0.
    ``IDCG@k = Σ_{i=1..min(|relevant|, k)} 1 / log2(i + 1)`` (all relevant documents first).
    ``nDCG@k = DCG@k / IDCG@k``, and 0.0 when there is no relevant document.
    """
    _check_k(k)
    if not relevant:
        return 0.0
    dcg = sum(
        1.0 / math.log2(i + 1)
        for i, doc_id in enumerate(unique_ids(ranking)[:k], start=1)
        if doc_id in relevant
    )
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(set(relevant)), k) + 1))
    return dcg / ideal


def ndcg_at_k(
    rankings: Sequence[Sequence[str]], relevants: Sequence[Collection[str]], k: int
) -> float:
    """Mean of :func:`query_ndcg_at_k` over the questions that have relevant documents."""
    _check_k(k)
    pairs = _scorable(rankings, relevants)
    if not pairs:
        return 0.0
    return sum(query_ndcg_at_k(ranking, relevant, k) for ranking, relevant in pairs) / len(pairs)


# --- classification ---------------------------------------------------------------------------


def _check_same_length(gold: Sequence[object], predicted: Sequence[object]) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels for {len(predicted)} predictions")


def accuracy(gold: Sequence[H], predicted: Sequence[H]) -> float:
    """Share of exact matches: ``|{i : gold_i = predicted_i}| / n`` (0.0 when ``n = 0``)."""
    _check_same_length(gold, predicted)
    if not gold:
        return 0.0
    return sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / len(gold)


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of (gold, predicted) pairs.

    ``rows[i][j]`` counts the examples of gold label ``labels[i]`` predicted as ``labels[j]``.
    """

    labels: tuple[str, ...]
    rows: tuple[tuple[int, ...], ...]

    def count(self, gold: str, predicted: str) -> int:
        """How many examples of gold label ``gold`` were predicted as ``predicted``."""
        return self.rows[self.labels.index(gold)][self.labels.index(predicted)]


def confusion_matrix(gold: Sequence[str], predicted: Sequence[str]) -> ConfusionMatrix:
    """Confusion matrix over the sorted union of gold and predicted labels."""
    _check_same_length(gold, predicted)
    labels = tuple(sorted(set(gold) | set(predicted)))
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        counts[index[g]][index[p]] += 1
    return ConfusionMatrix(labels=labels, rows=tuple(tuple(row) for row in counts))


def abstention_accuracy(expected: Sequence[str], abstained: Sequence[bool]) -> float:
    """Share of correct answer/abstain decisions.

    Only examples whose ``expected`` is ``"answer"`` or ``"abstain"`` count (``"handoff"``
    examples are judged by routing). Correct when ``(expected == "abstain") == abstained``.
    ``accuracy = correct / counted``; 0.0 when nothing is counted.
    """
    _check_same_length(expected, abstained)
    pairs = [(e, a) for e, a in zip(expected, abstained, strict=True) if e in ("answer", "abstain")]
    if not pairs:
        return 0.0
    return sum(1 for e, a in pairs if (e == "abstain") == a) / len(pairs)


# --- latency and energy -----------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile with linear interpolation (numpy's default method).

    Sort the values ``v_0 ≤ … ≤ v_{n-1}``; with ``r = q/100 · (n − 1)``,
    ``p = v_⌊r⌋ + (r − ⌊r⌋) · (v_⌈r⌉ − v_⌊r⌋)``. The median is ``q = 50``.

    Raises:
        ValueError: ``values`` is empty or ``q`` is outside [0, 100].
    """
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within [0, 100], got {q}")
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


@dataclass(frozen=True)
class LatencySummary:
    """Median, 95th percentile, mean and count of a set of durations (same unit as input)."""

    median: float
    p95: float
    mean: float
    count: int


def summarize_latencies(values: Sequence[float]) -> LatencySummary:
    """Median and p95 (see :func:`percentile`) with the mean and the count.

    Raises:
        ValueError: ``values`` is empty.
    """
    median = percentile(values, 50)
    return LatencySummary(
        median=median, p95=percentile(values, 95), mean=sum(values) / len(values), count=len(values)
    )


def energy_wh(
    cpu_seconds: float, watts_per_core: float = DEFAULT_WATTS_PER_CORE, pue: float = 1.0
) -> float:
    """Energy estimate, in watt-hours, of ``cpu_seconds`` of CPU time.

    ``E[Wh] = cpu_seconds × watts_per_core × pue / 3600``.

    Assumptions, stated because this is an estimate and not a measurement: ``cpu_seconds`` is
    process CPU time (user + system, summed over all threads, e.g. the difference of
    :func:`time.process_time` or of ``resource.getrusage``), so two cores busy for one second
    count as 2 s; each busy core draws ``watts_per_core`` more than idle (default 15 W, the
    order of magnitude of a current server core under load: TDP ÷ cores); idle power, memory,
    disks, network and GPUs are not counted; ``pue`` (power usage effectiveness, ≥ 1) scales
    for the data centre's cooling and power losses.
    """
    if cpu_seconds < 0 or watts_per_core < 0 or pue < 1:
        raise ValueError("cpu_seconds and watts_per_core must be >= 0 and pue >= 1")
    return cpu_seconds * watts_per_core * pue / 3600.0


def energy_wh_per_answer(
    cpu_seconds_per_answer: Sequence[float],
    watts_per_core: float = DEFAULT_WATTS_PER_CORE,
    pue: float = 1.0,
) -> float:
    """Mean :func:`energy_wh` per answer: ``energy_wh(Σ cpu_seconds) / n`` (0.0 when ``n = 0``)."""
    if not cpu_seconds_per_answer:
        return 0.0
    total = energy_wh(sum(cpu_seconds_per_answer), watts_per_core, pue)
    return total / len(cpu_seconds_per_answer)
