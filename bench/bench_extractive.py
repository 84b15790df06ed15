"""Benchmark: the extractive answer (search + compose, no LLM), its speed and its quality.

Run from the repository root::

    .venv/bin/python -m bench.bench_extractive [--index var/qdrant] [--work /tmp/bench_extractive]

With ``--index`` it uses an existing on-disk Qdrant folder (the one ``./scripts/run`` builds,
copied first so that a running server's lock does not matter). Without it, it builds once under
``--work`` a smaller index: every fiche the question sets name, ``--distractors`` other fiches
of the package and the demo town's pages, with the product's indexer and default embedder;
later runs reuse it. On a small index retrieval is easier than on the full one: say which.

Over ``eval/data/questions_residents_answers.jsonl``, ``eval/data/questions_fr.jsonl`` and
``eval/data/questions_demo_town.jsonl`` (the team's sets), each and together, it prints, with
the machine it ran on:

* time to answer (search + compose), p50 and p95, after one warm-up question;
* required facts: share of answerable questions with ``must_mention_any`` whose answer states
  one of them (the target is 0.75);
* cited document hit: share of answerable questions whose sources include an expected fiche;
* citation validity: every ``[n]`` points to a passage given, and each sentence is in its passage;
* numbers faithful: every figure of the answer is in the passages (:func:`numbers_faithful`);
* abstention accuracy: answerable questions answered, out-of-scope and injection ones not
  (the engine's gates: injection check, ``min_relevance``, then the composer's own abstention).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bench_index import default_package
from bench.machine import describe
from eval.datasets import (
    BUNDLED_DATA_DIR,
    QUESTIONS_DEMO_TOWN,
    QUESTIONS_FR,
    RetrievalExample,
    load_retrieval_dataset,
)
from eval.text_metrics import mentions_any
from knowledge_base.indexing import Indexer
from knowledge_base.markdown import load_demo_documents
from knowledge_base.service_public import iter_fiches
from retrieval.answer import check_citations, detect_injection
from retrieval.embeddings import build_embedder
from retrieval.extractive import ExtractiveAnswer, compose_answer
from retrieval.faithfulness import numbers_faithful
from retrieval.hybrid import HybridRetriever
from retrieval.qdrant_edge import copy_index
from retrieval.qdrant_store import QdrantStore
from retrieval.settings import EmbeddingsSection, QdrantSection, RetrievalSection
from retrieval.sparse import FrenchSparseEncoder
from retrieval.types import ScoredChunk

QUESTIONS_RESIDENTS = BUNDLED_DATA_DIR / "questions_residents_answers.jsonl"


@dataclass
class Row:
    """One question's outcome."""

    example: RetrievalExample
    answer: ExtractiveAnswer | None
    passages: list[ScoredChunk]
    ms: float
    gate: str  # "injection", "relevance", "composer" or "" when answered
    compose_ms: float = 0.0


def build_index(work: Path, examples: list[RetrievalExample], distractors: int) -> Path:
    """A small index of the named fiches, some others and the demo pages (built once)."""
    folder = work / "qdrant"
    if (folder / "edge").exists() or (folder / "collection").exists():
        return folder
    named = {doc for example in examples for doc in example.relevant if doc.startswith("F")}
    package = default_package()
    fiches = list(iter_fiches(package, ("particuliers",)))
    chosen = [f for f in fiches if f.id in named]
    chosen += [f for f in fiches if f.id not in named][:distractors]
    embedder = build_embedder(EmbeddingsSection())
    embedder.warm_up()
    store = QdrantStore(QdrantSection(), folder, embedder.dimension)
    store.ensure_collection()
    documents = chosen + load_demo_documents("demo")
    Indexer(store, embedder, FrenchSparseEncoder(), batch_size=32).index(documents, dense="now")
    store.close()
    print(f"built {folder}: {len(chosen)} fiches ({len(named)} named) + demo pages")
    return folder


def run_one(
    retriever: HybridRetriever, example: RetrievalExample, settings: RetrievalSection
) -> Row:
    """Search and compose, as the engine would, timed."""
    started = time.perf_counter()
    if detect_injection(example.question):
        return Row(example, None, [], (time.perf_counter() - started) * 1000, "injection")
    result = retriever.search(example.question, example.tenant or "demo", settings.top_k)
    composing = time.perf_counter()
    answer = compose_answer(example.question, result.chunks)
    done = time.perf_counter()
    if result.relevance < settings.min_relevance:
        gate = "relevance"
    else:
        gate = "composer" if answer.abstained else ""
    ms, compose_ms = (done - started) * 1000, (done - composing) * 1000
    return Row(example, answer, result.chunks, ms, gate, compose_ms)


def citations_valid(row: Row) -> bool:
    """Every [n] exists and every sentence is, verbatim, in the passage it cites."""
    assert row.answer is not None
    check = check_citations(row.answer.text, len(row.passages))
    in_passage = all(
        s.text in row.passages[s.passage - 1].chunk.text
        and all(
            c in row.passages[s.passage - 1].chunk.text + row.passages[s.passage - 1].chunk.heading
            for c in s.context
        )
        for s in row.answer.sentences
    )
    return check.grounded and not check.invalid and in_passage


def mentions(row: Row) -> bool:
    assert row.answer is not None
    # On word boundaries, as the eval checks it: « 5 jours » is not in « 15 jours ».
    return mentions_any(row.answer.text, row.example.must_mention_any)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def share(hits: int, total: int) -> str:
    return f"{hits / total:.2f} ({hits}/{total})" if total else "n/a"


def report(name: str, rows: list[Row], verbose: bool) -> None:
    """Print the figures of one question set."""
    answerable = [r for r in rows if r.example.expect == "answer"]
    refusable = [r for r in rows if r.example.expect != "answer"]
    answered = [r for r in answerable if not r.gate]
    with_facts = [r for r in answerable if r.example.must_mention_any]
    times = [r.ms for r in rows if r.gate != "injection"]
    composed = [r.compose_ms for r in rows if r.gate != "injection"]
    stated = sum(1 for r in with_facts if not r.gate and mentions(r))
    by_composer = sum(1 for r in with_facts if r.answer and not r.answer.abstained and mentions(r))
    hit = sum(1 for r in answered if set(r.example.relevant) & documents_cited(r))
    valid = sum(1 for r in answered if citations_valid(r))
    faithful = sum(1 for r in answered if r.answer and numbers_faithful(r.answer.text, r.passages))
    refused = sum(1 for r in refusable if r.gate)
    gates = {g: sum(1 for r in answerable if r.gate == g) for g in ("relevance", "composer")}
    print(f"\n== {name}: {len(rows)} questions ({len(answerable)} answerable)")
    print(
        f"time to answer (search + compose): p50 {statistics.median(times):.0f} ms, "
        f"p95 {p95(times):.0f} ms; compose alone p50 {statistics.median(composed):.1f} ms, "
        f"p95 {p95(composed):.1f} ms"
    )
    print(f"required facts:       {share(stated, len(with_facts))}")
    print(f"  composer alone:     {share(by_composer, len(with_facts))} (no relevance gate)")
    print(f"cited document hit:   {share(hit, len(answered))} of answered")
    print(f"citation validity:    {share(valid, len(answered))}")
    print(f"numbers faithful:     {share(faithful, len(answered))}")
    print(
        f"abstention accuracy:  {share(len(answered) + refused, len(rows))}; answered "
        f"{share(len(answered), len(answerable))}, refused {share(refused, len(refusable))}"
    )
    print(f"  answerable abstained by: {gates}")
    if verbose:
        for row in rows:
            show(row)


def documents_cited(row: Row) -> set[str]:
    return {s.document_id for s in row.answer.sources} if row.answer else set()


def show(row: Row) -> None:
    """One question, its outcome and its answer."""
    print(f"\n? {row.example.question}  [{row.ms:.0f} ms, gate={row.gate or '-'}]")
    if row.answer is not None and not row.answer.abstained:
        print(
            f"  intent={row.answer.intent} cases={row.answer.cases} "
            f"sources={sorted(documents_cited(row))} expected={list(row.example.relevant)}"
            + (
                f" facts={'ok' if mentions(row) else 'MISSING'}"
                if row.example.must_mention_any
                else ""
            )
        )
        print("  " + row.answer.text.replace("\n", "\n  "))


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, help="an existing on-disk Qdrant folder")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "bench_extractive"
    )
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument(
        "--top-k", type=int, help="passages searched (default: the product's retrieval.top_k)"
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sets = {
        "residents' answers": load_retrieval_dataset(QUESTIONS_RESIDENTS),
        "questions_fr": load_retrieval_dataset(QUESTIONS_FR),
        "demo town": load_retrieval_dataset(QUESTIONS_DEMO_TOWN),
    }
    if args.index:
        source = args.index
        print(f"index: copy of {args.index}")
    else:
        examples = [e for rows in sets.values() for e in rows]
        source = build_index(args.work, examples, args.distractors)
        print(f"index: {source} (named fiches + {args.distractors} others + demo pages)")
    print(f"machine: {describe()}")
    # On a copy: the folder may be open elsewhere (a running server, another bench).
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "qdrant"
        copy_index(source, folder, skip=(".lock",))
        run_sets(folder, sets, args.top_k, args.verbose)


def _overrides() -> dict[str, str]:
    """Retrieval settings from ``CC_RETRIEVAL__*`` variables (compare one setting's values)."""
    prefix = "CC_RETRIEVAL__"
    return {k[len(prefix) :].lower(): v for k, v in os.environ.items() if k.startswith(prefix)}


def run_sets(
    folder: Path, sets: dict[str, list[RetrievalExample]], top_k: int | None, verbose: bool
) -> None:
    """Search and compose every question of every set on the index in ``folder``."""
    embedder = build_embedder(EmbeddingsSection())
    embedder.warm_up()
    store = QdrantStore(QdrantSection(), folder, embedder.dimension)
    overrides: dict[str, object] = {**_overrides(), **({"top_k": top_k} if top_k else {})}
    settings = RetrievalSection.model_validate(overrides)
    print(
        f"passages per question: {settings.top_k} + up to {settings.best_document_sections} "
        f"more sections of the best document; min_relevance {settings.min_relevance}"
    )
    retriever = HybridRetriever(store, embedder, FrenchSparseEncoder(), settings)
    try:
        run_one(retriever, sets["questions_fr"][0], settings)  # warm-up
        every: list[Row] = []
        for name, examples in sets.items():
            rows = [run_one(retriever, e, settings) for e in examples]
            report(name, rows, verbose)
            every.extend(rows)
        report("the team's sets together", every, verbose=False)
    finally:
        store.close()


if __name__ == "__main__":
    main()
