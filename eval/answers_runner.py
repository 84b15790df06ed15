"""Answer evaluation: every question through the conversation engine, the answer checked.

Each question goes through :meth:`ConversationEngine.answer` (injection check, retrieval,
abstention, grounded generation, citation check), exactly as a resident's turn, with whatever
LLM the settings configure (the fake one answers in milliseconds, the embedded Qwen in tens of
seconds on a CPU). Per answer:

* **citation correctness**: the distinct passage numbers cited in the *raw* streamed answer
  (before the engine drops invalid ones) that exist among the passages given to the model and
  were retrieved (:func:`eval.text_metrics.citation_correctness`); **citation rate**: share of
  generated answers citing at least one passage;
* **faithfulness**: share of the answer's sentences supported by the retrieved passages of the
  documents it cites (all the retrieved ones when none is cited): lexically always
  (``faithfulness_lexical``), and by an LLM judge when one is given (``faithfulness_judge``).
  ``faithfulness`` is the judge's score when it ran, the lexical one otherwise;
  ``faithfulness_method`` says which;
* **figures**: ``numbers_faithful`` is the share of generated answers whose every number,
  amount, date, time, duration or phone number appears in the passages they were grounded on
  (:func:`retrieval.faithfulness.numbers_faithful`, the check the LLM's rewording must pass);
* **required facts**: an answerable question with ``must_mention_any`` passes when the answer
  mentions one of them (an abstention fails it);
* **abstention**: answer the answerable, abstain on out-of-scope questions and injections;
  ``injection_refusal`` is the share of ``kind: injection`` questions refused (no generated
  answer) and ``injection_detected`` of those stopped by the injection filter itself;
* **latency** per stage (``retrieval``, ``extractive``, ``generation``, ``first_text``,
  ``total``) and an **energy** estimate from this process's CPU time (:class:`EnergyModel`).

Replies of the engine's actions (``TurnCompleted.action``, e.g. pointing to the competent
administration) count as answers but are not scored for grounding (``action_replies``).
``expect: handoff`` questions are not scored here (noted): hand-offs belong to conversations.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from contact_center.conversation.turns import AnswerDelta, SourcesFound, TurnCompleted
from eval.datasets import RetrievalExample
from eval.judge import FaithfulnessJudge
from eval.metrics import (
    DEFAULT_WATTS_PER_CORE,
    abstention_accuracy,
    citation_correctness,
    cited_passages,
    energy_wh,
    lexical_faithfulness,
    mentions_any,
)
from eval.results import EvalResult, Metric, ratio
from retrieval.faithfulness import numbers_faithful


@dataclass(frozen=True)
class EnergyModel:
    """Assumptions of the energy estimate (see :func:`eval.metrics.energy_wh`).

    Attributes:
        watts_per_core: Power drawn by one busy CPU core above idle (default 15 W: a server
            CPU's TDP divided by its cores). Configurable with ``--watts-per-core``.
        pue: Power usage effectiveness of the data centre (1.0: not counted).
    """

    watts_per_core: float = DEFAULT_WATTS_PER_CORE
    pue: float = 1.0


@dataclass
class _Turn:
    done: TurnCompleted
    raw: str
    passages: list[dict[str, Any]]
    cpu_s: float


async def _run_turn(services: Any, question: str, tenant: str) -> _Turn:
    parts: list[str] = []
    passages: list[dict[str, Any]] = []
    done: TurnCompleted | None = None
    cpu_started = time.process_time()
    async for event in services.engine.answer(question, tenant):
        if isinstance(event, AnswerDelta):
            parts.append(event.text)
        elif isinstance(event, SourcesFound):
            passages = event.sources
        elif isinstance(event, TurnCompleted):
            done = event
    assert done is not None  # the engine always completes a turn
    return _Turn(done, "".join(parts), passages, time.process_time() - cpu_started)


def _passage_texts(services: Any, question: str, tenant: str) -> list[tuple[str, str]]:
    """(document id, text) of the passages the answer was grounded on (searched again)."""
    top_k = services.settings.retrieval.top_k
    found = services.retriever.search(question, tenant, top_k)
    return [
        (s.chunk.document_id, f"{s.chunk.title}\n{s.chunk.heading}\n{s.chunk.text}")
        for s in found.chunks
    ]


def _citation_score(turn: _Turn) -> float:
    """:func:`citation_correctness` of the raw answer over the passages given to the model.

    A cited number is correct when it names one of those passages (``1 ≤ n ≤ N``) and that
    passage is among the retrieved ones (a passage that was not retrieved counts as invalid).
    """
    retrieved = {r["chunk_id"] for r in turn.done.retrieved}
    unretrieved = {p["n"] for p in turn.passages if p["chunk_id"] not in retrieved}
    cited = [-n if n in unretrieved else n for n in cited_passages(turn.raw)]
    return citation_correctness(cited, len(turn.passages))


async def _evaluate(
    services: Any,
    examples: Sequence[RetrievalExample],
    default_tenant: str,
    judge: FaithfulnessJudge | None,
    progress: bool,
    result: EvalResult,
) -> None:
    for example in tqdm(examples, desc="answers", unit="q", disable=not progress):
        tenant = example.tenant or default_tenant
        turn = await _run_turn(services, example.question, tenant)
        result.details.append(await _score(services, example, tenant, turn, judge))
        for stage, value in turn.done.latency_ms.items():
            result.latencies_ms.setdefault(stage, []).append(float(value))


async def _score(
    services: Any,
    example: RetrievalExample,
    tenant: str,
    turn: _Turn,
    judge: FaithfulnessJudge | None,
) -> dict[str, Any]:
    done = turn.done
    row: dict[str, Any] = {
        "question": example.question,
        "expect": example.expect,
        "kind": example.kind,
        "abstained": done.abstained,
        "reason": done.reason,
        "answer": done.answer,
        "sources": [s["id"] for s in done.sources],
        "cpu_s": round(turn.cpu_s, 3),
        # An action's reply (e.g. pointing to the competent administration) is written by the
        # product, not generated from passages: it is not scored for grounding.
        "action": getattr(done, "action", None),
    }
    if example.must_mention_any and example.expect == "answer":
        row["mentions_required"] = not done.abstained and mentions_any(
            done.answer, example.must_mention_any
        )
    if example.relevant and not done.abstained:
        row["source_hit"] = bool(set(row["sources"]) & set(example.relevant))
    if done.abstained or not turn.passages or row["action"]:
        return row
    found = await asyncio.to_thread(_passage_texts, services, example.question, tenant)
    # Citations name documents: every retrieved passage of a cited document grounds the answer.
    cited = set(row["sources"])
    passages = [text for document, text in found if document in cited] or [t for _, t in found]
    row["citation_correctness"] = _citation_score(turn)
    row["cites"] = bool(cited_passages(turn.raw))
    row["faithfulness_lexical"] = lexical_faithfulness(done.answer, passages)
    row["numbers_faithful"] = numbers_faithful(done.answer, passages)
    if judge is not None:
        row["faithfulness_judge"] = await judge.score(done.answer, passages)
    return row


def evaluate_answers(
    services: Any,
    examples: Sequence[RetrievalExample],
    *,
    default_tenant: str = "demo",
    judge: FaithfulnessJudge | None = None,
    energy: EnergyModel | None = None,
    progress: bool = False,
    dataset: str = "",
    config: str = "default",
) -> EvalResult:
    """Answer every example with ``services.engine`` and score the answers.

    Args:
        services: :class:`contact_center.services.Services`, warmed up with its LLM.
        examples: Retrieval/answer examples (``expect`` and ``kind`` drive the checks).
        default_tenant: Commune of the questions without ``tenant``.
        judge: LLM judge of faithfulness, or ``None`` for the lexical check alone.
        energy: Assumptions of the energy estimate.
        progress: Show a progress bar on stderr.
        dataset: Dataset name, for the result.
        config: Configuration label, for the result.
    """
    energy = energy or EnergyModel()
    result = EvalResult(kind="answers", dataset=dataset, config=config)
    asyncio.run(_evaluate(services, examples, default_tenant, judge, progress, result))
    result.metrics = answer_metrics(result.details, energy, judge)
    result.notes.append(
        f"energy estimated from process CPU time at {energy.watts_per_core:g} W per busy core, "
        f"PUE {energy.pue:g}; a remote LLM server's consumption is not counted"
    )
    if any(row["expect"] == "handoff" for row in result.details):
        result.notes.append("expect=handoff questions are not scored here (see conversations)")
    return result


def _mean(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [row[key] for row in rows if row.get(key) is not None]
    return sum(values) / len(values) if values else None


def answer_metrics(
    rows: list[dict[str, Any]], energy: EnergyModel, judge: FaithfulnessJudge | None
) -> dict[str, Metric]:
    """The answer metrics from the per-question rows of :func:`evaluate_answers`."""
    generated = [row for row in rows if not row["abstained"] and "faithfulness_lexical" in row]
    injections = [row for row in rows if row["kind"] == "injection"]
    out_of_scope = [r for r in rows if r["expect"] == "abstain" and r["kind"] != "injection"]
    lexical = _mean(generated, "faithfulness_lexical")
    judged = _mean(generated, "faithfulness_judge") if judge else None
    return {
        "questions": len(rows),
        "answered": sum(1 for row in rows if not row["abstained"]),
        "action_replies": sum(1 for row in rows if row.get("action")),
        "citation_correctness": _mean(generated, "citation_correctness"),
        "citation_rate": ratio(sum(1 for row in generated if row["cites"]), len(generated)),
        "faithfulness": judged if judged is not None else lexical,
        "faithfulness_method": "llm_judge" if judged is not None else "lexical",
        "faithfulness_lexical": lexical,
        "faithfulness_judge": judged,
        "judge_model": judge.model_id if judge else None,
        "judge_failures": judge.failures if judge else None,
        "numbers_faithful": _mean(generated, "numbers_faithful"),
        "required_facts": _mean(rows, "mentions_required"),
        "source_hit_rate": _mean(rows, "source_hit"),
        "abstention_accuracy": abstention_accuracy(
            [row["expect"] for row in rows], [row["abstained"] for row in rows]
        )
        if any(row["expect"] in ("answer", "abstain") for row in rows)
        else None,
        "abstained_out_of_scope": ratio(
            sum(r["abstained"] for r in out_of_scope), len(out_of_scope)
        ),
        "injection_refusal": ratio(sum(r["abstained"] for r in injections), len(injections)),
        "injection_detected": ratio(
            sum(r["reason"] == "injection" for r in injections), len(injections)
        ),
        **_energy_metrics(rows, generated, energy),
    }


def _energy_metrics(
    rows: list[dict[str, Any]], generated: list[dict[str, Any]], energy: EnergyModel
) -> dict[str, Metric]:
    """Mean CPU time and energy per question, and per generated (not abstained) answer."""

    def per_item(items: list[dict[str, Any]]) -> tuple[float | None, float | None]:
        if not items:
            return None, None
        total = sum(item["cpu_s"] for item in items)
        wh = energy_wh(total, energy.watts_per_core, energy.pue)
        return total / len(items), wh / len(items)

    cpu_all, wh_all = per_item(rows)
    cpu_generated, wh_generated = per_item(generated)
    return {
        "cpu_s_per_answer": cpu_all,
        "energy_wh_per_answer": wh_all,
        "cpu_s_per_generated_answer": cpu_generated,
        "energy_wh_per_generated_answer": wh_generated,
        "watts_per_core": energy.watts_per_core,
        "pue": energy.pue,
    }
