"""Benchmark: follow-up questions searched alone, and with their conversation.

Run from the repository root::

    .venv/bin/python -m bench.bench_followups --index-dir /tmp/eval_index

For each two-turn conversation of ``eval/data/followups_residents.jsonl``, turn 1 is searched
and answered as the engine does (extractive answer; the documents it cites are what turn 2 may
favour). Turn 2 is then searched four ways: **alone** (before follow-ups were read), with the
**topic** words of turn 1 before it (until this change), after the **whole** of turn 1, and as
the engine does now (**context**: the whole of turn 1 and, for a follow-up with no topic of its
own, the previous answer's documents favoured, :mod:`retrieval.followup`). Printed per
conversation: the rank of turn 1's document, whether turn 2 reads as a follow-up, the rank of
its first expected document among the distinct documents found (``-``: not among the
candidates) each way, and the start of the answer with context; then the share of turn 2s
whose document is among the first 3 sources, each way (also counted over the conversations
whose turn 1 found its own document: a follow-up cannot recover a topic turn 1 missed), and
the search time with context.

The index is the evaluation index of the default embedder under ``--index-dir``
(:func:`eval.index.ensure_index`: every ``particuliers`` fiche and the demo town's pages), built
there on the first run, with the configured engine (``CC_QDRANT__ENGINE=local`` opens one built
in local mode).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from contact_center.settings import Settings
from eval.datasets import BUNDLED_DATA_DIR, Conversation, load_conversation_dataset
from eval.index import ensure_index
from retrieval.embeddings import build_embedder
from retrieval.extractive import compose_answer
from retrieval.followup import PreviousTurn, SearchPlan, plan_search
from retrieval.hybrid import HybridRetriever
from retrieval.qdrant_store import QdrantStore
from retrieval.sparse import FrenchSparseEncoder

DATASET = BUNDLED_DATA_DIR / "followups_residents.jsonl"
#: A turn 2 counts when its document is among this many first sources.
FIRST_SOURCES = 3
WAYS = ("alone", "whole", "topic", "context")
#: How the dataset marks a conversation whose turn 2 is a question of its own.
NEW_TOPIC = "a new topic"


def _rank(retriever: HybridRetriever, plan: SearchPlan, tenant: str, expected: Sequence[str],
          *, favour: bool) -> int | None:  # fmt: skip
    """1-based rank of the first expected document among the distinct documents found."""
    documents = plan.context_documents if favour else ()
    result = retriever.search(plan.query, tenant, retriever.settings.candidates, favour=documents)
    found = list(dict.fromkeys(c.chunk.document_id for c in result.chunks))
    ranks = [found.index(d) + 1 for d in expected if d in found]
    return min(ranks) if ranks else None


def _first_turn(retriever: HybridRetriever, question: str, tenant: str) -> PreviousTurn:
    """Turn 1 as the engine answers it: the documents its extractive answer cites."""
    settings = retriever.settings
    result = retriever.search(question, tenant, settings.top_k)
    if not result.chunks or result.relevance < settings.min_relevance:
        return PreviousTurn(question)
    answer = compose_answer(question, result.chunks)
    return PreviousTurn(question, tuple(source.document_id for source in answer.sources))


def run(retriever: HybridRetriever, conversations: Sequence[Conversation], tenant: str) -> None:
    """Print one line per conversation, then the counts and the search time."""
    hits = dict.fromkeys(WAYS, 0)
    hits_after_found = dict.fromkeys(WAYS, 0)
    followups = found_first = new_topics = new_mixed = 0
    timings: list[float] = []
    for conversation in conversations:
        first, second = conversation.turns[0], conversation.turns[-1]
        where = conversation.tenant or tenant
        previous = _first_turn(retriever, first.user, where)
        started = time.perf_counter()
        plan = plan_search(second.user, [previous])
        answer_result = retriever.search(
            plan.query, where, retriever.settings.top_k, favour=plan.context_documents
        )
        timings.append((time.perf_counter() - started) * 1000)
        expected = second.expect.source_any
        alone = plan_search(second.user)
        topic = replace(plan, query=plan.words)
        ranks = {
            "alone": _rank(retriever, alone, where, expected, favour=False),
            "whole": _rank(retriever, plan, where, expected, favour=False),
            "topic": _rank(retriever, topic, where, expected, favour=False),
            "context": _rank(retriever, plan, where, expected, favour=True),
        }
        first_rank = _rank(retriever, plan_search(first.user), where, first.expect.source_any,
                           favour=False)  # fmt: skip
        first_found = first_rank is not None and first_rank <= FIRST_SOURCES
        followups += plan.followup
        new_topic = (second.expect.reason or "").startswith(NEW_TOPIC)
        new_topics += new_topic
        new_mixed += new_topic and plan.followup
        found_first += first_found
        for way, rank in ranks.items():
            hit = rank is not None and rank <= FIRST_SOURCES
            hits[way] += hit
            hits_after_found[way] += hit and first_found
        answer = compose_answer(plan.words, answer_result.chunks, plan.reading)
        shown = " ".join(answer.text.split())[:90]
        cells = "  ".join(f"{way}={ranks[way] or '-':>2}" for way in WAYS)
        read = "yes" if plan.followup else "no "
        turn1 = first_rank or "-"
        print(f"{conversation.id:<26} turn1={turn1:>2}  followup={read}  {cells}  {shown}")
    total = len(conversations)
    print(f"\nturn 2 read as a follow-up: {followups} of {total} "
          f"(new topics read as follow-ups: {new_mixed} of {new_topics})")  # fmt: skip
    print(f"turn 1 document in the first {FIRST_SOURCES} sources: {found_first} of {total}")
    for way in WAYS:
        print(f"turn 2 document in the first {FIRST_SOURCES} sources, {way:<7}: "
              f"{hits[way]} of {total} ({hits[way] / total:.0%}); "
              f"where turn 1 found its own: {hits_after_found[way]} of {found_first}")  # fmt: skip
    cuts = statistics.quantiles(timings, n=20) if len(timings) > 1 else timings * 19
    print(f"turn 2 search with context: p50 {statistics.median(timings):.0f} ms, "
          f"p95 {cuts[18]:.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/eval_index"))
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--tenant", default="demo", help="commune of conversations naming none")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''}, "
          f"{os.cpu_count()} CPU cores, Python {platform.python_version()}")  # fmt: skip
    settings = Settings()
    embedder = build_embedder(settings.embeddings)
    embedder.warm_up()
    started = time.perf_counter()
    pointed = ensure_index(settings, embedder, args.index_dir, progress=False)
    print(f"index {pointed.qdrant_path} ready in {time.perf_counter() - started:.0f} s")
    store = QdrantStore(pointed.qdrant, pointed.qdrant_path, embedder.dimension)
    try:
        retriever = HybridRetriever(store, embedder, FrenchSparseEncoder(), settings.retrieval)
        run(retriever, load_conversation_dataset(args.dataset), args.tenant)
    finally:
        store.close()


if __name__ == "__main__":
    main()
