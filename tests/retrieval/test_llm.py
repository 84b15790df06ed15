"""Every chat model honours the same contract: the fake, the embedded llama.cpp, the client.

The contract itself (:class:`retrieval.testing.contracts.ChatModelContract`) ships with the
package; this file runs it against each backend and adds what is particular to each.

The real ones run SmolLM2-135M (shipped in a package) in llama.cpp's own server: its French is
nonsense, but the code path is the production one (server, HTTP, streaming, errors).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from foundation.errors import ConfigurationError, LLMError, LLMTimeoutError
from foundation.model_assets import smollm2_path
from retrieval.chat import ChatModel
from retrieval.llamacpp import EmbeddedLlamaCppServer, LlamaCppChatModel
from retrieval.llm import build_chat_model
from retrieval.openai_compatible import OpenAICompatibleChatModel
from retrieval.prompts import build_messages
from retrieval.settings import LLMSection
from retrieval.testing import FakeChatModel
from retrieval.testing.contracts import PROMPT, ChatModelContract, collect


def closed_port() -> int:
    """A loopback port on which nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestFakeChatModel(ChatModelContract):
    def make_model(self) -> ChatModel:
        return FakeChatModel()

    def make_failing_model(self) -> ChatModel:
        return FakeChatModel.failing()

    async def test_quotes_the_first_passage_with_its_citation(self) -> None:
        answer = "".join(await collect(FakeChatModel(), PROMPT))
        assert answer == (
            "D'après les documents de la commune : En cas de perte, vous faites une "
            "déclaration lors de la demande de nouvelle carte [1]."
        )

    async def test_records_what_reached_the_model(self) -> None:
        model = FakeChatModel(reply="Bonjour.")
        await collect(model, PROMPT)
        assert model.calls == [PROMPT]

    async def test_can_fail_in_the_middle_of_an_answer(self) -> None:
        model = FakeChatModel(
            reply="Un deux trois quatre", error=LLMTimeoutError("lent"), error_after=2
        )
        received: list[str] = []
        with pytest.raises(LLMTimeoutError):
            async for delta in model.astream(PROMPT):
                received.append(delta)
        assert received == ["Un ", "deux "]

    async def test_says_so_when_the_prompt_has_no_passage(self) -> None:
        answer = "".join(await collect(FakeChatModel(), build_messages("Bonjour ?", [])))
        assert "[1]" not in answer
        assert answer.startswith("Je ne trouve pas")


class TestLlamaCppChatModel(ChatModelContract):
    """The default backend, built by the factory, serving SmolLM2."""

    def make_model(self) -> ChatModel:
        # One thread: test runs share the CPU, and SmolLM2 is fast enough on one.
        settings = LLMSection(embedded_model="smollm2", n_ctx=2048, threads=1)
        return build_chat_model(settings, Path("/nonexistent-models-dir"))

    def make_failing_model(self) -> ChatModel:
        # The prompt does not fit in 128 tokens of context: llama.cpp refuses it.
        return LlamaCppChatModel(smollm2_path(), n_ctx=128, threads=1)

    def test_factory_names_the_model(self) -> None:
        assert self.make_model().model_id == "llamacpp/smollm2"

    async def test_the_fixed_prefix_is_computed_at_start_up(self, model: LlamaCppChatModel) -> None:
        await collect(model, PROMPT, max_tokens=4)
        assert model.last_usage is not None
        assert model.last_usage.cached_tokens >= 200  # the first resident does not wait for it
        assert model.last_usage.prompt_tokens > model.last_usage.cached_tokens

    async def test_aclose_stops_the_server(self) -> None:
        model = self.make_model()
        model.warm_up()
        assert isinstance(model, LlamaCppChatModel) and model.server is not None
        base_url = model.server.base_url
        await model.aclose()
        async with httpx.AsyncClient() as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"{base_url}/models", timeout=2)
        with pytest.raises(LLMError):
            await collect(model, PROMPT)

    def test_a_file_that_is_not_a_model_is_refused(self, tmp_path: Path) -> None:
        fake_gguf = tmp_path / "broken.gguf"
        fake_gguf.write_bytes(b"GGUF but not really")
        with pytest.raises(LLMError, match="cannot load"):
            EmbeddedLlamaCppServer(fake_gguf, n_ctx=256, threads=1).warm_up()

    def test_a_missing_model_path_is_a_configuration_error(self, tmp_path: Path) -> None:
        settings = LLMSection(model_path=tmp_path / "missing.gguf")
        model = build_chat_model(settings, tmp_path)
        with pytest.raises(ConfigurationError, match="missing.gguf"):
            model.warm_up()


@pytest.fixture(scope="module")
def smollm2_server() -> Iterator[EmbeddedLlamaCppServer]:
    """One embedded server for the client's tests."""
    server = EmbeddedLlamaCppServer(smollm2_path(), n_ctx=2048, threads=1)
    server.warm_up()
    yield server
    asyncio.run(server.aclose())


class TestOpenAICompatibleChatModel(ChatModelContract):
    """The production client (vLLM), pointed at the embedded server's base URL."""

    @pytest.fixture(autouse=True)
    def _server(self, smollm2_server: EmbeddedLlamaCppServer) -> None:
        self.base_url = smollm2_server.base_url

    def make_model(self) -> ChatModel:
        return OpenAICompatibleChatModel(self.base_url, model="smollm2")

    def make_failing_model(self) -> ChatModel:
        return OpenAICompatibleChatModel(f"http://127.0.0.1:{closed_port()}/v1", max_retries=0)

    async def test_reports_token_usage(self, model: OpenAICompatibleChatModel) -> None:
        deltas = await collect(model, PROMPT, max_tokens=5)
        assert model.last_usage is not None
        assert model.last_usage.prompt_tokens > 100
        assert 1 <= model.last_usage.completion_tokens <= 5
        assert len(deltas) <= 5

    async def test_a_silent_server_times_out(self) -> None:
        async def never_answer(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
            await reader.read()

        silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
        port = silent.sockets[0].getsockname()[1]
        model = OpenAICompatibleChatModel(
            f"http://127.0.0.1:{port}/v1", timeout_s=0.5, max_retries=0
        )
        try:
            with pytest.raises(LLMTimeoutError):
                await collect(model, PROMPT)
        finally:
            await model.aclose()
            silent.close()


def test_factory_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(build_chat_model(LLMSection(backend="fake"), tmp_path), FakeChatModel)
    client = build_chat_model(
        LLMSection(backend="openai", base_url="http://vllm:8000/v1", model="mistral"), tmp_path
    )
    assert isinstance(client, OpenAICompatibleChatModel)
    assert client.model_id == "openai/mistral"
    with pytest.raises(ConfigurationError, match="CC_LLM__BASE_URL"):
        build_chat_model(LLMSection(backend="openai"), tmp_path)
