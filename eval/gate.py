"""Quality gates: metrics that must stay above (or below) stored thresholds.

``eval/thresholds.json`` holds named gates. Each names the kind of evaluation it applies to,
what it was measured on, and per metric a ``min`` or ``max`` with ``why``: the measured value
and the margin left for noise, so that whoever changes a threshold sees what it stood for::

    {"routing_heldout": {"kind": "routing", "measured_on": "...",
                         "metrics": {"accuracy": {"min": 0.85, "why": "..."}}}}

The test suite runs the gates on the test index (``tests/eval/test_quality_gate.py``);
``contact-center eval KIND --gate NAME`` checks a run against one and exits with 1 below it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foundation.errors import ConfigurationError

#: The thresholds shipped with the package.
THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.json"


@dataclass(frozen=True)
class GateFailure:
    """One metric on the wrong side of its threshold."""

    metric: str
    value: float | None
    bound: str
    threshold: float
    why: str

    def __str__(self) -> str:
        shown = "missing" if self.value is None else f"{self.value:.3f}"
        return f"{self.metric} = {shown}, expected {self.bound} {self.threshold} ({self.why})"


def load_gate(name: str, path: Path = THRESHOLDS_PATH) -> dict[str, Any]:
    """The gate ``name`` of the thresholds file.

    Raises:
        ConfigurationError: No such gate, or a malformed entry.
    """
    gates = json.loads(Path(path).read_text(encoding="utf-8"))
    if name not in gates or name.startswith("_"):
        known = ", ".join(key for key in gates if not key.startswith("_"))
        raise ConfigurationError(f"no gate {name!r} in {path} (gates: {known})")
    gate = gates[name]
    if "kind" not in gate or not isinstance(gate.get("metrics"), dict):
        raise ConfigurationError(f"gate {name!r} needs 'kind' and 'metrics'")
    return dict(gate)


def check_gate(metrics: Mapping[str, Any], gate: Mapping[str, Any]) -> list[GateFailure]:
    """Every metric of ``gate`` that ``metrics`` misses or puts on the wrong side."""
    failures = []
    for metric, rule in gate["metrics"].items():
        value = metrics.get(metric)
        for bound, symbol in (("min", ">="), ("max", "<=")):
            if bound not in rule:
                continue
            threshold = float(rule[bound])
            ok = isinstance(value, int | float) and (
                value >= threshold if bound == "min" else value <= threshold
            )
            if not ok:
                number = float(value) if isinstance(value, int | float) else None
                failures.append(
                    GateFailure(metric, number, symbol, threshold, str(rule.get("why", "")))
                )
    return failures
