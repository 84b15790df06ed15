"""Contract mixins of the retrieval ports: what the rest of the product relies on.

One mixin per port. A test class that subclasses it and provides the implementation runs every
check below against it; the fakes of :mod:`retrieval.testing` and every real backend pass them,
and so must a town's own implementation::

    class TestOurChatModel(ChatModelContract):
        def make_model(self) -> ChatModel:
            return OurChatModel(...)

        def make_failing_model(self) -> ChatModel:
            return OurChatModel(base_url="http://127.0.0.1:9/v1")

The checks use French public-service texts (an identity card lost), the product's domain; they
need pytest and pytest-asyncio (``asyncio_mode = "auto"``), the ``dev`` extra. For readable
failures, have pytest rewrite their assertions: in a ``conftest.py``, before anything imports
this module, ``pytest.register_assert_rewrite("retrieval.testing.contracts")``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import numpy as np
import pytest

from foundation.errors import LLMError
from retrieval.chat import ChatMessage, ChatModel
from retrieval.embeddings import Embedder
from retrieval.prompts import build_messages
from retrieval.types import Chunk, ScoredChunk

#: A resident's question, and a passage that answers it and one that does not.
QUESTION = "J'ai perdu ma carte d'identité, que faire ?"
RELATED = "Carte d'identité d'un majeur : en cas de perte, il faut refaire la carte en mairie."
UNRELATED = "Recette de la blanquette de veau : faire revenir la viande avec les carottes."


def _passage(n: int, text: str) -> ScoredChunk:
    chunk = Chunk(
        id=f"c{n}",
        tenant_id="demo",
        document_id="F1344",
        ordinal=n,
        title="Carte d'identité : perte ou vol",
        url="https://www.service-public.fr/F1344",
        heading_path=("Carte d'identité : perte ou vol", "Démarches"),
        text=text,
        source="service-public",
        version="v1",
    )
    return ScoredChunk(chunk=chunk, score=1.0 - n / 10)


#: Two retrieved passages about a lost or stolen identity card.
PASSAGES = (
    _passage(
        1,
        "En cas de perte, vous faites une déclaration lors de la demande de nouvelle "
        "carte. Un justificatif de domicile est demandé.",
    ),
    _passage(2, "En cas de vol, la déclaration se fait au commissariat ou à la gendarmerie."),
)
#: The prompt the answer chain builds for :data:`QUESTION` over :data:`PASSAGES`.
PROMPT = build_messages(QUESTION, PASSAGES)


async def collect(model: ChatModel, messages: Sequence[ChatMessage], **options: int) -> list[str]:
    """All the deltas of one answer of ``model`` (``options``: e.g. ``max_tokens``)."""
    return [delta async for delta in model.astream(messages, **options)]


class ChatModelContract:
    """What the answer chain and the conversation engine rely on, for any :class:`ChatModel`.

    The engine streams an answer to the resident as it comes, caps its length, starts and stops
    the model with the application, and turns any failure into an apology or a handoff: each
    check below guards one of these.

    Subclasses implement :meth:`make_model` and :meth:`make_failing_model`.
    """

    def make_model(self) -> ChatModel:
        """A working model, not started (the contract calls ``warm_up()`` itself)."""
        raise NotImplementedError

    def make_failing_model(self) -> ChatModel:
        """A model whose backend fails on a request (unreachable, refusing the prompt...)."""
        raise NotImplementedError

    @pytest.fixture
    async def model(self) -> AsyncIterator[ChatModel]:
        """The working model, started, and closed after the test."""
        model = self.make_model()
        model.warm_up()
        yield model
        await model.aclose()

    def test_is_a_chat_model_with_an_id(self) -> None:
        """It satisfies the protocol, and has the id recorded with every answer."""
        model = self.make_model()
        assert isinstance(model, ChatModel)
        assert isinstance(model.model_id, str) and model.model_id

    async def test_streams_non_empty_text_deltas(self, model: ChatModel) -> None:
        """It streams text pieces, none empty, that add up to an answer (the resident sees
        the answer grow)."""
        deltas = await collect(model, PROMPT, max_tokens=24)
        assert deltas
        assert all(isinstance(delta, str) and delta for delta in deltas)
        assert "".join(deltas).strip()

    async def test_max_tokens_bounds_the_answer(self, model: ChatModel) -> None:
        """``max_tokens`` caps the answer: at most that many deltas (a delta is a token or
        more), so a call or a chat turn never runs on."""
        deltas = await collect(model, PROMPT, max_tokens=3)
        assert 1 <= len(deltas) <= 3

    async def test_warm_up_and_aclose_can_be_repeated(self) -> None:
        """Starting or closing twice is harmless (the app's lifespan and the tests both do)."""
        model = self.make_model()
        model.warm_up()
        model.warm_up()
        assert await collect(model, PROMPT, max_tokens=2)
        await model.aclose()
        await model.aclose()

    async def test_backend_failure_becomes_llm_error(self) -> None:
        """Any failure of the backend is an :class:`~foundation.errors.LLMError`, the one
        error the engine degrades on (no third-party exception reaches it)."""
        model = self.make_failing_model()
        model.warm_up()
        try:
            with pytest.raises(LLMError):
                await collect(model, PROMPT, max_tokens=8)
        finally:
            await model.aclose()


class EmbedderContract:
    """What indexing, the hybrid search and the request classifier rely on, for any
    :class:`~retrieval.embeddings.Embedder`.

    The store compares vectors by cosine and the indexer embeds in batches of any size: each
    check below guards one of these. Subclasses provide the ``embedder`` fixture (started:
    ``warm_up()`` already called); a real model may be built once per class.
    """

    @pytest.fixture
    def embedder(self) -> Embedder:
        """The implementation under test, ready to embed."""
        raise NotImplementedError

    def test_is_an_embedder_with_an_id(self, embedder: Embedder) -> None:
        """It satisfies the protocol, with the model id recorded in the collection (a change
        of model rebuilds the index) and a positive dimension."""
        assert isinstance(embedder, Embedder)
        assert embedder.model_id and embedder.dimension > 0

    def test_documents_are_normalised_float32_rows(self, embedder: Embedder) -> None:
        """One unit-length float32 row per text, of the declared dimension (what the store
        writes and compares by cosine)."""
        vectors = embedder.embed_documents([RELATED, UNRELATED, "Mairie"])
        assert vectors.shape == (3, embedder.dimension)
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)

    def test_query_is_one_normalised_vector(self, embedder: Embedder) -> None:
        """A question gives one unit-length vector of the declared dimension."""
        vector = embedder.embed_query(QUESTION)
        assert vector.shape == (embedder.dimension,)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4

    def test_no_text_gives_no_rows(self, embedder: Embedder) -> None:
        """An empty batch is an empty array, not an error (a document may have no chunk left
        to embed)."""
        assert embedder.embed_documents([]).shape == (0, embedder.dimension)

    def test_same_text_same_vector_whatever_the_batch(self, embedder: Embedder) -> None:
        """A text's vector does not depend on its batch: indexing in the background, in
        batches, gives the vectors a one-off embedding would."""
        alone = embedder.embed_documents([RELATED])[0]
        batched = embedder.embed_documents([UNRELATED, RELATED, QUESTION])[1]
        np.testing.assert_allclose(alone, batched, atol=1e-4)

    def test_question_is_closer_to_its_answer_than_to_a_recipe(self, embedder: Embedder) -> None:
        """The least a search needs: a question is closer to the passage that answers it than
        to an unrelated one."""
        question = embedder.embed_query(QUESTION)
        related, unrelated = embedder.embed_documents([RELATED, UNRELATED])
        assert float(related @ question) > float(unrelated @ question)
