"""Prometheus metrics of one app instance (own registry, so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

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

    def observe_turn(
        self, channel: str, abstained: bool, reason: str | None, latency_ms: dict[str, float]
    ) -> None:
        """Count a finished turn and record its stage latencies."""
        outcome = "abstained" if abstained else "answered"
        self.turns.labels(channel=channel, outcome=outcome, reason=reason or "").inc()
        for stage, ms in latency_ms.items():
            self.stage_seconds.labels(stage=stage).observe(ms / 1000.0)
