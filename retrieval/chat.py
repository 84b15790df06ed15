"""The chat port: the messages of a prompt, the token counts, and the :class:`ChatModel` protocol.

Every backend (:mod:`retrieval.openai_compatible`, :mod:`retrieval.llamacpp`, the fake of
:mod:`retrieval.testing`) and every caller (the prompt, the answer chain, the engine, the judge
of the evaluation) build on these types and on nothing else of one another, so that the backends
never import each other. The factory that picks a backend is
:func:`retrieval.llm.build_chat_model`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    """One message of a chat prompt.

    Attributes:
        role: ``system``, ``user`` or ``assistant``.
        content: The text.
    """

    role: Role
    content: str


@dataclass(frozen=True)
class Usage:
    """Token counts of one completion, as reported by the server.

    Attributes:
        prompt_tokens: Tokens of the prompt.
        completion_tokens: Tokens generated.
        cached_tokens: Prompt tokens served from the server's prompt cache (not recomputed).
    """

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0


@runtime_checkable
class ChatModel(Protocol):
    """Streams the answer of a chat model, as text deltas."""

    model_id: str

    def warm_up(self) -> None:
        """Start the server / load the model (constructors stay cheap)."""

    async def aclose(self) -> None:
        """Release the model and its connections; calling it twice is harmless."""

    def astream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> AsyncIterator[str]:
        """Yield the answer piece by piece.

        Raises:
            LLMError: The backend failed (``LLMTimeoutError`` when it took too long).
        """
