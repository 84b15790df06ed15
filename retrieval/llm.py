"""Chat LLMs behind one small port, and the factory that picks the backend.

There is one real client, :class:`OpenAICompatibleChatModel` (langchain's ``ChatOpenAI``): it
talks to a vLLM server in production and to the embedded llama.cpp server by default; only the
``base_url`` changes. Backends (``LLMSection.backend``):

* ``llamacpp``: :class:`~retrieval.llamacpp.LlamaCppChatModel` starts the embedded server
  (llama.cpp's own HTTP server, in-process, on a loopback port) and points the client at it;
* ``openai``: the client pointed at ``LLMSection.base_url`` (vLLM or any compatible server);
* ``fake``: :class:`FakeChatModel`, deterministic, for tests about something else.

Constructors are cheap; servers start and models load in ``warm_up()`` and are released in
``aclose()``. Every failure of a backend surfaces as :class:`~contact_center.errors.LLMError`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import SecretStr

from foundation.errors import ConfigurationError, LLMError, LLMTimeoutError
from retrieval.settings import LLMSection

if TYPE_CHECKING:
    import httpx
    from langchain_core.messages import BaseMessage
    from langchain_openai import ChatOpenAI

logger = logging.getLogger(__name__)

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


def _to_langchain(messages: Sequence[ChatMessage]) -> list[BaseMessage]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[message.role](content=message.content) for message in messages]


def _usage_from(metadata: dict[str, Any]) -> Usage:
    details = metadata.get("input_token_details") or {}
    return Usage(
        prompt_tokens=int(metadata.get("input_tokens", 0)),
        completion_tokens=int(metadata.get("output_tokens", 0)),
        cached_tokens=int(details.get("cache_read", 0) or 0),
    )


class OpenAICompatibleChatModel:
    """The one LLM client: any OpenAI-compatible ``/v1/chat/completions`` (vLLM, llama.cpp).

    Built on langchain's ``ChatOpenAI``, with its own HTTP connection pool (closed by
    :meth:`aclose`) rather than langchain's process-wide cached one.

    Attributes:
        model_id: Identifier recorded with answers (``openai/<model>`` by default).
        last_usage: Token counts of the last completed stream, when the server reported them.
    """

    def __init__(
        self,
        base_url: str,
        *,
        model: str = "local",
        api_key: str = "not-needed",
        temperature: float = 0.1,
        max_tokens: int = 400,
        timeout_s: float = 120.0,
        max_retries: int = 1,
        model_id: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model_id = model_id or f"openai/{model}"
        self.last_usage: Usage | None = None
        self._model = model
        self._api_key = api_key
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._http: httpx.AsyncClient | None = None
        self._llm: ChatOpenAI | None = None

    def warm_up(self) -> None:
        """Build the client (no request is sent: a vLLM server may still be starting)."""
        if self._llm is not None:
            return
        import httpx
        from langchain_openai import ChatOpenAI

        self._http = httpx.AsyncClient(timeout=self._timeout_s)
        self._llm = ChatOpenAI(
            base_url=self.base_url,
            api_key=SecretStr(self._api_key),
            model=self._model,
            temperature=self._temperature,
            max_completion_tokens=self._max_tokens,
            timeout=self._timeout_s,
            max_retries=self._max_retries,
            streaming=True,
            stream_usage=True,
            http_async_client=self._http,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        http, self._http, self._llm = self._http, None, None
        if http is not None:
            await http.aclose()

    async def astream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> AsyncIterator[str]:
        """Stream the completion of ``messages``.

        Args:
            messages: The prompt.
            max_tokens: Overrides the configured limit for this call.

        Raises:
            LLMTimeoutError: The server did not answer within ``timeout_s``.
            LLMError: The server is unreachable or refused the request.
        """
        import httpx
        import openai
        from langchain_core.exceptions import LangChainException

        self.warm_up()
        llm = self._llm
        if llm is None:  # pragma: no cover - warm_up() always sets it
            raise LLMError("LLM client not initialised")
        options: dict[str, Any] = {} if max_tokens is None else {"max_tokens": max_tokens}
        self.last_usage = None
        try:
            async for chunk in llm.astream(_to_langchain(messages), **options):
                if chunk.usage_metadata:
                    self.last_usage = _usage_from(dict(chunk.usage_metadata))
                if isinstance(chunk.content, str) and chunk.content:
                    yield chunk.content
        except (openai.APITimeoutError, httpx.TimeoutException) as exc:
            raise LLMTimeoutError(f"LLM at {self.base_url} timed out") from exc
        except (openai.OpenAIError, httpx.HTTPError, LangChainException) as exc:
            raise LLMError(f"LLM at {self.base_url} failed: {exc}") from exc


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


def build_chat_model(settings: LLMSection, models_dir: Path) -> ChatModel:
    """The chat model chosen by ``settings.backend`` (not started: call ``warm_up()``).

    Raises:
        ConfigurationError: ``openai`` without ``base_url``.
    """
    if settings.backend == "fake":
        return FakeChatModel()
    if settings.backend == "openai":
        if not settings.base_url:
            raise ConfigurationError("CC_LLM__BASE_URL is required with CC_LLM__BACKEND=openai")
        return OpenAICompatibleChatModel(
            settings.base_url,
            model=settings.model,
            api_key=settings.api_key.get_secret_value(),
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            timeout_s=settings.timeout_s,
        )
    # Imported here: these modules build on this one.
    from foundation.model_assets import resolve_gguf_path
    from retrieval.llamacpp import LlamaCppChatModel
    from retrieval.prompts import fixed_prefix

    name = settings.model_path.name if settings.model_path else settings.embedded_model
    return LlamaCppChatModel(
        lambda: resolve_gguf_path(settings.model_path, settings.embedded_model, models_dir),
        model_id=f"llamacpp/{name}",
        n_ctx=settings.n_ctx,
        threads=settings.threads,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        timeout_s=settings.timeout_s,
        prefix=fixed_prefix(),
    )
