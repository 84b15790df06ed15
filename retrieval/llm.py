"""The factory that picks the chat model named by the settings.

There is one real client, :class:`~retrieval.openai_compatible.OpenAICompatibleChatModel`: it
talks to a vLLM server in production and to the embedded llama.cpp server by default; only the
``base_url`` changes. Backends (``LLMSection.backend``):

* ``llamacpp``: :class:`~retrieval.llamacpp.LlamaCppChatModel` starts the embedded server
  (llama.cpp's own HTTP server, in-process, on a loopback port) and points the client at it;
* ``openai``: the client pointed at ``LLMSection.base_url`` (vLLM or any compatible server);
* ``fake``: :class:`~retrieval.testing.fake_chat_model.FakeChatModel`, deterministic, for tests
  about something else.

The port itself (:class:`~retrieval.chat.ChatModel`, :class:`~retrieval.chat.ChatMessage`) lives
in :mod:`retrieval.chat`; this module is the only one that knows every backend. Constructors are
cheap; servers start and models load in ``warm_up()`` and are released in ``aclose()``. Every
failure of a backend surfaces as :class:`~foundation.errors.LLMError`.
"""

from __future__ import annotations

from pathlib import Path

from foundation.errors import ConfigurationError
from foundation.model_assets import resolve_gguf_path
from retrieval.chat import ChatModel
from retrieval.llamacpp import LlamaCppChatModel
from retrieval.openai_compatible import OpenAICompatibleChatModel
from retrieval.prompts import fixed_prefix
from retrieval.settings import LLMSection
from retrieval.testing.fake_chat_model import FakeChatModel

__all__ = ["build_chat_model"]


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
