"""Readable failures from the shipped contract mixins.

pytest rewrites the assertions of test modules only; the contracts live in the package
(:mod:`retrieval.testing.contracts`), so they are registered before the tests import them.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("retrieval.testing.contracts")

from retrieval.embeddings import Embedder  # noqa: E402 - after registering the rewrite
from retrieval.qdrant_edge import copy_index  # noqa: E402
from retrieval.qdrant_store import QdrantStore  # noqa: E402
from retrieval.settings import QdrantSection  # noqa: E402


@pytest.fixture(scope="module")
def index_store(
    indexed_qdrant: Path, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QdrantStore]:
    """The test knowledge base in a store of this module's own (a copy of the shared index)."""
    folder = tmp_path_factory.mktemp("index") / "qdrant"
    copy_index(indexed_qdrant, folder)
    opened = QdrantStore(QdrantSection(path=folder), folder, embedder.dimension)
    yield opened
    opened.close()
