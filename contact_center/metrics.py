"""Prometheus metrics of one app instance (own registry, so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from retrieval.admission import LLMAdmission

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80)


class Metrics:
    """Counters and histograms exposed on ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "cc_turns_total",
            "Assistant turns by outcome",
            ["channel", "outcome", "reason"],
            registry=self.registry,
        )
        self.rejected_inputs = Counter(
            "cc_rejected_inputs_total",
            "Messages refused before processing",
            ["code"],
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "cc_stage_seconds",
            "Latency of each stage of a turn",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

        self.answers = Counter(
            "cc_answers_total",
            "Answers shown by the path that made them (validated, extractive, generated)",
            ["channel", "path", "path_reason"],
            registry=self.registry,
        )
        self.llm_waiting = Gauge(
            "cc_llm_queue_depth", "Turns waiting for the LLM now", registry=self.registry
        )
        self.llm_in_use = Gauge(
            "cc_llm_slots_in_use", "LLM slots held by turns now", registry=self.registry
        )
        self.llm_admissions = Gauge(
            "cc_llm_admissions",
            "Turns admitted to the LLM, or refused (queue full, waiting budget spent), since start",
            ["outcome"],
            registry=self.registry,
        )

    def watch_admission(self, admission: LLMAdmission) -> None:
        """Expose the LLM queue's depth and counts, read at each scrape."""
        self.llm_waiting.set_function(lambda: admission.waiting)
        self.llm_in_use.set_function(lambda: admission.in_use)
        counts = admission.counts
        admissions = self.llm_admissions
        admissions.labels(outcome="admitted").set_function(lambda: counts.admitted)
        admissions.labels(outcome="refused_full").set_function(lambda: counts.refused_full)
        admissions.labels(outcome="refused_budget").set_function(lambda: counts.refused_budget)

    def observe_turn(
        self,
        channel: str,
        abstained: bool,
        reason: str | None,
        latency_ms: dict[str, float],
        *,
        path: str | None = None,
        path_reason: str | None = None,
    ) -> None:
        """Count a finished turn, the path of its answer, and record its stage latencies."""
        outcome = "abstained" if abstained else "answered"
        self.turns.labels(channel=channel, outcome=outcome, reason=reason or "").inc()
        if path and not abstained:
            self.answers.labels(channel=channel, path=path, path_reason=path_reason or "").inc()
        for stage, ms in latency_ms.items():
            self.stage_seconds.labels(stage=stage).observe(ms / 1000.0)
