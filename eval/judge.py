"""Faithfulness judged by an LLM: is each sentence of an answer supported by its passages?

The judge is reached through the same port as the answering model
(:class:`retrieval.chat.ChatModel`: the OpenAI-compatible client for vLLM or the embedded
llama.cpp server), so any deployment's model can judge; a stronger one than the answering
model is better (``--judge-url``). It receives the passages and the answer's sentences,
numbered, and replies one verdict per line (``2: SUPPORTED``). The score is the share of
sentences judged supported. A reply without any verdict counts as a judge failure (``None``),
never as a score: the lexical check (:func:`eval.text_metrics.lexical_faithfulness`) still
stands for that answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from eval.text_metrics import split_sentences
from foundation.errors import LLMError
from retrieval.chat import ChatMessage, ChatModel

JUDGE_SYSTEM_PROMPT = (
    "You check answers written by a municipal assistant. You are given numbered PASSAGES and "
    "the numbered SENTENCES of an answer, in French. A sentence is SUPPORTED when every fact "
    "it states (amounts, delays, places, documents, conditions) is stated or directly implied "
    "by the passages; greetings and offers to help are SUPPORTED. Otherwise it is UNSUPPORTED. "
    "Reply with one line per sentence, exactly '<number>: SUPPORTED' or "
    "'<number>: UNSUPPORTED', and nothing else."
)

_VERDICT = re.compile(
    r"^\s*(?:sentence\s*)?(\d+)\s*[:.)\-]\s*\**\s*(UNSUPPORTED|SUPPORTED|NOT SUPPORTED|YES|NO)\b",
    re.IGNORECASE | re.MULTILINE,
)
_SUPPORTED = {"SUPPORTED", "YES"}


def judge_messages(answer: str, passages: Sequence[str]) -> list[ChatMessage] | None:
    """The judge's prompt, or ``None`` when the answer has no sentence to judge."""
    sentences = split_sentences(answer)
    if not sentences:
        return None
    numbered_passages = "\n\n".join(f"[{n}] {p}" for n, p in enumerate(passages, start=1))
    numbered_sentences = "\n".join(f"{n}. {s}" for n, s in enumerate(sentences, start=1))
    user = f"PASSAGES:\n{numbered_passages}\n\nSENTENCES:\n{numbered_sentences}"
    return [
        ChatMessage(role="system", content=JUDGE_SYSTEM_PROMPT),
        ChatMessage(role="user", content=user),
    ]


def parse_verdicts(reply: str, sentence_count: int) -> float | None:
    """Share of the ``sentence_count`` sentences judged supported, from the judge's reply.

    Only verdicts numbered ``1..sentence_count`` count, the first one per sentence; a sentence
    without a verdict counts as unsupported. ``None`` when the reply holds no usable verdict.
    """
    verdicts: dict[int, bool] = {}
    for match in _VERDICT.finditer(reply):
        number = int(match.group(1))
        if 1 <= number <= sentence_count and number not in verdicts:
            verdicts[number] = match.group(2).upper() in _SUPPORTED
    if not verdicts:
        return None
    return sum(verdicts.values()) / sentence_count


class FaithfulnessJudge:
    """Scores answers with an LLM (see the module docstring).

    Args:
        model: Any :class:`~retrieval.chat.ChatModel`, already warmed up.
        max_tokens: Room for the verdict lines.
    """

    def __init__(self, model: ChatModel, *, max_tokens: int = 120) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self.failures = 0

    @property
    def model_id(self) -> str:
        """The judging model's id (reported with the metrics)."""
        return self.model.model_id

    async def score(self, answer: str, passages: Sequence[str]) -> float | None:
        """Share of the answer's sentences supported by ``passages``; ``None`` on failure."""
        messages = judge_messages(answer, passages)
        if messages is None:
            return 1.0
        try:
            parts = [
                part async for part in self.model.astream(messages, max_tokens=self.max_tokens)
            ]
        except LLMError:
            self.failures += 1
            return None
        score = parse_verdicts("".join(parts), len(split_sentences(answer)))
        if score is None:
            self.failures += 1
        return score
