"""End-to-end answer latency through the real engine (retrieval + LLM), per stage.

Uses the configured services (``CC_`` settings, so the index built by ``./scripts/run`` and the
default Qwen model), asks a few French residents' questions one after the other, and prints
time to sources, time to first token and total time: each question, then median and p95.

    .venv/bin/python -m bench.bench_answer [--questions N] [--tenant demo]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from contact_center.conversation.turns import AnswerDelta, SourcesFound, TurnCompleted
from contact_center.services import Services
from contact_center.settings import Settings

QUESTIONS = (
    "J'ai perdu ma carte d'identité, que faire ?",
    "Comment se pacser ?",
    "mon fils a 16 ans il doit faire quoi pour le recensement",
    "Quels sont les horaires de la mairie le samedi ?",
    "Comment faire une procuration pour voter ?",
    "Quand passent les encombrants ?",
    "Il faut un permis de construire pour une véranda ?",
    "jai perdu mon passeport comment le refaire",
)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _one(services: Services, question: str, tenant: str) -> dict[str, float | str]:
    started = time.perf_counter()
    marks: dict[str, float | str] = {}
    async for event in services.engine.answer(question, tenant):
        now = (time.perf_counter() - started) * 1000
        if isinstance(event, SourcesFound):
            marks["sources_ms"] = now
        elif isinstance(event, AnswerDelta) and "first_token_ms" not in marks:
            marks["first_token_ms"] = now
        elif isinstance(event, TurnCompleted):
            marks["total_ms"] = now
            marks["outcome"] = event.reason or ("abstained" if event.abstained else "answered")
            marks["answer"] = event.answer[:120]
    return marks


async def run(count: int, tenant: str) -> None:
    """Warm the services up, then time ``count`` questions."""
    settings = Settings()
    services = Services(settings)
    started = time.perf_counter()
    await asyncio.to_thread(services.warm_up)
    print(f"warm-up (models, index): {time.perf_counter() - started:.1f} s")
    print(f"model: {services.chat_model.model_id}  embeddings: {services.embedder.model_id}")
    rows = []
    try:
        for question in QUESTIONS[:count]:
            marks = await _one(services, question, tenant)
            rows.append(marks)
            print(
                f"- {question}\n  sources {marks.get('sources_ms', 0):7.0f} ms  first token "
                f"{marks.get('first_token_ms', 0):7.0f} ms  total {marks['total_ms']:7.0f} ms"
                f"  [{marks['outcome']}]\n  {marks['answer']!r}"
            )
    finally:
        await services.aclose()
    for key in ("sources_ms", "first_token_ms", "total_ms"):
        values = [float(r[key]) for r in rows if key in r]
        if values:
            print(
                f"{key:15s} median {statistics.median(values):7.0f} ms   "
                f"p95 {_p95(values):7.0f} ms   (n={len(values)})"
            )


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    parser.add_argument("--tenant", default="demo")
    args = parser.parse_args()
    asyncio.run(run(args.questions, args.tenant))


if __name__ == "__main__":
    main()
