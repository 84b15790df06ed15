"""The embedded LLM: llama.cpp's own HTTP server run in-process by ``xllamacpp``.

:class:`LlamaCppChatModel` starts :class:`EmbeddedLlamaCppServer` on a loopback port and
reaches it through the same :class:`~retrieval.openai_compatible.OpenAICompatibleChatModel`
that talks to vLLM in production: only the ``base_url`` differs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from foundation.errors import ConfigurationError, LLMError
from retrieval.chat import ChatMessage, Usage
from retrieval.openai_compatible import OpenAICompatibleChatModel

logger = logging.getLogger(__name__)


class EmbeddedLlamaCppServer:
    """llama.cpp's own HTTP server, run in-process by ``xllamacpp`` on a loopback port.

    The server keeps the KV cache of the last prompt of each slot, so a prompt that starts with
    the same system prompt as the previous one only computes what follows it.

    Args:
        model_path: The GGUF file.
        n_ctx: Context size in tokens (shared by the ``n_parallel`` slots).
        threads: CPU threads for prompt processing and generation.
        n_parallel: Requests served at once; others wait in the server's queue.
        cache_ram_mib: Host memory for prompt caches of idle slots.
        poll: Busy-wait level of llama.cpp's threads (0-100); 0 yields the CPU.
        verbose: Let llama.cpp log to stderr.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 4096,
        threads: int = 2,
        n_parallel: int = 1,
        cache_ram_mib: int = 512,
        poll: int = 0,
        verbose: bool = False,
    ) -> None:
        self.model_path = Path(model_path)
        self._n_ctx = n_ctx
        self._threads = threads
        self._poll = poll
        self._n_parallel = n_parallel
        self._cache_ram_mib = cache_ram_mib
        self._verbose = verbose
        self._server: Any = None
        self._address: str | None = None

    @property
    def base_url(self) -> str:
        """OpenAI-compatible base URL, e.g. ``http://127.0.0.1:41023/v1``.

        Raises:
            LLMError: The server is not running.
        """
        if self._address is None:
            raise LLMError("the embedded llama.cpp server is not running (call warm_up())")
        return f"{self._address}/v1"

    def warm_up(self) -> None:
        """Load the model and start listening (seconds: the model file is memory-mapped).

        Raises:
            ConfigurationError: ``xllamacpp`` is not installed.
            LLMError: llama.cpp refused the model or the parameters.
        """
        if self._server is not None:
            return
        try:
            import xllamacpp
        except ImportError as exc:
            raise ConfigurationError(
                "The embedded LLM needs xllamacpp: pip install xllamacpp "
                "(or set CC_LLM__BACKEND=openai with CC_LLM__BASE_URL)"
            ) from exc
        try:
            self._server = xllamacpp.Server(self._params(xllamacpp))
        except RuntimeError as exc:
            raise LLMError(f"llama.cpp cannot load {self.model_path}: {exc}") from exc
        self._address = str(self._server.listening_address).rstrip("/")

    def _params(self, xllamacpp: Any) -> Any:
        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.n_ctx = self._n_ctx
        params.n_parallel = self._n_parallel
        for cpu in (params.cpuparams, params.cpuparams_batch):
            cpu.n_threads = self._threads
            # llama.cpp's threads busy-wait between steps by default (poll=50). On 2 cores
            # shared with speech and embeddings that spinning starves everything: measured
            # 2.2 tok/s with polling against 9.2 without, for SmolLM2 under load.
            cpu.poll = self._poll
        # Keep each slot's KV cache between requests: the fixed system prompt is then reused.
        params.cache_prompt = True
        params.cache_ram_mib = self._cache_ram_mib
        params.ui = False
        params.verbosity = 3 if self._verbose else 0
        return params

    async def aclose(self) -> None:
        """Stop the server and free the model (dropping the last reference stops it)."""
        self._server, self._address = None, None


class LlamaCppChatModel:
    """The embedded llama.cpp server, reached through :class:`OpenAICompatibleChatModel`.

    Args:
        model_path: The GGUF file, or a function that returns it; a function is called in
            :meth:`warm_up` only, since it may assemble a 1.1 GB file on first use.
        model_id: Identifier recorded with answers.
        n_ctx: Context size of the server, in tokens.
        threads: CPU threads for prompt processing and generation.
        temperature: Sampling temperature.
        max_tokens: Default limit of generated tokens.
        timeout_s: Limit for one request.
        prefix: Messages every prompt starts with; :meth:`warm_up` has the server compute them
            once, so that the first resident does not wait for them.
    """

    def __init__(
        self,
        model_path: Path | Callable[[], Path],
        *,
        model_id: str = "llamacpp/local",
        n_ctx: int = 4096,
        threads: int = 2,
        temperature: float = 0.1,
        max_tokens: int = 400,
        timeout_s: float = 120.0,
        prefix: Sequence[ChatMessage] = (),
    ) -> None:
        self.model_id = model_id
        self._model_path = model_path
        self._prefix = list(prefix)
        self._n_ctx = n_ctx
        self._threads = threads
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._timeout_s = timeout_s
        self.server: EmbeddedLlamaCppServer | None = None
        self.client: OpenAICompatibleChatModel | None = None

    @property
    def last_usage(self) -> Usage | None:
        """Token counts of the last completed stream (prompt, generated, from cache)."""
        return self.client.last_usage if self.client else None

    def warm_up(self) -> None:
        """Resolve the model file, start the server and build the client."""
        if self.client is not None:
            return
        path = self._model_path() if callable(self._model_path) else self._model_path
        server = EmbeddedLlamaCppServer(path, n_ctx=self._n_ctx, threads=self._threads)
        server.warm_up()
        client = OpenAICompatibleChatModel(
            server.base_url,
            model_id=self.model_id,
            temperature=self._temperature,
            max_tokens=self._max_tokens,
            timeout_s=self._timeout_s,
            max_retries=0,  # a local server that failed will fail again
        )
        client.warm_up()
        self.server, self.client = server, client
        if self._prefix:
            self._prime_cache(server.base_url)

    def _prime_cache(self, base_url: str) -> None:
        """Compute the fixed prefix once; a failure only costs the first answer some time."""
        import httpx

        payload = {
            "messages": [{"role": m.role, "content": m.content} for m in self._prefix],
            "max_tokens": 1,
        }
        try:
            response = httpx.post(
                f"{base_url}/chat/completions", json=payload, timeout=self._timeout_s
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            logger.warning("llm_prefix_priming_failed error=%s", exc)

    async def aclose(self) -> None:
        """Close the client, then stop the server."""
        client, server, self.client, self.server = self.client, self.server, None, None
        if client is not None:
            await client.aclose()
        if server is not None:
            await server.aclose()

    async def astream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> AsyncIterator[str]:
        """Stream the completion of ``messages`` (see :meth:`OpenAICompatibleChatModel.astream`).

        Raises:
            LLMError: The server is not running, or failed.
        """
        if self.client is None:
            raise LLMError("the embedded LLM is not started (call warm_up())")
        async for delta in self.client.astream(messages, max_tokens=max_tokens):
            yield delta
