"""Answer first from the official text; the LLM rewords it only where there is capacity.

:class:`AnswerComposer` makes the answer of a turn whose retrieval found relevant passages:

1. the **extractive** answer (:func:`retrieval.extractive.compose_answer`): the passages' own
   sentences, cited, in milliseconds, with no model;
2. where the policy asks for it (:attr:`AnswerPolicy.generate`: a vLLM server, or the setting
   on CPU) and the model can take the request within its waiting budget
   (:class:`retrieval.admission.LLMAdmission`), the **generated** answer: the LLM rewords the
   selected sentences (a compact prompt, not whole passages). It is shown only when
   :func:`retrieval.vetting.vet_generated` finds its citations and figures hold; otherwise the
   resident gets the extractive answer and ``path_reason`` says why.

A busy, slow or failing model never reaches the resident as an error: the extractive answer is
already there. Citations are numbered by document (:func:`retrieval.vetting.cite_documents`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import anyio

from foundation.errors import BackendError
from retrieval.admission import LLMAdmission
from retrieval.answer import ABSTAIN_TEXT, GroundedAnswerer
from retrieval.chat import ChatMessage
from retrieval.extractive import ExtractiveAnswer, compose_answer
from retrieval.followup import SearchPlan
from retrieval.prompts import strip_citations
from retrieval.settings import LLMSection, RetrievalSection
from retrieval.types import ScoredChunk
from retrieval.vetting import DocumentCitations, vet_generated

log = logging.getLogger(__name__)

#: Sentences of the answer the voice channels say (the rest is on the page, by text message
#: or from an agent).
SPOKEN_SENTENCES = 2
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")


@dataclass(frozen=True)
class AnswerPolicy:
    """How answers are made.

    Attributes:
        generate: Whether the LLM rewords the extractive answer.
        admission: The queue in front of the LLM (its waiting budget).
        timeout_s: Longest a generation may take before the extractive answer is kept.
        prompt_passages: Passages the LLM reads whole when the extractive answer found no
            sentence: the search's best ``top_k``, not the best document's other sections
            added after them for the composer.
    """

    generate: bool = False
    admission: LLMAdmission = field(default_factory=LLMAdmission)
    timeout_s: float = 60.0
    prompt_passages: int = 4

    @classmethod
    def from_settings(cls, retrieval: RetrievalSection, llm: LLMSection) -> AnswerPolicy:
        """``answer_mode``: ``auto`` generates only with an OpenAI-compatible server (vLLM)."""
        mode = retrieval.answer_mode
        generate = mode == "generated" or (mode == "auto" and llm.backend == "openai")
        admission = LLMAdmission(llm.slots, llm.max_waiting, llm.wait_budget_s)
        return cls(
            generate=generate,
            admission=admission,
            timeout_s=llm.timeout_s,
            prompt_passages=retrieval.top_k,
        )


@dataclass(frozen=True)
class ComposedAnswer:
    """The answer shown, numbered by document.

    Attributes:
        text: The answer (French), its ``[n]`` pointing to documents.
        documents: Document numbers it cites.
        abstained: Nothing in the passages answers the question.
        path: ``extractive`` or ``generated``.
        path_reason: Why the generated answer is not the one shown, if it was tried.
        latency_ms: ``extractive`` and, when tried, ``generation``.
        spoken: The short form the voice channels say (first sentences, no citations).
    """

    text: str
    documents: list[int]
    abstained: bool
    path: str
    path_reason: str | None = None
    latency_ms: dict[str, float] = field(default_factory=dict)
    spoken: str | None = None


class AnswerComposer:
    """Makes a turn's answer from its retrieved passages (see the module docstring)."""

    def __init__(self, answerer: GroundedAnswerer, policy: AnswerPolicy | None = None) -> None:
        self._answerer = answerer
        self.policy = policy or AnswerPolicy()

    async def compose(
        self,
        question: str,
        passages: Sequence[ScoredChunk],
        documents: DocumentCitations,
        history: Sequence[ChatMessage] = (),
        plan: SearchPlan | None = None,
    ) -> ComposedAnswer:
        """The answer to ``question`` from ``passages`` (best first, ``[n]`` = position).

        ``plan``: how the question was searched; a follow-up's extractive answer is composed
        for its topic words (:attr:`SearchPlan.words`) and the intent and case it inherits (the
        LLM reads the conversation's history instead).
        """
        started = time.perf_counter()
        words, reading = (plan.words, plan.reading) if plan is not None else (question, None)
        extract = await anyio.to_thread.run_sync(lambda: compose_answer(words, passages, reading))
        latency = {"extractive": _ms(started)}
        reason = None
        if self.policy.generate:
            generated, reason = await self._generate(question, passages, extract, history)
            latency["generation"] = _ms(started) - latency["extractive"]
            if generated is not None:
                text, cited = generated
                return ComposedAnswer(
                    documents.renumber(text),
                    documents.documents_cited(cited),
                    False,
                    "generated",
                    None,
                    latency,
                    spoken_form(_SENTENCE.split(text)),
                )
        if extract.abstained:
            return ComposedAnswer(ABSTAIN_TEXT, [], True, "extractive", reason, latency)
        return ComposedAnswer(
            documents.renumber(extract.text),
            documents.documents_cited(extract.cited),
            False,
            "extractive",
            reason,
            latency,
            spoken_form(s.render() for s in extract.sentences),
        )

    async def _generate(
        self,
        question: str,
        passages: Sequence[ScoredChunk],
        extract: ExtractiveAnswer,
        history: Sequence[ChatMessage],
    ) -> tuple[tuple[str, list[int]] | None, str | None]:
        """The vetted generated answer and the passages it cites, or None and why not."""
        compact, numbers = _compact_passages(passages, extract, self.policy.prompt_passages)
        async with self.policy.admission.enter() as admitted:
            if not admitted:
                return None, "llm_busy"
            parts: list[str] = []
            try:
                with anyio.fail_after(self.policy.timeout_s):
                    deltas = self._answerer.astream(question, compact, history, injection=False)
                    async for delta in deltas:
                        parts.append(delta)
            except TimeoutError:
                log.warning("generation took too long; the extractive answer is shown")
                return None, "llm_timeout"
            except BackendError:
                log.exception("generation failed; the extractive answer is shown")
                return None, "llm_failure"
        vetted = vet_generated("".join(parts), compact)
        if not vetted.accepted:
            return None, vetted.reason
        renumbered = _to_original(vetted.answer, numbers)
        return (renumbered, [numbers[n - 1] for n in vetted.cited]), None


def _compact_passages(
    passages: Sequence[ScoredChunk], extract: ExtractiveAnswer, whole: int
) -> tuple[list[ScoredChunk], list[int]]:
    """The passages the LLM sees: each used passage cut down to the sentences selected from it
    (the first ``whole`` passages, whole, when the extractive answer found none), and their
    original numbers."""
    if extract.abstained or not extract.sentences:
        first = list(passages[:whole])
        return first, list(range(1, len(first) + 1))
    selected: dict[int, list[str]] = {}
    for sentence in extract.sentences:
        selected.setdefault(sentence.passage, []).append(sentence.text)
    numbers = sorted(selected)
    compact = [
        replace(passages[n - 1], chunk=replace(passages[n - 1].chunk, text="\n".join(selected[n])))
        for n in numbers
    ]
    return compact, numbers


def _to_original(answer: str, numbers: list[int]) -> str:
    """Citations of the compact prompt ``[j]`` back to the original passages ``[numbers[j-1]]``."""
    mapping = {j: n for j, n in enumerate(numbers, start=1)}
    return DocumentCitations(mapping, {}).renumber(answer)


def spoken_form(sentences: Iterable[str], count: int = SPOKEN_SENTENCES) -> str:
    """The first ``count`` sentences, without their ``[n]`` citations: what a caller hears.

    A web address is not read aloud: sentences holding one are left out while others remain,
    and otherwise say « le site internet indiqué » in its place."""
    kept = [strip_citations(sentence).strip() for sentence in sentences]
    kept = [sentence for sentence in kept if sentence]
    plain = [sentence for sentence in kept if not _WEB_ADDRESS.search(sentence)]
    if plain:
        return " ".join(plain[:count])
    return " ".join(_WEB_ADDRESS.sub("le site internet indiqué", s) for s in kept[:count])


#: A web address in a sentence (its last character not a closing punctuation).
_WEB_ADDRESS = re.compile(r"(?:https?://|www\.)[^\s)»,;]*[^\s)»,;.]")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
