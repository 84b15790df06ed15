"""The one LLM client: any OpenAI-compatible ``/v1/chat/completions`` server.

:class:`OpenAICompatibleChatModel` (langchain's ``ChatOpenAI``) talks to a vLLM server in
production and to the embedded llama.cpp server (:mod:`retrieval.llamacpp`) by default; only the
``base_url`` changes. Failures of the server surface as :class:`~foundation.errors.LLMError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from foundation.errors import LLMError, LLMTimeoutError
from retrieval.chat import ChatMessage, Usage

if TYPE_CHECKING:
    import httpx
    from langchain_core.messages import BaseMessage
    from langchain_openai import ChatOpenAI


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


def _gone(loop: asyncio.AbstractEventLoop | None) -> bool:
    """Whether ``loop`` has been closed (``None``: no loop has used the pool yet)."""
    return loop is not None and loop.is_closed()


class OpenAICompatibleChatModel:
    """The one LLM client: any OpenAI-compatible ``/v1/chat/completions`` (vLLM, llama.cpp).

    Built on langchain's ``ChatOpenAI``, with its own HTTP connection pool (closed by
    :meth:`aclose`) rather than langchain's process-wide cached one. The pool's connections
    belong to the event loop that opened them: a command-line tool that answers in one
    ``asyncio.run`` and closes in another, or asks again in a new one, gets a fresh pool
    instead of an « Event loop is closed » error.

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
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the pool serves

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
        """Close the connection pool (one left by a finished event loop is only dropped)."""
        http, loop = self._http, self._loop
        self._http, self._llm, self._loop = None, None, None
        if http is not None and not _gone(loop):
            await http.aclose()

    def _pool_for_this_loop(self) -> None:
        """Drop a pool whose event loop has finished: its connections went with it."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop and _gone(self._loop):
            self._http, self._llm = None, None
        self._loop = loop

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

        self._pool_for_this_loop()
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
