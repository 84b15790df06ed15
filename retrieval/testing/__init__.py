"""Shipped test support of the retrieval room: deterministic fakes and contract mixins.

As in haystack's ``haystack.testing``, they ship with the package so that a town can test its
own implementation of a port from the installed product:

* :class:`FakeChatModel` and :class:`FakeEmbedder`: the ``fake`` backends of
  :func:`retrieval.llm.build_chat_model` and :func:`retrieval.embeddings.build_embedder`, for
  tests about something else (indexing, the engine, the channels);
* :mod:`retrieval.testing.contracts`: :class:`~retrieval.testing.contracts.ChatModelContract`
  and :class:`~retrieval.testing.contracts.EmbedderContract`, the pytest mixins that every
  implementation, fake or real, must pass. They need pytest, so they are imported from their
  module, never from here::

      from retrieval.testing.contracts import EmbedderContract

      class TestOurEmbedder(EmbedderContract):
          @pytest.fixture
          def embedder(self):
              return OurEmbedder()
"""

from retrieval.testing.fake_chat_model import FAKE_NO_PASSAGE_ANSWER, FakeChatModel
from retrieval.testing.fake_embedder import FakeEmbedder

__all__ = ["FAKE_NO_PASSAGE_ANSWER", "FakeChatModel", "FakeEmbedder"]
