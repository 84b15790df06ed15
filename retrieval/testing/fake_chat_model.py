"""A deterministic chat model, for tests about something else (the engine, the channels).

:class:`FakeChatModel` is the ``fake`` backend of :func:`retrieval.llm.build_chat_model`. It
answers from the prompt alone, by quoting the first numbered passage, so that a test of the
engine or of a channel sees a grounded, cited answer without loading a model; it passes the same
:class:`~retrieval.testing.contracts.ChatModelContract` as the real backends.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from foundation.errors import LLMError
from retrieval.chat import ChatMessage

# A "[n] Title" line, then the passage text up to a blank line, the next passage or the end.
_PASSAGE_HEADER = re.compile(
    r"^\[(\d+)\][^\n]*\n(?P<body>.*?)(?=\n\s*\n|\n\[\d+\]|\Z)", re.S | re.M
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_DELTA = re.compile(r"\S+\s*|\s+")

#: What :class:`FakeChatModel` answers when the prompt holds no numbered passage.
FAKE_NO_PASSAGE_ANSWER = "Je ne trouve pas cette information dans les documents fournis."


@dataclass
class FakeChatModel:
    """Deterministic chat model for tests about something else (the engine, the channels).

    Without ``reply``, it reads the numbered passages of the last user message, in the format
    written by :func:`retrieval.prompts.build_messages` (a ``[n] Title`` line, then the passage
    text), and answers in French by quoting the first sentence of passage ``[1]`` followed by
    the citation ``[1]``. Deltas are words with their trailing space; ``max_tokens`` caps their
    number.

    Attributes:
        reply: Fixed answer to give instead (e.g. one citing a passage that does not exist).
        error: Raised (after ``error_after`` deltas) to exercise degradations.
        error_after: Deltas yielded before ``error`` is raised (0: fail before any text).
        delay_s: Pause before each delta, to simulate a slow model.
        model_id: Identifier recorded with answers.
        calls: Every prompt received, oldest first (to assert what reached the model).
    """

    reply: str | None = None
    error: LLMError | None = None
    error_after: int = 0
    delay_s: float = 0.0
    model_id: str = "fake"
    calls: list[list[ChatMessage]] = field(default_factory=list)

    @classmethod
    def failing(cls, message: str = "fake LLM failure", *, after: int = 0) -> FakeChatModel:
        """A model that raises :class:`LLMError` after ``after`` deltas."""
        return cls(error=LLMError(message), error_after=after)

    def warm_up(self) -> None:
        """Nothing to load."""

    async def aclose(self) -> None:
        """Nothing to release."""

    async def astream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> AsyncIterator[str]:
        """Yield the answer word by word (see the class docstring)."""
        self.calls.append(list(messages))
        deltas = _DELTA.findall(self.reply if self.reply is not None else self.answer(messages))
        if max_tokens is not None:
            deltas = deltas[:max_tokens]
        for index, delta in enumerate(deltas):
            if self.error is not None and index == self.error_after:
                raise self.error
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            yield delta
        if self.error is not None and self.error_after >= len(deltas):
            raise self.error

    @staticmethod
    def answer(messages: Sequence[ChatMessage]) -> str:
        """The grounded answer the fake gives to ``messages``."""
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        match = _PASSAGE_HEADER.search(question)
        if match is None or not match.group("body").strip():
            return FAKE_NO_PASSAGE_ANSWER
        body = " ".join(match.group("body").split())
        first_sentence = _SENTENCE_END.split(body, maxsplit=1)[0].rstrip(" .")
        return f"D'après les documents de la commune : {first_sentence} [{match.group(1)}]."
