"""Handoff detection: does a resident's message call for a person, and for which reason?

Scores a detector (``text -> reason or None``, e.g. the reason of
:func:`routing.handoff.handoff_before_answer`) on a labelled set of residents' messages
(``eval/data/handoff_requests.jsonl``): precision and recall of each reason, the false-handoff
rate (messages that needed an answer and went to a person) and the missed-handoff rate
(messages that called for a person and got an answer). A handoff for the wrong reason counts
against both reasons' figures but is neither a false nor a missed handoff.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.datasets import InvalidRecord, load_jsonl, required_str
from routing.handoff_semantic import WORD_REASONS, HandoffExample

HANDOFF_DATASET = Path(__file__).parent / "data" / "handoff_requests.jsonl"

Detector = Callable[[str], str | None]


@dataclass(frozen=True)
class ReasonScore:
    """Precision and recall of one reason."""

    reason: str
    support: int
    precision: float
    recall: float


@dataclass(frozen=True)
class HandoffScores:
    """How a detector did on a labelled set."""

    examples: int
    per_reason: tuple[ReasonScore, ...]
    #: Messages needing an answer that were handed off, over all such messages.
    false_handoff_rate: float
    #: Messages calling for a person that were answered, over all such messages.
    missed_handoff_rate: float
    #: The examples it got wrong: (text, expected, detected).
    errors: tuple[tuple[str, str | None, str | None], ...]


def parse_handoff_record(record: dict[str, Any]) -> HandoffExample:
    """One labelled message: ``{"text": ..., "reason": one of WORD_REASONS or null}``."""
    reason = record.get("reason")
    if reason is not None and reason not in WORD_REASONS:
        raise InvalidRecord(f"unknown reason {reason!r} (expected one of {list(WORD_REASONS)})")
    return HandoffExample(required_str(record, "text"), reason)


def load_handoff_dataset(path: Path | str = HANDOFF_DATASET) -> list[HandoffExample]:
    """The labelled messages of ``path`` (every malformed line reported at once)."""
    return load_jsonl(path, parse_handoff_record)


def score_handoffs(detector: Detector, examples: Sequence[HandoffExample]) -> HandoffScores:
    """Run ``detector`` on every example and score it."""
    pairs = [(example, detector(example.text)) for example in examples]
    per_reason = tuple(_reason_score(reason, pairs) for reason in WORD_REASONS)
    negatives = [got for example, got in pairs if example.reason is None]
    positives = [got for example, got in pairs if example.reason is not None]
    errors = tuple((e.text, e.reason, got) for e, got in pairs if got != e.reason)
    return HandoffScores(
        examples=len(pairs),
        per_reason=per_reason,
        false_handoff_rate=_share(sum(got is not None for got in negatives), len(negatives)),
        missed_handoff_rate=_share(sum(got is None for got in positives), len(positives)),
        errors=errors,
    )


def _reason_score(reason: str, pairs: list[tuple[HandoffExample, str | None]]) -> ReasonScore:
    expected = sum(example.reason == reason for example, _ in pairs)
    detected = sum(got == reason for _, got in pairs)
    right = sum(example.reason == reason and got == reason for example, got in pairs)
    return ReasonScore(reason, expected, _share(right, detected, 1.0), _share(right, expected))


def _share(part: int, whole: int, empty: float = 0.0) -> float:
    return part / whole if whole else empty


def format_scores(name: str, scores: HandoffScores) -> str:
    """A short text report of ``scores``."""
    lines = [f"{name} ({scores.examples} messages)"]
    for s in scores.per_reason:
        lines.append(
            f"  {s.reason:<17} n={s.support:<3} precision={s.precision:.3f} recall={s.recall:.3f}"
        )
    lines.append(f"  false handoffs  {scores.false_handoff_rate:.3f}")
    lines.append(f"  missed handoffs {scores.missed_handoff_rate:.3f}")
    return "\n".join(lines)
