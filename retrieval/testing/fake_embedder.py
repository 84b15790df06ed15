"""A deterministic embedder for tests about something else (indexing, the engine, the API).

:class:`FakeEmbedder` hashes the character trigrams of the accent-stripped, lowercased text into
a fixed number of signed buckets and L2-normalises the result. It loads nothing and is fast, and
texts that share words get close vectors, so searches over it still behave sensibly; it knows no
synonyms and no meaning, so it says nothing about retrieval quality. It is the ``fake`` backend
of :func:`retrieval.embeddings.build_embedder` and passes the same
:class:`~retrieval.testing.contracts.EmbedderContract` as the real backends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from retrieval.embedders.base import normalise_rows
from retrieval.sparse import strip_accents


class FakeEmbedder:
    """Character-trigram hashing embedder.

    Args:
        dimension: Vector size.
        batch_size: Accepted for symmetry with the real backends (nothing is batched).
    """

    def __init__(self, dimension: int = 256, batch_size: int = 32) -> None:
        self.dimension = dimension
        self.batch_size = batch_size
        self.model_id = f"fake/char-trigram-{dimension}"
        self.calls = 0
        self.texts_embedded = 0

    def warm_up(self) -> None:
        """Nothing to load."""

    def close(self) -> None:
        """Nothing to release."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages, shape ``(len(texts), dimension)``."""
        texts = list(texts)
        self.calls += 1
        self.texts_embedded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            self._fill(vectors[row], text)
        return normalise_rows(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one question, shape ``(dimension,)``."""
        return self.embed_documents([text])[0]

    def _fill(self, row: np.ndarray, text: str) -> None:
        padded = f" {' '.join(strip_accents(text).split())} "
        for start in range(max(len(padded) - 2, 0)):
            digest = hashlib.blake2b(padded[start : start + 3].encode(), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            row[value % self.dimension] += 1.0 if (value >> 63) else -1.0
        if not row.any():
            row[0] = 1.0  # an empty text still gets a unit vector
